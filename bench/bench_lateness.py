"""Publish lateness: 100 text posts and 20 image posts (a small local PNG) due over 10 s
on 10 accounts, headless `run` against a loopback fake X; prints p50/p99/max ms
between each scheduled instant and the create's arrival at the fake, text and image
apart, and the first post of the run and of each account beside the others.

Baseline, measured in the same run against the same fake with the same posts: a
naive loop in a process of its own that sleeps until each instant, then reads the
token from the keyring, makes a publisher and publishes (what the original daemon
did at each post, without its 60 s poll).

Targets (issue 14): text p50 <= 5 ms, p99 <= 20 ms; image p99 <= 40 ms; the first
posts no later than the others. ``--runs N`` repeats the whole measure and prints
the medians.
"""

from __future__ import annotations

import argparse
import signal
import struct
import subprocess
import sys
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import (
    REPO,
    add_accounts,
    cli_proc,
    machine,
    median,
    open_home,
    percentile,
    temp_home,
)

ACCOUNTS, TEXTS, IMAGES = 10, 100, 20
SPREAD_MS = 100  # one text post every 100 ms: each account every second
LEAD_S = 4.0  # the first instant after the start of the publishing process


def _png(w: int = 64, h: int = 48) -> bytes:
    raw = b"".join(b"\x00" + b"\x20\x60\xc0" * w for _ in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(tag + data))
        return struct.pack(">I", len(data)) + tag + data + crc

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _seed(ctx, accounts, start: datetime, tag: str, png: Path) -> dict[str, tuple[datetime, str]]:
    """Schedule the posts; returns text -> (instant, kind)."""
    from milton_desktop.operations.posts import MediaInput, add_post
    from milton_desktop.storage.models import ScheduledPost, database

    plan: list[tuple[int, datetime, str, str]] = []
    for i in range(TEXTS):
        at = start + timedelta(milliseconds=SPREAD_MS * i)
        plan.append((accounts[i % ACCOUNTS].id, at, f"{tag} text {i}", "text"))
    for i in range(IMAGES):
        # between two text posts of another account, every half second
        at = start + timedelta(milliseconds=SPREAD_MS * 5 * i + SPREAD_MS // 2)
        plan.append((accounts[(i * 5 + 2) % ACCOUNTS].id, at, f"{tag} image {i}", "image"))
    with database.atomic():
        for account_id, at, text, kind in plan:
            media = [MediaInput(path=png, alt_text="a blue square")] if kind == "image" else []
            post = add_post(text, media=media, media_dir=ctx.paths.media_dir)
            ScheduledPost.create(
                post=post, account=account_id, scheduled_time=at, next_attempt_at=at
            )
    return {text: (at, kind) for _a, at, text, kind in plan}


def _naive(home: str, tag: str) -> None:
    """The baseline: sleep until each instant, then publish, one post after another."""
    from milton_desktop.domain.credential import AccountRef
    from milton_desktop.publishers import registry
    from milton_desktop.storage import queries
    from milton_desktop.storage.models import Account, ScheduledPost

    ctx = open_home(Path(home))
    rows = [
        (s, s.account)
        for s in ScheduledPost.select(ScheduledPost, Account)
        .join(Account)
        .where(ScheduledPost.status == "pending")
        .order_by(ScheduledPost.next_attempt_at)
        if s.post.body.startswith(tag)
    ]
    for schedule, account in rows:
        left = (schedule.next_attempt_at - datetime.now(UTC)).total_seconds()
        if left > 0:
            time.sleep(left)
        credential = ctx.credentials.load(account.platform, account.id, cached=False)
        publisher = registry.make_publisher(account.platform, api_base=account.api_base)
        ref = AccountRef(remote_id=account.remote_id, username=account.username)
        publisher.publish(queries.parts_for(schedule)[0], credential, ref)
        publisher.session.close()


def _lateness(fake, due: dict[str, tuple[datetime, str]]) -> dict[str, float]:
    arrivals = {r.json()["text"]: r.received_at for r in fake.calls(r"POST /2/tweets")}
    return {
        text: (arrivals[text] - at.timestamp()) * 1000
        for text, (at, _k) in due.items()
        if text in arrivals
    }


def _figures(late: dict[str, float], due: dict[str, tuple[datetime, str]]) -> dict:
    text = [ms for t, ms in late.items() if due[t][1] == "text"]
    image = [ms for t, ms in late.items() if due[t][1] == "image"]
    order = sorted(late, key=lambda t: due[t][0])
    first = late[order[0]] if order else float("nan")
    return {
        "published": len(late),
        "text_p50": percentile(text, 50),
        "text_p99": percentile(text, 99),
        "text_max": max(text, default=float("nan")),
        "image_p50": percentile(image, 50),
        "image_p99": percentile(image, 99),
        "first": first,
        "slowest": sorted(((ms, t) for t, ms in late.items()), reverse=True)[:4],
    }


def one_run() -> tuple[dict, dict, list[float], list[float]]:
    from tests.fakes.x import FakeX

    home = temp_home("lateness")
    ctx = open_home(home)
    png = home / "square.png"
    png.write_bytes(_png())
    with FakeX(posts_per_window=10_000, posts_per_day=100_000) as fake:
        tokens = []
        for i in range(ACCOUNTS):
            fake.add_user(str(1000 + i), f"acct{i}", f"Account {i}", token=f"bench-token-{i:04d}")
            tokens.append((f"acct{i}", str(1000 + i), f"bench-token-{i:04d}"))
        accounts = add_accounts(ctx, fake.url, tokens)

        # Milton's scheduler
        start = datetime.now(UTC) + timedelta(seconds=LEAD_S)
        due = _seed(ctx, accounts, start, "milton", png)
        proc = cli_proc("run", "--interval", "60", home=home)
        try:
            deadline = time.monotonic() + 60
            while len(fake.calls(r"POST /2/tweets")) < len(due) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=60)
        milton = _lateness(fake, due)
        # the first post of each account against its later ones
        by_account: dict[int, list[tuple[datetime, str]]] = {}
        for text, (at, kind) in due.items():
            if kind == "text":
                n = int(text.split()[-1])
                by_account.setdefault(n % ACCOUNTS, []).append((at, text))
        firsts, rest = [], []
        for posts in by_account.values():
            posts.sort()
            firsts += [milton[t] for _at, t in posts[:1] if t in milton]
            rest += [milton[t] for _at, t in posts[1:] if t in milton]

        # the naive loop, on posts of its own
        start = datetime.now(UTC) + timedelta(seconds=LEAD_S)
        naive_due = _seed(ctx, accounts, start, "naive", png)
        # the scheduler is stopped: nothing else publishes these rows
        naive_proc = subprocess.run(
            [sys.executable, "-m", "bench.bench_lateness", "--naive", str(home)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if naive_proc.returncode != 0:
            print("naive loop failed:", naive_proc.stderr[-800:])
        naive = _lateness(fake, naive_due)
    return _figures(milton, due), _figures(naive, naive_due), firsts, rest


def _line(name: str, f: dict) -> str:
    return (
        f"{name:<8} published {f['published']}/{TEXTS + IMAGES}; text p50 {f['text_p50']:.1f} "
        f"p99 {f['text_p99']:.1f} max {f['text_max']:.1f}; image p50 {f['image_p50']:.1f} "
        f"p99 {f['image_p99']:.1f}; first post of the run {f['first']:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--naive", metavar="HOME", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive:
        _naive(args.naive, "naive")
        return
    print(f"machine: {machine()}")
    runs = []
    for n in range(args.runs):
        milton, naive, firsts, rest = one_run()
        runs.append((milton, naive, firsts, rest))
        print(f"run {n + 1}:")
        print("  " + _line("milton", milton))
        print("  " + _line("naive", naive))
        print(
            f"  milton, first post of each account: p50 {percentile(firsts, 50):.1f} "
            f"max {max(firsts, default=float('nan')):.1f} ms; its later posts: p50 "
            f"{percentile(rest, 50):.1f} max {max(rest, default=float('nan')):.1f} ms"
        )
        print(
            "  slowest (milton):",
            ", ".join(f"{t.split(' ', 1)[1]}:{ms:.0f}" for ms, t in milton["slowest"]),
        )
    if args.runs > 1:
        keys = ("text_p50", "text_p99", "image_p99", "first")
        for name, index in (("milton", 0), ("naive", 1)):
            med = {k: median([r[index][k] for r in runs]) for k in keys}
            print(
                f"median of {args.runs} runs, {name}: text p50 {med['text_p50']:.1f} p99 "
                f"{med['text_p99']:.1f}; image p99 {med['image_p99']:.1f}; first post "
                f"{med['first']:.1f} ms"
            )
    print("targets: text p50 <= 5, p99 <= 20; image p99 <= 40 ms; first posts no later")


if __name__ == "__main__":
    main()
