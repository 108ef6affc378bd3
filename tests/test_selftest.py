"""``milton-desktop --self-test``: one ``ok``/``FAIL`` line per check, exit 0 only when all pass.

No QApplication is made in this process (unit tests): the Qt check runs in a child
process by design, and icons render into QImages, which need none.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from milton_desktop import resources, selftest
from milton_desktop.ui import qt_checks

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ("database", "keyring", "qt", "icons", "publishers", "tls")


@pytest.fixture
def fail_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def _lines(home, **kwargs) -> tuple[int, list[str]]:
    out: list[str] = []
    kwargs.setdefault("qt_checks", [("qt", qt_checks.check_qt), ("icons", qt_checks.check_icons)])
    code = selftest.run_self_test(home, out=out.append, **kwargs)
    return code, out


def test_every_check_reports_one_line(tmp_path, memory_keyring):
    code, lines = _lines(str(tmp_path / "checked"))
    assert [ln.split(":", 1)[0].split()[-1] for ln in lines] == list(CHECKS)
    for line in lines:
        assert line.startswith(("ok   ", "FAIL "))
    assert code == 0, "\n".join(lines)
    assert (tmp_path / "checked" / "milton.sqlite3").is_file()  # the database was opened there


def test_a_missing_keyring_fails_and_explains(tmp_path, fail_keyring):
    code, lines = _lines(str(tmp_path / "home"))
    assert code == 1
    line = next(ln for ln in lines if "keyring" in ln.split(":", 1)[0])
    assert line.startswith("FAIL keyring: ")
    assert "gnome-keyring" in line and "fail.Keyring" in line  # what to install, what is in use


def test_without_a_home_the_database_check_uses_a_temporary_folder(monkeypatch, memory_keyring):
    monkeypatch.delenv("MILTON_HOME")
    code, lines = _lines(None)
    assert lines[0].startswith("ok   database: ") and "milton-selftest-" in lines[0]
    assert code == 0


def test_a_damaged_database_fails(tmp_path, memory_keyring):
    home = tmp_path / "damaged"
    home.mkdir()
    (home / "milton.sqlite3").write_bytes(b"this is not a database, " * 100)
    code, lines = _lines(str(home))
    assert code == 1
    assert lines[0].startswith("FAIL database: ") and "damaged" in lines[0]


def test_missing_icons_fail_with_where_they_were_looked_for(tmp_path, monkeypatch):
    monkeypatch.setattr(resources, "resources_dir", lambda: tmp_path)
    with pytest.raises(selftest.CheckFailed, match=r"milton-desktop\.svg"):
        qt_checks.check_icons()


def test_a_check_that_crashes_is_a_fail_not_a_crash():
    out: list[str] = []

    def boom() -> str:
        raise ZeroDivisionError("nope")

    assert selftest._run("boom", boom, out.append) is False
    assert out == ["FAIL boom: unexpected ZeroDivisionError: nope"]


def test_qt_failure_is_reported_not_fatal(monkeypatch):
    # A display that does not answer makes Qt abort its process; the check survives it.
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", ":9876")
    with pytest.raises(selftest.CheckFailed, match="cannot start the xcb platform"):
        qt_checks.check_qt()


def test_qt_without_a_display_uses_offscreen(monkeypatch):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if not sys.platform.startswith("linux"):
        pytest.skip("the offscreen fallback is for headless Linux")
    assert "platform offscreen" in qt_checks.check_qt()


def test_command_line_self_test(tmp_path):
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "milton_desktop", "--home", str(tmp_path / "cli"), "--self-test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == len(CHECKS)
    assert proc.returncode == 1  # the keyring is the fail backend here
    assert [ln[:4] for ln in lines].count("FAIL") == 1


def test_selftest_imports_no_qt():
    code = "import sys, milton_desktop.selftest; print(any(m.startswith('PySide6') for m in sys.modules))"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip() == "False", proc.stderr


# ---------------------------------------------------------------- resources


def test_resources_found_from_source():
    assert (resources.resources_dir() / "icons").is_dir()
    assert resources.desktop_entry().is_file()


def test_resources_found_in_a_pyinstaller_bundle(tmp_path, monkeypatch):
    (tmp_path / "resources" / "icons").mkdir(parents=True)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.resources_dir() == tmp_path / "resources"


def test_resources_override(tmp_path, monkeypatch):
    (tmp_path / "icons").mkdir()
    monkeypatch.setenv(resources.RESOURCES_ENV, str(tmp_path))
    assert resources.resources_dir() == tmp_path
    with pytest.raises(ValueError):
        resources.tray_icon_svg("sleepy")


def test_desktop_entry():
    text = resources.desktop_entry().read_text()
    for line in (
        "Exec=milton-desktop",
        "Icon=milton-desktop",
        "Categories=Network;Office;",
        "StartupWMClass=milton-desktop",
        "Type=Application",
    ):
        assert line in text.splitlines()
