"""The tray icon: a menu to pause, publish and quit; notifications; an icon that says
whether anything needs the user.

Notifications follow the ``notify_*`` preferences. Outcomes that arrive together
(several posts due at one minute) are shown as one balloon, since each new balloon
would replace the last before it could be read. Without a system tray (many
Wayland and minimal X desktops, and offscreen), notices go to the window's
in-window notification area instead.

The ``QSystemTrayIcon`` is made by an injectable factory so widget tests can give a
fake: creating a real one offscreen warns, and no tray exists there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QFont, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from milton_desktop import APP_NAME
from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.status import NEEDS_ATTENTION, Status
from milton_desktop.domain.timeutil import human_delta
from milton_desktop.operations.accounts import must_reconnect_soon
from milton_desktop.operations.schedules import MISSED_MESSAGE
from milton_desktop.publishers import registry
from milton_desktop.storage import queries, settings
from milton_desktop.ui import tones
from milton_desktop.ui.calendar.settle import attention_title

if TYPE_CHECKING:  # the engine is imported when the scheduler starts, after the first paint
    from milton_desktop.engine.machine import Outcome
    from milton_desktop.engine.runner import Runner

log = logging.getLogger("milton.ui.tray")

#: how long outcomes are gathered into one balloon
BATCH_MS = 400
#: how often the tooltip's "in 12 min" is brought up to date
TOOLTIP_REFRESH_MS = 30_000
BALLOON_MS = 10_000

_LEVELS = ("info", "warning", "critical")


# ---------------------------------------------------------------- what is next


@dataclass(frozen=True)
class NextPost:
    when: datetime
    platform: str
    account: str

    @property
    def label(self) -> str:
        return registry.label(self.platform)

    def describe(self, now: datetime) -> str:
        """``LinkedIn in 12 min`` (or ``LinkedIn now`` when it is due)."""
        delta = self.when - now
        if delta.total_seconds() < 60:
            return f"{self.label} now"
        return f"{self.label} in {human_delta(delta)}"


def next_post() -> NextPost | None:
    """The pending post that goes out first, on an account that can publish."""
    found = queries.next_pending()
    return None if found is None else NextPost(*found)


def external_owner_pid(owner: str) -> str:
    """``pid 123`` out of the scheduler lock's ``pid 123 on host``."""
    match = re.search(r"pid \d+", owner)
    return match.group(0) if match else owner


def external_scheduler_text(owner: str) -> str:
    return f"Publishing is handled by the background scheduler ({external_owner_pid(owner)})"


# ---------------------------------------------------------------- notices


@dataclass(frozen=True)
class Notice:
    """One thing to tell the user, in the tray balloon or the in-window area."""

    kind: str  # published | failed | reconnect | uncertain | missed | info
    title: str
    body: str
    level: str = "info"  # info | warning | critical
    url: str | None = None
    schedule_ids: tuple[int, ...] = field(default=())
    #: one short line naming the post, for a balloon that lists several
    line: str = ""


def _excerpt(text: str, n: int = 70) -> str:
    one = " ".join((text or "").split())
    return one if len(one) <= n else one[: n - 1].rstrip() + "…"


def _reason(message: str | None) -> str:
    text = " ".join((message or "").split())
    if not text:
        return "the platform gave no reason"
    return text[0].upper() + text[1:]


def follow_runner(
    old: Runner | None,
    new: Runner | None,
    on_outcome: Callable[[Outcome], None],
    on_rearmed: Callable[[datetime | None], None],
) -> None:
    """Move the two slots every runner watcher has from ``old`` runner to ``new``."""
    if old is not None:
        old.outcome.disconnect(on_outcome)
        old.rearmed.disconnect(on_rearmed)
    if new is not None:
        new.outcome.connect(on_outcome)
        new.rearmed.connect(on_rearmed)


