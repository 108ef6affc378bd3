"""The longest main-thread stall per action in the main window at 100 000 posts.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_stalls.py [--posts 100000] [--runs 3]

Seeds ``--posts`` posts (one schedule each, spread over a year, as bench_calendar.py
does), opens the real main window offscreen (no scheduler) and, for each action,
runs it from the event loop while a 1 ms QTimer ticks. A stall is the longest gap
between two ticks from the action until the loop has been idle for a while (so the
refreshes an action queues, debounced or not, are counted). Target: 16 ms (one frame).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_calendar import NOW, make_scenario, seed
from bench.common import machine

TARGET_MS = 16.0
#: how long after an action the loop is watched: longer than the window's debounce
SETTLE_MS = 450
#: how long the shown window is left alone before the first action
IDLE_S = 4.0


def longest_gap(app, action: Callable[[], object]) -> float:
    """Run ``action`` from the event loop; the longest gap (ms) between 1 ms ticks."""
    from PySide6.QtCore import QEventLoop, QTimer

    ticks: list[float] = []
    mark: list[int] = []
    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = QEventLoop()
    timer.start()

    def run() -> None:
        mark.append(len(ticks))
        ticks.append(time.perf_counter())
        action()

    QTimer.singleShot(5, run)
    QTimer.singleShot(5 + SETTLE_MS, loop.quit)
    loop.exec()
    timer.stop()
    start = mark[0]
    gaps = [b - a for a, b in zip(ticks[start:], ticks[start + 1 :], strict=False)]
    return max(gaps, default=0.0) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the runs, profile one more run of each action and print where it went",
    )
    args = parser.parse_args()

    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    os.environ["MILTON_HOME"] = tempfile.mkdtemp(prefix="milton-bench-stalls-")
    app = QApplication.instance() or QApplication(sys.argv[:1])

    from milton_desktop.context import open_context
    from milton_desktop.domain.clock import FakeClock
    from milton_desktop.engine.machine import Outcome
    from milton_desktop.storage import queries
    from milton_desktop.ui.calendar.model import SCHEDULE_MIME, make_mime
    from milton_desktop.ui.shell.main_window import MainWindow
    from milton_desktop.ui.shell.tray import TrayController

    ctx = open_context(os.environ["MILTON_HOME"], stderr_logging=False, check_integrity=False)
    t0 = time.perf_counter()
    seed(args.posts, make_scenario("spread", 365), random.Random(20300312))
    print(f"machine: {machine()}")
    print(f"seeded {args.posts} posts in {time.perf_counter() - t0:.1f} s")

    clock = FakeClock(NOW)
    stack = QUndoStack(app)
    t0 = time.perf_counter()
    window = MainWindow(ctx, None, stack, clock=clock)
    tray = TrayController(None, window, lambda *_: window.windowIcon(), app)
    window.backgroundOutcome.connect(tray.show_outcome)
    window.resize(1400, 860)
    window.show()
    app.processEvents()
    print(f"window built and shown in {(time.perf_counter() - t0) * 1000:.0f} ms")
    window.calendar.go_to(NOW.date())
    app.processEvents()
    # What the window does by itself once shown (panes, reading ahead, the editor's
    # imports while idle) is over before the first action, as it is before a user's.
    idle_until = time.perf_counter() + IDLE_S
    while time.perf_counter() < idle_until:
        app.processEvents()
        time.sleep(0.005)

    pending = [
        r.id
        for r in queries.list_schedules(
            "pending", start=NOW + timedelta(days=1), end=NOW + timedelta(days=20)
        )
    ]
    sid = pending[0]
    days = iter(range(1, 10_000))
    batch = [
        Outcome(s, "published", "My X", "x", "bench", url=f"https://x.test/{s}")
        for s in pending[1:21]
    ]

    def drop() -> None:
        day = NOW.date() + timedelta(days=1 + next(days) % 20)
        if not window.calendar.drop_mime(make_mime(SCHEDULE_MIME, [sid]), day, None):
            raise SystemExit(f"the bench's drop was refused: {window.calendar.banner.text()}")

    def open_editor() -> None:
        window.open_editor().reject()

    def outcomes() -> None:
        for outcome in batch:
            window._on_runner_outcome(outcome)
            window.backgroundOutcome.emit(outcome)

    actions: list[tuple[str, Callable[[], object]]] = [
        ("switch to week", lambda: window.set_view("week")),
        ("switch to day", lambda: window.set_view("day")),
        ("switch to list", lambda: window.set_view("list")),
        ("switch to month", lambda: window.set_view("month")),
        ("next month", window.calendar.next_button.click),
        ("previous month", window.calendar.prev_button.click),
        ("drop (reschedule)", drop),
        ("undo", stack.undo),
        ("open the editor", open_editor),
        ("20 outcomes arriving", outcomes),
    ]
    worst: dict[str, list[float]] = {name: [] for name, _ in actions}
    for _ in range(args.runs):
        for name, action in actions:
            worst[name].append(longest_gap(app, action))
    if args.profile:
        import cProfile
        import pstats

        for name, action in actions:
            profiler = cProfile.Profile()
            profiler.enable()
            gap = longest_gap(app, action)
            profiler.disable()
            print(f"\n--- {name}: {gap:.0f} ms")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(
                r"milton_desktop|PySide", 25
            )
    print(
        f"\nlongest main-thread stall per action (max over {args.runs} runs), target {TARGET_MS:.0f} ms"
    )
    failed = 0
    for name, values in worst.items():
        value = max(values)
        ok = value <= TARGET_MS
        failed += not ok
        runs = ", ".join(f"{v:.0f}" for v in values)
        print(f"  {name:22s} {value:7.1f} ms  [{'met' if ok else 'MISSED'}]  (runs: {runs})")
    window.request_quit()
    shutil.rmtree(os.environ["MILTON_HOME"], ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
