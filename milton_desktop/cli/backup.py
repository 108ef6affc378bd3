"""`export`, `backup` and `restore`: the user's data, theirs to take away and bring back."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from milton_desktop.cli.common import EXIT_FAIL, EXIT_OK, CliError, zone_name
from milton_desktop.domain.status import Status

if TYPE_CHECKING:
    from milton_desktop.context import AppContext

#: statuses `export --status` takes: the schedule's, and ``draft`` for unscheduled posts
_STATUSES = (*(s.value for s in Status), "draft")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    ex = sub.add_parser(
        "export",
        help="write the schedule as CSV (the import columns), JSON or iCalendar (.ics)",
        description="Export schedules and drafts. CSV uses the import columns, so pending "
        "posts exported here import unchanged elsewhere; with --out its media are copied "
        "into FILE's folder, in <name>-media/. JSON holds everything, with every attempt's "
        "result. An .ics file has one event per schedule, for a calendar app.",
    )
    ex.add_argument("--format", required=True, choices=("csv", "json", "ics"))
    ex.add_argument(
        "--status",
        choices=_STATUSES,
        help="only schedules in this state (`draft`: only posts not scheduled anywhere)",
    )
    ex.add_argument(
        "--from",
        dest="start",
        metavar="DATE",
        help="from this day (YYYY-MM-DD in the app's time zone) or instant (ISO 8601 with Z "
        "or an offset)",
    )
    ex.add_argument(
        "--to", dest="end", metavar="DATE", help="up to and including this day or instant"
    )
    ex.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")

    bk = sub.add_parser(
        "backup",
        help="write the database and media to one archive (tokens stay in the keyring)",
    )
    bk.add_argument("file", metavar="FILE", help="the archive to write (a .zip)")

    rs = sub.add_parser(
        "restore",
        help="bring a backup archive back into this home (refused while a scheduler runs)",
    )
    rs.add_argument("file", metavar="FILE", help="an archive written by `milton-desktop backup`")
    rs.add_argument(
        "--force",
        action="store_true",
        help="replace this home's posts and accounts (its database is kept beside the new one)",
    )


class _Chunked:
    """Standard output written in large pieces: an export of 100 000 rows makes
    that many small writes, and each write to the terminal goes through the token
    filter."""

    LIMIT = 1 << 16

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= self.LIMIT:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._parts:
            self._stream.write("".join(self._parts))
            self._parts.clear()
            self._size = 0
        self._stream.flush()


def cmd_export(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.domain.exporting import parse_filter
    from milton_desktop.operations import export

    flt = parse_filter(args.status, args.start, args.end, zone_name())
    if args.out:
        report = export.export(args.format, flt, out=Path(args.out))
        print(report.summary())
    else:
        out = _Chunked(sys.stdout)
        report = export.export(args.format, flt, stream=out)  # type: ignore[arg-type]
        out.flush()
    for warning in report.warnings:
        print(f"milton-desktop: note: {warning}", file=sys.stderr)
    return EXIT_OK


def cmd_backup(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.operations import backup

    report = backup.create_backup(Path(args.file), backup.Home.of(ctx.paths))
    print(report.summary())
    return EXIT_OK


def cmd_restore(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.engine.quiet import restore_blocker
    from milton_desktop.engine.runner import SchedulerLock
    from milton_desktop.operations import backup

    data_dir = ctx.paths.data_dir
    # held for the whole restore: no scheduler can start on this home meanwhile
    lock = SchedulerLock(data_dir)
    if not lock.acquire():
        raise CliError(
            f"a scheduler is running on this home ({lock.owner()}): stop it (quit the app, "
            "or stop `milton-desktop run`), then restore",
            EXIT_FAIL,
        )
    try:
        report = backup.restore_backup(
            Path(args.file),
            backup.Home.of(ctx.paths),
            ctx.credentials,
            force=args.force,
            quiet=lambda: restore_blocker(data_dir),
        )
    except backup.HomeNotEmpty as exc:
        raise CliError(f"{exc}; pass --force to replace them") from None
    finally:
        lock.release()
    print(report.summary())
    return EXIT_OK


COMMANDS = {"export": cmd_export, "backup": cmd_backup, "restore": cmd_restore}
