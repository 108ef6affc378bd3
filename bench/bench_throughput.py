"""Throughput: 1 000 posts due at once over 10 accounts, the fake answering each create
in 50 ms. Prints the total time of `run --once`, process start included, against the
ideal for one publish at a time per account and accounts in parallel (100 × 50 ms =
5 s), measured beside a bare start of the same interpreter in the same run; and when
each account's first post arrived, against the spacing of its later ones.

Target (issue 14): <= 1.2× the ideal, process start included. ``--runs N`` repeats
the measure and prints the medians.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.common import (
    REPO,
    add_accounts,
    cli_proc,
    machine,
    median,
    open_home,
    percentile,
    seed_schedules,
    temp_home,
)

ACCOUNTS, POSTS, DELAY = 10, 1000, 0.05


def _bare_start() -> float:
    """Seconds for the same interpreter to start and exit doing nothing."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], cwd=REPO, check=True)
    return time.perf_counter() - t0


def one_run() -> dict:
    from tests.fakes.x import FakeX

    home = temp_home("throughput")
    ctx = open_home(home)
    with FakeX(posts_per_window=100_000, posts_per_day=1_000_000) as fake:
        tokens = []
        for i in range(ACCOUNTS):
            fake.add_user(str(2000 + i), f"acct{i}", f"Account {i}", token=f"tp-token-{i:04d}")
            tokens.append((f"acct{i}", str(2000 + i), f"tp-token-{i:04d}"))
        rows = add_accounts(ctx, fake.url, tokens)
        due = datetime.now(UTC) - timedelta(seconds=1)
        seed_schedules([(rows[i % ACCOUNTS].id, due, f"throughput post {i}") for i in range(POSTS)])
        fake.inject(r"POST /2/tweets", mode="slow", delay=DELAY, times=-1)
        started = time.time()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = cli_proc("run", "--once", home=home)
        _out, err = proc.communicate(timeout=600)
        total = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        calls = fake.calls(r"POST /2/tweets")
        by_account: dict[str, list[float]] = {}
        for r in calls:
            by_account.setdefault(r.header("authorization") or "", []).append(r.received_at)
        arrivals = sorted(r.received_at for r in calls)
        published = len(fake.tweets)
    first_offsets = [min(v) - started for v in by_account.values()]
    gaps = [
        b - a for v in by_account.values() for a, b in zip(sorted(v), sorted(v)[1:], strict=False)
    ]
    if proc.returncode != 0:
        print("run --once exit code", proc.returncode, err[-500:])

    return {
        "published": published,
        "total": total,
        "publishing": arrivals[-1] - arrivals[0] + DELAY if arrivals else float("nan"),
        "to_first": (arrivals[0] - started) if arrivals else float("nan"),
        "first_spread": max(first_offsets) - min(first_offsets) if first_offsets else float("nan"),
        "gap_p50": percentile(gaps, 50),
        "cpu": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    ideal = POSTS / ACCOUNTS * DELAY
    print(f"machine: {machine()}")
    runs = []
    for n in range(args.runs):
        bare = _bare_start()
        r = one_run()
        r["bare"] = bare
        runs.append(r)
        print(
            f"run {n + 1}: published {r['published']}/{POSTS} in {r['total']:.2f} s, process "
            f"start included = {r['total'] / ideal:.2f}x the ideal {ideal:.2f} s; first request "
            f"to last answer {r['publishing']:.2f} s = {r['publishing'] / ideal:.2f}x; process "
            f"start to first request {r['to_first'] * 1000:.0f} ms (bare interpreter start "
            f"{bare * 1000:.0f} ms); accounts' first requests within "
            f"{r['first_spread'] * 1000:.0f} ms of each other; an account's later requests "
            f"every {r['gap_p50'] * 1000:.1f} ms (p50; the fake's answer takes {DELAY * 1000:.0f}); "
            f"CPU of the process {r['cpu']:.2f} s"
        )
    if args.runs > 1:
        total = median([r["total"] for r in runs])
        publishing = median([r["publishing"] for r in runs])
        print(
            f"median of {args.runs} runs: {total:.2f} s with process start = "
            f"{total / ideal:.2f}x the ideal; publishing itself {publishing:.2f} s = "
            f"{publishing / ideal:.2f}x"
        )
    print(
        f"ideal (per-account serial, accounts in parallel): {ideal:.2f} s; serial baseline "
        f"(one at a time, like the original daemon): {POSTS * DELAY:.1f} s; target <= 1.2x"
    )


if __name__ == "__main__":
    main()
