"""`migrate-to URL`: move this home's database and media to an empty team database."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from milton_desktop.cli.common import EXIT_FAIL, EXIT_OK, CliError, out

if TYPE_CHECKING:
    from milton_desktop.context import AppContext


def add_parsers(sub: argparse._SubParsersAction) -> None:
    mg = sub.add_parser(
        "migrate-to",
        help="copy this home's database and media into an empty team database (PostgreSQL)",
        description="Copy every table (ids kept) and the media files of this home's "
        "database into the empty PostgreSQL database at URL, in one transaction, checked "
        "before it commits. The local file stays as it was; tokens stay in this machine's "
        "keyring.",
    )
    mg.add_argument("url", metavar="URL", help="e.g. postgresql://me@db.example/milton")
    mg.add_argument("--json", action="store_true", help="print the report as JSON")


def cmd_migrate_to(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.engine.quiet import restore_blocker
    from milton_desktop.engine.runner import SchedulerLock
    from milton_desktop.operations import migrate
    from milton_desktop.storage import backend
    from milton_desktop.storage.db import close_database

    if backend.current().is_postgres:
        raise CliError(
            "migrate-to copies this home's own database: run it without --database "
            "(and without MILTON_DATABASE_URL)",
            EXIT_FAIL,
        )
    data_dir = ctx.paths.data_dir
    lock = SchedulerLock(data_dir)  # held for the copy: no scheduler starts meanwhile
    if not lock.acquire():
        raise CliError(
            f"a scheduler is running on this home ({lock.owner()}): stop it (quit the app, "
            "or stop `milton-desktop run`), then migrate",
            EXIT_FAIL,
        )
    try:
        busy = restore_blocker(data_dir)
        if busy:
            raise CliError(busy.replace("then restore", "then migrate"), EXIT_FAIL)
        close_database()  # the copy reads the file with a connection of its own
        report = migrate.migrate_to(args.url, ctx.paths.db_path, data_dir)
    finally:
        lock.release()
    out(report.as_json(), args.json, report.summary())
    return EXIT_OK


COMMANDS = {"migrate-to": cmd_migrate_to}
