"""The product's promise, end to end in one process: a post dropped onto the calendar
is published by the app's own scheduler at its time, with the window closed, over real
HTTP to a fake LinkedIn; the tray then says so and its balloon opens the post."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtGui import QUndoStack

from milton_desktop.context import AppContext
from milton_desktop.domain.credential import Credential
from milton_desktop.engine.machine import Engine
from milton_desktop.engine.runner import Runner
from milton_desktop.operations import posts
from milton_desktop.paths import resolve_paths
from milton_desktop.storage import queries, settings
from milton_desktop.storage.models import Account
from milton_desktop.ui.calendar.model import POST_MIME, make_mime
from milton_desktop.ui.shell.main_window import MainWindow
from milton_desktop.ui.shell.tray import TrayController
from tests.fakes.linkedin import FakeLinkedIn
from tests.ui.shell.test_tray import ALL_ON, FakeTray, IconRecorder, url_opened  # noqa: F401 - fixture


def test_drop_close_publish_notify(qtbot, db, creds, url_opened):  # noqa: F811
    settings.set_value("timezone", "UTC")
    with FakeLinkedIn() as fake:
        token = fake.add_member("782bbtaQ", "Jo Writer")
        account = Account.create(
            platform="linkedin",
            display_name="Work LinkedIn",
            username="782bbtaQ",
            remote_id="782bbtaQ",
            api_base=fake.url,
        )
        creds.save("linkedin", account.id, Credential(token))
        post = posts.add_post("Tuesday thoughts (on local-first software)")

        paths = resolve_paths().ensure()
        ctx = AppContext(paths=paths, credentials=creds, log_file=paths.log_file)
        runner = Runner(Engine(creds), interval_s=60)
        window = MainWindow(ctx, runner, QUndoStack())
        qtbot.addWidget(window)
        trays: list[FakeTray] = []
        tray = TrayController(
            runner,
            window,
            IconRecorder(),
            tray_factory=lambda icon, parent: trays.append(FakeTray(icon, parent)) or trays[-1],
            available=True,
            prefs=lambda: ALL_ON,
        )
        window.set_tray_available(True)
        runner.start()
        window.show()

        # Drop the draft onto today's day view, at the slot a few seconds from now:
        # the same call a real drop makes (one undoable command through the store).
        pane = window.calendar
        pane.choose_account = lambda post_id, choices: [account.id]
        when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
        local = when.astimezone(UTC)
        assert pane.drop_mime(make_mime(POST_MIME, [post.id]), local.date(), local.time())
        (sched,) = queries.list_schedules("pending")
        assert sched.post_id == post.id
        window.close()  # hides into the tray; the scheduler keeps running
        assert not window.isVisible()

        qtbot.waitUntil(
            lambda: queries.get_schedule(sched.id).status == "published", timeout=20_000
        )
        qtbot.waitUntil(lambda: bool(trays and trays[0].messages), timeout=5_000)
        assert len(fake.posts) == 1
        assert fake.posts[0]["commentary_decoded"] == "Tuesday thoughts (on local-first software)"
        title, body, _icon, _ms = trays[0].messages[-1]
        assert "Published" in title and "LinkedIn" in title + body
        trays[0].messageClicked.emit()
        assert url_opened == [queries.get_schedule(sched.id).remote_url]
        assert url_opened[0].startswith("https://www.linkedin.com/feed/update/urn:li:")
        runner.stop(5)
        window.set_runner(None)  # the window outlives this test's runner in qtbot's teardown
        tray.deleteLater()
