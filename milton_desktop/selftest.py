"""``milton-desktop --self-test``: check the installation, one line per check.

Each line reads ``ok   <check>: detail`` or ``FAIL <check>: reason``, so a person
and a script read the same output; the exit code is 0 only when every check passed.
No Qt at module level (this is core): the Qt check imports it when it runs.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

Check = Callable[[], str]


class CheckFailed(Exception):
    """A check that did not pass; the message says why and what to do."""


def check_database(home: str | os.PathLike[str] | None) -> str:
    from milton_desktop.db import DatabaseError, close_database, open_database
    from milton_desktop.paths import resolve_paths

    paths = resolve_paths(home)
    try:
        db = open_database(paths.db_path)
        version = db.execute_sql("PRAGMA user_version").fetchone()[0]
        mode = db.execute_sql("PRAGMA journal_mode").fetchone()[0]
    except DatabaseError as exc:
        raise CheckFailed(str(exc)) from None
    finally:
        close_database()
    return f"{paths.db_path} (schema {version}, journal {mode})"


def check_keyring() -> str:
    from milton_desktop.credentials import KEYRING_HELP, backend_is_secure

    try:
        secure, name = backend_is_secure()
    except Exception as exc:  # a broken backend raises anything at all while loading
        raise CheckFailed(
            f"the keyring could not be loaded ({type(exc).__name__}: {exc})"
        ) from None
    if not secure:
        raise CheckFailed(f"{KEYRING_HELP} (backend in use: {name})")
    return name


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


def check_publishers() -> str:
    from milton_desktop.publishers import REGISTRY
    from milton_desktop.publishers.base import Publisher

    names = []
    for platform, module_name in REGISTRY.items():
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise CheckFailed(f"{platform}: {module_name} does not import ({exc})") from None
        cls = getattr(module, "PUBLISHER", None)
        if not (isinstance(cls, type) and issubclass(cls, Publisher)):
            raise CheckFailed(f"{platform}: {module_name}.PUBLISHER is not a Publisher class")
        names.append(platform)
    return ", ".join(names)


def check_tls() -> str:
    import certifi
    import requests.utils

    bundle = Path(certifi.where())
    if not bundle.is_file():
        raise CheckFailed(f"the CA bundle {bundle} is missing: reinstall the certifi package")
    requests_bundle = Path(requests.utils.DEFAULT_CA_BUNDLE_PATH)
    if not requests_bundle.is_file():
        raise CheckFailed(f"requests' CA bundle {requests_bundle} is missing")
    override = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
    if override and not Path(override).is_file():
        raise CheckFailed(
            f"REQUESTS_CA_BUNDLE/SSL_CERT_FILE names {override}, which does not exist"
        )
    return str(override or bundle)


def _run(name: str, check: Check, out: Callable[[str], None]) -> bool:
    try:
        detail = check()
    except CheckFailed as exc:
        out(f"FAIL {name}: {exc}")
        return False
    except Exception as exc:  # a check must report, never crash the others
        out(f"FAIL {name}: unexpected {type(exc).__name__}: {exc}")
        return False
    out(f"ok   {name}: {detail}")
    return True


def run_self_test(
    home: str | os.PathLike[str] | None = None, out: Callable[[str], None] = print
) -> int:
    """Run every check; 0 when all pass, 1 otherwise.

    Without ``home`` (and without ``MILTON_HOME``) the database check runs in a
    temporary folder, so a self-test never creates or migrates a user's real data.
    """
    temp: tempfile.TemporaryDirectory[str] | None = None
    if home is None and not os.environ.get("MILTON_HOME"):
        temp = tempfile.TemporaryDirectory(prefix="milton-selftest-")
        home = temp.name
    checks: list[tuple[str, Check]] = [
        ("database", lambda: check_database(home)),
        ("keyring", check_keyring),
        ("qt", check_qt),
        ("icons", check_icons),
        ("publishers", check_publishers),
        ("tls", check_tls),
    ]
    try:
        results = [_run(name, check, out) for name, check in checks]
    finally:
        if temp is not None:
            temp.cleanup()
    return 0 if all(results) else 1
