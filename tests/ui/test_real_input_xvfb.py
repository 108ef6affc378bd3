"""The real main window driven by real input: xdotool sends keys and pointer moves
through the X server, as a person's keyboard and mouse would, not QTest events.

scripts/test.sh runs this file in its Xvfb pass (QT_QPA_PLATFORM=xcb, ``-m xvfb``);
without an X display or without xdotool it is skipped.

Several of these paths open a nested event loop (a message box's exec(), a drag's
exec(), a menu's exec()) from inside the key or mouse event that started them, so
the test's own code is stuck below that loop until it returns. The input is
therefore sent by a :class:`Script` that a QTimer steps through: it keeps running
in whatever event loop is current, waits for what the user would wait for (a
prompt shown, a drop preview under the pointer) and only then sends the next key
or button, and xdotool itself runs as a child process the loop never waits on.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence, QUndoStack, QWindow
from PySide6.QtWidgets import QApplication, QDialog, QMenu, QMessageBox, QPushButton, QWidget

from milton_desktop.context import AppContext
from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.status import Status
from milton_desktop.engine.machine import Engine
from milton_desktop.engine.runner import Runner
from milton_desktop.operations import posts
from milton_desktop.paths import resolve_paths
from milton_desktop.storage import queries
from milton_desktop.ui.calendar.model import display_zone, format_day
from milton_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.xvfb

#: generous: the CI machine is small and shared
WAIT_MS = 20_000


@pytest.fixture(autouse=True)
def needs_a_real_display(qapp):
    if QGuiApplication.platformName() != "xcb":
        pytest.skip("needs a real X display (run under Xvfb: scripts/test.sh)")
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed")


# ---------------------------------------------------------------- driving xdotool

Args = Sequence[str]


class KeyCounter(QObject):
    """Counts presses of one key as the app's windows receive them: once each, where
    a widget filter would see a press again as it goes up to the parents."""

    def __init__(self, key: Qt.Key) -> None:
        super().__init__()
        self.key = key
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            isinstance(watched, QWindow)
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == self.key
        ):
            self.count += 1
        return False


@dataclass
class Step:
    """Wait for ``until``, then ``do`` something in Qt, then run xdotool with ``xdo``.

    With ``press``, the key is pressed until ``until`` holds ("Tab until the button has
    the focus"), at most ``most`` times, each press once the one before has arrived.
    """

    what: str
    until: Callable[[], bool] | None = None
    do: Callable[[], None] | None = None
    xdo: Args | Callable[[], Args] | None = None
    press: str | None = None
    most: int = 30


class Script:
    """Steps run one after another by a timer, so they go on inside nested loops too."""

    def __init__(self, steps: Sequence[Step], timeout_ms: int = WAIT_MS) -> None:
        self.steps = list(steps)
        self.timeout_ms = timeout_ms
        self.error: str | None = None
        self.log: list[str] = []
        self._n = 0
        self._phase = "wait"
        self._proc: subprocess.Popen[bytes] | None = None
        self._pressed = 0
        self._arrived: KeyCounter | None = None
        self._since = datetime.now(UTC)
        self._timer = QTimer()
        self._timer.setInterval(25)
        self._timer.timeout.connect(self._tick)

    @property
    def done(self) -> bool:
        return self._n >= len(self.steps) or self.error is not None

    def start(self) -> Script:
        self._since = datetime.now(UTC)
        self._timer.start()
        return self

    def _fail(self, text: str) -> None:
        self.error = f"step {self._n + 1} ({self.steps[self._n].what}): {text}; done: {self.log}"
        self._timer.stop()
        self._stop_counting()
        # Unwind any nested loop the app is in, so the test reports instead of hanging:
        # a drag ends when the button is up (Escape cancels it), a menu or dialog closes.
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.communicate()
        subprocess.run(["xdotool", "mouseup", "1", "key", "Escape"], timeout=10, check=False)
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMenu) and widget.isVisible():
                widget.close()
        while isinstance(modal := QApplication.activeModalWidget(), QDialog):
            modal.done(0)
            if QApplication.activeModalWidget() is modal:
                break

    def _spawn(self, args: Args) -> None:
        self._proc = subprocess.Popen(
            ["xdotool", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def _reap(self) -> bool:
        """True once xdotool has finished (and it went well)."""
        assert self._proc is not None
        rc = self._proc.poll()
        if rc is None:
            return False
        err = self._proc.communicate()[1].decode().strip()  # closes its pipe too
        self._proc = None
        if rc != 0:
            self._fail(f"xdotool exited {rc}: {err}")
            return False
        return True

    def _tick(self) -> None:
        if self.done:
            self._timer.stop()
            return
        if datetime.now(UTC) - self._since > timedelta(milliseconds=self.timeout_ms):
            self._fail("timed out")
            return
        try:
            self._advance(self.steps[self._n])
        except Exception as exc:  # a broken condition must not stop the timer unseen
            self._fail(repr(exc))

    def _advance(self, step: Step) -> None:
        if self._proc is not None and not self._reap():
            return
        if self._phase == "wait":
            if step.until is not None and not step.until():
                if step.press is not None:
                    self._press_again(step)
                return
            if step.do is not None:
                step.do()
            if step.xdo is not None:
                self._spawn(step.xdo() if callable(step.xdo) else step.xdo)
                self._phase = "xdo"
                return
        if self._proc is None:
            self.log.append(
                f"{step.what} ({self._pressed} × {step.press})" if step.press else step.what
            )
            self._n += 1
            self._phase = "wait"
            self._pressed = 0
            self._stop_counting()
            self._since = datetime.now(UTC)

    def _press_again(self, step: Step) -> None:
        assert step.press is not None
        if self._arrived is None:
            self._arrived = KeyCounter(QKeySequence(step.press)[0].key())
            QApplication.instance().installEventFilter(self._arrived)
        if self._arrived.count < self._pressed:
            return  # the last press has not reached the app yet
        if self._pressed >= step.most:
            self._fail(f"still not there after {step.most} presses of {step.press}")
            return
        self._pressed += 1
        self._spawn(["key", step.press])

    def _stop_counting(self) -> None:
        if self._arrived is not None:
            QApplication.instance().removeEventFilter(self._arrived)
            self._arrived = None


def run(qtbot, *steps: Step) -> Script:
    """Run ``steps``, keeping Qt's event loop going, until all are done or one fails."""
    script = Script(steps).start()
    qtbot.waitUntil(lambda: script.done, timeout=WAIT_MS * (len(steps) + 1))
    assert script.error is None, script.error
    print("\n".join(script.log))
    return script


def until(what: str, cond: Callable[[], bool]) -> Step:
    return Step(what, until=cond)


def keys(*names: str, delay_ms: int = 60) -> Step:
    return Step(f"keys {' '.join(names)}", xdo=["key", "--delay", str(delay_ms), *names])


def focus(what: str, widget: Callable[[], QWidget]) -> list[Step]:
    """Give the window of ``widget()`` the keyboard, as a window manager does for a new
    window or a click on it (Xvfb runs none), and wait until Qt knows it is active."""

    def _ask_qt() -> None:
        widget().window().raise_()
        widget().window().activateWindow()

    return [
        Step(
            f"focus {what}",
            do=_ask_qt,
            xdo=lambda: ["windowfocus", "--sync", str(int(widget().window().winId()))],
        ),
        until(f"{what} is active", lambda: widget().window().isActiveWindow()),
    ]


def shown_window_ids(title: str) -> list[int]:
    """The X windows shown under ``title``, as xdotool finds them."""
    out = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", f"^{title}$"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return [int(line) for line in out.stdout.split()]


# ---------------------------------------------------------------- the window


@pytest.fixture
def clock():
    # the middle of a month a while ahead: the days next to "today" are in the same
    # month grid, and every time used below is in the future for the real clock too
    ahead = datetime.now(UTC) + timedelta(days=40)
    return FakeClock(ahead.replace(day=12, hour=10, minute=0, second=0, microsecond=0))


@pytest.fixture
def window(qtbot, db, creds, accounts, clock):
    paths = resolve_paths().ensure()
    ctx = AppContext(paths=paths, credentials=creds, log_file=paths.log_file)
    runner = Runner(Engine(creds, clock=clock), clock=clock)  # never started: nothing publishes
    w = MainWindow(ctx, runner, QUndoStack(), clock=clock)
    w.set_tray_available(False)
    qtbot.addWidget(w)
    w.setGeometry(20, 60, 1220, 720)  # below trayer's panel, inside the 1280x800 screen
    w.show()
    qtbot.waitExposed(w, timeout=WAIT_MS)
    # the window the X server shows under the app's title is this one
    assert int(w.winId()) in shown_window_ids("Milton Desktop")
    run(qtbot, *focus("the main window", lambda: w))
    yield w
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.done(0)
    runner.stop(1)


def local_day(clock: FakeClock, days: int) -> date:
    return (clock.now().astimezone(display_zone()) + timedelta(days=days)).date()


def utc_at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=display_zone()).astimezone(UTC)


