"""Throughput: 1 000 posts due at once over 10 accounts, the fake answering each create
in 50 ms. Prints the total time of `run --once` against the ideal for one publish at a
time per account and accounts in parallel (100 × 50 ms = 5 s). Target ≤ 1.5× ideal."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bench.common import add_accounts, cli_proc, machine, open_home, seed_schedules, temp_home

ACCOUNTS, POSTS, DELAY = 10, 1000, 0.05


def main() -> None:
    from tests.fakes.x import FakeX

    home = temp_home("throughput")
    ctx = open_home(home)
    with FakeX(posts_per_window=100_000, posts_per_day=1_000_000) as fake:
        accounts = []
        for i in range(ACCOUNTS):
            fake.add_user(str(2000 + i), f"acct{i}", f"Account {i}", token=f"tp-token-{i:04d}")
            accounts.append((f"acct{i}", str(2000 + i), f"tp-token-{i:04d}"))
        rows = add_accounts(ctx, fake.url, accounts)
        due = datetime.now(UTC) - timedelta(seconds=1)
        seed_schedules([(rows[i % ACCOUNTS].id, due, f"throughput post {i}") for i in range(POSTS)])
        fake.inject(r"POST /2/tweets", mode="slow", delay=DELAY, times=-1)
        t0 = time.perf_counter()
        proc = cli_proc("run", "--once", home=home)
        _out, err = proc.communicate(timeout=600)
        total = time.perf_counter() - t0
        published = len(fake.tweets)
        arrivals = sorted(r.received_at for r in fake.calls(r"POST /2/tweets"))
        publishing = arrivals[-1] - arrivals[0] + DELAY if arrivals else float("nan")
    ideal = POSTS / ACCOUNTS * DELAY
    print(f"machine: {machine()}")
    print(
        f"published {published}/{POSTS} in {total:.2f} s (process start included); "
        f"ideal {ideal:.2f} s; ratio {total / ideal:.2f}x (target <= 1.5x)"
    )
    print(
        f"first request to last answer: {publishing:.2f} s; ratio {publishing / ideal:.2f}x "
        "(the publishing itself, without the process start)"
    )
    print(f"serial baseline (one at a time, like the original daemon): {POSTS * DELAY:.1f} s")
    if proc.returncode != 0:
        print("run --once exit code", proc.returncode, err[-500:])


if __name__ == "__main__":
    main()
