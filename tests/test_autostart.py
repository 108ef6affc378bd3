"""Start at login: the XDG entry, the launchd agent and the Windows Run value."""

from __future__ import annotations

import plistlib
import sys
import types

import pytest

from milton_desktop import autostart


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


def _exec_argv(value: str) -> list[str]:
    """Read an Exec value back as the Desktop Entry spec says a launcher does."""
    # first the string escapes, then the quoting rules, then %% -> %
    unescaped, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            unescaped.append({"s": " ", "n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
            i += 2
            continue
        unescaped.append(c)
        i += 1
    text = "".join(unescaped)
    args, cur, quoted, i, in_arg = [], [], False, 0, False
    while i < len(text):
        c = text[i]
        if quoted:
            if c == "\\" and i + 1 < len(text) and text[i + 1] in '"`$\\':
                cur.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                quoted = False
            else:
                cur.append(c)
        elif c == '"':
            quoted, in_arg = True, True
        elif c == " ":
            if in_arg:
                args.append("".join(cur))
                cur, in_arg = [], False
        else:
            cur.append(c)
            in_arg = True
        i += 1
    if in_arg:
        args.append("".join(cur))
    return [a.replace("%%", "%") for a in args]


def _entry_fields(path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line)


def test_default_command_is_python_module(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert autostart.default_command() == [sys.executable, "-m", "milton_desktop"]


def test_default_command_when_frozen(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/Milton Desktop/milton-desktop")
    assert autostart.default_command() == ["/opt/Milton Desktop/milton-desktop"]


def test_linux_entry_written_under_xdg_config_home_and_removed(xdg):
    assert not autostart.is_enabled(system="linux")
    autostart.enable(["/usr/bin/python3", "-m", "milton_desktop"], system="linux")
    path = xdg / "autostart" / "milton-desktop.desktop"
    assert path.is_file()
    assert autostart.is_enabled(system="linux")
    fields = _entry_fields(path)
    assert fields["Type"] == "Application"
    assert fields["Name"] == "Milton Desktop"
    assert fields["Exec"] == "/usr/bin/python3 -m milton_desktop --minimized"
    assert fields["Terminal"] == "false"
    assert not list(path.parent.glob(".*.tmp"))  # written through a temporary file
    autostart.disable(system="linux")
    assert not path.exists()
    assert not autostart.is_enabled(system="linux")
    autostart.disable(system="linux")  # removing twice is fine


def test_linux_exec_quotes_awkward_paths(xdg):
    command = ['/home/a b/Milton "beta"/$bin\\py', "-m", "milton_desktop", "100%"]
    autostart.enable(command, system="linux")
    fields = _entry_fields(xdg / "autostart" / "milton-desktop.desktop")
    assert _exec_argv(fields["Exec"]) == [*command, "--minimized"]


def test_linux_default_command(xdg, monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    autostart.enable(system="linux")
    fields = _entry_fields(xdg / "autostart" / "milton-desktop.desktop")
    assert _exec_argv(fields["Exec"]) == [sys.executable, "-m", "milton_desktop", "--minimized"]


def test_relative_xdg_config_home_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert autostart.desktop_entry_path() == tmp_path / ".config/autostart/milton-desktop.desktop"


def test_unwritable_folder_is_explained(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    with pytest.raises(autostart.AutostartError, match="start at login"):
        autostart.enable(["/bin/true"], system="linux")


def test_macos_launch_agent(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    autostart.enable(["/Applications/Milton Desktop.app/Contents/MacOS/milton"], system="darwin")
    path = tmp_path / "Library/LaunchAgents/app.milton-desktop.plist"
    data = plistlib.loads(path.read_bytes())
    assert data["Label"] == "app.milton-desktop"
    assert data["ProgramArguments"] == [
        "/Applications/Milton Desktop.app/Contents/MacOS/milton",
        "--minimized",
    ]
    assert data["RunAtLoad"] is True
    assert autostart.is_enabled(system="darwin")
    autostart.disable(system="darwin")
    assert not path.exists()
    assert not autostart.is_enabled(system="darwin")


class _FakeWinreg(types.ModuleType):
    """Just enough of ``winreg`` for the Run key."""

    HKEY_CURRENT_USER = "HKCU"
    KEY_SET_VALUE = 2
    KEY_READ = 1
    REG_SZ = 1

    def __init__(self) -> None:
        super().__init__("winreg")
        self.keys: dict[str, dict[str, tuple[int, str]]] = {}

    class _Key:
        def __init__(self, values: dict) -> None:
            self.values = values

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def CreateKeyEx(self, root, sub, reserved=0, access=0):
        return self._Key(self.keys.setdefault(f"{root}\\{sub}", {}))

    def OpenKey(self, root, sub, reserved=0, access=0):
        try:
            return self._Key(self.keys[f"{root}\\{sub}"])
        except KeyError:
            raise FileNotFoundError(2, "The system cannot find the file specified") from None

    def SetValueEx(self, key, name, reserved, kind, value):
        key.values[name] = (kind, value)

    def QueryValueEx(self, key, name):
        try:
            kind, value = key.values[name]
        except KeyError:
            raise FileNotFoundError(2, "The system cannot find the file specified") from None
        return value, kind

    def DeleteValue(self, key, name):
        try:
            del key.values[name]
        except KeyError:
            raise FileNotFoundError(2, "The system cannot find the file specified") from None


def test_windows_run_value(monkeypatch):
    fake = _FakeWinreg()
    monkeypatch.setitem(sys.modules, "winreg", fake)
    assert not autostart.is_enabled(system="win32")
    autostart.disable(system="win32")  # no key yet: nothing to do
    autostart.enable([r"C:\Program Files\Milton Desktop\milton.exe"], system="win32")
    run = fake.keys[r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run"]
    assert run["Milton Desktop"] == (
        fake.REG_SZ,
        '"C:\\Program Files\\Milton Desktop\\milton.exe" --minimized',
    )
    assert autostart.is_enabled(system="win32")
    autostart.disable(system="win32")
    assert "Milton Desktop" not in run
    assert not autostart.is_enabled(system="win32")
