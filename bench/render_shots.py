"""Render the whole app to PNG files, so a person can look at it without a screen.

    .venv/bin/python bench/render_shots.py OUT_DIR [--dark] [--size WxH] [--all]

The whole set for docs/screenshots/ (every view and dialog at 1440x900 and 1024x640,
in a light and a dark palette), in one command:

    .venv/bin/python bench/render_shots.py docs/screenshots --all

Seeds about thirty posts across platforms and statuses in a throwaway MILTON_HOME,
with a fixed "now", and writes, each name ending in ``-WxH-light`` or ``-WxH-dark``:

- ``main-month``, ``main-week``, ``main-day``, ``main-list``: the main window as a
  tray user sees it (``--size``, default 1440x900; ``--dark`` for a dark palette);
- ``main-month-filtered``: the month view narrowed to one platform, with its note;
- ``hover-card``: the card of a failed post, as resting on its chip shows it;
- ``main-no-tray``: the window on a desktop without a tray, with its in-window notices;
- ``editor-x-overlong``: the editor on an X post that is too long;
- ``missed-dialog``, ``about``, ``tray-menu``, ``tray-icons``;
- ``tray-balloon``: only under a real X server with a tray (Xvfb + trayer), a
  screenshot of the whole screen with the tray icon and a notification balloon.

``--all`` runs every size in both themes, each in its own process (see
bench/shot_options.py). Offscreen is used when there is no DISPLAY;
QT_QPA_PLATFORM, when set, is respected.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Runnable as a plain script: the repository root makes `bench` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.sample_data import ZONE, seed_month
from bench.shot_options import ShotOptions, apply_theme, parse, run_every

NOW_LOCAL = datetime(2027, 3, 17, 9, 48, tzinfo=ZONE)

OVERLONG_X = (
    "Thread: what we learned moving a scheduling daemon to a desktop app. "
    "1) Local-first means the computer may be asleep at posting time, so missed posts "
    "need a decision, not a silent late publish. 2) One scheduler per database, or two "
    "processes will publish twice. 3) The tray is where people look, so it must say what "
    "is next. 4) Tokens belong in the keyring. 5) Tests need a fake clock. #python #qt"
)


def seed() -> dict:
    """The sample month plus an over-long X post; returns ids the shots need."""
    from milton_desktop.storage.models import Post, ScheduledPost

    accounts, by_status = seed_month(NOW_LOCAL)
    now = NOW_LOCAL.astimezone(UTC)
    post = Post.create(body=OVERLONG_X, created_at=now, updated_at=now)
    when = now + timedelta(days=2)
    row = ScheduledPost.create(
        post=post,
        account=accounts["x"],
        scheduled_time=when,
        next_attempt_at=when,
        timezone="Europe/Paris",
        status="pending",
    )
    return {"overlong_post": post.id, "overlong_schedule": row.id, "missed": by_status["missed"]}


def _settle(app, rounds: int = 5) -> None:
    for _ in range(rounds):
        app.processEvents()


def _memory_keyring():
    """A keyring backend in memory: the shots never touch the user's real keyring."""
    import keyring.backend

    class MemoryKeyring(keyring.backend.KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.store: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.store.pop((service, username), None)

    return MemoryKeyring()


def _sample_photo():
    """A landscape-ish picture (sky, sun, hills) for the hover card's shot."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter, QPolygonF

    image = QImage(1600, 1000, QImage.Format.Format_RGB32)
    p = QPainter(image)
    sky = QLinearGradient(0, 0, 0, 1000)
    sky.setColorAt(0, QColor("#6fa8dc"))
    sky.setColorAt(1, QColor("#fce5cd"))
    p.fillRect(image.rect(), sky)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#f6b26b"))
    p.drawEllipse(QPointF(1150, 300), 140, 140)
    p.setBrush(QColor("#6aa84f"))
    p.drawPolygon(
        QPolygonF(
            [
                QPointF(0, 1000),
                QPointF(0, 700),
                QPointF(500, 520),
                QPointF(1000, 760),
                QPointF(1600, 600),
                QPointF(1600, 1000),
            ]
        )
    )
    p.end()
    return image


def main(opts: ShotOptions) -> list[Path]:
    import keyring

    out_dir = opts.out_dir
    keyring.set_keyring(_memory_keyring())
    home = tempfile.mkdtemp(prefix="milton-shots-")
    os.environ["MILTON_HOME"] = home

    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    from milton_desktop.context import open_context
    from milton_desktop.domain.clock import FakeClock
    from milton_desktop.engine.machine import Engine
    from milton_desktop.engine.runner import Runner

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Milton Desktop")
    apply_theme(app, opts.dark)
    from milton_desktop.ui import icons

    app.setWindowIcon(icons.app_icon())
    ctx = open_context(home, stderr_logging=False)
    ids = seed()
    clock = FakeClock(NOW_LOCAL.astimezone(UTC))
    runner = Runner(Engine(ctx.credentials, clock=clock), clock=clock)  # never started

    from milton_desktop.ui.shell.main_window import MainWindow
    from milton_desktop.ui.shell.tray import Notice, TrayController

    out_dir.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    def save(widget, stem: str) -> None:
        _settle(app)
        path = out_dir / opts.name(stem)
        widget.grab().save(str(path))
        shots.append(path)

    # The window as a tray user sees it.
    window = MainWindow(ctx, runner, QUndoStack(), clock=clock)
    window.set_tray_available(True)
    window.resize(opts.width, opts.height)
    window.show()
    window.calendar.go_to(NOW_LOCAL.date())
    for view in ("month", "week", "day", "list"):
        window.set_view(view)
        save(window, f"main-{view}")
    window.set_view("month")
    # One filter over every view: the month narrowed to LinkedIn, saying what it hides.
    combo = window.calendar.list_view.platform_combo
    combo.setCurrentIndex(combo.findData("linkedin"))
    save(window, "main-month-filtered")
    window.calendar.clear_filter()
    # The card a chip shows when the pointer rests on it: a failed post, with its reason.
    month = window.calendar.month_view
    from milton_desktop.domain.status import Status
    from milton_desktop.operations import posts as post_ops
    from milton_desktop.ui.calendar.hovercard import HoverCard

    failed = next(it for it in window.calendar.model.items() if it.status == Status.FAILED)
    month.hover_card.show_for(failed, month.mapToGlobal(month.rect().center()))
    save(month.hover_card, "hover-card")
    month.hover_card.dismiss()
    # ... and a post with a photo of its own (a stored file, drawn here)
    photo = Path(home) / "studio.png"
    _sample_photo().save(str(photo))
    with_photo = post_ops.add_post(
        failed.text, media=[post_ops.MediaInput(path=photo)], media_dir=ctx.paths.media_dir
    )
    card = HoverCard(window)
    card.show_for(
        dataclasses.replace(
            failed, post_id=with_photo.id, id=-1, status=Status.PENDING, error=None
        ),
        month.mapToGlobal(month.rect().center()),
    )
    save(card, "hover-card-photo")
    card.dismiss()

    # The tray's menu and its icons.
    tray = TrayController(runner, window, icons.tray_icon, available=False, clock=clock)
    tray.refresh()
    tray.menu.adjustSize()
    save(tray.menu, "tray-menu")
    sheet = _icon_sheet()
    path = out_dir / opts.name("tray-icons")
    sheet.save(str(path))
    shots.append(path)

    # Missed posts, as the window shows them on start.
    dialog = window.show_missed(ids["missed"])
    if dialog is not None:
        save(dialog, "missed-dialog")
        dialog.close()

    box = window.show_about()
    save(box, "about")
    box.close()

    editor = window.open_editor(post_id=ids["overlong_post"], schedule_id=ids["overlong_schedule"])
    editor.resize(min(900, opts.width - 60), min(640, opts.height - 40))
    save(editor, "editor-x-overlong")
    editor.close()

    # A desktop without a tray: notices appear in the window.
    window.set_tray_available(False)
    window.notify(
        Notice(
            "failed",
            "Could not publish to X",
            "X refused the post: duplicate content. (My X: “Poll: do you plan your posts…”)",
            level="critical",
            schedule_ids=(5,),
        )
    )
    window.notify(
        Notice(
            "published",
            "Published on LinkedIn",
            "Work LinkedIn: “Three lessons from shipping our first desktop app…”",
            url="https://example.com/p/1",
        )
    )
    save(window, "main-no-tray")

    from PySide6.QtWidgets import QSystemTrayIcon

    if QSystemTrayIcon.isSystemTrayAvailable() and shutil.which("import"):
        shots.append(_tray_balloon(app, runner, window, out_dir / opts.name("tray-balloon")))
    else:
        print("(no system tray here: run under Xvfb with trayer for tray-balloon.png)")
    runner.stop(1)
    from milton_desktop.storage.db import close_database

    close_database()
    shutil.rmtree(home, ignore_errors=True)
    for p in shots:
        print(p)
    return shots


def _icon_sheet():
    """Every tray state at tray sizes, on a light and a dark panel."""
    from PySide6.QtGui import QColor, QImage, QPainter

    from milton_desktop.resources import TRAY_STATES
    from milton_desktop.ui import icons

    sizes = (16, 22, 24, 32, 48)
    cell = 64
    image = QImage(
        cell * len(sizes) * 2, cell * (len(TRAY_STATES) + 1), QImage.Format.Format_ARGB32
    )
    image.fill(QColor("#f4f4f4"))
    painter = QPainter(image)
    painter.fillRect(cell * len(sizes), 0, cell * len(sizes), image.height(), QColor("#2b2b2b"))
    rows = [("app", icons.app_svg())] + [(s, icons.tray_svg(s)) for s in TRAY_STATES]
    for r, (_name, svg) in enumerate(rows):
        for half in (0, 1):
            for c, size in enumerate(sizes):
                x = (half * len(sizes) + c) * cell + (cell - size) // 2
                y = r * cell + (cell - size) // 2
                painter.drawImage(x, y, icons.render(svg, size))
    painter.end()
    return image


def _tray_balloon(app, runner, window, path: Path) -> Path:
    from milton_desktop.engine.machine import Outcome
    from milton_desktop.ui import icons
    from milton_desktop.ui.shell.tray import TrayController

    window.set_tray_available(True)
    window.resize(1000, 640)
    window.move(40, 80)
    tray = TrayController(runner, window, icons.tray_icon, clock=runner.clock, prefs=dict)
    tray.show()
    for _ in range(50):
        _settle(app)
        if tray.tray is not None and tray.tray.geometry().width() > 0:
            break
        subprocess.run(["sleep", "0.05"], check=False)
    tray._on_runner_outcome(
        Outcome(
            schedule_id=1,
            status="uncertain",
            account="Work LinkedIn",
            platform="linkedin",
            text="Three lessons from shipping our first desktop app to 2,000 beta users",
            message="the connection dropped after the post was sent",
        )
    )
    tray.flush()
    for _ in range(20):
        _settle(app)
        subprocess.run(["sleep", "0.05"], check=False)
    subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=30)
    tray.hide()
    return path


if __name__ == "__main__":
    options = parse(sys.argv[1:], __doc__, Path(__file__).resolve().parents[1] / "shots")
    if options.every:
        sys.exit(run_every(Path(__file__).resolve(), options.out_dir))
    main(options)
