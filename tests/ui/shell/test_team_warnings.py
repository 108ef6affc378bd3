"""The window on a team database: the warning that nobody can publish an account's due
post shows in the status bar, read through the team operation on a worker."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from PySide6.QtGui import QUndoStack

from milton_desktop.context import AppContext
from milton_desktop.domain.clock import FakeClock
from milton_desktop.operations import posts, schedules, team
from milton_desktop.paths import resolve_paths
from milton_desktop.storage.models import Account, Machine
from milton_desktop.ui.shell.main_window import MainWindow


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_the_window_warns_when_no_live_machine_can_publish_a_due_post(qtbot, db, creds):
    now = team.server_now()
    acc = Account.create(platform="x", display_name="brand-x", remote_id="1")
    post = posts.add_post("for the brand")
    schedules.schedule(post.id, acc, now + timedelta(hours=2), clock=FakeClock(now))
    Machine.create(
        install_id="alice-home",
        label="Alice's computer",
        started_at=now - timedelta(hours=4),
        last_seen_at=now - timedelta(hours=3),
        interval_s=60,
        online=True,
        accounts=json.dumps([acc.id]),
    )
    paths = resolve_paths().ensure()
    ctx = AppContext(paths=paths, credentials=creds, log_file=paths.log_file)
    window = MainWindow(ctx, None, QUndoStack())
    qtbot.addWidget(window)
    told = []
    window.teamWarnings.connect(told.append)
    window.refresh_status()  # read on a worker
    qtbot.waitUntil(lambda: window.team_label.isVisibleTo(window))
    assert (
        "nobody can publish for 'brand-x' right now: Alice's computer, which holds its "
        "token, was last seen 3 h ago"
    ) in window.team_label.text().replace("&#x27;", "'")
    assert told and told[-1][0][0] == "brand-x"

    Machine.update(last_seen_at=team.server_now()).execute()  # Alice is back
    window.refresh_status()
    qtbot.waitUntil(lambda: not window.team_label.isVisibleTo(window))
