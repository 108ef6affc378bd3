"""The self-test's Qt checks: can Qt start its platform, do the icons load.

They live in ``ui/`` because they import Qt; ``milton_desktop.app.run_self_test``
hands them to the core self-test.
"""

from __future__ import annotations

import os
import sys

from milton_desktop.selftest import CheckFailed

_QT_PROBE = (
    "import sys\n"
    "from PySide6 import __version__ as v\n"
    "from PySide6.QtGui import QGuiApplication\n"
    "app = QGuiApplication(sys.argv[:1])\n"
    "print(v, QGuiApplication.platformName())\n"
)


def check_qt() -> str:
    """Start a QGuiApplication on the platform the app would use.

    It runs in a child process: Qt aborts the whole process when its platform
    cannot start (a DISPLAY that does not answer), and the self-test must go on to
    report the other checks. A frozen app has no separate interpreter, so it runs
    in-process there.
    """
    import subprocess

    from milton_desktop.resources import IS_FROZEN

    env = dict(os.environ)
    note = ""
    if (
        not env.get("QT_QPA_PLATFORM")
        and sys.platform.startswith("linux")
        and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    ):
        # No display (a server, CI): offscreen still proves Qt and its plugins load.
        env["QT_QPA_PLATFORM"] = "offscreen"
        note = " (no display, so offscreen)"
    wanted = env.get("QT_QPA_PLATFORM") or "default"
    if IS_FROZEN:
        os.environ.update(env)
        from PySide6 import __version__ as version
        from PySide6.QtGui import QGuiApplication

        global _qt_app
        _qt_app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
        return f"PySide6 {version}, platform {QGuiApplication.platformName()}{note}"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _QT_PROBE],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"Qt did not start the {wanted} platform within 60 s") from None
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    if proc.returncode != 0 or not proc.stdout.strip():
        # Qt's first platform message names the cause ("could not connect to display").
        qpa = [ln.split(": ", 1)[-1] for ln in lines if ln.startswith("qt.qpa")]
        reason = (qpa or lines or [f"exit code {proc.returncode}"])[0]
        raise CheckFailed(
            f"Qt cannot start the {wanted} platform: {reason}. On Linux install the "
            "libraries Qt needs (scripts/setup.sh lists them) or check DISPLAY"
        )
    version, _, name = proc.stdout.strip().rpartition("\n")[-1].partition(" ")
    return f"PySide6 {version}, platform {name}{note}"


#: the QGuiApplication a frozen self-test made, kept for the rest of the run
_qt_app: object = None


def check_icons() -> str:
    from milton_desktop import resources

    wanted = [
        resources.app_icon_svg(),
        *(resources.tray_icon_svg(s) for s in resources.TRAY_STATES),
    ]
    wanted += [resources.app_icon_png(size) for size in resources.APP_ICON_SIZES]
    missing = [p.name for p in wanted if not p.is_file()]
    if missing:
        raise CheckFailed(
            f"missing in {resources.icons_dir()}: {', '.join(missing)} (reinstall, or "
            "regenerate with `python -m milton_desktop.ui.icons`)"
        )
    # Rendering an SVG into a QImage needs no QGuiApplication, so this runs in-process.
    from PySide6.QtGui import QImage

    from milton_desktop.ui import icons

    for state in resources.TRAY_STATES:
        image = icons.render(resources.tray_icon_svg(state).read_bytes(), 22)
        if image.isNull():
            raise CheckFailed(f"tray-{state}.svg does not render")
    png = QImage(str(resources.app_icon_png(256)))
    if png.isNull():
        raise CheckFailed(f"{resources.app_icon_png(256)} is not a readable PNG")
    return f"{len(wanted)} icons in {resources.icons_dir()}"