def expiry_notices(
    accounts: Sequence[queries.AccountView], now: datetime, told: set[tuple[int, datetime]]
) -> list[Notice]:
    """A notice for each token that cannot be renewed and expires within a week, once per
    token (``told`` remembers which were announced)."""
    notices = []
    for acc in accounts:
        expires = acc.token_expires_at
        if not must_reconnect_soon(acc, now) or expires is None or (acc.id, expires) in told:
            continue
        told.add((acc.id, expires))
        notices.append(
            Notice(
                "reconnect",
                f"Reconnect “{acc.display_name}” within {human_delta(expires - now)}",
                f"Its {registry.label(acc.platform)} token expires then and cannot be renewed from here: "
                "reconnect it in Accounts… so its posts keep going out.",
                level="warning",
            )
        )
    return notices


def notice_for_outcome(outcome: Outcome, prefs: Mapping[str, Any]) -> Notice | None:
    """The notice an outcome deserves under the user's preferences, or None."""
    label, ids = outcome.label, (outcome.schedule_id,)
    quoted = f"“{_excerpt(outcome.text)}”"
    line = f"{label}: “{_excerpt(outcome.text, 48)}”"
    if outcome.status == Status.PUBLISHED:
        if not prefs.get("notify_published", True):
            return None
        body = f"{outcome.account}: {quoted}"
        if outcome.warning:
            body += f"\n{_reason(outcome.warning)}"
        return Notice(
            Status.PUBLISHED,
            f"Published on {label}",
            body,
            url=outcome.url,
            schedule_ids=ids,
            line=line,
        )
    if outcome.repeat_stopped:
        # Always told, like a missed post: a stopped repeat silently publishes nothing more.
        return Notice(
            Status.FAILED,
            f"A repeating post to {label} stopped repeating",
            f"{_reason(outcome.message)}. ({outcome.account}: {quoted})",
            level="warning",
            schedule_ids=ids,
            line=line,
        )
    if (
        outcome.status == Status.FAILED
        and outcome.needs_reconnect
        and prefs.get("notify_reconnect", True)
    ):
        return Notice(
            "reconnect",
            f"Reconnect your {label} account “{outcome.account}”",
            f"{_reason(outcome.message)}. Its posts wait until you reconnect it in Accounts…; "
            f"then publish {quoted} again.",
            level="critical",
            schedule_ids=ids,
            line=line,
        )
    if outcome.status == Status.FAILED:
        if not prefs.get("notify_failed", True):
            return None
        return Notice(
            Status.FAILED,
            f"Could not publish to {label}",
            f"{_reason(outcome.message)}. ({outcome.account}: {quoted})",
            level="critical",
            schedule_ids=ids,
            line=line,
        )
    if outcome.status == Status.UNCERTAIN:
        if not prefs.get("notify_uncertain", True):
            return None
        return Notice(
            Status.UNCERTAIN,
            f"Post to {label} may or may not have been published",
            f"Check {outcome.account} on {label} before reposting {quoted}.",
            level="warning",
            schedule_ids=ids,
            line=line,
        )
    if outcome.status == Status.MISSED:
        # Always told: a missed post waits for a decision, there is no preference to mute it.
        # One row may stand for many occurrences of a repeat: its own message counts them.
        own = outcome.message and outcome.message != MISSED_MESSAGE
        return Notice(
            Status.MISSED,
            f"A post to {label} missed its time",
            f"{quoted}: {_reason(outcome.message)}."
            if own
            else f"{quoted} was due while the computer was off or asleep. "
            "Publish it now, reschedule it or skip it.",
            level="warning",
            schedule_ids=ids,
            line=line,
        )
    return None


_PLURAL_TITLES = {
    Status.PUBLISHED: "{n} posts published",
    Status.FAILED: "{n} posts could not be published",
    "reconnect": "{n} posts need a reconnected account",
    Status.UNCERTAIN: "{n} posts may or may not have been published",
    Status.MISSED: "{n} posts missed their time",
}

_SHORT = {
    Status.PUBLISHED: Status.PUBLISHED,
    Status.FAILED: Status.FAILED,
    "reconnect": "need reconnecting",
    Status.UNCERTAIN: Status.UNCERTAIN,
    Status.MISSED: Status.MISSED,
    Status.AWAITING_APPROVAL: "wait for approval",
}


