"""Idle cost: `run` with 10 000 pending posts far in the future for 60 s (by default),
against a bare QCoreApplication event loop in the same run. Prints CPU seconds,
wake-ups (context switches) and RSS. Targets: CPU < 0.1 % of one core; RSS <= 1.8x
the bare loop's."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.common import (
    REPO,
    add_accounts,
    cli_proc,
    machine,
    open_home,
    proc_stats,
    seed_schedules,
    temp_home,
)

BARE = (
    "from PySide6.QtCore import QCoreApplication\n"
    "import sys\n"
    "app = QCoreApplication(sys.argv)\n"
    "app.exec()\n"
)


def main(seconds: float = 60.0) -> None:
    home = temp_home("idle")
    ctx = open_home(home)
    (acc,) = add_accounts(ctx, "http://127.0.0.1:9", [("idle", "1", "idle-token-0001")])
    far = datetime.now(UTC) + timedelta(days=30)
    seed_schedules([(acc.id, far + timedelta(minutes=i), f"idle post {i}") for i in range(10_000)])
    run = cli_proc("run", "--interval", "60", home=home)
    bare = subprocess.Popen(
        [sys.executable, "-c", BARE], cwd=REPO, env={"QT_QPA_PLATFORM": "offscreen"}
    )
    time.sleep(3)  # start-up is not idling
    start = {p.pid: proc_stats(p.pid) for p in (run, bare)}
    time.sleep(seconds)
    end = {p.pid: proc_stats(p.pid) for p in (run, bare)}
    run.send_signal(signal.SIGTERM)
    run.wait(timeout=60)
    bare.kill()  # a bare loop has no signal handling of its own
    bare.wait(timeout=60)
    print(f"machine: {machine()}")
    for label, p in (("milton run (10 000 pending)", run), ("bare QCoreApplication", bare)):
        cpu = end[p.pid]["cpu_s"] - start[p.pid]["cpu_s"]
        wake = end[p.pid]["wakeups"] - start[p.pid]["wakeups"]
        print(
            f"{label:30s} cpu {cpu:.2f} s over {seconds:.0f} s = {100 * cpu / seconds:.3f} %  "
            f"wake-ups {wake}  rss {end[p.pid]['rss_mb']:.0f} MB"
        )
    ratio = end[run.pid]["rss_mb"] / end[bare.pid]["rss_mb"]
    print(f"rss milton / bare = {ratio:.2f}x (target <= 1.8x); target: milton cpu < 0.1 %")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 60.0)
