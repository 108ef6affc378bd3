"""Start-up: time from launching the process to the main window being shown and to
its first painted frame, for a bare PySide6 window, Milton from source and
(when built) the frozen bundle, in the same run, interleaved, offscreen, with an
empty home and with 100 000 posts seeded around today. Targets: source shown <= 1.3x
bare, first painted month <= 1.5x; frozen <= 1.3x source.

For Milton (printed by the app under MILTON_STARTUP_PROBE) "shown" is its first frame
on screen: the window's shell with the calendar's chrome and an empty month, before
the database is opened. "First painted month" is the real month view's first paint,
with the posts of the month read from the database: the empty skeleton does not
count as the month.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_startup.py [RUNS]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import REPO, machine

BARE = (
    "import time\n"
    "from PySide6.QtWidgets import QApplication, QMainWindow\n"
    "from PySide6.QtCore import QTimer\n"
    "app = QApplication([])\n"
    "w = QMainWindow(); w.setWindowTitle('bare'); w.resize(1200, 800); w.show()\n"
    "print(f'startup-shown {time.time():.6f}', flush=True)\n"
    "QTimer.singleShot(0, lambda: (print(f'startup-month-painted {time.time():.6f}', flush=True), app.quit()))\n"
    "app.exec()\n"
)


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds to the window shown, seconds to its first painted frame: for Milton the
    month view's first paint, for the bare window its first loop turn after show)."""
    t0 = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    seen: dict[str, float] = {}
    for line in out.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key in ("startup-shown", "startup-month-painted"):
            seen[key] = float(value) - t0
    if "startup-shown" not in seen:
        raise RuntimeError(f"{cmd[0]} did not report a shown window: {out.stderr[-400:]}")
    # an older build reports only the shown window: its paint is then unknown (nan)
    return seen["startup-shown"], seen.get("startup-month-painted", float("nan"))


def main(runs: int = 10) -> None:
    # A normal install has bytecode caches; this machine sets PYTHONDONTWRITEBYTECODE,
    # which would make every source start recompile the app (the bundle ships bytecode).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "milton_desktop")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    base_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MILTON_STARTUP_PROBE": "1"}
    variants = {
        "bare PySide6 window": [sys.executable, "-c", BARE],
        "milton (source)": [sys.executable, "-m", "milton_desktop"],
    }
    frozen = REPO / "dist" / "milton-desktop" / "milton-desktop"
    if frozen.exists():
        variants["milton (frozen bundle)"] = [str(frozen)]
    homes = {"empty home": None, "100 000 posts": seeded_home(100_000)}
    try:
        _run(runs, homes, variants, base_env)
    finally:
        for template in homes.values():
            if template is not None:
                shutil.rmtree(template, ignore_errors=True)


def _run(
    runs: int, homes: dict[str, Path | None], variants: dict[str, list[str]], base_env: dict
) -> None:
    # (home, variant) -> [(shown, painted)]
    times: dict[tuple[str, str], list[tuple[float, float]]] = {
        (h, k): [] for h in homes for k in variants
    }
    for _ in range(runs):
        for home_name, template in homes.items():
            for name, cmd in variants.items():
                home = Path(tempfile.mkdtemp(prefix="milton-bench-startup-"))
                if template is not None:
                    shutil.copytree(template, home, dirs_exist_ok=True)
                env = {**base_env, "MILTON_HOME": str(home)}
                times[(home_name, name)].append(measure(cmd, env))
                shutil.rmtree(home, ignore_errors=True)
    print(f"machine: {machine()}")
    for home_name in homes:
        print(f"\n== {home_name} ({runs} interleaved runs, medians) ==")
        med: dict[str, tuple[float, float]] = {}
        for name in variants:
            shown = [t[0] for t in times[(home_name, name)]]
            painted = [t[1] for t in times[(home_name, name)]]
            med[name] = (statistics.median(shown), statistics.median(painted))
            print(
                f"{name:24s} shown {med[name][0] * 1000:6.0f} ms (min {min(shown) * 1000:.0f},"
                f" max {max(shown) * 1000:.0f}); first painted month {med[name][1] * 1000:6.0f} ms"
                f" (min {min(painted) * 1000:.0f}, max {max(painted) * 1000:.0f})"
            )
        bare, source = med["bare PySide6 window"], med["milton (source)"]
        print(
            f"source / bare: shown {source[0] / bare[0]:.2f}x (target <= 1.3x), first paint"
            f" {source[1] / bare[1]:.2f}x (target <= 1.5x)"
        )
        if "milton (frozen bundle)" in med:
            frozen = med["milton (frozen bundle)"]
            print(f"frozen / source = {frozen[0] / source[0]:.2f}x (target <= 1.3x)")


def seeded_home(posts: int) -> Path:
    """A data folder with ``posts`` posts (bench_calendar's spread year), copied per run."""
    import random
    from datetime import UTC, datetime, timedelta

    from bench import bench_calendar
    from milton_desktop.paths import resolve_paths
    from milton_desktop.storage.db import close_database, open_database

    home = Path(tempfile.mkdtemp(prefix="milton-bench-startup-template-"))
    open_database(resolve_paths(str(home)).ensure().db_path)
    # centred on today, so the month the window opens on is a busy one
    now = datetime.now(UTC)
    bench_calendar.NOW = now
    scenario = bench_calendar.Scenario(
        "spread", "a year around today", now - timedelta(days=182), timedelta(days=365)
    )
    bench_calendar.seed(posts, scenario, random.Random(20300312))
    close_database()
    return home


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