def approval_notice(schedule_ids: list[int]) -> Notice:
    """ "N posts wait for approval", for the members who can approve them."""
    n = len(schedule_ids)
    title = f"{n} post{'s' if n != 1 else ''} wait{'s' if n == 1 else ''} for approval"
    return Notice(
        Status.AWAITING_APPROVAL,
        title,
        "Right-click one in the calendar and choose Approve; a post nobody approves by "
        "its time is missed.",
        "info",
        None,
        tuple(schedule_ids),
        line=title,
    )


def combine(notices: list[Notice]) -> Notice:
    """One balloon for several notices: counts in the title, the first few in the body.

    A notice about posts already covered by an earlier one of the same kind (the
    start-up summary of missed posts, then the runner's outcome for each) is dropped,
    so nothing is counted twice.
    """
    unique: list[Notice] = []
    covered: dict[str, set[int]] = {}
    for notice in notices:
        notice_ids = set(notice.schedule_ids)
        seen = covered.setdefault(notice.kind, set())
        if notice_ids and notice_ids <= seen:
            continue
        seen |= notice_ids
        unique.append(notice)
    if len(unique) == 1:
        return unique[0]

    def count(kind: str) -> int:
        group = [n for n in unique if n.kind == kind]
        return len(covered[kind]) if all(n.schedule_ids for n in group) else len(group)

    order = list(_SHORT)
    kinds = sorted({n.kind for n in unique}, key=lambda k: order.index(k) if k in order else 99)
    level = max((n.level for n in unique), key=_LEVELS.index)
    if len(kinds) == 1 and kinds[0] in _PLURAL_TITLES:
        title = _PLURAL_TITLES[kinds[0]].format(n=count(kinds[0]))
        lines = [n.line or n.title for n in unique[:3]]
    else:
        title = ", ".join(f"{count(k)} {_SHORT.get(k, k)}" for k in kinds)
        lines = [n.title for n in unique[:3]]
    if len(unique) > 3:
        lines.append(f"and {len(unique) - 3} more: open {APP_NAME} to see them")
    ids = tuple(i for n in unique for i in n.schedule_ids)
    kind = kinds[0] if len(kinds) == 1 else "batch"
    return Notice(kind, title, "\n".join(lines), level, None, ids)


# ---------------------------------------------------------------- the controller


class TrayLike(Protocol):
    """What the controller uses of ``QSystemTrayIcon`` (a fake implements it in tests)."""

    messageClicked: Any
    activated: Any

    def setIcon(self, icon: QIcon) -> None: ...
    def setToolTip(self, tip: str) -> None: ...
    def setContextMenu(self, menu: QMenu) -> None: ...
    def show(self) -> None: ...
    def hide(self) -> None: ...
    def showMessage(
        self, title: str, body: str, icon: QSystemTrayIcon.MessageIcon, msecs: int
    ) -> None: ...


class WindowLike(Protocol):
    """What the controller uses of the main window."""

    def bring_to_front(self) -> None: ...
    def notify(self, notice: Notice) -> None: ...
    def show_missed(self, schedule_ids: list[int]) -> object: ...  # what it returns is unused
    def show_attention(self, schedule_ids: list[int] | None = None) -> None: ...
    def request_quit(self) -> None: ...
    def isVisible(self) -> bool: ...
    def isActiveWindow(self) -> bool: ...


def _default_tray_factory(icon: QIcon, parent: QObject) -> QSystemTrayIcon:
    tray = QSystemTrayIcon(icon, parent)
    tray.setObjectName("milton-tray-icon")
    return tray


