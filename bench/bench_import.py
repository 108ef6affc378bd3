"""Import 10 000 rows from a CSV file: time and peak memory, against a plain baseline.

    .venv/bin/python -m bench.bench_import [--rows N] [--runs N]

Each run makes a fresh home with two accounts (LinkedIn and X) and a CSV of N posts,
each with a link and a hashtag, alternating between the accounts, a minute apart; one
in ten is a draft and one in fifty has an image. It measures:

- ``import``: ``csv_import.plan_import`` + ``commit_import`` (what `milton-desktop
  import` does), every row checked with the platform's rules, duplicates looked up,
  written in one transaction;
- ``re-import``: the same file again (every row a duplicate: nothing is written);
- ``baseline``: ``csv.reader`` over the same file and ``executemany`` of the same
  rows into the same tables in one transaction, no checks at all.

Times come from runs without tracemalloc (which slows this code two- or threefold);
peak memory from one more run under it: the peak of Python allocations during each
step (SQLite's own page cache is not in it). RSS is the process's high-water mark.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import statistics
import struct
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


def _write_csv(folder: Path, rows: int) -> Path:
    sof = b"\xff\xc0" + struct.pack(">HBHH", 11, 8, 1080, 1080) + b"\x01\x01\x11\x00"
    (folder / "pic.jpg").write_bytes(b"\xff\xd8" + sof + b"\xff\xd9")
    path = folder / "posts.csv"
    start = NOW + timedelta(days=1)
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(["text", "account", "at", "media", "follow_up_1"])
        for n in range(rows):
            draft = n % 10 == 9
            writer.writerow(
                [
                    f"Post {n}: what we shipped this week https://example.com/notes/{n} #release",
                    "" if draft else ("work" if n % 2 else "xacct"),
                    "" if draft else (start + timedelta(minutes=n)).isoformat(),
                    "pic.jpg" if n % 50 == 0 else "",
                    "more in the thread" if n % 7 == 0 else "",
                ]
            )
    return path


def _measure(fn, trace: bool):  # type: ignore[no-untyped-def]
    """(result, seconds, peak bytes); tracemalloc slows allocation-heavy code two- or
    threefold, so a run either times (trace False, peak 0) or traces."""
    if trace:
        tracemalloc.start()
    began = time.perf_counter()
    result = fn()
    took = time.perf_counter() - began
    peak = 0
    if trace:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, took, peak


def _baseline(path: Path, accounts: dict[str, int]) -> int:
    """The least an import can do: read the rows, insert posts and schedules."""
    from milton_desktop.storage.models import database

    now = NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    with database.atomic():
        cursor = database.cursor()
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM posts")
        (first,) = cursor.fetchone()
        cursor.executemany(
            "INSERT INTO posts (id, body, voice, created_at, updated_at, follow_ups,"
            " follow_up_delay) VALUES (?, ?, 'personal', ?, ?, '[]', 0)",
            [(first + i + 1, r["text"], now, now) for i, r in enumerate(rows)],
        )
        cursor.executemany(
            "INSERT INTO scheduled_posts (post_id, account_id, scheduled_time, timezone, status,"
            " attempts, next_attempt_at, created_at, updated_at)"
            " VALUES (?, ?, ?, 'UTC', 'pending', 0, ?, ?, ?)",
            [
                (first + i + 1, accounts[r["account"]], at, at, now, now)
                for i, r in enumerate(rows)
                if r["account"]
                for at in [
                    datetime.fromisoformat(r["at"]).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                ]
            ],
        )
    return len(rows)


def run_once(rows: int, trace: bool = False) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="milton-bench-import-"))
    os.environ["MILTON_HOME"] = str(home / "home")
    try:
        from milton_desktop.context import open_context
        from milton_desktop.domain.clock import FakeClock
        from milton_desktop.operations import csv_import
        from milton_desktop.storage.models import Account, Post, ScheduledPost

        ctx = open_context(None, stderr_logging=False)
        work = Account.create(platform="linkedin", display_name="work", remote_id="1")
        xacct = Account.create(platform="x", display_name="xacct", remote_id="2")
        path = _write_csv(home, rows)
        clock = FakeClock(NOW)

        def do_import():  # type: ignore[no-untyped-def]
            plan = csv_import.plan_import(path, clock=clock)
            return csv_import.commit_import(plan, media_dir=ctx.paths.media_dir, clock=clock)

        result, took, peak = _measure(do_import, trace)
        assert result.count == rows, result
        assert ScheduledPost.select().count() == rows - rows // 10
        again, took_again, peak_again = _measure(do_import, trace)
        assert again.count == 0 and len(again.duplicates) == rows
        Post.delete().execute()  # the baseline writes into the same, empty tables
        count, took_base, peak_base = _measure(
            lambda: _baseline(path, {"work": work.id, "xacct": xacct.id}), trace
        )
        assert count == rows
        return {
            "import_s": took,
            "import_peak_mb": peak / 2**20,
            "reimport_s": took_again,
            "reimport_peak_mb": peak_again / 2**20,
            "baseline_s": took_base,
            "baseline_peak_mb": peak_base / 2**20,
        }
    finally:
        from milton_desktop.storage.db import close_database

        close_database()
        shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    runs = [run_once(args.rows) for _ in range(args.runs)]
    traced = run_once(args.rows, trace=True)

    def med(key: str) -> float:
        if key.endswith("_mb"):
            return traced[key]
        return statistics.median(r[key] for r in runs)

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.rows} rows, time the median of {args.runs} runs, memory one traced run:")
    print(
        f"  import     {med('import_s'):6.2f} s  peak {med('import_peak_mb'):6.1f} MB"
        f"  ({args.rows / med('import_s'):,.0f} rows/s)"
    )
    print(f"  re-import  {med('reimport_s'):6.2f} s  peak {med('reimport_peak_mb'):6.1f} MB")
    print(f"  baseline   {med('baseline_s'):6.2f} s  peak {med('baseline_peak_mb'):6.1f} MB")
    print(
        f"  import / baseline: {med('import_s') / med('baseline_s'):.1f}× time, "
        f"{med('import_peak_mb') / med('baseline_peak_mb'):.1f}× memory; process RSS {rss:.0f} MB"
    )


if __name__ == "__main__":
    main()
