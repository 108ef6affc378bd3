"""How fast a change by another client reaches an open window on a team database.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.bench_team_live [--changes 50]
        [--burst 1000] [--pace-ms 3] [--url postgresql://...]

Without ``--url`` (or ``MILTON_TEST_POSTGRES_URL``) a throwaway PostgreSQL server is
started with ``scripts/test-postgres.sh`` and removed afterwards. The benchmark makes a
fresh database on it, opens the real main window offscreen (no scheduler), and from
another connection (the operations on a thread with a connection of its own, as a
colleague's window would):

- reach: ``--changes`` reschedules, one at a time with a pause between them; for each,
  the time from the colleague's commit to the chip being on its new day in this
  window's calendar model (median, p99, max);
- burst: ``--burst`` changes as fast as one connection commits them, each its own
  transaction (a script editing texts one by one); how many notifications the window
  was handed in how many calls, how many refreshes it ran, and the time from the last
  commit to the last text being shown; then the same paced (``--pace-ms`` between
  commits, as a server that syncs each commit to disk takes them), lasting longer
  than one batch may wait;
- one transaction: the same number of rows changed by one statement (an import).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

#: the benchmark's "now": the window's clock, fixed so the month shown is known
NOW = datetime(2031, 5, 14, 8, 0, tzinfo=UTC)
ZONE = "Europe/Paris"
REACH_TARGET_MS = 1000.0


def _server(url: str | None) -> tuple[str, Path | None]:
    url = url or os.environ.get("MILTON_TEST_POSTGRES_URL")
    if url:
        return url, None
    folder = Path(tempfile.mkdtemp(prefix="milton-bench-pg-"))
    os.chmod(folder, 0o755)
    out = subprocess.run(
        [str(REPO / "scripts" / "test-postgres.sh"), "start", str(folder / "pg")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in out.splitlines():
        if "MILTON_TEST_POSTGRES_URL=" in line:
            return line.split("=", 1)[1].strip().strip("'"), folder
    raise SystemExit(f"the test server did not start: {out}")


def _fresh_database(base: str) -> str:
    import secrets
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    name = f"milton_bench_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def _drop_database(base: str, url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument(
        "--pace-ms", type=float, default=3.0, help="the second burst's pause between commits"
    )
    parser.add_argument("--url", help="a PostgreSQL server to make the database on")
    args = parser.parse_args()

    base, started_server = _server(args.url)
    url = _fresh_database(base)
    home = Path(tempfile.mkdtemp(prefix="milton-bench-live-"))
    os.environ["MILTON_HOME"] = str(home)
    try:
        return _run(url, home, args)
    finally:
        from milton_desktop.storage.db import close_database

        close_database()
        _drop_database(base, url)
        if started_server is not None:
            subprocess.run(
                [str(REPO / "scripts" / "test-postgres.sh"), "stop", str(started_server / "pg")],
                check=False,
            )
            shutil.rmtree(started_server, ignore_errors=True)


def _run(url: str, home: Path, args: argparse.Namespace) -> int:
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    from bench.common import machine
    from milton_desktop.context import open_context
    from milton_desktop.domain.clock import FakeClock
    from milton_desktop.operations import posts, schedules
    from milton_desktop.storage import settings
    from milton_desktop.storage.db import worker_connection
    from milton_desktop.storage.models import Account, database
    from milton_desktop.ui.calendar.model import display_zone
    from milton_desktop.ui.shell.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    ctx = open_context(str(home), stderr_logging=False, database=url, allow_memory_tokens=True)
    settings.set_value("timezone", ZONE)
    account = Account.create(
        platform="linkedin", display_name="Team", username="team", remote_id="1"
    )
    clock = FakeClock(NOW)
    first = NOW + timedelta(days=1)
    post = posts.add_post("Moved by a colleague")
    moved = schedules.schedule(post.id, account, first, timezone=ZONE, clock=clock)
    burst_ids = [
        schedules.schedule(
            posts.add_post(f"burst {i}").id,
            account,
            first + timedelta(minutes=i),
            timezone=ZONE,
            clock=clock,
        ).id
        for i in range(args.burst)
    ]

    window = MainWindow(ctx, None, QUndoStack(), clock=clock)
    window.show()
    assert window.live is not None and window.live.wait_connected(10)
    cal = window.calendar

    def spin_until(test, timeout: float = 10.0) -> float:
        deadline = time.perf_counter() + timeout
        while not test():
            if time.perf_counter() > deadline:
                raise SystemExit("the window did not show the change in time")
            app.processEvents()
            time.sleep(0.0005)
        return time.perf_counter()

    spin_until(lambda: not cal.loading() and cal.model.item(moved.id) is not None)

    deliveries: list[int] = []
    refreshes = [0]
    original_changed = window._on_database_changed
    original_refresh = cal.refresh

    def counting_changed(change):
        deliveries.append(change.count)
        original_changed(change)

    def counting_refresh():
        refreshes[0] += 1
        original_refresh()

    window._databaseChanged.disconnect(window._on_database_changed)
    window._databaseChanged.connect(counting_changed)
    cal.refresh = counting_refresh  # type: ignore[method-assign]

    def colleague(work) -> float:
        """``work`` on a thread with a connection of its own; when it committed."""
        done: list[float] = []

        def run() -> None:
            with worker_connection():
                work()
            done.append(time.perf_counter())

        thread = threading.Thread(target=run)
        thread.start()
        while thread.is_alive():
            app.processEvents()
            time.sleep(0.0005)
        return done[0]

    # ---------------------------------------------------------------- reach
    reach_ms: list[float] = []
    for i in range(args.changes):
        when = first + timedelta(days=1 + i % 5, hours=1)
        day = when.astimezone(display_zone()).date()
        committed = colleague(lambda when=when: schedules.reschedule(moved.id, when, clock=clock))
        seen = spin_until(
            lambda day=day: (it := cal.model.item(moved.id)) is not None and it.day == day
        )
        reach_ms.append((seen - committed) * 1000)
        pause = time.perf_counter() + 0.3
        while time.perf_counter() < pause:
            app.processEvents()
            time.sleep(0.002)

    # ---------------------------------------------------------------- bursts
    def run_burst(label: str, pace_s: float) -> str:
        deliveries.clear()
        refreshes[0] = 0
        last_text = f"burst {args.burst - 1} {label}"

        def burst() -> None:
            for i, sid in enumerate(burst_ids):
                database.execute_sql(
                    "UPDATE scheduled_posts SET text_override = ? WHERE id = ?",
                    (f"burst {i} {label}", sid),
                )
                if pace_s:
                    time.sleep(pace_s)

        started = time.perf_counter()
        committed = colleague(burst)
        took = committed - started
        seen = spin_until(
            lambda: (it := cal.model.item(burst_ids[-1])) is not None and it.text == last_text
        )
        settle = time.perf_counter() + 1.5  # anything still coming is counted too
        while time.perf_counter() < settle:
            app.processEvents()
            time.sleep(0.002)
        return (
            f"burst ({args.burst} transactions in {took:.2f} s{', paced' if pace_s else ''}):"
            f" {sum(deliveries)} notifications handed over in {len(deliveries)} calls,"
            f" {refreshes[0]} calendar refreshes; last change shown"
            f" {(seen - committed) * 1000:.0f} ms after the last commit"
        )

    burst_line = run_burst("edited", 0.0)
    paced_line = run_burst("paced", args.pace_ms / 1000)

    # ---------------------------------------------------------------- one transaction
    deliveries.clear()
    refreshes[0] = 0

    def one_statement() -> None:
        with database.atomic():
            database.execute_sql("UPDATE scheduled_posts SET text_override = 'all at once'")

    committed = colleague(one_statement)
    seen = spin_until(
        lambda: (it := cal.model.item(burst_ids[-1])) is not None and it.text == "all at once"
    )
    one_ms = (seen - committed) * 1000
    settle = time.perf_counter() + 1.5
    while time.perf_counter() < settle:
        app.processEvents()
        time.sleep(0.002)
    one_calls, one_refreshes = len(deliveries), refreshes[0]

    window.stop_live()
    window.close()

    import psycopg

    with psycopg.connect(url) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    print(f"machine: {machine()}; PostgreSQL {server} on loopback")
    print(
        f"reach ({args.changes} reschedules, one at a time): median {statistics.median(reach_ms):.0f} ms,"
        f" p99 {_pct(reach_ms, 0.99):.0f} ms, max {max(reach_ms):.0f} ms"
        f" (target {REACH_TARGET_MS:.0f} ms)"
    )
    print(burst_line)
    print(paced_line)
    print(
        f"one statement changing {args.burst} rows: {one_calls} call, {one_refreshes} refresh,"
        f" shown {one_ms:.0f} ms after the commit"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
