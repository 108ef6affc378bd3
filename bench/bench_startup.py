"""Start-up: time from launching the process to the main window being shown, for a
bare PySide6 window, Milton from source and (when built) the frozen bundle, in the
same run, interleaved, offscreen. Targets: source ≤ 1.3× bare; frozen ≤ 1.3× source."""

from __future__ import annotations

import os
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
    "QTimer.singleShot(0, app.quit)\n"
    "app.exec()\n"
)


def measure(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    for line in out.stdout.splitlines():
        if line.startswith("startup-shown "):
            return float(line.split()[1]) - t0
    raise RuntimeError(f"{cmd[0]} did not report a shown window: {out.stderr[-400:]}")


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
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(runs):
        for name, cmd in variants.items():
            home = Path(tempfile.mkdtemp(prefix="milton-bench-startup-"))
            env = {**base_env, "MILTON_HOME": str(home)}
            times[name].append(measure(cmd, env))
    print(f"machine: {machine()}")
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, value in med.items():
        print(
            f"{name:24s} median {value * 1000:7.0f} ms  (min {min(times[name]) * 1000:.0f}, max {max(times[name]) * 1000:.0f})"
        )
    bare, source = med["bare PySide6 window"], med["milton (source)"]
    print(f"source / bare = {source / bare:.2f}x (target <= 1.3x)")
    if "milton (frozen bundle)" in med:
        print(f"frozen / source = {med['milton (frozen bundle)'] / source:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