def open_editor(window: MainWindow) -> bool:
    return window.editor is not None and window.editor.isVisible()


# ---------------------------------------------------------------- keyboard


def test_editor_by_keyboard_tab_moves_on_and_escape_asks_before_discarding(qtbot, window):
    typed = "Typed on a real keyboard"
    run(
        qtbot,
        keys("ctrl+n"),
        until("the editor is open", lambda: open_editor(window)),
        *focus("the editor", lambda: window.editor),
        until("the text has the focus", lambda: window.editor.text_edit.hasFocus()),
        Step("type", xdo=["type", "--delay", "40", typed]),
        until("the text is typed", lambda: window.editor.text_edit.toPlainText() == typed),
    )
    ed = window.editor
    counters = {name: label.text() for name, label in ed.counters.items()}
    assert all(counters.values())

    focus_moves: list[QWidget] = []

    def note_focus(_old: QWidget | None, new: QWidget | None) -> None:
        if new is not None and new.window() is ed:
            focus_moves.append(new)

    app = QApplication.instance()
    tabs = KeyCounter(Qt.Key.Key_Tab)
    app.installEventFilter(tabs)
    app.focusChanged.connect(note_focus)
    try:
        run(
            qtbot,
            keys(*["Tab"] * 14, delay_ms=80),
            until("14 Tab presses reached the editor", lambda: tabs.count >= 14),
        )
    finally:
        app.focusChanged.disconnect(note_focus)
        app.removeEventFilter(tabs)
    assert tabs.count == 14
    assert ed.text_edit.toPlainText() == typed
    assert {name: label.text() for name, label in ed.counters.items()} == counters
    # Tab walked on through the controls in reading order and never came back to the
    # text (a date or time field first takes a Tab per part, as Qt's date fields do).
    walk = [
        ed.media_list,
        ed.add_files_button,
        ed.url_edit,
        ed.add_link_button,
        ed.voice_combo,
        ed.account_list,
        ed.date_edit,
        ed.time_edit,
        ed.cancel_button,
    ]
    assert ed.text_edit not in focus_moves
    assert [w for w in focus_moves if w in walk] == walk, [w.objectName() for w in focus_moves]
    assert ed.isVisible()

    # Escape with unsaved text asks first; Escape on the question keeps editing.
    def question() -> QMessageBox | None:
        boxes = [b for b in ed.findChildren(QMessageBox) if b.isVisible()]
        return boxes[0] if boxes else None

    def discard_has_focus() -> bool:
        box = question()
        focused = box.focusWidget() if box is not None else None
        return isinstance(focused, QPushButton) and focused.text() == "Discard"

    asked: list[QMessageBox] = []
    run(
        qtbot,
        keys("Escape"),
        until("the discard question is shown", lambda: question() is not None),
        Step("remember it", do=lambda: asked.append(question())),
        *focus("the question", lambda: asked[0]),
        keys("Escape"),
        until("the question is gone", lambda: question() is None),
    )
    assert ed.isVisible() and ed.text_edit.toPlainText() == typed

    # Escape again, Tab to "Discard" and press it with the space bar: the editor closes.
    run(
        qtbot,
        *focus("the editor", lambda: ed),
        keys("Escape"),
        until("the discard question is shown", lambda: question() is not None),
        *focus("the question", question),
        Step("Tab to Discard", until=discard_has_focus, press="Tab", most=4),
        keys("space"),
        until("the editor is closed", lambda: window.editor is None),
    )
    assert queries.draft_views() == []  # nothing was saved


