"""Where the bundled resources (icons, desktop entry) are, from source or frozen.

No Qt here: this is path logic only, decided once, so the window, the self-test and
the PyInstaller spec agree on one folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: an explicit folder wins (packagers who install resources elsewhere, and tests)
RESOURCES_ENV = "MILTON_RESOURCES"

#: True inside a PyInstaller bundle, which unpacks data under ``sys._MEIPASS``
IS_FROZEN: bool = bool(getattr(sys, "frozen", False)) and hasattr(sys, "_MEIPASS")

APP_ICON_NAME = "milton-desktop"
TRAY_STATES = ("idle", "publishing", "attention", "paused")  # not a status: icon states
APP_ICON_SIZES = (16, 32, 48, 64, 128, 256)


def _candidates() -> list[Path]:
    found: list[Path] = []
    override = os.environ.get(RESOURCES_ENV)
    if override:
        found.append(Path(override).expanduser())
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        # The spec copies the source tree's resources/ to the bundle's resources/.
        found.append(Path(meipass) / "resources")
    # From a source checkout (or an editable install): <repo>/resources beside the package.
    found.append(Path(__file__).resolve().parent.parent / "resources")
    # A system package may install them under <prefix>/share/milton-desktop.
    found.append(Path(sys.prefix) / "share" / "milton-desktop" / "resources")
    return found


def resources_dir() -> Path:
    """The folder holding ``icons/`` and the desktop entry.

    The first candidate that has an ``icons`` folder wins; when none has, the
    source-tree location is returned so error messages name a real place to look.
    """
    candidates = _candidates()
    for candidate in candidates:
        if (candidate / "icons").is_dir():
            return candidate
    return Path(__file__).resolve().parent.parent / "resources"


def icons_dir() -> Path:
    return resources_dir() / "icons"


def app_icon_svg() -> Path:
    return icons_dir() / f"{APP_ICON_NAME}.svg"


def app_icon_png(size: int) -> Path:
    return icons_dir() / f"{APP_ICON_NAME}-{size}.png"


def tray_icon_svg(state: str) -> Path:
    if state not in TRAY_STATES:
        raise ValueError(f"unknown tray state {state!r}: one of {', '.join(TRAY_STATES)}")
    return icons_dir() / f"tray-{state}.svg"


def desktop_entry() -> Path:
    return resources_dir() / f"{APP_ICON_NAME}.desktop"
