"""How fast the calendar renders a month, and commits a drag-and-drop reschedule.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_calendar.py [--posts 10000]
        [--spread-days 365] [--runs 10] [--scenario spread|dense|both]

Each scenario seeds ``--posts`` posts, each with one schedule, at random times in a
throwaway MILTON_HOME (one transaction, ``executemany``):

- spread: over ``--spread-days`` days centred on the benchmark month (a busy year);
- dense: all inside the six weeks the month grid shows (the worst case for a month).

Then prints medians over ``--runs`` runs of:

- month render: ``CalendarPane.refresh()`` (the store query for the 6 visible weeks,
  the model reset, the layout) plus painting the month view (``grab()``);
- reschedule commit: ``RescheduleCommand.redo()``, the one ``schedules.reschedule`` call
  a chip drop makes;

against the targets (100 ms and 20 ms).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

MONTH_TARGET_MS = 100.0
COMMIT_TARGET_MS = 20.0
#: the benchmark's "now" and month: fixed, so runs compare across days
NOW = datetime(2030, 3, 12, 9, 0, tzinfo=UTC)
ZONE = "Europe/Paris"
SCENARIOS = ("spread", "dense")
STATUSES = ("pending",) * 6 + ("published",) * 3 + ("failed", "cancelled", "missed")


@dataclass(frozen=True)
class Scenario:
    """Where the posts go: minutes drawn at random in ``[first, first + span)``."""

    name: str
    what: str
    first: datetime
    span: timedelta


def make_scenario(name: str, spread_days: int) -> Scenario:
    if name == "spread":
        centre = NOW.replace(day=15)
        return Scenario(
            name,
            f"spread over {spread_days} days",
            centre - timedelta(days=spread_days / 2),
            timedelta(days=spread_days),
        )
    # The grid's six weeks as the pane computes them (the locale's first weekday), in
    # the display zone, so every post lands in a visible cell.
    from milton_desktop.ui.calendar.view import local_first_weekday, month_grid_start

    zone = ZoneInfo(ZONE)
    grid = month_grid_start(NOW.astimezone(zone).date(), local_first_weekday())

    def midnight(d: date) -> datetime:
        return datetime.combine(d, time(0), tzinfo=zone).astimezone(UTC)

    first = midnight(grid)
    return Scenario(
        name,
        f"dense: all in the 6 visible weeks from {grid}",
        first,
        midnight(grid + timedelta(days=42)) - first,
    )


def seed(posts: int, scenario: Scenario, rng: random.Random) -> None:
    from milton_desktop.storage import settings
    from milton_desktop.storage.models import Account, Post, ScheduledPost, database, utc_text

    settings.set_value("timezone", ZONE)
    accounts = [
        Account.create(platform=p, display_name=n)
        for p, n in (("linkedin", "Work LinkedIn"), ("x", "My X"), ("instagram", "Studio IG"))
    ]
    first = scenario.first
    span_minutes = int(scenario.span.total_seconds() // 60)
    stamp = utc_text(NOW)
    words = [
        "launch",
        "team",
        "update",
        "hiring",
        "tips",
        "webinar",
        "growth",
        "product",
        "design",
        "story",
    ]
    post_cols = [Post.body, Post.voice, Post.created_at, Post.updated_at]
    sched_cols = [
        ScheduledPost.post,
        ScheduledPost.account,
        ScheduledPost.scheduled_time,
        ScheduledPost.timezone,
        ScheduledPost.status,
        ScheduledPost.attempts,
        ScheduledPost.next_attempt_at,
        ScheduledPost.created_at,
        ScheduledPost.updated_at,
    ]

    def insert_sql(model: type, cols: list) -> str:
        names = ", ".join(f'"{c.column_name}"' for c in cols)
        marks = ", ".join("?" for _ in cols)
        return f'INSERT INTO "{model._meta.table_name}" ({names}) VALUES ({marks})'

    with database.atomic():
        cur = database.cursor()
        start_id = (database.execute_sql("SELECT COALESCE(MAX(id), 0) FROM posts").fetchone())[0]
        cur.executemany(
            insert_sql(Post, post_cols),
            [
                (
                    f"Post {n}: " + " ".join(rng.choice(words) for _ in range(12)),
                    "personal",
                    stamp,
                    stamp,
                )
                for n in range(posts)
            ],
        )
        rows = []
        for n in range(posts):
            when = first + timedelta(minutes=rng.randrange(span_minutes))
            # 5-minute grid, as people schedule
            when = when.replace(minute=when.minute // 5 * 5, second=0, microsecond=0)
            status = "pending" if when > NOW else rng.choice(STATUSES[6:])
            w = utc_text(when)
            rows.append(
                (
                    start_id + n + 1,
                    accounts[n % 3].id,
                    w,
                    ZONE,
                    status,
                    0,
                    w,
                    stamp,
                    stamp,
                )
            )
        cur.executemany(insert_sql(ScheduledPost, sched_cols), rows)


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 2) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = _time.perf_counter()
        fn()
        times.append((_time.perf_counter() - t0) * 1000)
    return statistics.median(times), times


@dataclass(frozen=True)
class MonthFigure:
    scenario: Scenario
    in_view: int
    median_ms: float


def verdict(value: float, target: float) -> str:
    return "OK" if value <= target else "OVER"


def run_scenario(scenario: Scenario, posts: int, runs: int) -> MonthFigure:
    """Seed a fresh database for ``scenario``, measure, print; the month figure back."""
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    from milton_desktop.domain.clock import FakeClock
    from milton_desktop.paths import resolve_paths
    from milton_desktop.storage import queries
    from milton_desktop.storage.db import open_database
    from milton_desktop.ui.calendar.model import SCHEDULE_MIME, make_mime
    from milton_desktop.ui.calendar.pane import CalendarPane
    from milton_desktop.ui.calendar.undo import RescheduleCommand

    os.environ["MILTON_HOME"] = tempfile.mkdtemp(prefix=f"milton-bench-{scenario.name}-")
    open_database(resolve_paths().ensure().db_path)
    rng = random.Random(20300312)
    t0 = _time.perf_counter()
    seed(posts, scenario, rng)
    print(f"\n== {scenario.name} ==")
    print(
        f"seeded {posts} posts + schedules ({scenario.what}) in {_time.perf_counter() - t0:.2f} s"
    )

    app = QApplication.instance()
    assert app is not None
    clock = FakeClock(NOW)
    undo_stack = QUndoStack()
    pane = CalendarPane(undo_stack, clock=clock)
    pane.resize(1280, 820)
    pane.show()
    pane.go_to(NOW.date())
    app.processEvents()
    in_view = pane.model.rowCount()
    shown = len(pane.month_view.shown_ids())

    def render_month() -> None:
        pane.refresh()
        pane.month_view.grab()

    month_ms, month_all = median_ms(render_month, runs)
    query_ms, _ = median_ms(pane.refresh, runs)
    paint_ms, _ = median_ms(pane.month_view.grab, runs)

    pane.set_view("week")
    app.processEvents()
    week_ms, _ = median_ms(lambda: (pane.refresh(), pane.week_view.grab()), runs)
    week_rows = pane.model.rowCount()

    # Reschedule commits: move pending chips of the month by a day, as a drop does.
    ids = [
        r.id
        for r in queries.list_schedules(
            "pending", start=NOW + timedelta(days=1), end=NOW + timedelta(days=20)
        )
    ]
    picks = rng.sample(ids, min(len(ids), runs + 2))
    commands = []
    for sid in picks:
        old = queries.get_schedule(sid).scheduled_time
        commands.append(RescheduleCommand(sid, old, old + timedelta(days=1), "bench", clock=clock))
    it = iter(commands)
    commit_ms, _ = median_ms(lambda: next(it).redo(), runs)
    assert not any(c.isObsolete() for c in commands), "a benchmark reschedule was refused"

    # The whole drop as the user feels it: command, push, and the view reloaded.
    sid = ids[0]
    target_days = iter(range(1, 100))

    def drop() -> None:
        pane.drop_mime(
            make_mime(SCHEDULE_MIME, [sid]), NOW.date() + timedelta(days=next(target_days)), None
        )

    pane.set_view("month")
    drop_ms, _ = median_ms(drop, runs)

    print(f"month view: {in_view} schedules in the 6 visible weeks, {shown} chips drawn")
    print(
        f"month render (refresh + paint): median {month_ms:.1f} ms "
        f"[target <= {MONTH_TARGET_MS:.0f} ms: {verdict(month_ms, MONTH_TARGET_MS)}]  "
        f"(min {min(month_all):.1f}, max {max(month_all):.1f})"
    )
    print(f"  of which refresh (store query + model + layout): median {query_ms:.1f} ms")
    print(f"  of which paint (grab of the month view):         median {paint_ms:.1f} ms")
    print(f"week render (refresh + paint, {week_rows} schedules): median {week_ms:.1f} ms")
    print(
        f"reschedule commit (RescheduleCommand.redo -> store): median {commit_ms:.2f} ms "
        f"[target <= {COMMIT_TARGET_MS:.0f} ms: {verdict(commit_ms, COMMIT_TARGET_MS)}]"
    )
    print(f"whole drop (command + push + month reload): median {drop_ms:.1f} ms")

    # The pane listens to its stack: take both down before the next scenario's database.
    pane.close()
    pane.deleteLater()
    undo_stack.deleteLater()
    app.processEvents()
    return MonthFigure(scenario, in_view, month_ms)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--spread-days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--scenario", choices=(*SCENARIOS, "both"), default="both")
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    # One application for every scenario; made first, as the widgets need it.
    _app = QApplication.instance() or QApplication(sys.argv)
    names = SCENARIOS if args.scenario == "both" else (args.scenario,)
    figures = [
        run_scenario(make_scenario(name, args.spread_days), args.posts, args.runs) for name in names
    ]

    print(f"\n== month render (refresh + paint), target <= {MONTH_TARGET_MS:.0f} ms ==")
    for f in figures:
        print(
            f"{f.scenario.name:>7}: median {f.median_ms:6.1f} ms "
            f"[{verdict(f.median_ms, MONTH_TARGET_MS)}]  "
            f"({f.in_view} schedules in view; {f.scenario.what})"
        )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
