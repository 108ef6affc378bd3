"""Render what settling a post looks like, for a visual check, in a light or dark theme.

    .venv/bin/python bench/render_settle_shots.py OUT_DIR [--size 1440x900] [--dark]

Seeds the sample month (failed, uncertain and missed posts among them) and writes:
the list view of every post and its "needs attention" filter, the chip menu of an
uncertain and of a failed post, the banner after a refused drop (a file by its name),
the account picker with an account that cannot take the post, the reschedule and
mark-as-published dialogs, the Post menu and the tray menu.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.render_shots import _memory_keyring, _settle
from bench.sample_data import ZONE, seed_month
from bench.shot_options import apply_theme

NOW_LOCAL = datetime(2027, 3, 17, 14, 20, tzinfo=ZONE)


def main(out_dir: Path, size: tuple[int, int], dark: bool) -> list[Path]:
    import keyring

    keyring.set_keyring(_memory_keyring())
    home = tempfile.mkdtemp(prefix="milton-settle-shots-")
    os.environ["MILTON_HOME"] = home

    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app, dark)  # the same Fusion light/dark palettes as every other shot

    from milton_desktop.context import open_context
    from milton_desktop.domain.clock import FakeClock
    from milton_desktop.domain.status import Status
    from milton_desktop.engine.machine import Engine
    from milton_desktop.engine.runner import Runner
    from milton_desktop.storage import queries
    from milton_desktop.storage.models import Media, Post
    from milton_desktop.ui import icons
    from milton_desktop.ui.calendar.model import POST_MIME, account_choices, make_mime
    from milton_desktop.ui.calendar.pane import split_choices
    from milton_desktop.ui.calendar.settle_dialogs import MarkPublishedDialog, RescheduleDialog
    from milton_desktop.ui.shell.main_window import MainWindow
    from milton_desktop.ui.shell.tray import TrayController

    ctx = open_context(home, stderr_logging=False)
    _accounts, by_status = seed_month(NOW_LOCAL)
    clock = FakeClock(NOW_LOCAL.astimezone(UTC))
    runner = Runner(Engine(ctx.credentials, clock=clock), clock=clock)  # never started
    out_dir.mkdir(parents=True, exist_ok=True)
    tag = f"{size[0]}x{size[1]}-{'dark' if dark else 'light'}"
    shots: list[Path] = []

    def save(widget, name: str) -> None:
        _settle(app)
        path = out_dir / f"{name}-{tag}.png"
        widget.grab().save(str(path))
        shots.append(path)

    def save_menu(menu, name: str) -> None:
        menu.popup(QPoint(0, 0))
        _settle(app)
        save(menu, name)
        menu.hide()

    window = MainWindow(ctx, runner, QUndoStack(), clock=clock)
    window.set_tray_available(True)
    window.resize(*size)
    window.show()
    cal = window.calendar
    cal.go_to(NOW_LOCAL.date())

    window.set_view("list")
    save(window, "list-all")
    window.show_attention(by_status.get(Status.UNCERTAIN, [None])[:1])
    save(window, "list-attention")

    window.set_view("month")
    uncertain = by_status[Status.UNCERTAIN][0]
    failed = by_status[Status.FAILED][0]
    for sid, name in ((uncertain, "menu-uncertain"), (failed, "menu-failed")):
        item = cal.settler.item(sid)
        assert item is not None
        save_menu(cal.settler.menu_for(item, cal), name)
    cal.select(failed)
    window.post_actions.fill_menu()
    save_menu(window.post_actions.menu, "menu-post")

    # A refused drop: a TIFF attached as square.jpg's neighbour, which no account takes.
    now = clock.now()
    post = Post.create(body="Our new studio, first look", created_at=now, updated_at=now)
    Media.create(
        post=post,
        kind="image",
        mime="image/tiff",
        path=str(Path(home) / "media" / "4be0c3d1f2a9e8c7.tif"),
        original_name="studio.tif",
        bytes=1_000_000,
        width=1200,
        height=1200,
        position=0,
    )
    window.drafts.refresh()
    month = cal.month_view
    day = NOW_LOCAL.date().replace(day=24)
    cal.drop_mime(make_mime(POST_MIME, [post.id]), day, None)
    save(window, "banner-refused")
    pos = QPointF(month.day_rect(day).center())
    del pos

    text_only = queries.post_view(
        Post.create(body="A text-only thought", created_at=now, updated_at=now).id
    )
    from milton_desktop.domain.content import Content

    ok, refused = split_choices(account_choices(), Content(text=text_only.body))
    save_menu(cal.account_menu(ok, refused), "account-picker")

    item = cal.settler.item(by_status[Status.MISSED][0])
    assert item is not None
    dialog = RescheduleDialog(item, now, ZONE, window)
    dialog.show()
    save(dialog, "dialog-reschedule")
    dialog.close()
    item = cal.settler.item(uncertain)
    assert item is not None
    mark = MarkPublishedDialog(item, window)
    mark.show()
    mark.url_edit.setText("x.com/status/1")
    mark.accept()
    save(mark, "dialog-mark-published")
    mark.close()

    cal.say("Published “Three lessons from shipping…” on Work LinkedIn.", "success", "https://x")
    window.set_view("week")
    save(window, "banner-published")

    tray = TrayController(runner, window, icons.tray_icon, available=False, clock=clock)
    tray.refresh()
    tray.menu.adjustSize()
    save_menu(tray.menu, "tray-menu")

    runner.stop(1)
    from milton_desktop.storage.db import close_database

    close_database()
    shutil.rmtree(home, ignore_errors=True)
    for p in shots:
        print(p)
    return shots


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--size", default="1440x900", help="window size, WIDTHxHEIGHT")
    parser.add_argument("--dark", action="store_true", help="a dark palette")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    main(args.out_dir, (w, h), args.dark)
