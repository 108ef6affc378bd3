"""The frozen bundle (dist/milton-desktop), as a user without Python would run it:
the self-test passes, and a post goes out end to end against a fake platform.
Runs when MILTON_BUNDLE names the bundle folder (scripts/test.sh builds it)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.linkedin import FakeLinkedIn

pytestmark = [pytest.mark.bundle, pytest.mark.slow]

BUNDLE = os.environ.get("MILTON_BUNDLE")


@pytest.fixture
def frozen(milton_home, real_keyring_backend):
    if not BUNDLE:
        pytest.skip("MILTON_BUNDLE is not set (scripts/test.sh builds the bundle and sets it)")
    exe = Path(BUNDLE) / "milton-desktop-cli"
    assert exe.exists(), f"no frozen executable at {exe}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(MILTON_HOME=str(milton_home), QT_QPA_PLATFORM="offscreen")

    def run(*args, stdin=None):
        return subprocess.run(
            [str(exe), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            cwd="/",
        )

    return run


def test_frozen_self_test_passes(frozen):
    r = frozen("--self-test")
    assert r.returncode == 0, r.stdout + r.stderr
    for check in ("database", "keyring", "qt", "icons", "publishers", "tls"):
        assert f"ok   {check}" in r.stdout


def test_frozen_version(frozen):
    from milton_desktop import __version__

    assert frozen("--version").stdout.strip() == f"milton-desktop {__version__}"


def test_frozen_end_to_end_publish(frozen):
    with FakeLinkedIn() as fake:
        token = fake.add_member("782bbtaQ", "Jo Writer")
        r = frozen(
            "account",
            "add",
            "linkedin",
            "--name",
            "work",
            "--api-base",
            fake.url,
            "--token-stdin",
            stdin=token + "\n",
        )
        assert r.returncode == 0, r.stderr
        post_id = frozen(
            "post", "add", "--text", "From the bundle (no Python needed)"
        ).stdout.strip()
        when = (datetime.now(UTC) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
        assert frozen("schedule", post_id, "--account", "work", "--at", when).returncode == 0
        time.sleep(1.2)
        r = frozen("run", "--once")
        assert r.returncode == 0, r.stdout + r.stderr
        assert len(fake.posts) == 1
        assert fake.posts[0]["commentary_decoded"] == "From the bundle (no Python needed)"
    (row,) = json.loads(frozen("list", "--json").stdout)
    assert row["status"] == "published" and row["url"].startswith(
        "https://www.linkedin.com/feed/update/"
    )
