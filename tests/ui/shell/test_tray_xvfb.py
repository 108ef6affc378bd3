"""A real tray icon and a real notification balloon, on Xvfb with a tray host (trayer).

scripts/test.sh runs this file in its second pytest run with QT_QPA_PLATFORM=xcb;
offscreen, there is no tray and it is skipped. The screenshot of the whole virtual
screen goes to $OUT (or shots/ in the checkout) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from milton_desktop.engine.machine import Outcome
from milton_desktop.ui import icons
from milton_desktop.ui.shell.tray import TrayController

pytestmark = pytest.mark.xvfb

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def needs_a_tray(qapp):
    if not QSystemTrayIcon.isSystemTrayAvailable():
        pytest.skip("no system tray here (run under Xvfb with trayer: scripts/test.sh)")


@pytest.fixture
def out_dir() -> Path:
    folder = Path(os.environ.get("OUT") or ROOT / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Window(QWidget):
    """The window side of the controller, as small as it can be."""

    def __init__(self) -> None:
        super().__init__()
        self.brought = 0
        self.notices: list = []

    def bring_to_front(self) -> None:
        self.brought += 1

    def notify(self, notice) -> None:
        self.notices.append(notice)

    def show_missed(self, ids) -> None:
        pass

    def request_quit(self) -> None:
        pass


class UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


def _balloon() -> QWidget | None:
    for widget in QApplication.topLevelWidgets():
        if widget.metaObject().className() == "QBalloonTip" and widget.isVisible():
            return widget
    return None


def test_real_tray_icon_and_balloon(qtbot, db, out_dir):
    window = Window()
    qtbot.addWidget(window)
    ctl = TrayController(None, window, icons.tray_icon, prefs=lambda: {"notify_published": True})
    assert ctl.available and isinstance(ctl.tray, QSystemTrayIcon)
    ctl.show()
    qtbot.waitUntil(lambda: ctl.tray.geometry().width() > 0, timeout=5000)
    assert ctl.tray.isVisible()

    # The icon really is in the panel: once painted, its pixels are the tile's blue.
    def tile_is_blue() -> bool:
        geo = ctl.tray.geometry()
        shot = QGuiApplication.primaryScreen().grabWindow(
            0, geo.x(), geo.y(), geo.width(), geo.height()
        )
        corner = shot.toImage().pixelColor(geo.width() // 4, geo.height() - geo.height() // 4)
        return corner.blue() > 150 and corner.red() < 150

    qtbot.waitUntil(tile_is_blue, timeout=5000)

    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("https", catcher, "open")
    try:
        ctl._on_runner_outcome(
            Outcome(
                schedule_id=1,
                status="published",
                account="Work LinkedIn",
                platform="linkedin",
                text="Local-first software keeps working when the network does not.",
                url="https://www.linkedin.com/feed/update/urn:li:share:42",
            )
        )
        ctl.flush()
        qtbot.waitUntil(lambda: _balloon() is not None, timeout=5000)
        qtbot.wait(300)  # let the balloon paint before the screenshot

        path = out_dir / "tray-balloon.png"
        path.unlink(missing_ok=True)
        if shutil.which("import") is None:
            pytest.skip("ImageMagick's import is not installed")
        subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=30)
        assert path.is_file() and path.stat().st_size > 10_000

        # Clicking the balloon opens the published post.
        balloon = _balloon()
        centre = balloon.mapToGlobal(balloon.rect().center())
        if shutil.which("xdotool"):
            subprocess.run(
                ["xdotool", "mousemove", str(centre.x()), str(centre.y()), "click", "1"],
                check=True,
                timeout=10,
            )
            qtbot.waitUntil(lambda: bool(catcher.urls), timeout=5000)
            assert catcher.urls == ["https://www.linkedin.com/feed/update/urn:li:share:42"]
    finally:
        QDesktopServices.unsetUrlHandler("https")
        ctl.hide()


def test_attention_icon_on_the_real_tray(qtbot, db):
    window = Window()
    qtbot.addWidget(window)
    ctl = TrayController(None, window, icons.tray_icon, prefs=lambda: {})
    ctl.show()
    try:
        qtbot.waitUntil(lambda: ctl.tray.geometry().width() > 0, timeout=5000)
        ctl.set_attention(True)

        def has_red_dot() -> bool:
            geo = ctl.tray.geometry()
            shot = QGuiApplication.primaryScreen().grabWindow(
                0, geo.x(), geo.y(), geo.width(), geo.height()
            )
            image = shot.toImage()
            # The red dot sits in the icon's top-right quarter.
            return any(
                (c := image.pixelColor(x, y)).red() > 200 and c.green() < 90 and c.blue() < 90
                for x in range(geo.width() // 2, geo.width())
                for y in range(0, geo.height() // 2)
            )

        qtbot.waitUntil(has_red_dot, timeout=5000)
        ctl.set_attention(False)
        qtbot.waitUntil(lambda: not has_red_dot(), timeout=5000)
    finally:
        ctl.hide()
