"""Team database commands: `migrate-to URL` moves this home's database and media to an
empty team database; `database-password URL` keeps its password in this machine's
keyring."""

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
    dp = sub.add_parser(
        "database-password",
        help="keep a team database's password in this machine's keyring",
        description="Save the password of the team database at URL (read from stdin's "
        "first line) in this machine's keyring, after checking that it logs in; it is "
        "used when neither the URL nor PGPASSWORD has one, and never written to a file.",
    )
    dp.add_argument("url", metavar="URL", help="e.g. postgresql://me@db.example/milton")
    how = dp.add_mutually_exclusive_group(required=True)
    how.add_argument("--stdin", action="store_true", help="read the password from stdin")
    how.add_argument("--forget", action="store_true", help="remove the saved password")


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


def cmd_database_password(args: argparse.Namespace) -> int:
    """Runs before any database is opened: the password may be what opening lacks."""
    import sys

    from keyring.errors import KeyringError

    from milton_desktop.domain.redaction import register_secret
    from milton_desktop.storage import backend, db_password

    url = args.url
    if not backend.is_url(url):
        raise CliError(f"{url!r} is not a team database's address: give postgresql://user@host/db")
    label = backend.redacted_url(url)
    if backend.url_password(url):
        raise CliError(
            "this URL has its password in it: give it without (postgresql://user@host/db) "
            "and the password on stdin"
        )
    if args.forget:
        gone = db_password.forget(url)
        print(f"{'removed the saved password' if gone else 'no password was saved'} for {label}")
        return EXIT_OK
    line = sys.stdin.readline() if sys.stdin is not None else ""
    password = line.rstrip("\r\n")
    if not password:
        raise CliError(
            "no password on stdin: pipe it in, e.g. `printf '%s\\n' \"$PASSWORD\" | "
            f"milton-desktop database-password {label} --stdin`"
        )
    register_secret(password)
    _check_login(url, password, label)
    try:
        db_password.save(url, password)
    except KeyringError as exc:
        raise CliError(
            f"the keyring could not keep it ({exc}): use ~/.pgpass or PGPASSWORD instead",
            EXIT_FAIL,
        ) from None
    print(f"saved the password for {label} in this machine's keyring")
    return EXIT_OK


def _check_login(url: str, password: str, label: str) -> None:
    """Log in once with ``password``, so a mistyped one is said now, not at start-up."""
    import psycopg

    from milton_desktop.storage.db import explain_error

    try:
        psycopg.connect(url, password=password, connect_timeout=10).close()
    except psycopg.Error as exc:
        raise CliError(
            f"{explain_error(label, exc)}; the password was not saved", EXIT_FAIL
        ) from None


#: commands that run before the database opens (they take no context)
BEFORE_OPENING = {"database-password": cmd_database_password}

COMMANDS = {"migrate-to": cmd_migrate_to}
