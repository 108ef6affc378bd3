"""Scale: 100 000 scheduled rows (40 % pending within ±30 days). Prints the median
time of the queries the scheduler and the window run all day: next due instant,
due rows, a claim, `list --status pending` (whole command), and a reschedule commit."""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.common import REPO, add_accounts, machine, open_home, seed_schedules, temp_home

ROWS = 100_000


def timed(fn, n=200) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main() -> None:
    from milton_desktop.engine.machine import Engine
    from milton_desktop.operations import schedules
    from milton_desktop.storage.models import ScheduledPost, database

    home = temp_home("scale")
    ctx = open_home(home)
    accounts = add_accounts(
        ctx, "http://127.0.0.1:9", [(f"acct{i}", str(i), f"scale-token-{i:04d}") for i in range(10)]
    )
    rng = random.Random(1)
    now = datetime.now(UTC)
    t = time.perf_counter()
    statuses = ["pending"] * 4 + ["published"] * 4 + ["failed", "cancelled"]
    for status in set(statuses):
        share = statuses.count(status) / len(statuses)
        rows = [
            (
                rng.choice(accounts).id,
                now + timedelta(seconds=rng.uniform(-30, 30) * 86400),
                f"scale {status} {i}",
            )
            for i in range(int(ROWS * share))
        ]
        seed_schedules(rows, status=status)
    seed_s = time.perf_counter() - t
    engine = Engine(ctx.credentials)
    count = ScheduledPost.select().count()
    plan = database.execute_sql(
        "EXPLAIN QUERY PLAN SELECT s.id FROM scheduled_posts s WHERE s.status='pending' "
        "AND s.next_attempt_at <= ? ORDER BY s.next_attempt_at LIMIT 50",
        ("2026",),
    ).fetchall()
    print(f"machine: {machine()}")
    print(f"{count} rows seeded in {seed_s:.1f} s; plan: {plan[0][-1]}")
    print(f"next_wakeup():            {timed(engine.next_wakeup):7.2f} ms median")
    print(f"due(limit=50):            {timed(lambda: engine.due(limit=50)):7.2f} ms median")
    due = [sid for sid, _ in engine.due(limit=400)]

    def claim_one():
        sid = due.pop()
        assert engine.claim(sid)

    print(f"claim (atomic UPDATE):    {timed(claim_one, n=200):7.2f} ms median")
    pending = [
        r.id
        for r in ScheduledPost.select(ScheduledPost.id)
        .where(
            (ScheduledPost.status == "pending")
            & (ScheduledPost.scheduled_time > now + timedelta(days=1))
        )
        .limit(200)
    ]
    target = now + timedelta(days=40)

    def reschedule_one():
        schedules.reschedule(pending.pop(), target)

    print(
        f"reschedule commit:        {timed(reschedule_one, n=200):7.2f} ms median   (target <= 20 ms)"
    )
    cli = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "milton_desktop",
                "--home",
                str(home),
                "list",
                "--status",
                "pending",
                "--json",
            ],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        cli.append(time.perf_counter() - t)
    print(
        f"`list --status pending --json` ({ScheduledPost.select().where(ScheduledPost.status == 'pending').count()}"
        f" rows, whole command): {statistics.median(cli):.2f} s median"
    )


if __name__ == "__main__":
    main()
