"""The tray controller, offscreen, with a fake tray icon (a real one warns offscreen and
no tray exists there): menu actions, tooltip, notifications per outcome and preference,
and the attention / paused icon states. tests/ui/test_tray_xvfb.py shows a real one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import QSystemTrayIcon

from milton_desktop import resources
from milton_desktop.domain.clock import FakeClock
from milton_desktop.engine.machine import Engine, Outcome
from milton_desktop.engine.runner import Runner
from milton_desktop.storage import settings
from milton_desktop.ui import icons
from milton_desktop.ui.shell.tray import (
    BATCH_MS,
    Notice,
    TrayController,
    combine,
    external_scheduler_text,
    next_post,
    notice_for_outcome,
)

ALL_ON = {
    "notify_published": True,
    "notify_failed": True,
    "notify_uncertain": True,
    "notify_reconnect": True,
}


class FakeTray(QObject):
    """Records what the controller asks of QSystemTrayIcon."""

    messageClicked = Signal()
    activated = Signal(object)

    def __init__(self, icon: QIcon, parent: QObject) -> None:
        super().__init__(parent)
        self.icons = [icon]
        self.tooltip = ""
        self.menu = None
        self.visible = False
        self.messages: list[tuple[str, str, object, int]] = []

    def setIcon(self, icon):
        self.icons.append(icon)

    def setToolTip(self, tip):
        self.tooltip = tip

    def setContextMenu(self, menu):
        self.menu = menu

    def show(self):
        self.visible = True

    def hide(self):
        self.visible = False

    def showMessage(self, title, body, icon, msecs):
        self.messages.append((title, body, icon, msecs))


class FakeWindow(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []
        self.visible = False
        self.active = False

    def bring_to_front(self):
        self.calls.append(("bring_to_front",))

    def notify(self, notice):
        self.calls.append(("notify", notice))

    def show_missed(self, ids):
        self.calls.append(("show_missed", ids))

    def show_attention(self, ids=None):
        self.calls.append(("show_attention", ids))

    def request_quit(self):
        self.calls.append(("request_quit",))

    def isVisible(self):
        return self.visible

    def isActiveWindow(self):
        return self.active


class _Dispatcher:
    def __init__(self) -> None:
        self.busy = 0

    def in_flight(self):
        return self.busy


class _Engine:
    def __init__(self) -> None:
        self.due_rows: list[tuple[int, int]] = []

    def due(self, limit=200, account_id=None):
        return self.due_rows[:limit]


class FakeRunner(QObject):
    """The runner's surface the tray uses, recording calls instead of publishing."""

    outcome = Signal(object)
    rearmed = Signal(object)

    def __init__(self, clock) -> None:
        super().__init__()
        self.clock = clock
        self.paused = False
        self.calls: list[tuple] = []
        self.engine = _Engine()
        self.dispatcher = _Dispatcher()

    def set_paused(self, paused):
        self.calls.append(("set_paused", paused))
        self.paused = paused

    def tick(self):
        self.calls.append(("tick",))


class IconRecorder:
    """An icon provider that remembers which state was asked for last."""

    def __init__(self) -> None:
        self.states: list[str] = []

    def __call__(self, state: str) -> QIcon:
        self.states.append(state)
        return QIcon()

    @property
    def last(self) -> str:
        return self.states[-1]


@pytest.fixture
def base_time():
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=5)


@pytest.fixture
def clock(base_time):
    return FakeClock(base_time)


@pytest.fixture
def prefs():
    return dict(ALL_ON)


@pytest.fixture
def make_tray(qtbot, db, clock, prefs):
    made = []

    def _make(runner=None, window=None, available=True):
        window = window or FakeWindow()
        provider = IconRecorder()
        trays: list[FakeTray] = []

        def factory(icon, parent):
            trays.append(FakeTray(icon, parent))
            return trays[-1]

        ctl = TrayController(
            runner,
            window,
            provider,
            tray_factory=factory,
            available=available,
            clock=clock,
            prefs=lambda: prefs,
        )
        made.append(ctl)
        return ctl, (trays[0] if trays else None), window, provider

    yield _make
    for ctl in made:
        ctl.deleteLater()