def test_settings_open_with_ctrl_comma_and_close_with_escape(qtbot, window):
    def settings_open() -> bool:
        return window.settings_dialog is not None and window.settings_dialog.isVisible()

    run(
        qtbot,
        keys("ctrl+comma"),
        until("Settings are open", settings_open),
        *focus("Settings", lambda: window.settings_dialog),
        keys("Escape"),
        until("Settings are closed", lambda: window.settings_dialog is None),
    )
    assert window.isVisible()


def test_month_view_arrows_move_the_selection_and_enter_opens_the_editor(
    qtbot, window, make_schedule, clock
):
    first_day, second_day = local_day(clock, 1), local_day(clock, 2)
    a = make_schedule("First of two", utc_at(first_day, 9))
    b = make_schedule("Second of two", utc_at(second_day, 9))
    window.refresh_all()
    month = window.calendar.month_view
    qtbot.waitUntil(lambda: month.shown_ids(second_day) == [b.id], timeout=WAIT_MS)

    run(
        qtbot,
        keys("ctrl+1"),  # the month view
        Step("Tab into the month", until=month.hasFocus, press="Tab", most=40),
        keys("Right"),  # from today to tomorrow, the day itself
        keys("Down"),  # into that day's posts
        until("the first post is selected", lambda: window.calendar.selected_id() == a.id),
        keys("Right"),
        until("the second post is selected", lambda: window.calendar.selected_id() == b.id),
        keys("Left"),
        until("back on the first", lambda: window.calendar.selected_id() == a.id),
        keys("Right"),
        until("on the second again", lambda: window.calendar.selected_id() == b.id),
        keys("Return"),
        until("its editor is open", lambda: open_editor(window)),
    )
    editor = window.editor
    assert editor.text_edit.toPlainText() == "Second of two"
    run(
        qtbot,
        *focus("the editor", lambda: editor),
        keys("Escape"),  # nothing was changed: it closes without asking
        until("the editor is closed", lambda: window.editor is None),
    )


