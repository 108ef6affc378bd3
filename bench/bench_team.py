"""Team mode on PostgreSQL.

``scale``: 100 000 scheduled rows (40 % pending within ±30 days) over 10 accounts on a
team database: the median time of the scheduler's next-due query, due rows, and a
claim (``UPDATE … FOR UPDATE SKIP LOCKED … RETURNING``), beside the same queries on
SQLite with the same rows (the baseline).

``throughput``: 1 000 posts due at once over 10 accounts, every account connected on
each of three machines (three homes, each with its own install id and keyring entries),
the fake answering each create in 50 ms; the three `run --once` start together. Prints
the time until every post is out against the ideal (one publish at a time per account,
accounts in parallel: 100 × 50 ms = 5 s) and against one machine alone on the same
database, and how the work was shared.

The database: ``--database URL`` (an empty one: it is filled and emptied), else
``MILTON_TEST_POSTGRES_URL``'s server (a fresh database made and dropped there).
Run with a keyring, as bench/README.md says.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.common import REPO, machine, median, seed_schedules, temp_home

ROWS = 100_000
ACCOUNTS, POSTS, DELAY, MACHINES = 10, 1000, 0.05, 3


@contextlib.contextmanager
def fresh_database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    base = os.environ.get("MILTON_TEST_POSTGRES_URL")
    if not base:
        sys.exit(
            "give --database URL, or start a server: "
            'eval "$(scripts/test-postgres.sh start /tmp/pg-bench)"'
        )
    import psycopg

    name = f"milton_bench_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    parts = urlsplit(base)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    finally:
        from milton_desktop.storage.db import close_database

        close_database()
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(rows: list[tuple[int, datetime, str]], status: str = "pending") -> None:
    """One post per row, inserted in bulk on either backend (``bench.common``'s
    seeder writes SQLite's placeholders and ids)."""
    from milton_desktop.storage import backend
    from milton_desktop.storage.models import database, utc_text

    if not backend.current().is_postgres:
        seed_schedules(rows, status=status)
        return
    now = utc_text(datetime.now(UTC))
    with database.atomic():
        cur = database.cursor()
        ids = [
            r[0]
            for r in database.execute_sql(
                "SELECT nextval(pg_get_serial_sequence('posts', 'id')) FROM generate_series(1, ?)",
                (len(rows),),
            ).fetchall()
        ]
        cur.executemany(
            "INSERT INTO posts (id, body, voice, created_at, updated_at)"
            " VALUES (%s, %s, 'personal', %s, %s)",
            [(pid, text, now, now) for pid, (_a, _w, text) in zip(ids, rows, strict=True)],
        )
        cur.executemany(
            "INSERT INTO scheduled_posts (post_id, account_id, scheduled_time, timezone, status,"
            " attempts, next_attempt_at, created_at, updated_at)"
            " VALUES (%s, %s, %s, 'UTC', %s, 0, %s, %s, %s)",
            [
                (pid, acc, utc_text(when), status, utc_text(when), now, now)
                for pid, (acc, when, _t) in zip(ids, rows, strict=True)
            ],
        )


def timed(fn, n: int = 200) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def _seed_scale(ctx) -> list[int]:
    from milton_desktop.domain.credential import Credential
    from milton_desktop.storage.models import Account

    accounts = []
    for i in range(ACCOUNTS):
        acc = Account.create(
            platform="x", display_name=f"acct{i}", username=f"acct{i}", remote_id=str(i)
        )
        ctx.credentials.save("x", acc.id, Credential(f"scale-token-{i:04d}"))
        accounts.append(acc.id)
    rng = random.Random(1)
    now = datetime.now(UTC)
    statuses = ["pending"] * 4 + ["published"] * 4 + ["failed", "cancelled"]
    for status in sorted(set(statuses)):
        share = statuses.count(status) / len(statuses)
        seed(
            [
                (
                    rng.choice(accounts),
                    now + timedelta(seconds=rng.uniform(-30, 30) * 86400),
                    f"scale {status} {i}",
                )
                for i in range(int(ROWS * share))
            ],
            status=status,
        )
    # and enough due now (within the grace window) for the claims to take
    seed(
        [
            (accounts[i % ACCOUNTS], now - timedelta(minutes=rng.uniform(1, 60)), f"due {i}")
            for i in range(2000)
        ]
    )
    return accounts


def _measure(label: str, ctx, accounts: list[int]) -> dict[str, float]:
    from milton_desktop.engine.machine import Engine
    from milton_desktop.storage.models import ScheduledPost

    engine = Engine(ctx.credentials)
    engine.heartbeat()
    count = ScheduledPost.select().count()
    figures = {
        "next": timed(engine.next_wakeup),
        "due": timed(lambda: engine.due(limit=50)),
    }
    rotation = iter(accounts * 100)

    def claim_one() -> None:
        assert engine.claim_next(next(rotation)) is not None

    figures["claim"] = timed(claim_one, n=200)
    print(
        f"{label:<11} {count} rows: next due {figures['next']:6.2f} ms, due(50) "
        f"{figures['due']:6.2f} ms, claim {figures['claim']:6.2f} ms (medians)"
    )
    return figures


def scale(url: str | None) -> None:
    from milton_desktop.context import open_context
    from milton_desktop.storage import backend
    from milton_desktop.storage.db import close_database
    from milton_desktop.storage.models import database

    print(f"machine: {machine()}")
    home = temp_home("team-scale-sqlite")
    ctx = open_context(str(home), stderr_logging=False)
    sqlite = _measure("SQLite", ctx, _seed_scale(ctx))
    close_database()
    with fresh_database(url) as team_url:
        home = temp_home("team-scale")
        ctx = open_context(str(home), stderr_logging=False, database=team_url)
        accounts = _seed_scale(ctx)
        database.execute_sql("ANALYZE")
        from milton_desktop.engine.machine import Engine

        ready, params = Engine(ctx.credentials)._ready()
        plan = database.execute_sql(
            "EXPLAIN SELECT s.next_attempt_at FROM scheduled_posts s WHERE "
            f"{ready} AND s.next_attempt_at >= ? ORDER BY s.next_attempt_at LIMIT 1",
            [*params, "2026"],
        ).fetchall()
        team = _measure("PostgreSQL", ctx, accounts)
        print("next-due plan: " + " / ".join(line.strip() for (line,) in plan[:5]))
        close_database()
        backend.use(backend.SQLITE)
    for key, what in (("next", "next due"), ("due", "due(50)"), ("claim", "claim")):
        print(f"{what:<9} PostgreSQL {team[key]:.2f} ms vs SQLite {sqlite[key]:.2f} ms")


_SAVE_TOKENS = """
import sys
from milton_desktop.context import open_context
from milton_desktop.domain.credential import Credential
from milton_desktop.storage.models import Account
ctx = open_context(sys.argv[1], stderr_logging=False)
for acc in Account.select():
    ctx.credentials.save("x", acc.id, Credential("team-token-%04d" % int(acc.username[4:])))
"""


def _homes(url: str, fake_url: str, keyrings: list) -> list[tuple[Path, dict]]:
    """A home per keyring on the team database, each holding every account's token
    (saved by a process of that home, in its own keyring): (home, its environment)."""
    from milton_desktop.context import open_context
    from milton_desktop.storage import backend
    from milton_desktop.storage.db import close_database
    from milton_desktop.storage.models import Account

    homes = []
    for m, keyring in enumerate(keyrings):
        home = temp_home(f"team-{m}")
        env = {
            **keyring.env,
            "MILTON_HOME": str(home),
            "MILTON_DATABASE_URL": url,
            "QT_QPA_PLATFORM": "offscreen",
        }
        if m == 0:
            open_context(str(home), stderr_logging=False, database=url)
            for i in range(ACCOUNTS):
                if Account.get_or_none(Account.display_name == f"acct{i}") is None:
                    Account.create(
                        platform="x",
                        display_name=f"acct{i}",
                        username=f"acct{i}",
                        remote_id=str(3000 + i),
                        api_base=fake_url,
                    )
            Account.update(api_base=fake_url).execute()
            close_database()
            backend.use(backend.SQLITE)
        subprocess.run(
            [sys.executable, "-c", _SAVE_TOKENS, str(home)], cwd=REPO, env=env, check=True
        )
        homes.append((home, env))
    return homes


def _one_throughput(url: str, keyrings: list) -> dict[str, float]:
    from milton_desktop.context import open_context
    from milton_desktop.storage import backend
    from milton_desktop.storage.db import close_database
    from milton_desktop.storage.models import Account, ScheduledPost
    from tests.fakes.x import FakeX

    with FakeX(posts_per_window=100_000, posts_per_day=1_000_000) as fake:
        for i in range(ACCOUNTS):
            fake.add_user(str(3000 + i), f"acct{i}", f"Account {i}", token=f"team-token-{i:04d}")
        homes = _homes(url, fake.url, keyrings)
        open_context(str(homes[0][0]), stderr_logging=False, database=url)
        ScheduledPost.delete().execute()
        accounts = [a.id for a in Account.select().order_by(Account.id)]
        due = datetime.now(UTC) - timedelta(seconds=1)
        seed([(accounts[i % ACCOUNTS], due, f"team post {i} {time.time()}") for i in range(POSTS)])
        close_database()
        backend.use(backend.SQLITE)
        fake.inject(r"POST /2/tweets", mode="slow", delay=DELAY, times=-1)
        started = time.time()
        t0 = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "milton_desktop", "run", "--once"],
                cwd=REPO,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _home, env in homes
        ]
        errs = []
        for proc in procs:
            _out, err = proc.communicate(timeout=600)
            errs.append(err[-300:])
            if proc.returncode != 0:
                sys.exit(f"run --once failed: {err[-2000:]}")
        total = time.perf_counter() - t0
        creates = fake.calls(r"POST /2/tweets")
        texts = [t["text"] for t in fake.tweets]
        assert len(texts) == len(set(texts)), "a post went out twice"
        first = min(r.received_at for r in creates) - started
        span = max(r.received_at for r in creates) - min(r.received_at for r in creates) + DELAY
        open_context(str(homes[0][0]), stderr_logging=False, database=url)
        from milton_desktop.storage.models import database

        shares = sorted(
            n
            for _m, n in database.execute_sql(
                "SELECT claimed_machine, COUNT(*) FROM scheduled_posts"
                " WHERE status = 'published' GROUP BY claimed_machine"
            ).fetchall()
        )
        left = ScheduledPost.select().where(ScheduledPost.status != "published").count()
        close_database()
        backend.use(backend.SQLITE)
        if left:  # a transient error (a keyring read): a running scheduler retries it later
            print(f"  ({left} post(s) not published in this run: {errs})")
    return {"total": total, "first": first, "span": span, "shares": shares}


