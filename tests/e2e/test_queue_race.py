"""Two processes queueing posts on one account at the same moment never take one slot twice.

Real processes on one real SQLite file: the slot search and the insert share one write
transaction, so whichever process is second sees the first one's post.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import REPO, Cli

pytestmark = pytest.mark.slow

#: posts each worker queues, one after the other
PER_WORKER = 15

_WORKER = textwrap.dedent(
    """
    import os, sys, time
    from milton_desktop.cli import main
    go, post_id, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    while not os.path.exists(go):  # both start together
        time.sleep(0.001)
    for _ in range(n):
        code = main(["schedule", post_id, "--account", "work", "--next-slot", "--json"])
        if code:
            sys.exit(code)
    """
)


@pytest.fixture
def queued_account(milton_home):
    """An account with slots every day and three days a week, made as `account add` would (no
    token needed to queue), and one post."""
    from milton_desktop.context import open_context
    from milton_desktop.operations import posts, queue
    from milton_desktop.storage.db import close_database
    from milton_desktop.storage.models import Account

    open_context(None, stderr_logging=False)
    acc = Account.create(platform="mastodon", display_name="work", remote_id="1")
    # hours far from now, so no slot is about to pass while the test runs
    h = (datetime.now(UTC) + timedelta(hours=12)).hour
    queue.set_queue(
        acc, [f"MO,TU,WE,TH,FR,SA,SU {h:02d}:00", f"MO,WE,FR {(h + 3) % 24:02d}:15"], timezone="UTC"
    )
    post = posts.add_post("one of many")
    expected = queue.show_queue(acc, count=2 * PER_WORKER).next
    close_database()
    return post.id, expected


def _worker(cli: Cli, go, post_id: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(go), str(post_id), str(PER_WORKER)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli.env,
        cwd=REPO,
    )


def _times(out: str) -> list[str]:
    return [json.loads(line)["scheduled_time"] for line in out.splitlines() if line.strip()]


def test_two_processes_queueing_together_take_every_slot_once_in_order(
    milton_home, tmp_path, queued_account
):
    post_id, expected = queued_account
    cli = Cli(milton_home)
    go = tmp_path / "go"
    workers = [_worker(cli, go, post_id) for _ in range(2)]
    go.touch()
    outs = []
    for w in workers:
        out, err = w.communicate(timeout=180)
        assert w.returncode == 0, err
        outs.append(_times(out))
    taken = outs[0] + outs[1]
    assert len(taken) == 2 * PER_WORKER
    assert len(set(taken)) == len(taken), "one slot was taken twice"
    # together they filled the first free slots, none left out
    assert sorted(taken) == [t.isoformat().replace("+00:00", "Z") for t in expected]
    # each process's posts went into ever later slots
    assert all(o == sorted(o) for o in outs)
    rows = json.loads(cli("list", "--json").stdout)
    assert sorted(r["scheduled_time"] for r in rows) == sorted(taken)
    assert {r["status"] for r in rows} == {"pending"}


def test_command_lines_started_at_once_queue_into_different_slots(milton_home, queued_account):
    post_id, expected = queued_account
    cli = Cli(milton_home)
    procs = [
        cli.spawn("schedule", str(post_id), "--account", "work", "--next-slot", "--json")
        for _ in range(6)
    ]
    taken = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        taken += _times(out)
    assert sorted(taken) == [t.isoformat().replace("+00:00", "Z") for t in expected[:6]]
    upcoming = json.loads(cli("upcoming", "--days", "30", "--json").stdout)
    assert len(upcoming) == 6
    shown = json.loads(cli("queue", "show", "work", "--json").stdout)
    assert shown["next"][0] == expected[6].isoformat().replace("+00:00", "Z")
    assert datetime.fromisoformat(shown["next"][0].replace("Z", "+00:00")) > datetime.now(
        UTC
    ) + timedelta(minutes=1)
