"""Shared set-up for the benchmarks: a throw-away MILTON_HOME, accounts with tokens in
the real keyring, schedules seeded in bulk, and process CPU/RSS readings."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def temp_home(prefix: str) -> Path:
    home = Path(tempfile.mkdtemp(prefix=f"milton-bench-{prefix}-"))
    os.environ["MILTON_HOME"] = str(home)
    return home


def open_home(home: Path):
    from milton_desktop.context import open_context

    return open_context(str(home), stderr_logging=False)


def add_accounts(ctx, fake_url: str, tokens: list[tuple[str, str, str]], platform_name: str = "x"):
    """tokens: (name, remote_id, token). Returns the Account rows."""
    from milton_desktop.domain.credential import Credential
    from milton_desktop.storage.models import Account

    made = []
    for name, remote_id, token in tokens:
        acc = Account.create(
            platform=platform_name,
            display_name=name,
            username=name,
            remote_id=remote_id,
            api_base=fake_url,
        )
        ctx.credentials.save(platform_name, acc.id, Credential(token))
        made.append(acc)
    return made


def seed_schedules(rows: list[tuple[int, datetime, str]], status: str = "pending") -> None:
    """rows: (account id, UTC instant, text). One post per row, inserted in bulk."""
    from milton_desktop.storage.models import Post, ScheduledPost, database, utc_text

    now = utc_text(datetime.now(UTC))
    with database.atomic():
        cur = database.cursor()
        start = (Post.select(Post.id).order_by(Post.id.desc()).scalar() or 0) + 1
        cur.executemany(
            "INSERT INTO posts (id, body, voice, created_at, updated_at) VALUES (?, ?, 'personal', ?, ?)",
            [(start + i, text, now, now) for i, (_a, _w, text) in enumerate(rows)],
        )
        cur.executemany(
            "INSERT INTO scheduled_posts (post_id, account_id, scheduled_time, timezone, status, attempts,"
            " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, 'UTC', ?, 0, ?, ?, ?)",
            [
                (start + i, acc, utc_text(when), status, utc_text(when), now, now)
                for i, (acc, when, _t) in enumerate(rows)
            ],
        )
    assert ScheduledPost.select().count() >= len(rows)


def cli_proc(*args: str, home: Path) -> subprocess.Popen:
    env = {**os.environ, "MILTON_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen(
        [sys.executable, "-m", "milton_desktop", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def proc_stats(pid: int) -> dict[str, float]:
    """CPU seconds, context switches (wake-ups) and RSS of a live process, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    status = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        status[key] = value.strip()
    return {
        "cpu_s": cpu,
        "wakeups": int(status.get("voluntary_ctxt_switches", 0))
        + int(status.get("nonvoluntary_ctxt_switches", 0)),
        "rss_mb": int(status.get("VmRSS", "0 kB").split()[0]) / 1024,
    }


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values)
