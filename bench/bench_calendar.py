"""How fast the calendar renders a month, and commits a drag-and-drop reschedule.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_calendar.py [--posts 10000]
        [--spread-days 365] [--runs 10]

Seeds ``--posts`` posts, each with one schedule, spread evenly at random over
``--spread-days`` days centred on the benchmark month, in a throwaway MILTON_HOME
(one transaction, ``executemany``). Then prints medians over ``--runs`` runs of:

- month render: ``CalendarPane.refresh()`` (the store query for the 6 visible weeks,
  the model reset, the layout) plus painting the month view (``grab()``);
- reschedule commit: ``RescheduleCommand.redo()``, the one ``store.reschedule`` call
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

MONTH_TARGET_MS = 100.0
COMMIT_TARGET_MS = 20.0
#: the benchmark's "now" and month: fixed, so runs compare across days
NOW = datetime(2030, 3, 12, 9, 0, tzinfo=UTC)
STATUSES = ("pending",) * 6 + ("published",) * 3 + ("failed", "cancelled", "missed")


def seed(posts: int, spread_days: int, rng: random.Random) -> None:
    from milton_desktop import settings
    from milton_desktop.models import Account, Post, ScheduledPost, database, utc_text

    settings.set_value("timezone", "Europe/Paris")
    accounts = [
        Account.create(platform=p, display_name=n)
        for p, n in (("linkedin", "Work LinkedIn"), ("x", "My X"), ("instagram", "Studio IG"))
    ]
    centre = NOW.replace(day=15)
    first = centre - timedelta(days=spread_days / 2)
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
            when = first + timedelta(minutes=rng.randrange(spread_days * 24 * 60))
            # 5-minute grid, as people schedule
            when = when.replace(minute=when.minute // 5 * 5, second=0, microsecond=0)
            status = "pending" if when > NOW else rng.choice(STATUSES[6:])
            w = utc_text(when)
            rows.append(
                (
                    start_id + n + 1,
                    accounts[n % 3].id,
                    w,
                    "Europe/Paris",
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--spread-days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    from milton_desktop.clock import FakeClock
    from milton_desktop.db import open_database
    from milton_desktop.paths import resolve_paths

    os.environ["MILTON_HOME"] = tempfile.mkdtemp(prefix="milton-bench-")
    open_database(resolve_paths().ensure().db_path)
    rng = random.Random(20300312)
    t0 = _time.perf_counter()
    seed(args.posts, args.spread_days, rng)
    print(
        f"seeded {args.posts} posts + schedules over {args.spread_days} days in {_time.perf_counter() - t0:.2f} s"
    )

    from milton_desktop import store
    from milton_desktop.ui.calendar_view import CalendarPane
    from milton_desktop.ui.undo import RescheduleCommand

    app = QApplication.instance() or QApplication(sys.argv)
    clock = FakeClock(NOW)
    pane = CalendarPane(QUndoStack(), clock=clock)
    pane.resize(1280, 820)
    pane.show()
    pane.go_to(NOW.date())
    app.processEvents()
    in_view = pane.model.rowCount()
    shown = len(pane.month_view.shown_ids())

    def render_month() -> None:
        pane.refresh()
        pane.month_view.grab()

    month_ms, month_all = median_ms(render_month, args.runs)
    query_ms, _ = median_ms(pane.refresh, args.runs)
    paint_ms, _ = median_ms(pane.month_view.grab, args.runs)

    pane.set_view("week")
    app.processEvents()
    week_ms, _ = median_ms(lambda: (pane.refresh(), pane.week_view.grab()), args.runs)
    week_rows = pane.model.rowCount()

    # Reschedule commits: move pending chips of the month by a day, as a drop does.
    ids = [
        r.id
        for r in store.list_schedules(
            "pending", start=NOW + timedelta(days=1), end=NOW + timedelta(days=20)
        )
    ]
    picks = rng.sample(ids, min(len(ids), args.runs + 2))
    commands = []
    for sid in picks:
        old = store.get_schedule(sid).scheduled_time
        commands.append(RescheduleCommand(sid, old, old + timedelta(days=1), "bench", clock=clock))
    it = iter(commands)
    commit_ms, _ = median_ms(lambda: next(it).redo(), args.runs)
    assert not any(c.isObsolete() for c in commands), "a benchmark reschedule was refused"

    # The whole drop as the user feels it: command, push, and the view reloaded.
    sid = ids[0]
    target_days = iter(range(1, 100))

    def drop() -> None:
        from milton_desktop.ui.calendar_model import SCHEDULE_MIME, make_mime

        pane.drop_mime(
            make_mime(SCHEDULE_MIME, [sid]), NOW.date() + timedelta(days=next(target_days)), None
        )

    pane.set_view("month")
    drop_ms, _ = median_ms(drop, args.runs)

    def verdict(value: float, target: float) -> str:
        return "OK" if value <= target else "OVER"

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
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
