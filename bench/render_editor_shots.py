"""Render the editor (with its platform previews), the accounts dialogs and the
first-run guide to PNG files, in a light or a dark palette, at a given screen size.

    .venv/bin/python bench/render_editor_shots.py OUT_DIR [--dark] [--size 1440x900]

The size is the main window's; dialogs fit themselves to the screen, so run it under
``xvfb-run -a -s "-screen 0 1024x640x24"`` to see them on a small screen. Every file
name ends in ``-light`` or ``-dark`` and the size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.render_shots import _memory_keyring, _settle
from bench.sample_data import ZONE
from bench.shot_options import apply_theme

NOW_LOCAL = datetime(2027, 3, 17, 9, 48, tzinfo=ZONE)

LONG_TEXT = (
    "Three lessons from moving our scheduler to a desktop app.\n"
    "1) Local-first means the computer may be asleep at posting time, so a missed post "
    "needs a decision, not a silent late publish.\n"
    "2) One scheduler per database.\n"
    "3) Tokens belong in the keyring. Notes: https://example.com/blog/2027/03/"
    "desktop-scheduler-lessons #python #qt"
)


def _sample_image(path: Path, w: int, h: int) -> Path:
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter

    image = QImage(w, h, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    grad = QLinearGradient(0, 0, w, h)
    grad.setColorAt(0, QColor("#1d4e89"))
    grad.setColorAt(1, QColor("#f29e4c"))
    painter.fillRect(0, 0, w, h, grad)
    painter.setPen(QColor("#ffffff"))
    font = painter.font()
    font.setPixelSize(h // 8)
    painter.setFont(font)
    painter.drawText(QRectF(0, 0, w, h), Qt.AlignmentFlag.AlignCenter, f"{w}×{h}")
    painter.end()
    image.save(str(path), "JPEG")
    return path


#: the thread shown in the editor: the main text, then its follow-ups
THREAD = (
    "1/ What we learned moving our whole build to one machine, in three short parts.",
    "2/ Most of the time was waiting: on locks, on the network, on each other. Fixing "
    "the waits took a week; rewriting the code would have taken a year.",
    "3/ Measure before you rewrite. A profile is cheaper than a plan. Notes: "
    "https://example.com/build-notes",
)


def main(out_dir: Path, dark: bool, size: tuple[int, int]) -> list[Path]:
    import keyring

    keyring.set_keyring(_memory_keyring())
    home = tempfile.mkdtemp(prefix="milton-editor-shots-")
    os.environ["MILTON_HOME"] = home

    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app, dark)  # the same Fusion light/dark palettes as every other shot
    screen = app.primaryScreen()
    if screen is not None and screen.size().width() != size[0]:
        print(
            f"(the screen is {screen.size().width()}x{screen.size().height()}: run under "
            f'xvfb-run -a -s "-screen 0 {size[0]}x{size[1]}x24" for dialogs fitted to {size[0]}x{size[1]})'
        )

    from milton_desktop.context import open_context
    from milton_desktop.domain.clock import FakeClock
    from milton_desktop.operations import posts, schedules
    from milton_desktop.storage import settings
    from milton_desktop.storage.models import Account

    ctx = open_context(home, stderr_logging=False)
    settings.set_value("timezone", "Europe/Paris")
    clock = FakeClock(NOW_LOCAL.astimezone(UTC))
    tag = f"{size[0]}x{size[1]}-{'dark' if dark else 'light'}"  # as bench/shot_options names them
    out_dir.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    def save(widget, name: str) -> None:
        _settle(app, 10)
        path = out_dir / f"{name}-{tag}.png"
        widget.grab().save(str(path))
        shots.append(path)

    from milton_desktop.ui.shell.main_window import MainWindow

    # First start: nothing connected, nothing written.
    window = MainWindow(ctx, None, QUndoStack(), clock=clock)
    window.resize(*size)
    window.show()
    save(window, "first-run")

    from milton_desktop.ui.accounts.dialog import AccountsDialog, ConnectDialog

    connect = ConnectDialog(ctx.credentials, parent=window)
    connect.show()
    save(connect, "connect-choose")
    connect.token_choice.click()
    save(connect, "connect-token")
    connect.show_error(
        "Milton could not reach LinkedIn to check the token, so nothing was connected "
        "(could not connect while asking LinkedIn whose token this is). Check your "
        "internet connection, then press Try again."
    )
    connect.retry_button.show()
    save(connect, "connect-offline")
    connect.close()

    accounts = {
        "linkedin": Account.create(
            platform="linkedin",
            display_name="Work LinkedIn",
            username="mK3x9QpL2a",
            remote_id="mK3x9QpL2a",
            profile_name="Ada Lovelace",
        ),
        "x": Account.create(platform="x", display_name="My X", username="milton", remote_id="7"),
        "instagram": Account.create(
            platform="instagram",
            display_name="Studio IG",
            username="studio",
            remote_id="9",
            token_expires_at=NOW_LOCAL.astimezone(UTC) + timedelta(days=40),
        ),
    }
    dialog = AccountsDialog(ctx.credentials, window)
    dialog.show()
    save(dialog, "accounts")
    dialog.close()

    media = Path(home) / "samples"
    media.mkdir()
    wide = _sample_image(media / "wide.jpg", 1600, 900)
    square = _sample_image(media / "square.jpg", 1080, 1080)
    post = posts.add_post(
        LONG_TEXT,
        media=[posts.MediaInput(path=square), posts.MediaInput(path=wide)],
        media_dir=ctx.paths.media_dir,
    )
    when = NOW_LOCAL.astimezone(UTC) + timedelta(days=2)
    row = schedules.schedule(
        post.id, accounts["linkedin"].id, when, timezone="Europe/Paris", clock=clock
    )

    editor = window.open_editor()
    for name in ("Work LinkedIn", "My X", "Studio IG"):
        editor.set_account_checked(name)
    editor.text_edit.setPlainText(LONG_TEXT)
    editor.add_media_url("https://cdn.example.com/photos/harbour.jpg")
    for platform in ("linkedin", "x", "instagram"):
        editor.preview_toggle.setChecked(True)
        editor.preview.show_platform(platform)
        save(editor, f"editor-preview-{platform}")
    editor.confirm = lambda *a: True
    editor.reject()

    editor = window.open_editor(post_id=post.id, schedule_id=row.id)
    editor.preview_toggle.setChecked(True)
    for _ in range(100):
        _settle(app)
        if all(e.image is not None for e in editor._media):
            break
    editor.preview.show_platform("linkedin")
    save(editor, "editor-schedule-linkedin")
    editor.preview.show_platform("instagram")
    save(editor, "editor-schedule-instagram")
    editor.reject()

    # A thread on X with a first comment on LinkedIn: the parts under the main text.
    editor = window.open_editor()
    for name in ("Work LinkedIn", "My X"):
        editor.set_account_checked(name)
    editor.text_edit.setPlainText(THREAD[0])
    editor.thread_panel.set_texts(THREAD[1:])
    editor.thread_panel.set_delay(300)
    editor.preview_toggle.setChecked(False)
    save(editor, "editor-thread")
    editor.confirm = lambda *a: True
    editor.reject()

    # A weekly queue: the posting times of one account, in its own zone.
    from milton_desktop.operations import queue
    from milton_desktop.storage import queries
    from milton_desktop.ui.accounts.queue_page import QueueDialog

    queue.set_queue(
        accounts["x"].id,
        ["MO,WE,FR 09:00", "TU,TH 13:30", "SA 10:15"],
        timezone="America/New_York",
        clock=clock,
    )
    page = QueueDialog(
        next(a for a in queries.list_accounts() if a.id == accounts["x"].id), window, clock=clock
    )
    page.show()
    save(page, "queue-page")
    page.close()

    from milton_desktop.storage.db import close_database

    close_database()
    shutil.rmtree(home, ignore_errors=True)
    for p in shots:
        print(p)
    return shots


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--dark", action="store_true", help="a dark Fusion palette")
    parser.add_argument("--size", default="1440x900", help="screen size, e.g. 1024x640")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    main(args.out_dir, args.dark, (w, h))