def throughput(url: str | None, runs: int) -> None:
    ideal = POSTS / ACCOUNTS * DELAY
    print(f"machine: {machine()}")
    from tests.keyring_session import KeyringSession

    root = Path(tempfile.mkdtemp(prefix="milton-bench-keyrings-"))
    keyrings = [KeyringSession(root, f"machine{m}") for m in range(MACHINES)]
    try:
        with fresh_database(url) as team_url:
            many, one = [], []
            for _ in range(runs):
                many.append(_one_throughput(team_url, keyrings))
                one.append(_one_throughput(team_url, keyrings[:1]))
    finally:
        for keyring in keyrings:
            keyring.close()
    for label, got in ((f"{MACHINES} machines", many), ("1 machine", one)):
        total = median([g["total"] for g in got])
        span = median([g["span"] for g in got])
        first = median([g["first"] for g in got])
        print(
            f"{label:<11} {POSTS} posts: {total:.2f} s with process start = {total / ideal:.2f}x"
            f" the ideal {ideal:.1f} s; first request to last answer {span:.2f} s ="
            f" {span / ideal:.2f}x; start to first request {first * 1000:.0f} ms;"
            f" posts per machine {got[-1]['shares']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["scale", "throughput", "both"], nargs="?", default="both")
    parser.add_argument("--database", metavar="URL", help="an empty PostgreSQL database")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    if args.what in ("scale", "both"):
        scale(args.database)
    if args.what in ("throughput", "both"):
        throughput(args.database, args.runs)


if __name__ == "__main__":
    main()
