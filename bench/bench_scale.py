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
    plain = []
    cli = []
    for _ in range(5):
        # the baseline: a plain sqlite3 + json script reading the same rows and columns
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", PLAIN_LIST, str(home / "milton.sqlite3")],
            capture_output=True,
            check=True,
        )
        plain.append(time.perf_counter() - t)
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
    n = ScheduledPost.select().where(ScheduledPost.status == "pending").count()
    ratio = statistics.median(cli) / statistics.median(plain)
    print(
        f"`list --status pending --json` ({n} rows, whole command): "
        f"{statistics.median(cli):.2f} s median; plain sqlite3 + json script "
        f"{statistics.median(plain):.2f} s: {ratio:.2f}x   (target <= 1.5x)"
    )


#: what a script with no app code would do for the same listing
PLAIN_LIST = """
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
rows = con.execute(
    "SELECT s.id, s.post_id, a.display_name, a.platform, s.scheduled_time, s.timezone,"
    " s.status, s.attempts, s.next_attempt_at, s.published_at, s.remote_id, s.remote_url,"
    " s.error_message, COALESCE(s.text_override, p.body), s.warning FROM scheduled_posts s"
    " JOIN accounts a ON a.id = s.account_id JOIN posts p ON p.id = s.post_id"
    " WHERE s.status = 'pending' ORDER BY s.scheduled_time, s.id"
).fetchall()
keys = ("id", "post_id", "account", "platform", "scheduled_time", "timezone", "status",
        "attempts", "next_attempt_at", "published_at", "remote_id", "url", "error", "text",
        "warning")
print(json.dumps([dict(zip(keys, r)) for r in rows], ensure_ascii=False))
"""


if __name__ == "__main__":
    main()