def outcome(
    status="published", *, sid=1, platform="linkedin", url=None, message=None, reconnect=False
):
    return Outcome(
        schedule_id=sid,
        status=status,
        account="Work LinkedIn",
        platform=platform,
        text="Hello from Milton, a post about local-first software",
        message=message,
        url=url,
        needs_reconnect=reconnect,
    )


@pytest.fixture
def url_opened():
    """Catch QDesktopServices.openUrl for https links instead of launching a browser."""

    class Catcher(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.urls: list[str] = []

        @Slot(QUrl)
        def open(self, url: QUrl) -> None:
            self.urls.append(url.toString())

    catcher = Catcher()
    QDesktopServices.setUrlHandler("https", catcher, "open")
    yield catcher.urls
    QDesktopServices.unsetUrlHandler("https")


# ---------------------------------------------------------------- menu


def test_menu_actions_drive_runner_and_window(qtbot, make_tray, clock):
    runner = FakeRunner(clock)
    ctl, tray, window, provider = make_tray(runner)
    assert tray.menu is ctl.menu
    texts = [a.text() for a in ctl.menu.actions() if not a.isSeparator()]
    assert texts[0] == "Open Milton Desktop" and texts[-1] == "Quit Milton Desktop"
    assert "Pause publishing" in texts and "Publish due posts now" in texts

    ctl.open_action.trigger()
    assert window.calls[-1] == ("bring_to_front",)

    with qtbot.waitSignal(ctl.pausedChanged) as paused:
        ctl.pause_action.trigger()
    assert paused.args == [True]
    assert runner.calls[-1] == ("set_paused", True)
    assert ctl.pause_action.text() == "Resume publishing"
    assert provider.last == "paused"
    assert not ctl.publish_action.isEnabled()  # paused means paused, even for "now"

    ctl.pause_action.trigger()
    assert runner.calls[-1] == ("set_paused", False)
    assert ctl.pause_action.text() == "Pause publishing"
    assert provider.last == "idle"

    runner.engine.due_rows = [(7, 1)]
    ctl.publish_action.trigger()
    assert runner.calls[-1] == ("tick",)
    assert tray.messages == []  # something was due: no "nothing due" balloon

    ctl.quit_action.trigger()
    assert window.calls[-1] == ("request_quit",)


def test_publish_now_with_nothing_due_says_so(qtbot, make_tray, clock):
    runner = FakeRunner(clock)
    ctl, tray, _window, _ = make_tray(runner)
    ctl.publish_action.trigger()
    assert runner.calls[-1] == ("tick",)
    assert tray.messages[-1][0] == "Nothing is due right now"


def test_left_click_opens_the_window(qtbot, make_tray, clock):
    _ctl, tray, window, _ = make_tray(FakeRunner(clock))
    tray.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert window.calls == [("bring_to_front",)]
    tray.activated.emit(QSystemTrayIcon.ActivationReason.Context)  # the menu, nothing else
    assert window.calls == [("bring_to_front",)]


def test_works_with_a_real_runner(qtbot, make_tray, creds, clock):
    runner = Runner(Engine(creds, clock=clock), clock=clock)
    try:
        ctl, _tray, _window, provider = make_tray(runner)
        ctl.pause_action.trigger()
        assert runner.paused and provider.last == "paused"
        ctl.pause_action.trigger()
        assert not runner.paused and provider.last == "idle"
    finally:
        runner.stop(1)


# ---------------------------------------------------------------- tooltip


def test_tooltip_names_the_next_post(qtbot, make_tray, make_schedule, clock, base_time):
    make_schedule("Later on X", base_time + timedelta(hours=3), "x")
    make_schedule("Soon on LinkedIn", base_time + timedelta(minutes=12), "linkedin")
    runner = FakeRunner(clock)
    ctl, tray, _window, _ = make_tray(runner)
    assert tray.tooltip == "Milton Desktop — next: LinkedIn in 12 min"
    assert ctl.next_action.text() == "Next: LinkedIn in 12 min"

    clock.advance(timedelta(minutes=7))
    runner.rearmed.emit(base_time + timedelta(minutes=12))  # the runner re-armed: tooltip follows
    assert tray.tooltip == "Milton Desktop — next: LinkedIn in 5 min"


def test_tooltip_timer_is_named_and_parented(qtbot, make_tray, clock):
    ctl, _tray, _window, _ = make_tray(FakeRunner(clock))
    from PySide6.QtCore import QTimer

    timer = ctl.findChild(QTimer, "milton-tray-tooltip")
    assert timer is not None and timer.isActive() and timer.interval() == 30_000


def test_tooltip_when_nothing_is_scheduled_and_when_paused(qtbot, make_tray, clock):
    runner = FakeRunner(clock)
    ctl, tray, _window, _ = make_tray(runner)
    assert tray.tooltip == "Milton Desktop — nothing scheduled"
    ctl.pause_action.trigger()
    assert tray.tooltip.startswith("Milton Desktop — publishing paused")


def test_accounts_needing_reconnect_are_not_next(qtbot, make_schedule, accounts, base_time):
    make_schedule("Held", base_time + timedelta(minutes=3), "linkedin")
    make_schedule("Goes", base_time + timedelta(minutes=30), "x")
    accounts["linkedin"].status = "needs_reconnect"
    accounts["linkedin"].save()
    nxt = next_post()
    assert nxt is not None and nxt.platform == "x"


def test_external_scheduler_is_named_and_actions_disabled(
    qtbot, make_tray, make_schedule, base_time
):
    make_schedule("Soon", base_time + timedelta(minutes=12), "linkedin")
    ctl, tray, _window, _ = make_tray(None)
    ctl.set_runner(None, "pid 4242 on laptop")
    assert "Publishing is handled by the background scheduler (pid 4242)" in tray.tooltip
    assert "next: LinkedIn in 12 min" in tray.tooltip
    assert not ctl.pause_action.isEnabled() and not ctl.publish_action.isEnabled()
    assert external_scheduler_text("pid 4242 on laptop").endswith("(pid 4242)")


# ---------------------------------------------------------------- notices


@pytest.mark.parametrize(
    ("result", "kind", "title", "level"),
    [
        (
            outcome("published", url="https://linkedin.example/p/1"),
            "published",
            "Published on LinkedIn",
            "info",
        ),
        (
            outcome("failed", message="the text is too long"),
            "failed",
            "Could not publish to LinkedIn",
            "critical",
        ),
        (
            outcome("failed", message="token revoked", reconnect=True),
            "reconnect",
            "Reconnect your LinkedIn account “Work LinkedIn”",
            "critical",
        ),
        (
            outcome("uncertain", message="read timed out"),
            "uncertain",
            "Post to LinkedIn may or may not have been published",
            "warning",
        ),
        (outcome("missed", platform="x"), "missed", "A post to X missed its time", "warning"),
    ],
)
def test_notice_per_outcome(result, kind, title, level):
    notice = notice_for_outcome(result, ALL_ON)
    assert notice is not None
    assert (notice.kind, notice.title, notice.level) == (kind, title, level)
    assert notice.schedule_ids == (1,)


def test_notice_texts_say_what_to_do():
    failed = notice_for_outcome(outcome("failed", message="the text is too long"), ALL_ON)
    assert "The text is too long" in failed.body  # the reason, capitalised
    uncertain = notice_for_outcome(outcome("uncertain"), ALL_ON)
    assert "before reposting" in uncertain.body
    published = notice_for_outcome(outcome("published", url="https://l.example/1"), ALL_ON)
    assert published.url == "https://l.example/1"
    reconnect = notice_for_outcome(
        outcome("failed", message="token revoked", reconnect=True), ALL_ON
    )
    assert "Accounts…" in reconnect.body


@pytest.mark.parametrize(
    ("result", "pref"),
    [
        (outcome("published"), "notify_published"),
        (outcome("failed"), "notify_failed"),
        (outcome("uncertain"), "notify_uncertain"),
    ],
)
def test_preferences_silence_notices(result, pref):
    assert notice_for_outcome(result, {**ALL_ON, pref: False}) is None


def test_reconnect_falls_back_to_failed_when_its_own_notice_is_off():
    result = outcome("failed", message="token revoked", reconnect=True)
    notice = notice_for_outcome(result, {**ALL_ON, "notify_reconnect": False})
    assert notice is not None and notice.kind == "failed"
    assert (
        notice_for_outcome(result, {**ALL_ON, "notify_reconnect": False, "notify_failed": False})
        is None
    )


def test_retries_and_missed_preferences():
    assert notice_for_outcome(outcome("pending"), ALL_ON) is None  # a retry is no news
    # missed posts always need a decision: there is no preference to mute them
    assert notice_for_outcome(outcome("missed"), dict.fromkeys(ALL_ON, False)) is not None


def test_settings_preferences_are_read_by_default(qtbot, db, clock):
    settings.set_value("notify_published", False)
    window = FakeWindow()
    ctl = TrayController(FakeRunner(clock), window, IconRecorder(), available=False, clock=clock)
    ctl.runner.outcome.emit(outcome("published"))
    assert window.calls == []
    ctl.runner.outcome.emit(outcome("failed", message="nope"))
    assert window.calls[-1][0] == "notify"


def test_published_balloon_opens_the_post(qtbot, make_tray, clock, url_opened):
    runner = FakeRunner(clock)
    _ctl, tray, window, provider = make_tray(runner)
    runner.outcome.emit(
        outcome("published", url="https://www.linkedin.com/feed/update/urn:li:share:1")
    )
    qtbot.waitUntil(lambda: bool(tray.messages), timeout=BATCH_MS * 5)
    title, body, icon, _ms = tray.messages[-1]
    assert title == "Published on LinkedIn"
    assert "Work LinkedIn" in body and icon == QSystemTrayIcon.MessageIcon.Information
    assert provider.last == "idle"  # good news needs no attention
    tray.messageClicked.emit()
    assert url_opened == ["https://www.linkedin.com/feed/update/urn:li:share:1"]
    assert ("bring_to_front",) not in window.calls


def test_outcomes_arriving_together_share_one_balloon(qtbot, make_tray, clock):
    runner = FakeRunner(clock)
    ctl, tray, _window, _ = make_tray(runner)
    for sid in (1, 2, 3):
        runner.outcome.emit(outcome("published", sid=sid))
    runner.outcome.emit(outcome("failed", sid=4, message="rejected"))
    ctl.flush()
    assert len(tray.messages) == 1
    title, body, icon, _ = tray.messages[0]
    assert title == "3 published, 1 failed"
    assert icon == QSystemTrayIcon.MessageIcon.Critical
    assert body.count("\n") == 3  # three titles and "and 1 more"


def test_combine_same_kind_lists_the_posts():
    notices = [notice_for_outcome(outcome("missed", sid=i), ALL_ON) for i in (1, 2)]
    merged = combine(notices)
    assert merged.title == "2 posts missed their time" and merged.schedule_ids == (1, 2)
    assert merged.body.splitlines()[0].startswith("LinkedIn: “Hello from Milton")


def test_combine_never_counts_a_post_twice():
    # The start-up summary names posts the runner's first tick reports again.
    summary = Notice(
        "missed", "2 posts missed their time", "Open it.", "warning", schedule_ids=(1, 2)
    )
    again = [notice_for_outcome(outcome("missed", sid=i), ALL_ON) for i in (1, 2)]
    assert combine([summary, *again]) == summary
    third = notice_for_outcome(outcome("missed", sid=3), ALL_ON)
    assert combine([summary, *again, third]).title == "3 posts missed their time"


def test_missed_balloon_click_opens_the_missed_dialog(qtbot, make_tray, clock):
    runner = FakeRunner(clock)
    ctl, tray, window, _ = make_tray(runner)
    runner.outcome.emit(outcome("missed", sid=5))
    runner.outcome.emit(outcome("missed", sid=6))
    ctl.flush()
    tray.messageClicked.emit()
    assert window.calls[-2:] == [("bring_to_front",), ("show_missed", [5, 6])]


def test_no_tray_routes_notices_to_the_window(qtbot, make_tray, clock):
    runner = FakeRunner(clock)
    ctl, tray, window, _ = make_tray(runner, available=False)
    assert tray is None and ctl.tray is None  # the factory was never called
    runner.outcome.emit(outcome("uncertain", message="timeout"))
    kind, notice = window.calls[-1]
    assert kind == "notify" and notice.kind == "uncertain"
    ctl.show_hint("hint", "body")
    assert window.calls[-1][1].title == "hint"


# ---------------------------------------------------------------- icon states


@pytest.mark.parametrize(
    "result",
    [
        outcome("failed", message="x"),
        outcome("uncertain"),
        outcome("missed"),
        outcome("failed", message="expired", reconnect=True),
    ],
)
def test_attention_until_the_window_is_opened(qtbot, make_tray, clock, result):
    runner = FakeRunner(clock)
    ctl, tray, _window, provider = make_tray(runner)
    runner.outcome.emit(result)
    assert ctl.attention and provider.last == "attention"
    # the tooltip (it reads the next post) follows once for a burst of outcomes
    qtbot.waitUntil(lambda: "needs your attention" in tray.tooltip, timeout=2000)
    ctl.clear_attention()  # what the window's "activated" signal calls
    assert not ctl.attention and provider.last == "idle"


def test_no_attention_when_the_user_is_looking(qtbot, make_tray, clock):
    window = FakeWindow()
    window.visible = window.active = True
    runner = FakeRunner(clock)
    ctl, _tray, _window, provider = make_tray(runner, window=window)
    runner.outcome.emit(outcome("failed", message="x"))
    assert not ctl.attention and provider.last == "idle"


def test_attention_wins_over_paused_and_publishing(qtbot, make_tray, clock):
    runner = FakeRunner(clock)
    ctl, _tray, _window, provider = make_tray(runner)
    runner.dispatcher.busy = 1
    runner.rearmed.emit(None)
    assert provider.last == "publishing"
    ctl.pause_action.trigger()
    assert provider.last == "paused"
    runner.outcome.emit(outcome("uncertain"))
    assert provider.last == "attention"
    ctl.clear_attention()
    assert provider.last == "paused"


# ---------------------------------------------------------------- icon files


def test_icon_files_match_their_source(qapp):
    """resources/icons is written by icons.write_resources; a hand edit would drift."""
    folder = resources.icons_dir()
    assert (folder / "milton-desktop.svg").read_text() == icons.app_svg()
    for state in resources.TRAY_STATES:
        assert resources.tray_icon_svg(state).read_text() == icons.tray_svg(state)
    for size in resources.APP_ICON_SIZES:
        assert resources.app_icon_png(size).is_file()


def test_tray_icons_render_at_tray_sizes(qapp):
    for state in resources.TRAY_STATES:
        icon = icons.tray_icon(state)
        for size in (16, 22, 24):
            pixmap = icon.pixmap(size, size)
            assert not pixmap.isNull() and pixmap.width() == size
    image = icons.render(icons.tray_svg("attention"), 32)
    red = image.pixelColor(24, 8)  # the attention dot, top right
    assert red.red() > 200 and red.green() < 100


def test_ico_and_icns_hold_every_size(qapp):
    from PySide6.QtGui import QImageReader

    folder = resources.icons_dir()
    for name, expected in (
        ("milton-desktop.ico", [16, 32, 48, 64, 128, 256]),
        ("milton-desktop.icns", [16, 32, 64, 128, 256, 512]),
    ):
        reader = QImageReader(str(folder / name))
        sizes = []
        for i in range(reader.imageCount()):
            reader.jumpToImage(i)
            sizes.append(reader.read().width())
        assert sorted(sizes) == expected, name


def test_a_warning_on_a_published_post_is_in_its_notice():
    from milton_desktop.engine.machine import Outcome

    result = Outcome(
        1,
        "published",
        "My X",
        "x",
        "A photo",
        url="https://x.com/i/web/status/1",
        warning="alt text of media 1 was not accepted by X: too long; the post went out without it",
    )
    notice = notice_for_outcome(result, ALL_ON)
    assert notice is not None and notice.title == "Published on X"
    assert notice.body.endswith(
        "Alt text of media 1 was not accepted by X: too long; the post went out without it"
    )


def test_a_token_that_cannot_be_renewed_is_announced_once_a_week_ahead(
    qtbot, make_tray, clock, base_time
):
    from datetime import timedelta

    from milton_desktop.storage.models import Account

    Account.create(
        platform="linkedin",
        display_name="Work",
        remote_id="7",
        token_expires_at=clock.now() + timedelta(days=3),
    )
    Account.create(  # renewed by Milton: nothing to say
        platform="instagram",
        display_name="Studio",
        remote_id="8",
        token_expires_at=clock.now() + timedelta(days=3),
    )
    Account.create(  # far away yet
        platform="linkedin",
        display_name="Later",
        remote_id="9",
        token_expires_at=clock.now() + timedelta(days=30),
    )
    ctl, tray, _window, _ = make_tray(FakeRunner(clock))
    ctl.check_token_expiry()
    ctl.flush()
    assert [m[0] for m in tray.messages] == ["Reconnect “Work” within 3 days"]
    assert "LinkedIn token expires then and cannot be renewed from here" in tray.messages[0][1]
    ctl.check_token_expiry()  # once per token, not on every tick
    ctl.flush()
    assert len(tray.messages) == 1


# ---------------------------------------------------------------- the way back to what needs deciding


def test_the_menu_offers_to_review_what_needs_attention(qtbot, make_tray, clock, make_schedule):
    from milton_desktop.storage.models import ScheduledPost

    runner = FakeRunner(clock)
    ctl, _tray, window, _ = make_tray(runner)
    ctl.refresh()
    assert not ctl.attention_action.isVisible()  # nothing to review: not offered
    rows = [make_schedule(f"post {n}", clock.now() + timedelta(days=1)) for n in range(3)]
    for row, status in zip(rows, ("failed", "missed", "uncertain"), strict=True):
        ScheduledPost.update(status=status).where(ScheduledPost.id == row.id).execute()
    ctl.menu.aboutToShow.emit()
    assert ctl.attention_action.isVisible()
    assert ctl.attention_action.text() == "Review 3 posts needing attention"
    ctl.attention_action.trigger()
    assert window.calls[-2:] == [("bring_to_front",), ("show_attention", None)]


def test_a_failed_or_uncertain_balloon_opens_the_window_at_that_post(qtbot, make_tray, clock):
    runner = FakeRunner(clock)
    ctl, tray, window, _ = make_tray(runner)
    runner.outcome.emit(outcome("failed", sid=7, message="rejected"))
    ctl.flush()
    tray.messageClicked.emit()
    assert window.calls[-2:] == [("bring_to_front",), ("show_attention", [7])]


def test_a_missed_post_announced_at_start_is_not_announced_again(qtbot, make_tray, clock):
    runner = FakeRunner(clock)
    ctl, tray, _window, _ = make_tray(runner)
    ctl.notify(Notice("missed", "3 posts missed their time", "…", schedule_ids=(1, 2, 3)))
    ctl.flush()
    assert len(tray.messages) == 1 and tray.messages[0][0] == "3 posts missed their time"
    # the scheduler's first check marks the third one missed a moment later
    runner.outcome.emit(outcome("missed", sid=3))
    ctl.flush()
    assert len(tray.messages) == 1
    runner.outcome.emit(outcome("missed", sid=4))  # a new one is news
    ctl.flush()
    assert len(tray.messages) == 2


def test_a_team_warning_is_told_once_per_account_until_it_clears(qtbot, make_tray, clock):
    ctl, tray, _window, _ = make_tray(FakeRunner(clock))
    brand = ("brand-x", "nobody can publish for 'brand-x' right now: Alice's computer, ...")
    ctl.show_team_warnings([brand])
    ctl.flush()
    ctl.show_team_warnings([(brand[0], brand[1] + " (later)"), ("other", "nobody ... 'other'")])
    ctl.flush()
    titles = [m[0] for m in tray.messages]
    assert titles.count("Nobody can publish for “brand-x”") == 1
    assert titles.count("Nobody can publish for “other”") == 1
    ctl.show_team_warnings([])  # cleared: a later return is news again
    ctl.show_team_warnings([brand])
    ctl.flush()
    titles = [m[0] for m in tray.messages]
    assert titles.count("Nobody can publish for “brand-x”") == 2
