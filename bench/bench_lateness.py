"""Publish lateness: 100 posts due over 10 s on 10 accounts, headless `run` against a
loopback fake X; prints p50/p99/max ms between each scheduled instant and its arrival
at the fake. Target: p99 ≤ 250 ms. Baseline: the original daemon's 60 s poll
(expected lateness uniform in [0, 60 s): p50 30 000 ms)."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta

from bench.common import (
    add_accounts,
    cli_proc,
    machine,
    open_home,
    percentile,
    seed_schedules,
    temp_home,
)


def main() -> None:
    from tests.fakes.x import FakeX

    home = temp_home("lateness")
    ctx = open_home(home)
    with FakeX(posts_per_window=10_000, posts_per_day=100_000) as fake:
        accounts = []
        for i in range(10):
            fake.add_user(str(1000 + i), f"acct{i}", f"Account {i}", token=f"bench-token-{i:04d}")
            accounts.append((f"acct{i}", str(1000 + i), f"bench-token-{i:04d}"))
        rows = add_accounts(ctx, fake.url, accounts)
        start = datetime.now(UTC) + timedelta(seconds=4)
        schedule = [
            (rows[i % 10].id, start + timedelta(milliseconds=100 * i), f"lateness post {i}")
            for i in range(100)
        ]
        seed_schedules(schedule)
        due = {text: when for _acc, when, text in schedule}
        proc = cli_proc("run", "--interval", "60", home=home)
        try:
            deadline = time.monotonic() + 60
            while len(fake.tweets) < 100 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=60)
        arrivals = {r.json()["text"]: r.received_at for r in fake.calls(r"POST /2/tweets")}
    lateness = [(arrivals[text] - due[text].timestamp()) * 1000 for text in due if text in arrivals]
    print(f"machine: {machine()}")
    print(f"published {len(lateness)}/100 posts")
    print(
        f"lateness ms: p50 {percentile(lateness, 50):.1f}  p99 {percentile(lateness, 99):.1f}  "
        f"max {max(lateness):.1f}  min {min(lateness):.1f}   (target p99 <= 250)"
    )
    worst = sorted(((arrivals[t] - due[t].timestamp()) * 1000, t) for t in due if t in arrivals)[
        -5:
    ]
    print("slowest:", ", ".join(f"{t.split()[-1]}:{ms:.0f}" for ms, t in worst))
    print("baseline (original daemon, 60 s poll): p50 30000  p99 59400  max 60000")


if __name__ == "__main__":
    main()
