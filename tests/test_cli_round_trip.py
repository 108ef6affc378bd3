"""`export --format csv` then `import` on another computer: a fresh home, the same account
names, the CSV and its media folder copied over. The pending posts come back as they were:
text, account, instant, zone, media (same bytes), alt text and follow-ups."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from milton_desktop.storage.models import Account
from tests.operations.helpers import jpeg
from tests.test_cli import run


def _ok(capsys, *args) -> str:
    code, out, err = run(capsys, *args)
    assert code == 0, err
    return out


def _home_with_accounts(home: Path) -> None:
    from milton_desktop.context import open_context

    home.mkdir(parents=True, exist_ok=True)
    open_context(str(home), stderr_logging=False)
    Account.create(platform="x", display_name="hq", remote_id="7")
    Account.create(platform="linkedin", display_name="work", remote_id="urn:li:person:9")


def _pending(capsys, home: Path) -> list[dict]:
    rows = json.loads(_ok(capsys, "--home", str(home), "list", "--status", "pending", "--json"))
    return sorted(rows, key=lambda r: r["scheduled_time"])


def _post(capsys, home: Path, post_id: int) -> dict:
    out = _ok(capsys, "--home", str(home), "export", "--format", "json", "--status", "pending")
    (found,) = [s for s in json.loads(out)["schedules"] if s["post_id"] == post_id]
    return found


def _sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def machines(tmp_path, memory_keyring, milton_home):
    first, second = tmp_path / "first", tmp_path / "second"
    _home_with_accounts(first)
    _home_with_accounts(second)
    return first, second


@pytest.mark.sqlite_only("two homes of their own; one team database would be shared")
def test_exported_pending_posts_import_unchanged_on_a_fresh_home(capsys, machines, tmp_path):
    first, second = machines
    photo = jpeg(tmp_path / "launch.jpg")
    day = (datetime.now(UTC) + timedelta(days=9)).date()
    h = ["--home", str(first)]

    thread = _ok(
        capsys,
        *h,
        "post",
        "add",
        "--text",
        "Launch day, a thread:\n1/ what we built",
        "--media",
        str(photo),
        "--alt",
        "The team at the launch",
        "--follow-up",
        "2/ what is next",
        "--follow-up",
        "3/ thank you",
    ).strip()
    _ok(
        capsys,
        *h,
        "schedule",
        thread,
        "--account",
        "hq",
        "--at",
        f"{day}T10:00",
        "--tz",
        "Europe/Paris",
    )
    plain = _ok(capsys, *h, "post", "add", "--text", 'Notes, with a comma; and "quotes"').strip()
    _ok(capsys, *h, "schedule", plain, "--account", "work", "--at", f"{day}T16:30:00Z")

    share = tmp_path / "share"
    share.mkdir()
    _ok(
        capsys,
        *h,
        "export",
        "--format",
        "csv",
        "--status",
        "pending",
        "--out",
        str(share / "posts.csv"),
    )

    # another computer: only the CSV and its media folder travel
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(share, elsewhere)
    shutil.rmtree(share)
    out = _ok(capsys, "--home", str(second), "import", str(elsewhere / "posts.csv"))
    assert out.strip() == "imported 2 posts (2 scheduled, 0 drafts)"

    before, after = _pending(capsys, first), _pending(capsys, second)
    keys = ("account", "platform", "scheduled_time", "text")
    assert [tuple(r[k] for k in keys) for r in after] == [tuple(r[k] for k in keys) for r in before]

    was, now = _post(capsys, first, int(thread)), _post(capsys, second, after[0]["post_id"])
    assert now["timezone"] == was["timezone"] == "Europe/Paris"
    assert now["post"]["follow_ups"] == was["post"]["follow_ups"]
    assert now["post"]["follow_ups"] == ["2/ what is next", "3/ thank you"]
    media_was, media_now = was["post"]["media"], now["post"]["media"]
    assert [m["alt_text"] for m in media_now] == ["The team at the launch"]
    assert [_sha(m["path"]) for m in media_now] == [_sha(m["path"]) for m in media_was]
    assert Path(media_now[0]["path"]).is_relative_to(second)  # copied into its own home

    # the same file again adds nothing
    out = _ok(capsys, "--home", str(second), "import", str(elsewhere / "posts.csv"))
    assert out.startswith("nothing imported")
    assert len(_pending(capsys, second)) == 2
