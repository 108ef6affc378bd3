"""After runs full of faults, no token, refresh token or Authorization value is found
in the database, the logs, any --json output or any error text."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.x import FakeX

pytestmark = pytest.mark.slow

ACCESS = "x-access-SECRET-7f3a9c2e11"
REFRESH = "x-refresh-SECRET-55d0b7e4a9"
CLIENT_SECRET = "client-SECRET-9e8d7c6b5a"


def test_no_secret_leaks_anywhere(cli, milton_home):
    outputs: list[str] = []

    def run(*args, **kw):
        r = cli(*args, **kw)
        outputs.extend([r.stdout, r.stderr])
        return r

    with FakeX() as fake:
        fake.add_user("2244994945", "miltonhq", "Milton HQ", token=ACCESS)
        fake.add_client("client-1", CLIENT_SECRET)
        fake.add_refresh_token(REFRESH, "2244994945", "client-1")
        assert (
            run(
                "account",
                "add",
                "x",
                "--name",
                "hq",
                "--api-base",
                fake.url,
                "--token-stdin",
                stdin=ACCESS + "\n",
            ).returncode
            == 0
        )
        # Give the stored credential a refresh token and client secret, as the browser flow would.
        from milton_desktop.context import open_context
        from milton_desktop.domain.credential import Credential
        from milton_desktop.storage import settings

        ctx = open_context(None, stderr_logging=False)
        ctx.credentials.save(
            "x",
            1,
            Credential(
                ACCESS, refresh_token=REFRESH, client_id="client-1", client_secret=CLIENT_SECRET
            ),
        )
        assert settings.install_id()

        faults = [
            dict(
                status=401,
                body={
                    "title": "Unauthorized",
                    "status": 401,
                    "detail": "Unauthorized",
                    "type": "about:blank",
                },
            ),
            dict(status=500, body="<html>boom</html>"),
            dict(mode="drop", when="after"),
            dict(status=429, headers={"x-rate-limit-reset": str(int(time.time()) + 3600)}),
            dict(
                status=403,
                body={
                    "detail": "You are not allowed to create a Tweet with duplicate content.",
                    "type": "about:blank",
                    "title": "Forbidden",
                    "status": 403,
                },
            ),
        ]
        for i, fault in enumerate(faults):
            pid = run("post", "add", "--text", f"fault {i}").stdout.strip()
            fake.inject(r"POST /2/tweets", **fault)
            when = (
                (datetime.now(UTC) + timedelta(milliseconds=200)).isoformat().replace("+00:00", "Z")
            )
            assert run("schedule", pid, "--account", "hq", "--at", when).returncode == 0
            time.sleep(0.3)
            run("-v", "run", "--once")
        run("list", "--json")
        run("upcoming", "--json")
        run("status", "--json")
        run("account", "list", "--json")
        statuses = [r["status"] for r in json.loads(run("list", "--json").stdout)]
        assert "published" in statuses and "uncertain" in statuses and "failed" in statuses

    secrets = [ACCESS, REFRESH, CLIENT_SECRET]
    # Any token the fake issued on refresh is a secret too.
    secrets += [t for t in fake.tokens if t not in secrets]
    secrets += [t for t in fake.refresh_tokens if t not in secrets]
    blobs = {"outputs": "\n".join(outputs)}
    for path in milton_home.rglob("*"):
        if path.is_file() and not path.name.endswith((".png", ".jpg")):
            blobs[str(path)] = path.read_bytes().decode("utf-8", "replace")
    con = sqlite3.connect(milton_home / "milton.sqlite3")
    blobs["db dump"] = "\n".join(con.iterdump())
    con.close()
    assert any("milton.log" in name for name in blobs)
    for name, text in blobs.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {name}"
        assert "Bearer " + ACCESS[:8] not in text