# ---------------------------------------------------------------- drag and drop


def test_drag_a_draft_onto_a_day_schedules_it_and_ctrl_z_undoes_it(qtbot, window, clock):
    post = posts.add_post("Dragged by a real mouse")
    window.refresh_all()
    qtbot.waitUntil(lambda: window.drafts.post_ids() == [post.id], timeout=WAIT_MS)
    drafts = window.drafts.list_view
    month = window.calendar.month_view
    day = local_day(clock, 3)
    assert day in month.days

    # Where things are is read when each step starts: the layout may still be settling
    # (the first-run guide folds away once there is a post).
    def start() -> QPoint:
        row = drafts.visualRect(window.drafts.model.index(0, 0))
        return drafts.viewport().mapToGlobal(row.center())

    def end() -> QPoint:
        return month.mapToGlobal(month.day_rect(day).center())

    def press() -> list[str]:
        at = start()
        return ["mousemove", str(at.x()), str(at.y()), "sleep", "0.2", "mousedown", "1"]

    def moves() -> list[str]:
        # a hand's few steps on the way; the first is well past the drag distance
        a, b = start(), end()
        steps: list[str] = []
        for n in range(1, 7):
            p = a + (b - a) * (n / 6) + QPoint(0, 30 if n == 1 else 0)
            steps += ["mousemove", str(p.x()), str(p.y()), "sleep", "0.15"]
        return steps

    def account_menu() -> QMenu | None:
        for widget in QApplication.topLevelWidgets():
            if (
                isinstance(widget, QMenu)
                and widget.isVisible()
                and widget.objectName() == "calendarAccountMenu"
            ):
                return widget
        return None

    def previewing_the_day() -> bool:
        preview = month.hover_preview()
        return preview is not None and preview[1].startswith(format_day(day))

    def highlighted() -> str:
        menu = account_menu()
        action = menu.activeAction() if menu is not None else None
        return action.text() if action is not None else ""

    run(
        qtbot,
        Step("press on the draft", xdo=press),
        until("the draft is pressed", lambda: bool(QApplication.mouseButtons())),
        Step("move to the day", xdo=moves),
        until("the day shows where the post would go", previewing_the_day),
        Step("let go", xdo=["mouseup", "1"]),
        until("the menu of accounts is shown", lambda: account_menu() is not None),
        # the menu has the keyboard: Down to the account, Return to choose it
        Step(
            "Down to Work LinkedIn",
            until=lambda: highlighted().startswith("Work LinkedIn"),
            press="Down",
            most=6,
        ),
        keys("Return"),
        until("the menu is gone", lambda: account_menu() is None),
    )
    qtbot.waitUntil(lambda: len(month.shown_ids(day)) == 1, timeout=WAIT_MS)
    (sid,) = month.shown_ids(day)
    view = queries.schedule_view(sid)
    assert view.status == Status.PENDING
    assert view.account.display_name == "Work LinkedIn"
    assert view.scheduled_time.astimezone(display_zone()).date() == day
    qtbot.waitUntil(lambda: window.drafts.post_ids() == [], timeout=WAIT_MS)

    run(
        qtbot,
        *focus("the main window", lambda: window),
        keys("ctrl+z"),
        until("the post is gone from the day", lambda: month.shown_ids(day) == []),
    )
    assert queries.schedule_view(sid).status == Status.CANCELLED
    qtbot.waitUntil(lambda: window.drafts.post_ids() == [post.id], timeout=WAIT_MS)
