"""The first-run guide: shown on an empty start, one click from each step, hidden for good."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtGui import QUndoStack

from milton_desktop.context import AppContext
from milton_desktop.domain.clock import FakeClock
from milton_desktop.operations import posts
from milton_desktop.paths import resolve_paths
from milton_desktop.publishers import registry
from milton_desktop.storage.models import Account
from milton_desktop.ui.shell.main_window import MainWindow


@pytest.fixture
def make_window(qtbot, db, creds):
    paths = resolve_paths().ensure()
    ctx = AppContext(paths=paths, credentials=creds, log_file=paths.log_file)
    clock = FakeClock(datetime(2027, 1, 10, 9, 0, tzinfo=UTC))

    def _make() -> MainWindow:
        window = MainWindow(ctx, None, QUndoStack(), clock=clock)
        qtbot.addWidget(window)
        window.show()
        return window

    return _make


def test_an_empty_start_shows_the_three_steps(make_window):
    window = make_window()
    guide = window.first_run
    assert guide.isVisible()
    assert guide.connect_button.text() == "1. Connect an account…"
    assert guide.write_button.text() == "2. Write a post…"
    assert "Drag the draft onto a day" in guide.drag_step.text()


def test_each_step_is_one_click_away(qtbot, make_window, monkeypatch):
    window = make_window()
    window.first_run.connect_button.click()
    assert window.accounts_dialog is not None and window.accounts_dialog.isVisible()
    window.accounts_dialog.close()
    window.first_run.write_button.click()
    assert window.editor is not None and window.editor.isVisible()
    window.editor.close()


def test_done_steps_are_ticked_and_the_guide_goes_when_all_are_done(qtbot, make_window):
    Account.create(platform="x", display_name="My X", remote_id="1")
    window = make_window()
    assert window.first_run.isVisible()
    assert window.first_run.connect_button.text().startswith("✓")
    assert not window.first_run.write_button.text().startswith("✓")
    posts.add_post("A first post")
    window.refresh_all()  # read on a worker: the guide goes when the answer is in
    qtbot.waitUntil(lambda: not window.first_run.isVisible(), timeout=5000)


def test_hidden_by_the_user_it_stays_hidden(make_window):
    window = make_window()
    window.first_run.hide_button.click()
    assert not window.first_run.isVisible()
    window.refresh_all()
    assert not window.first_run.isVisible()
    assert not make_window().first_run.isVisible()  # the next start too


def test_what_each_platform_needs_comes_from_its_descriptor(make_window):
    window = make_window()
    window.first_run.details_button.click()
    text = window.first_run.details.text()
    for platform in registry.platforms():
        assert f"<b>{platform.label}</b>" in text
    assert "developer app you create yourself on www.linkedin.com" in text
    assert "paste an access token" in text
    assert "needs an image or video at a public link" in text  # Instagram