class TrayController(QObject):
    """Owns the tray icon, its menu, its tooltip, and the notifications."""

    #: the user paused (True) or resumed (False) publishing from the tray menu
    pausedChanged = Signal(bool)

    def __init__(
        self,
        runner: Runner | None,
        window: WindowLike,
        app_icon_provider: Callable[[str], QIcon],
        parent: QObject | None = None,
        *,
        tray_factory: Callable[[QIcon, QObject], TrayLike] | None = None,
        available: bool | None = None,
        clock: Clock | None = None,
        prefs: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("milton-tray")
        self.runner: Runner | None = None
        self.window = window
        self.icon_for = app_icon_provider
        self.clock = clock or (runner.clock if runner is not None else SystemClock())
        self._prefs = prefs or settings.all_values
        self.external_owner: str | None = None
        self.attention = False
        self.state = "idle"
        self._pending: list[Notice] = []
        self._clicked: Notice | None = None
        #: missed posts already announced: a later outcome for one is not news
        self._told_missed: set[int] = set()
        #: how many posts waited for approval when the tray last looked (None: never)
        self._awaiting: int | None = None

        self.available = (
            QSystemTrayIcon.isSystemTrayAvailable() if available is None else bool(available)
        )
        self.menu = QMenu()
        self.menu.setObjectName("milton-tray-menu")
        # "Next: …" is information, disabled so it is not a choice, and must read
        self.menu.setPalette(tones.legible_disabled(self.menu.palette()))
        self.open_action = QAction(f"Open {APP_NAME}", self.menu)
        font = QFont(self.open_action.font())
        font.setBold(True)  # the default action, as on every desktop
        self.open_action.setFont(font)
        self.open_action.triggered.connect(self._on_open_action_triggered)
        self.next_action = QAction("", self.menu)
        self.next_action.setEnabled(False)  # information only
        # the way back to what needs deciding ("Decide later" in the missed dialog)
        self.attention_action = QAction("", self.menu)
        self.attention_action.setObjectName("milton-tray-attention")
        self.attention_action.triggered.connect(self._on_attention_action_triggered)
        self.pause_action = QAction("Pause publishing", self.menu)
        self.pause_action.triggered.connect(self._on_pause_action_triggered)
        self.publish_action = QAction("Publish due posts now", self.menu)
        self.publish_action.triggered.connect(self._on_publish_action_triggered)
        self.quit_action = QAction(f"Quit {APP_NAME}", self.menu)
        self.quit_action.triggered.connect(self._on_quit_action_triggered)
        self.menu.addAction(self.open_action)
        self.menu.addAction(self.next_action)
        self.menu.addAction(self.attention_action)
        self.menu.addSeparator()
        self.menu.addAction(self.pause_action)
        self.menu.addAction(self.publish_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.menu.aboutToShow.connect(self._on_menu_about_to_show)

        self.tray: TrayLike | None = None
        if self.available:
            factory = tray_factory or _default_tray_factory
            self.tray = factory(self.icon_for("idle"), self)
            self.tray.setContextMenu(self.menu)
            self.tray.activated.connect(self._on_tray_activated)
            self.tray.messageClicked.connect(self._on_tray_message_clicked)
        else:
            log.info("no system tray: notifications go to the window")

        self._batch_timer = QTimer(self)
        self._batch_timer.setObjectName("milton-tray-notify-batch")
        self._batch_timer.setSingleShot(True)
        self._batch_timer.setInterval(BATCH_MS)
        self._batch_timer.timeout.connect(self._on_batch_timer_timeout)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setObjectName("milton-tray-refresh")
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh)

        self._tooltip_timer = QTimer(self)
        self._tooltip_timer.setObjectName("milton-tray-tooltip")
        self._tooltip_timer.setInterval(TOOLTIP_REFRESH_MS)
        self._tooltip_timer.timeout.connect(self._on_tooltip_timer_timeout)
        self._tooltip_timer.start()
        #: tokens whose coming expiry was announced (account id, expiry)
        self._told: set[tuple[int, datetime]] = set()
        #: team mode: accounts whose "nobody can publish" warning was told (again once
        #: it has cleared and comes back)
        self._told_team: set[str] = set()

        self.set_runner(runner)

    # ------------------------------------------------------------ public
    def set_runner(self, runner: Runner | None, external_owner: str | None = None) -> None:
        """Follow ``runner``; with None, ``external_owner`` names who publishes instead."""
        follow_runner(self.runner, runner, self._on_runner_outcome, self._on_runner_rearmed)
        self.runner = runner
        self.external_owner = external_owner if runner is None else None
        self.refresh()

    def show(self) -> None:
        if self.tray is not None:
            self.tray.show()

    def hide(self) -> None:
        if self.tray is not None:
            self.tray.hide()

    def refresh(self) -> None:
        """Bring icon, tooltip and menu up to date with the runner and the database."""
        self._update_icon()
        if self.tray is not None:
            self.tray.setToolTip(self.tooltip())
        self._update_menu()
        self.check_approvals()

    def check_approvals(self) -> None:
        """Say how many posts wait for approval, once each time that number changes
        (to more than none): a member learns there is something to approve."""
        count = queries.awaiting_approval_count()
        if count == self._awaiting:
            return
        self._awaiting = count
        if count:
            self.notify(approval_notice(queries.schedule_ids(Status.AWAITING_APPROVAL)))

    def tooltip(self) -> str:
        """``Milton Desktop — next: LinkedIn in 12 min`` plus any state worth knowing."""
        nxt = next_post()
        upcoming = f"next: {nxt.describe(self.clock.now())}" if nxt else "nothing scheduled"
        if self.runner is None:
            state = (
                external_scheduler_text(self.external_owner)
                if self.external_owner
                else "not publishing: the scheduler is not running"
            )
            return f"{APP_NAME} — {upcoming}\n{state}"
        if self.runner.paused:
            return f"{APP_NAME} — publishing paused\n{upcoming[0].upper()}{upcoming[1:]}"
        text = f"{APP_NAME} — {upcoming}"
        if self.attention:
            text += "\nSomething needs your attention: open the window"
        return text

    def set_attention(self, on: bool) -> None:
        if self.attention != on:
            self.attention = on
            self.refresh()

    def notify(self, notice: Notice) -> None:
        """Queue a notice; notices arriving within ``BATCH_MS`` share one balloon."""
        if notice.kind == Status.MISSED and notice.schedule_ids:
            # the start-up summary counted these already; the scheduler's first check
            # then reports each again, and the user would be told twice
            if set(notice.schedule_ids) <= self._told_missed:
                return
            self._told_missed |= set(notice.schedule_ids)
        if self.tray is None:
            self.window.notify(notice)
            return
        self._pending.append(notice)
        if not self._batch_timer.isActive():
            self._batch_timer.start()

    def show_hint(self, title: str, body: str) -> None:
        """A one-off informational balloon (e.g. "still running in the tray")."""
        self._show_balloon(Notice("info", title, body))

    def flush(self) -> None:
        """Show the queued notices now (the batch timer's job; tests call it directly)."""
        self._batch_timer.stop()
        notices, self._pending = self._pending, []
        if notices:
            self._show_balloon(combine(notices))

    # ------------------------------------------------------------ internals
    def _show_balloon(self, notice: Notice) -> None:
        if self.tray is None:
            self.window.notify(notice)
            return
        icon = {
            "info": QSystemTrayIcon.MessageIcon.Information,
            "warning": QSystemTrayIcon.MessageIcon.Warning,
            "critical": QSystemTrayIcon.MessageIcon.Critical,
        }[notice.level]
        self._clicked = notice
        log.debug("balloon: %s", notice.title)
        self.tray.showMessage(notice.title, notice.body, icon, BALLOON_MS)

    def _update_icon(self) -> None:
        if self.attention:
            state = "attention"
        elif self.runner is not None and self.runner.paused:
            state = "paused"
        elif self.runner is not None and self.runner.dispatcher.in_flight():
            state = "publishing"  # not a status: the tray icon state
        else:
            state = "idle"
        if state == self.state:
            return  # setting the same icon again makes some panels flicker
        log.debug("tray icon: %s", state)
        self.state = state
        if self.tray is not None:
            self.tray.setIcon(self.icon_for(state))

    def _update_menu(self) -> None:
        runner = self.runner
        nxt = next_post()
        self.next_action.setText(
            f"Next: {nxt.describe(self.clock.now())}" if nxt else "Nothing scheduled"
        )
        self.pause_action.setEnabled(runner is not None)
        self.pause_action.setText(
            "Resume publishing" if runner is not None and runner.paused else "Pause publishing"
        )
        self.publish_action.setEnabled(runner is not None and not runner.paused)
        if runner is None:
            tip = (
                external_scheduler_text(self.external_owner)
                if self.external_owner
                else "The scheduler is not running"
            )
        elif runner.paused:
            tip = "Resume publishing first"
        else:
            tip = "Publish every post whose time has come, without waiting for the next check"
        self.publish_action.setToolTip(tip)
        count = queries.status_count(*NEEDS_ATTENTION)
        self.attention_action.setText(attention_title(count))
        self.attention_action.setVisible(count > 0)
        self.menu.setToolTipsVisible(True)

    def _on_runner_outcome(self, outcome: Outcome) -> None:
        self.show_outcome(outcome)

    def show_outcome(self, outcome: Outcome) -> None:
        """Notify (and flag for attention) as the user's preferences say."""
        needs_user = (
            outcome.status in (Status.FAILED, Status.UNCERTAIN, Status.MISSED)
            or outcome.needs_reconnect
        )
        if needs_user and not self._window_is_active():
            self.attention = True
        notice = notice_for_outcome(outcome, self._prefs())
        if notice is not None:
            self.notify(notice)
        # the icon at once; the tooltip and menu (a few reads) once for a burst
        self._update_icon()
        self._refresh_timer.start()

    def _window_is_active(self) -> bool:
        return self.window.isVisible() and self.window.isActiveWindow()

    def _on_runner_rearmed(self, _next: datetime | None) -> None:
        self.refresh()

    def _on_tooltip_timer_timeout(self) -> None:
        self.refresh()
        self.check_token_expiry()

    def show_team_warnings(self, warnings: Sequence[tuple[str, str]]) -> None:
        """Team mode: notify once per account that no live machine can publish for."""
        current = {account for account, _message in warnings}
        for account, message in warnings:
            if account in self._told_team:
                continue
            self.notify(
                Notice(
                    kind="info",
                    title=f"Nobody can publish for “{account}”",
                    body=message,
                    level="warning",
                )
            )
        self._told_team = current

    def check_token_expiry(self) -> None:
        """Warn a week ahead of a token the user must renew by reconnecting (a read only)."""
        if not self._prefs().get("notify_reconnect", True):
            return
        for notice in expiry_notices(queries.list_accounts(), self.clock.now(), self._told):
            self.notify(notice)

    def _on_batch_timer_timeout(self) -> None:
        self.flush()

    def _on_menu_about_to_show(self) -> None:
        self._update_menu()

    def _on_open_action_triggered(self) -> None:
        self.window.bring_to_front()

    def _on_pause_action_triggered(self) -> None:
        if self.runner is None:
            return
        self.runner.set_paused(not self.runner.paused)
        self.refresh()
        self.pausedChanged.emit(self.runner.paused)

    def _on_publish_action_triggered(self) -> None:
        if self.runner is None or self.runner.paused:
            return
        nothing_due = not self.runner.engine.due(limit=1)
        self.runner.tick()
        if nothing_due:
            nxt = next_post()
            after = f" Next: {nxt.describe(self.clock.now())}." if nxt else ""
            self.show_hint("Nothing is due right now", f"No post is waiting to go out.{after}")

    def _on_attention_action_triggered(self) -> None:
        self.window.bring_to_front()
        self.window.show_attention()

    def _on_quit_action_triggered(self) -> None:
        self.window.request_quit()

    def _on_tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        # A left click (Trigger) or double click opens the window; the right click is the menu.
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.window.bring_to_front()

    def _on_tray_message_clicked(self) -> None:
        notice, self._clicked = self._clicked, None
        if notice is None:
            self.window.bring_to_front()
            return
        if notice.kind == Status.PUBLISHED and notice.url:
            QDesktopServices.openUrl(QUrl(notice.url))
            return
        self.window.bring_to_front()
        if notice.kind == Status.MISSED:
            self.window.show_missed(list(notice.schedule_ids))
        elif notice.kind in NEEDS_ATTENTION or notice.kind == "batch":
            # the window opens at the post: the list of what needs attention, it selected
            self.window.show_attention(list(notice.schedule_ids))

    def clear_attention(self) -> None:
        """The user opened the window: whatever needed attention has been seen."""
        self.set_attention(False)


__all__ = [
    "NextPost",
    "Notice",
    "TrayController",
    "approval_notice",
    "combine",
    "external_scheduler_text",
    "next_post",
    "notice_for_outcome",
]
