"""Start Milton Desktop at login, in the tray, the way each desktop expects it.

- Linux (XDG): ``$XDG_CONFIG_HOME/autostart/milton-desktop.desktop``
  (``~/.config`` when the variable is unset or not absolute);
- macOS: ``~/Library/LaunchAgents/app.milton-desktop.plist``, a launchd agent that
  runs at load;
- Windows: a value in ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``.

The command starts the app with ``--minimized`` so a login does not throw a window at
the user; the scheduler runs from the tray.
"""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from pathlib import Path
from typing import Any

from milton_desktop import APP_ID, APP_NAME

DESKTOP_FILE = f"{APP_ID}.desktop"
LAUNCH_AGENT_LABEL = f"app.{APP_ID}"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = APP_NAME
MINIMIZED = "--minimized"


class AutostartError(OSError):
    """The login item could not be written or removed; the message says what to do."""


def default_command() -> list[str]:
    """How to start this installation: the frozen executable, else ``python -m milton_desktop``."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "milton_desktop"]


def _system(system: str | None) -> str:
    name = system or sys.platform
    if name.startswith("win"):
        return "windows"
    if name == "darwin":
        return "macos"
    return "linux"


# ---------------------------------------------------------------- Linux (XDG autostart)


def desktop_entry_path() -> Path:
    """Where the XDG autostart entry lives (honours ``XDG_CONFIG_HOME``)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    # the XDG spec says a relative value is invalid and must be ignored
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "autostart" / DESKTOP_FILE


_EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def _exec_arg(arg: str) -> str:
    """One argument quoted as the Desktop Entry spec's Exec key wants it."""
    arg = arg.replace("%", "%%")  # field codes start with %
    if arg and not (_EXEC_RESERVED & set(arg)):
        quoted = arg
    else:
        inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        quoted = f'"{inner}"'
    # the whole value is then read as a string, where a backslash escapes itself
    return quoted.replace("\\", "\\\\")


def desktop_entry(command: list[str]) -> str:
    exec_line = " ".join(_exec_arg(a) for a in [*command, MINIMIZED])
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={APP_NAME}\n"
        "Comment=Publish scheduled posts from the tray\n"
        f"Exec={exec_line}\n"
        f"Icon={APP_ID}\n"
        "Terminal=false\n"
        "Categories=Network;Office;\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


# ---------------------------------------------------------------- macOS (launchd)


def launch_agent_path() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"


def launch_agent(command: list[str]) -> bytes:
    return plistlib.dumps(
        {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": [*command, MINIMIZED],
            "RunAtLoad": True,
            "ProcessType": "Interactive",
        }
    )


# ---------------------------------------------------------------- Windows (Run key)


def _winreg() -> Any:
    import winreg  # only on Windows; tests put a stand-in in sys.modules

    return winreg


def run_value(command: list[str]) -> str:
    return subprocess.list2cmdline([*command, MINIMIZED])


# ---------------------------------------------------------------- the API


def _write(path: Path, data: bytes) -> None:
    """Write through a temporary file, so a crash never leaves half an entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def enable(command: list[str] | None = None, *, system: str | None = None) -> None:
    """Start ``command`` (default: :func:`default_command`) with ``--minimized`` at login.

    Raises:
        AutostartError: the entry cannot be written (the message says where and why).
    """
    command = list(command or default_command())
    kind = _system(system)
    try:
        if kind == "linux":
            _write(desktop_entry_path(), desktop_entry(command).encode("utf-8"))
        elif kind == "macos":
            _write(launch_agent_path(), launch_agent(command))
        else:
            reg = _winreg()
            with reg.CreateKeyEx(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
                reg.SetValueEx(key, RUN_VALUE, 0, reg.REG_SZ, run_value(command))
    except OSError as exc:
        raise AutostartError(
            f"could not set {APP_NAME} to start at login ({_where(kind)}: "
            f"{exc.strerror or exc}): check that the folder is writable"
        ) from None


def disable(*, system: str | None = None) -> None:
    """Stop starting at login. Nothing to remove is not an error.

    Raises:
        AutostartError: the entry exists but cannot be removed.
    """
    kind = _system(system)
    try:
        if kind == "linux":
            desktop_entry_path().unlink(missing_ok=True)
        elif kind == "macos":
            launch_agent_path().unlink(missing_ok=True)
        else:
            reg = _winreg()
            try:
                with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
                    reg.DeleteValue(key, RUN_VALUE)
            except FileNotFoundError:
                pass  # no Run key or no value: already off
    except OSError as exc:
        raise AutostartError(
            f"could not stop {APP_NAME} from starting at login ({_where(kind)}: "
            f"{exc.strerror or exc}): remove that entry by hand"
        ) from None


def is_enabled(*, system: str | None = None) -> bool:
    """Whether a login item for Milton Desktop exists."""
    kind = _system(system)
    if kind == "linux":
        return desktop_entry_path().is_file()
    if kind == "macos":
        return launch_agent_path().is_file()
    reg = _winreg()
    try:
        with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_READ) as key:
            reg.QueryValueEx(key, RUN_VALUE)
    except OSError:
        return False
    return True


def _where(kind: str) -> str:
    if kind == "linux":
        return str(desktop_entry_path())
    if kind == "macos":
        return str(launch_agent_path())
    return f"HKEY_CURRENT_USER\\{RUN_KEY}"
