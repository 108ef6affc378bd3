"""Render File ▸ Import CSV… for a visual check, in a light or dark theme.

    .venv/bin/python bench/render_import_shots.py OUT_DIR [--dark]

Seeds three accounts and a CSV of a week of posts (a thread, a draft, a queued post,
an image, and two rows that cannot be imported) and writes the dialog's preview.
"""

from __future__ import annotations

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
from bench.shot_options import apply_theme, parse

NOW = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)


def _csv(folder: Path) -> Path:
    import csv
    import struct

    sof = b"\xff\xc0" + struct.pack(">HBHH", 11, 8, 1080, 1350) + b"\x01\x01\x11\x00"
    (folder / "pics").mkdir()
    (folder / "pics" / "launch.jpg").write_bytes(b"\xff\xd8" + sof + b"\xff\xd9")
    rows = [
        ["We are launching v2 today: faster sync, a cleaner calendar and CSV import.",
         "Work LinkedIn", "2027-03-15T09:30", "pics/launch.jpg", "Thanks to everyone who tested it"],
        ["1/ Five things we learned shipping v2", "My X", "2027-03-15T12:00", "",
         "2/ Small releases beat big ones"],
        ["Behind the scenes of the launch 📸", "Studio IG", "2027-03-16T18:00", "", ""],
        ["What would you like to see next?", "Work LinkedIn", "", "", ""],
        ["A draft to finish later", "", "", "", ""],
        ["Spring offer: 20% off until Sunday", "Work LinkedIn", "2027-03-28T02:30", "", ""],
        ["Weekly tips", "Newsletter", "2027-03-17T08:00", "", ""],
        ["Thursday recap " + "with plenty of detail " * 14, "My X", "2027-03-18T17:00", "", ""],
    ]  # fmt: skip
    path = folder / "march-week-2.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(["text", "account", "at", "media", "follow_up_1"])
        writer.writerows(rows)
    return path


def main(argv: list[str] | None = None) -> list[Path]:
    import keyring

    options = parse(argv, __doc__ or "", Path("docs/screenshots"))
    keyring.set_keyring(_memory_keyring())
    home = tempfile.mkdtemp(prefix="milton-import-shots-")
    os.environ["MILTON_HOME"] = home
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QApplication

    from milton_desktop.context import open_context
    from milton_desktop.domain.clock import FakeClock
    from milton_desktop.operations import queue
    from milton_desktop.storage import settings
    from milton_desktop.storage.models import Account
    from milton_desktop.ui.shell.import_dialog import ImportDialog

    app = QApplication.instance() or QApplication([])
    apply_theme(app, options.dark)
    ctx = open_context(None, stderr_logging=False)
    settings.set_value("timezone", "Europe/Paris")
    for platform, name in (
        ("linkedin", "Work LinkedIn"),
        ("x", "My X"),
        ("instagram", "Studio IG"),
    ):
        Account.create(platform=platform, display_name=name, remote_id="42")
    queue.set_queue("Work LinkedIn", ["MO,WE,FR 09:00"], timezone="Europe/Paris")
    path = _csv(Path(home))
    out: list[Path] = []
    try:
        dialog = ImportDialog(QUndoStack(), ctx.paths.media_dir, clock=FakeClock(NOW))
        dialog.resize(1180, 560)
        dialog.show()
        dialog.load(path)
        while dialog.busy:
            _settle(app)
        _settle(app)
        options.out_dir.mkdir(parents=True, exist_ok=True)
        target = options.out_dir / options.name("import-preview")
        dialog.grab().save(str(target))
        out.append(target)
        dialog.skip_check.setChecked(True)
        _settle(app)
        target = options.out_dir / options.name("import-preview-skip")
        dialog.grab().save(str(target))
        out.append(target)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    for p in out:
        print(p)
    return out


if __name__ == "__main__":
    main()
