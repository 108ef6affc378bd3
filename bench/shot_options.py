"""Options shared by the screenshot scripts: theme, window size, every combination.

    --dark            render with a dark palette (Fusion style), else a light one
    --size WxH        the main window's size (default 1440x900)
    --all             every combination of SIZES and both themes, each in its own process
                      (a palette is best set before the first widget exists)

File names end in ``-WxH-light`` or ``-WxH-dark`` so one folder holds the whole set.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SIZES = ((1440, 900), (1024, 640))


@dataclass(frozen=True)
class ShotOptions:
    out_dir: Path
    dark: bool
    width: int
    height: int
    every: bool

    @property
    def suffix(self) -> str:
        return f"-{self.width}x{self.height}-{'dark' if self.dark else 'light'}"

    def name(self, stem: str) -> str:
        return f"{stem}{self.suffix}.png"


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 1024x640") from None
    if w < 320 or h < 240:
        raise argparse.ArgumentTypeError(f"{text} is too small: at least 320x240")
    return w, h


def parse(argv: list[str] | None, doc: str, default_out: Path) -> ShotOptions:
    parser = argparse.ArgumentParser(
        description=doc.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out_dir", nargs="?", type=Path, default=default_out)
    parser.add_argument("--dark", action="store_true", help="a dark palette")
    parser.add_argument("--size", type=_size, default=SIZES[0], help="WxH, e.g. 1024x640")
    parser.add_argument(
        "--all", action="store_true", dest="every", help="every size in both themes"
    )
    args = parser.parse_args(argv)
    return ShotOptions(args.out_dir, args.dark, args.size[0], args.size[1], args.every)


def run_every(script: Path, out_dir: Path) -> int:
    """Run ``script`` once per size and theme; the first failure's code, else 0."""
    for width, height in SIZES:
        for dark in (False, True):
            cmd = [sys.executable, str(script), str(out_dir), "--size", f"{width}x{height}"]
            if dark:
                cmd.append("--dark")
            print("+", " ".join(cmd[1:]), flush=True)
            code = subprocess.run(cmd, env=os.environ.copy(), check=False).returncode
            if code:
                return code
    return 0


def apply_theme(app: object, dark: bool) -> None:
    """The Fusion style with a light or a dark palette, the same on every machine."""
    from PySide6.QtWidgets import QApplication

    from milton_desktop.ui import indicators, style

    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    app.setPalette(style.dark_palette() if dark else style.light_palette())
    indicators.install(app)  # as the app does
