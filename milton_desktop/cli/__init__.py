"""The command line: everything the window does, scriptable.

Exit codes: 0 success; 1 an operational failure (network, keyring, a post that
failed); 2 bad usage or input, with one line on stderr saying what to fix.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from milton_desktop import APP_NAME, __version__
from milton_desktop.cli import assistant, backup, batch, insights, notify, team
from milton_desktop.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    with_hint,
)
from milton_desktop.cli.common import Parser as _Parser
from milton_desktop.cli.common import json_array_out as _json_array_out
from milton_desktop.cli.common import local as _local
from milton_desktop.cli.common import member_name as _member_name
from milton_desktop.cli.common import out as _out
from milton_desktop.cli.common import row_id as _row_id
from milton_desktop.cli.common import seconds as _seconds
from milton_desktop.cli.common import short as _short
from milton_desktop.cli.common import table as _table
from milton_desktop.cli.common import zone_name as _zone_name
from milton_desktop.domain.content import VOICES
from milton_desktop.domain.errors import OperationFailed, UserError
from milton_desktop.domain.status import Status
from milton_desktop.publishers import catalogue
from milton_desktop.streams import Redacting, redacted_output

# Each command imports what it uses when it runs: `list` should not pay for the
# keyring, the publishers or the scheduler, nor `--help` for the database.
if TYPE_CHECKING:
    from milton_desktop.context import AppContext
    from milton_desktop.operations import queue

log = logging.getLogger("milton.cli")

#: command groups that live in their own module (milton_desktop/cli/NAME.py): each has
#: `add_parsers(sub)` and a `COMMANDS` mapping; they import only argparse and
#: cli.common at load, and what a command needs when it runs
GROUPS: tuple[ModuleType, ...] = (batch, backup, notify, insights, assistant, team)

#: listings that write nothing: they skip SQLite's quick check of every page at open
#: (a tenth of a second at 100 000 posts); a damaged page they read still fails with
#: "damaged", and the next command that writes runs the check
READ_ONLY = frozenset({"list", "upcoming", "history", "export", "show"})


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="milton-desktop",
        description=f"{APP_NAME}: write, schedule and publish posts to "
        f"{catalogue.labels()}. "
        "With no command, opens the window.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument(
        "--home", metavar="DIR", help="keep database, logs and media in DIR (or set MILTON_HOME)"
    )
    p.add_argument(
        "--database",
        metavar="URL",
        help="use the team database at URL, e.g. postgresql://me@db.example/milton "
        "(or set MILTON_DATABASE_URL); the password comes from the URL, PGPASSWORD or "
        "~/.pgpass and is never stored",
    )
    p.add_argument(
        "--member",
        metavar="NAME",
        type=_member_name,
        help="act as member NAME: recorded on the schedules you make, change and approve "
        "(default: the name in Settings, else your user name)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    p.add_argument(
        "--headless", action="store_true", help="run the scheduler without a window (same as `run`)"
    )
    p.add_argument(
        "--minimized", action="store_true", help="start in the tray without showing the window"
    )
    p.add_argument("--self-test", action="store_true", help="check the installation and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    acc = sub.add_parser("account", help="connect, list and remove accounts")
    acc_sub = acc.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=_Parser
    )
    a = acc_sub.add_parser("add", help="connect an account with an access token read from stdin")
    a.add_argument("platform", choices=catalogue.names())
    a.add_argument("--name", required=True, help="a name for this account, used by --account")
    a.add_argument(
        "--api-base", metavar="URL", help="send every call of this account to URL (tests, staging)"
    )
    a.add_argument(
        "--page",
        metavar="ORG_ID",
        help="post as this page (a LinkedIn organisation you administer) instead of yourself",
    )
    a.add_argument(
        "--handle",
        metavar="LOGIN",
        help="the account's login name, for platforms that take one with the secret on stdin "
        "(Bluesky: the handle, with an app password)",
    )
    a.add_argument(
        "--token-stdin",
        action="store_true",
        required=True,
        help="read the access token (or app password) from stdin's first line",
    )
    a.add_argument("--json", action="store_true")
    al = acc_sub.add_parser("list", help="list accounts")
    al.add_argument("--json", action="store_true")
    ar = acc_sub.add_parser("remove", help="remove an account and its token")
    ar.add_argument("name")
    ar.add_argument(
        "--force",
        action="store_true",
        help="also cancel its live posts (waiting, missed or uncertain), each with a note",
    )
    arf = acc_sub.add_parser(
        "refresh", help="renew an account's token now (the scheduler does it before expiry)"
    )
    arf.add_argument("name")
    arf.add_argument("--json", action="store_true")
    aset = acc_sub.add_parser(
        "set", help="change an account's settings (its time zone, whether posts need approval)"
    )
    aset.add_argument("name")
    aset.add_argument(
        "--tz",
        metavar="ZONE",
        help="IANA zone its queue slots are read in (e.g. America/New_York); "
        "`app` to follow the app's zone",
    )
    approval = aset.add_mutually_exclusive_group()
    approval.add_argument(
        "--require-approval",
        dest="require_approval",
        action="store_const",
        const=True,
        help="its posts wait until a member approves them (`milton-desktop approve ID`); "
        "pending posts nobody approved wait too",
    )
    approval.add_argument(
        "--no-require-approval",
        dest="require_approval",
        action="store_const",
        const=False,
        help="its posts go out without approval; those waiting go out at their times",
    )
    aset.add_argument("--json", action="store_true")

    q = sub.add_parser("queue", help="an account's weekly posting times (queue slots)")
    q_sub = q.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    qs = q_sub.add_parser("set", help="replace an account's queue slots")
    qs.add_argument("account", metavar="ACCOUNT")
    qs.add_argument(
        "--slot",
        action="append",
        required=True,
        metavar='"DAYS HH:MM"',
        help="a weekly slot: days MO TU WE TH FR SA SU (comma lists allowed) and a 24 h "
        'time in the account\'s zone, e.g. "MO 09:00" or "TU,TH 13:30"; repeat for more',
    )
    qs.add_argument("--tz", metavar="ZONE", help="also set the account's time zone")
    qs.add_argument("--json", action="store_true")
    qc = q_sub.add_parser("clear", help="remove every queue slot of an account")
    qc.add_argument("account", metavar="ACCOUNT")
    qsh = q_sub.add_parser("show", help="an account's slots and its next free ones")
    qsh.add_argument("account", metavar="ACCOUNT")
    qsh.add_argument("--json", action="store_true")

    post = sub.add_parser("post", help="write and list posts")
    post_sub = post.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=_Parser
    )
    pa = post_sub.add_parser("add", help="write a post (a draft until scheduled); prints its id")
    pa.add_argument("--text", default="", help="the post's text")
    pa.add_argument(
        "--voice",
        default="personal",
        help=f"{', '.join(VOICES)}, or a voice of your own (see `ai voice list`)",
    )
    pa.add_argument(
        "--media", action="append", default=[], metavar="FILE", help="attach an image or video file"
    )
    pa.add_argument(
        "--media-url",
        action="append",
        default=[],
        metavar="URL",
        help="attach media at a public URL",
    )
    pa.add_argument(
        "--alt",
        action="append",
        default=[],
        metavar="TEXT",
        help="alt text, one per media in order",
    )
    pa.add_argument(
        "--follow-up",
        action="append",
        default=[],
        metavar="TEXT",
        help="a part after the main text, in order: a reply in a thread (X, Bluesky, "
        "Mastodon, Threads) or a comment on the post (LinkedIn, Instagram)",
    )
    pa.add_argument(
        "--follow-up-delay",
        type=_seconds,
        default=0,
        metavar="SECONDS",
        help="wait this long between two parts (0 to 7200; default 0)",
    )
    pa.add_argument("--json", action="store_true")
    pl = post_sub.add_parser("list", help="list posts")
    pl.add_argument("--json", action="store_true")

    s = sub.add_parser("schedule", help="schedule a post to an account; prints the schedule id")
    s.add_argument("post_id", type=_row_id)
    s.add_argument("--account", required=True, metavar="NAME")
    when = s.add_mutually_exclusive_group(required=True)
    when.add_argument(
        "--at",
        metavar="WHEN",
        help="ISO 8601 with offset or Z, or a local time with --tz",
    )
    when.add_argument(
        "--next-slot",
        action="store_true",
        help="in the account's next free queue slot (see `queue set`)",
    )
    s.add_argument("--tz", metavar="ZONE", help="IANA zone of a local --at (e.g. Europe/Paris)")
    s.add_argument("--text", help="text for this platform instead of the post's text")
    s.add_argument(
        "--repeat",
        metavar="RRULE",
        help="repeat by an iCalendar rule from --at, in --tz local time, e.g. FREQ=WEEKLY;BYDAY=TU",
    )
    s.add_argument("--json", action="store_true")

    rs = sub.add_parser("reschedule", help="move a pending, missed or failed schedule")
    rs.add_argument("schedule_id", type=_row_id)
    rs.add_argument("--at", required=True, metavar="WHEN")
    rs.add_argument("--tz", metavar="ZONE")

    ls = sub.add_parser("list", help="list schedules")
    ls.add_argument("--status", choices=[s.value for s in Status])
    ls.add_argument("--json", action="store_true")

    up = sub.add_parser("upcoming", help="pending schedules in the next days")
    up.add_argument("--days", type=float, default=7.0)
    up.add_argument("--json", action="store_true")

    ap = sub.add_parser("approve", help="approve a post awaiting approval: it goes out at its time")
    ap.add_argument("schedule_id", type=_row_id)
    ap.add_argument("--json", action="store_true")

    sh = sub.add_parser("show", help="one schedule: its post, time, status and who made it")
    sh.add_argument("schedule_id", type=_row_id)
    sh.add_argument("--json", action="store_true")

    c = sub.add_parser("cancel", help="cancel a pending schedule")
    c.add_argument("schedule_id", type=_row_id)
    c.add_argument(
        "--series", action="store_true", help="stop its repeat and cancel every pending occurrence"
    )

    pn = sub.add_parser("publish-now", help="publish a missed or failed schedule now")
    pn.add_argument("schedule_id", type=_row_id)

    rv = sub.add_parser("resolve", help="settle an uncertain schedule after checking the platform")
    rv.add_argument("schedule_id", type=_row_id)
    g = rv.add_mutually_exclusive_group(required=True)
    g.add_argument("--published", action="store_true", help="it did go out")
    g.add_argument("--not-published", action="store_true", help="it did not: publish it again now")
    rv.add_argument("--url", help="the post's URL, with --published")

    hi = sub.add_parser(
        "history", help="every publish attempt of a schedule: what happened to each part, and why"
    )
    hi.add_argument("schedule_id", type=_row_id)
    hi.add_argument("--json", action="store_true")

    st = sub.add_parser("status", help="is the scheduler running, what is next, counts per status")
    st.add_argument("--json", action="store_true")

    r = sub.add_parser("run", help="run the scheduler without a window")
    r.add_argument("--once", action="store_true", help="publish everything due now and exit")
    r.add_argument("--test", action="store_true", help="watchdog every 10 s instead of 60 s")
    r.add_argument(
        "--interval", type=float, metavar="SECONDS", help="watchdog interval (default 60)"
    )
    for group in GROUPS:
        group.add_parsers(sub)
    return p


# ---------------------------------------------------------------- helpers


def _schedules_out(rows: list[dict], as_json: bool) -> None:
    from milton_desktop.domain.timeutil import get_zone

    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    zone = get_zone(_zone_name())
    table = [
        [
            str(r["id"]),
            str(r["post_id"]),
            r["account"],
            catalogue.label(r["platform"]),
            datetime.fromisoformat(r["scheduled_time"].replace("Z", "+00:00"))
            .astimezone(zone)
            .strftime("%Y-%m-%d %H:%M %Z"),
            r["status"],
            # a post that waits for a member says so before its text
            ("needs approval · " if r["status"] == Status.AWAITING_APPROVAL else "")
            + _short(r["url"] or r["error"] or r["text"]),
        ]
        for r in rows
    ]
    print(_table(table, ["ID", "POST", "ACCOUNT", "PLATFORM", "WHEN", "STATUS", "DETAIL"]))


def _read_token() -> str:
    from milton_desktop.operations import accounts

    if sys.stdin is None or sys.stdin.closed:
        raise CliError(
            "no token on stdin: pipe it in, e.g. `printf '%s\\n' \"$TOKEN\" | milton-desktop account add ...`"
        )
    try:
        line = sys.stdin.readline()
    except UnicodeDecodeError:
        raise CliError(
            "the token on stdin is not text (its bytes are not UTF-8): copy the token again"
        ) from None
    token = line.strip()
    if not token:
        raise CliError("no token on stdin: the first line must hold the access token")
    # tokens are printable ASCII everywhere; anything else would only fail in the header
    if (
        not (token.isascii() and token.isprintable())
        or any(c.isspace() for c in token)
        or len(token) > accounts.MAX_TOKEN_LENGTH
    ):
        raise CliError(
            "the token on stdin does not look like an access token (spaces, characters "
            "outside plain ASCII, or too long): copy the token again"
        )
    return token


def unreadable_argument(words: Sequence[str]) -> str | None:
    """A message for the first argument that is not valid text, or None.

    Bytes that are not UTF-8 reach Python as lone surrogates (PEP 383); they would
    fail later, when written to the database or a log, as an unexpected error.
    """
    for number, word in enumerate(words, 1):
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            shown = word.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            return (
                f"argument {number} ({shown}) is not valid UTF-8 text: check the terminal's "
                "encoding (LANG, LC_ALL) or the file it came from"
            )
    return None


# ---------------------------------------------------------------- commands


def cmd_account(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.domain.timeutil import iso_z
    from milton_desktop.operations import accounts

    if args.action == "add":
        name = accounts.check_new_name(args.platform, args.name, ctx.credentials)
        token = _read_token()
        acc = accounts.connect_with_token(
            ctx.credentials,
            args.platform,
            name,
            token,
            api_base=args.api_base,
            page=args.page,
            login=args.handle,
        )
        _out(
            {
                "id": acc.id,
                "name": acc.display_name,
                "platform": acc.platform,
                "username": acc.username,
                "remote_id": acc.remote_id,
            },
            args.json,
            f"connected {catalogue.label(acc.platform)} account {acc.display_name!r} as "
            f"{acc.username or acc.remote_id}",
        )
        return EXIT_OK
    if args.action == "list":
        rows = sorted(accounts.list_accounts(), key=lambda a: a.display_name)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "id": a.id,
                            "name": a.display_name,
                            "platform": a.platform,
                            "username": a.username,
                            "remote_id": a.remote_id,
                            "status": a.status,
                            "api_base": a.api_base,
                            "token_expires_at": iso_z(a.token_expires_at),
                            "require_approval": a.require_approval,
                        }
                        for a in rows
                    ]
                )
            )
        else:
            print(
                _table(
                    [
                        [
                            str(a.id),
                            a.display_name,
                            catalogue.label(a.platform),
                            a.username,
                            a.status,
                        ]
                        for a in rows
                    ],
                    ["ID", "NAME", "PLATFORM", "USER", "STATUS"],
                )
            )
        return EXIT_OK
    if args.action == "refresh":
        renewed = accounts.renew_token(ctx.credentials, args.name)
        expires = iso_z(renewed.token_expires_at)
        _out(
            {"id": renewed.id, "name": renewed.display_name, "token_expires_at": expires},
            args.json,
            f"renewed the token of {renewed.display_name!r}"
            + (f"; it now expires {expires}" if expires else ""),
        )
        return EXIT_OK
    if args.action == "set":
        return _account_set(args)
    if args.action == "remove":
        account = accounts.get_account(args.name)
        cancelled = accounts.remove_account(ctx.credentials, account.id, force=args.force)
        done = f"removed account {account.display_name!r}"
        if cancelled:
            done += f"; {cancelled} of its post(s) cancelled (see `milton-desktop list --status cancelled`)"
        print(done)
        return EXIT_OK
    raise CliError(f"unknown action {args.action}")


def _account_set(args: argparse.Namespace) -> int:
    from milton_desktop.operations import approvals, queue
    from milton_desktop.storage import queries

    if args.tz is None and args.require_approval is None:
        raise CliError(
            "nothing to change: give --tz ZONE, --require-approval or --no-require-approval",
            EXIT_USAGE,
        )
    said = []
    account = queries.AccountView.of(queries.get_account(args.name))
    if args.tz is not None:
        zone = None if args.tz.strip().lower() == "app" else args.tz
        account = queue.set_account_zone(args.name, zone)
        shown = queue.account_zone(account)
        said.append(
            f"“{account.display_name}” now reads its queue slots in {shown}"
            + ("" if zone else " (the app's zone)")
        )
    moved = 0
    if args.require_approval is not None:
        change = approvals.set_require_approval(account.id, args.require_approval)
        account, moved = change.account, change.moved
        if change.require_approval:
            said.append(
                f"posts to “{account.display_name}” now wait for a member's approval"
                + (f"; {moved} pending post(s) wait for it too" if moved else "")
            )
        else:
            said.append(
                f"posts to “{account.display_name}” no longer need approval"
                + (f"; {moved} waiting post(s) go out at their times" if moved else "")
            )
    _out(
        {
            "id": account.id,
            "name": account.display_name,
            "timezone": queue.account_zone(account),
            "require_approval": bool(account.require_approval),
            "moved": moved,
        },
        args.json,
        "\n".join(said),
    )
    return EXIT_OK


def cmd_post(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.operations import posts
    from milton_desktop.storage import queries

    if args.action == "add":
        inputs = [posts.MediaInput(path=Path(f)) for f in args.media]
        inputs += [posts.MediaInput(url=u) for u in args.media_url]
        if len(args.alt) > len(inputs):
            raise CliError(
                f"{len(args.alt)} --alt texts for {len(inputs)} media: give at most one per media"
            )
        inputs = [
            posts.MediaInput(
                path=m.path, url=m.url, alt_text=args.alt[i] if i < len(args.alt) else ""
            )
            for i, m in enumerate(inputs)
        ]
        post = posts.add_post(
            args.text,
            args.voice,
            inputs,
            media_dir=ctx.paths.media_dir,
            follow_ups=args.follow_up,
            follow_up_delay=args.follow_up_delay,
        )
        _out({"id": post.id}, args.json, str(post.id))
        return EXIT_OK
    rows = queries.post_rows()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        print(
            _table(
                [
                    [
                        str(r["id"]),
                        r["voice"],
                        str(len(r["media"])),
                        str(1 + len(r["follow_ups"])),
                        _short(r["text"], 60),
                    ]
                    for r in rows
                ],
                ["ID", "VOICE", "MEDIA", "PARTS", "TEXT"],
            )
        )
    return EXIT_OK


def _when(args: argparse.Namespace) -> tuple[datetime, str]:
    from milton_desktop.domain.timeutil import get_zone, parse_when

    if args.tz:
        get_zone(args.tz)
    when = parse_when(args.at, args.tz)
    return when, args.tz or ("UTC" if args.at.strip()[-1:] in "Zz" else _zone_name())


def cmd_schedule(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.domain.recurrence import HORIZON
    from milton_desktop.domain.timeutil import get_zone, iso_z
    from milton_desktop.operations import queue, repeats, schedules
    from milton_desktop.storage import queries

    if args.next_slot:
        if args.repeat is not None or args.tz:
            raise CliError(
                "--next-slot takes the time from the account's queue: leave out "
                + ("--repeat" if args.repeat is not None else "--tz")
            )
        row = queue.schedule_next_slot(args.post_id, args.account, text=args.text)
        _out({"id": row.id, "scheduled_time": iso_z(row.scheduled_time)}, args.json, str(row.id))
        return EXIT_OK
    when, zone = _when(args)
    if args.repeat is not None:
        zone = args.tz or _zone_name()
        first_local = when.astimezone(get_zone(zone)).replace(tzinfo=None)
        rec = repeats.schedule_repeating(
            args.post_id, args.account, first_local, zone, args.repeat, text=args.text
        )
        first = queries.first_schedule_of(rec.id)
        if first is None:
            _out(
                {"id": None, "recurrence_id": rec.id},
                args.json,
                f"repeat {rec.id} created; its first occurrence is more than {HORIZON.days} days away",
            )
        else:
            _out(
                {
                    "id": first.id,
                    "recurrence_id": rec.id,
                    "scheduled_time": iso_z(first.scheduled_time),
                },
                args.json,
                str(first.id),
            )
        return EXIT_OK
    row = schedules.schedule(args.post_id, args.account, when, timezone=zone, text=args.text)
    _out({"id": row.id, "scheduled_time": iso_z(row.scheduled_time)}, args.json, str(row.id))
    return EXIT_OK


def _queue_out(view: queue.QueueView, as_json: bool) -> None:
    import shlex

    from milton_desktop.domain.timeutil import get_zone, iso_z

    if as_json:
        print(json.dumps(view.as_json(), ensure_ascii=False))
        return
    zone = get_zone(view.timezone)
    follows = "" if view.own_zone else ", the app's zone"
    if not view.slots:
        print(
            f"“{view.account}” ({view.timezone}{follows}) has no queue slots: add them with "
            f'`milton-desktop queue set {shlex.quote(view.account)} --slot "MO 09:00"`'
        )
        return
    print(f"queue of “{view.account}” ({view.timezone}{follows}):")
    print("  slots: " + ", ".join(str(s) for s in view.slots))
    print("  next free:" if view.next else "  next free: (none in the next two years)")
    for at in view.next:
        print(f"    {at.astimezone(zone):%a %Y-%m-%d %H:%M %Z}  ({iso_z(at)})")
    for skipped in view.skipped:
        print(f"  note: {skipped.reason}")


def cmd_queue(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.operations import queue

    if args.action == "set":
        _queue_out(queue.set_queue(args.account, args.slot, timezone=args.tz), args.json)
        return EXIT_OK
    if args.action == "clear":
        n = queue.clear_queue(args.account)
        print(f"removed {n} queue slot(s) of {args.account!r}; posts already queued stay scheduled")
        return EXIT_OK
    _queue_out(queue.show_queue(args.account), args.json)
    return EXIT_OK


def cmd_reschedule(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.operations import schedules

    when, _zone = _when(args)
    row = schedules.reschedule(args.schedule_id, when)
    print(f"schedule {row.id} moved to {_local(row.scheduled_time)}")
    return EXIT_OK


def cmd_list(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.storage import queries

    if args.json:
        _json_array_out(queries.schedule_rows_json(args.status))
    else:
        _schedules_out(queries.schedule_rows(args.status), args.json)
    return EXIT_OK


def cmd_upcoming(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.domain.clock import SystemClock
    from milton_desktop.storage import queries

    if not 0 < args.days <= 3660:
        raise CliError("--days must be between 0 and 3660")
    before = SystemClock().now() + timedelta(days=args.days)
    if args.json:
        _json_array_out(queries.schedule_rows_json(pending_before=before))
    else:
        _schedules_out(queries.schedule_rows(pending_before=before), args.json)
    return EXIT_OK


def cmd_approve(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.domain.timeutil import iso_z
    from milton_desktop.operations import approvals

    row = approvals.approve(args.schedule_id)
    _out(
        {
            "id": row.id,
            "status": row.status,
            "approved_by": row.approved_by,
            "approved_at": iso_z(row.approved_at),
            "scheduled_time": iso_z(row.scheduled_time),
        },
        args.json,
        f"schedule {row.id} approved by {row.approved_by}; it goes out "
        f"{_local(row.scheduled_time)}",
    )
    return EXIT_OK


def cmd_show(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.storage import queries

    row = queries.schedule_row(args.schedule_id)
    if args.json:
        print(json.dumps(row, ensure_ascii=False))
        return EXIT_OK
    lines = [
        ("schedule", str(row["id"])),
        ("post", str(row["post_id"])),
        ("account", f"{row['account']} ({catalogue.label(row['platform'])})"),
        ("when", _local(datetime.fromisoformat(row["scheduled_time"].replace("Z", "+00:00")))),
        ("status", row["status"].replace("_", " ")),
        ("created by", row["created_by"] or "-"),
        ("changed by", row["updated_by"] or "-"),
    ]
    if row["approved_by"]:
        lines.append(("approved by", f"{row['approved_by']} at {row['approved_at']}"))
    for label, key in (("link", "url"), ("error", "error"), ("warning", "warning")):
        if row[key]:
            lines.append((label, row[key]))
    lines.append(("text", row["text"]))
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"{label:<{width}}  {value}")
    return EXIT_OK


def cmd_cancel(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.operations import repeats, schedules

    if args.series:
        n = repeats.stop_series(args.schedule_id)
        print(f"stopped the repeat; cancelled {n} pending occurrence(s)")
        return EXIT_OK
    row = schedules.cancel(args.schedule_id)
    print(f"cancelled schedule {row.id}")
    return EXIT_OK


def cmd_publish_now(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.operations import schedules

    row = schedules.publish_now(args.schedule_id)
    print(
        f"schedule {row.id} will be published by the running scheduler now (or run `milton-desktop run --once`)"
    )
    return EXIT_OK


def cmd_resolve(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.operations import schedules

    row = schedules.resolve_uncertain(args.schedule_id, bool(args.published), args.url)
    print(f"schedule {row.id} is now {row.status}")
    return EXIT_OK


def cmd_history(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.storage import queries

    rows = queries.attempt_rows(args.schedule_id)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return EXIT_OK
    lines = []
    for r in rows:
        said = r["url"] or r["error"] or ""
        notes = [n for n in (r["resolution"], r["warning"]) if n]
        lines.append(
            [
                str(r["attempt"]),
                str(r["part"] + 1),
                r["outcome"],
                r["finished_at"] or r["started_at"],
                _short(" — ".join([said, *notes]) if notes else said, 90),
            ]
        )
    print(_table(lines, ["ATTEMPT", "PART", "OUTCOME", "AT", "WHAT HAPPENED"]))
    return EXIT_OK


def _team_scheduler_state(install_id: str | None) -> dict[str, Any]:
    """Team mode: this machine's scheduler, as its row in ``machines`` says."""
    from milton_desktop.domain.timeutil import iso_z
    from milton_desktop.operations import team

    now = team.server_now()
    mine = next((m for m in team.machines() if m.install_id == install_id), None)
    if mine is None:
        return {"running": False}
    return {
        "running": mine.live(now),
        "machine": mine.label,
        "last_seen": iso_z(mine.last_seen_at),
        "paused": False,
    }


def scheduler_state(now: datetime | None = None, install_id: str | None = None) -> dict[str, Any]:
    """What the heartbeat says about a running scheduler (in team mode: this
    machine's, ``install_id``)."""
    import socket

    from milton_desktop.domain.clock import SystemClock
    from milton_desktop.domain.timeutil import iso_z
    from milton_desktop.storage import backend, settings

    now = now or SystemClock().now()
    if backend.current().is_postgres:
        return _team_scheduler_state(install_id)
    hb = settings.get_internal("heartbeat")
    if not hb:
        return {"running": False}
    at = datetime.fromisoformat(hb["at"])
    age = (now - at).total_seconds()
    alive = age <= 2 * float(hb.get("interval", 60)) + 15
    if hb.get("host") == socket.gethostname():
        try:
            os.kill(int(hb["pid"]), 0)
        except ProcessLookupError:
            alive = False
        except (PermissionError, OSError, ValueError):
            pass
    return {
        "running": alive,
        "pid": hb.get("pid"),
        "host": hb.get("host"),
        "last_seen": iso_z(at),
        "paused": bool(hb.get("paused")),
    }


def cmd_status(ctx: AppContext, args: argparse.Namespace) -> int:
    import shlex

    from milton_desktop.domain.timeutil import iso_z
    from milton_desktop.engine.machine import Engine
    from milton_desktop.operations import members, notify_mail, team
    from milton_desktop.publishers import registry
    from milton_desktop.storage import backend, queries, settings

    state = scheduler_state(install_id=ctx.credentials.install_id)
    mail = notify_mail.mail_status()
    nxt = Engine(ctx.credentials).next_wakeup()
    counts = queries.counts_by_status()
    platforms = {}
    for platform in registry.platforms():
        publisher = registry.make_publisher(platform.name)
        publisher.state = settings.platform_state(platform.name)
        if publisher.status():
            platforms[platform.name] = publisher.status()
    stopped = queries.stopped_repeats()
    data = {
        "scheduler": state,
        "next_due": iso_z(nxt),
        "counts": counts,
        "platforms": platforms,
        "database": backend.current().label or str(ctx.paths.db_path),
        "stopped_repeats": stopped,
        "mail": mail.as_json(),
        "member": ctx.member or members.current(),
    }
    warnings = team.warnings()
    if backend.current().is_postgres:
        data["publishers"] = [view.as_json() for view in team.publishers()]
    data["warnings"] = [w.as_json() for w in warnings]
    if args.json:
        print(json.dumps(data))
    else:
        if "pid" in state:
            running = (
                f"running (pid {state['pid']}{', paused' if state.get('paused') else ''})"
                if state["running"]
                else "not running"
            )
        else:
            running = "running on this machine" if state["running"] else "not running here"
        print(f"scheduler: {running}")
        print(f"next due:  {_local(nxt)}")
        print(f"member:    {data['member']}")
        print("counts:    " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        for name, facts in platforms.items():
            described = ", ".join(f"{k} {v}" for k, v in facts.items())
            print(f"{catalogue.label(name) + ':':<10} {described}")
        if mail.enabled or mail.summary():
            said = mail.summary() or f"on, {mail.sent} sent, {mail.pending} waiting"
            print(f"mail:      {said} (details: `milton-desktop notify show`)")
        for stop in stopped:
            # the stored reason says what to do in the words of any front end; here, the command
            again = (
                f"milton-desktop schedule {stop['post_id']} --account "
                f"{shlex.quote(stop['account'])} --at TIME --repeat RULE"
            )
            print(
                f"stopped:   {_local(_parse_z(stop['stopped_at']))}, schedule "
                f"{stop['schedule_id']} on “{stop['account']}”: {stop['reason']}: {again} "
                f"(or `milton-desktop cancel --series {stop['schedule_id']}` to leave it stopped)"
            )
        for view in team.publishers():
            who = ", ".join(view.live) if view.live else "no live machine"
            print(f"publishes: “{view.account}” ({view.platform}): {who}")
        for warning in warnings:
            print(f"warning:   {warning.message}")
    return EXIT_OK


def _parse_z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _send_mail_once(ctx: AppContext, engine: Any) -> None:
    """`run --once` (from cron) has no mail thread: the mails its outcomes queued go
    now, unless a running scheduler is the sender (then it sends them)."""
    from milton_desktop.engine.mailer import send_once

    try:
        send_once(ctx.credentials, engine.state_dir)
    except Exception as exc:  # mail never changes what the run published
        log.warning("the notification mails could not be sent now: %s", exc)
        print(f"milton-desktop: notification mails not sent now: {exc}", file=sys.stderr)


def cmd_run(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.engine.machine import Engine, EngineConfig
    from milton_desktop.storage import settings

    config = EngineConfig(
        grace=timedelta(minutes=float(settings.get("grace_minutes"))),
        max_attempts=int(settings.get("max_attempts")),
    )
    engine = Engine(ctx.credentials, config=config)
    if args.once:
        from milton_desktop.engine.dispatch import Dispatcher

        dispatcher = Dispatcher(engine, lambda o: None)
        outcomes = dispatcher.run_once()
        for o in outcomes:
            print(f"{o.schedule_id}\t{o.status}\t{o.label}\t{o.url or o.message or ''}")
        _send_mail_once(ctx, engine)
        if dispatcher.busy_error is not None:
            from milton_desktop.storage.db import explain_error

            print(
                f"milton-desktop: {explain_error(ctx.paths.db_path, dispatcher.busy_error)}; "
                "the posts still due wait for the next run",
                file=sys.stderr,
            )
            return EXIT_FAIL
        bad = [
            o for o in outcomes if o.status in (Status.FAILED, Status.UNCERTAIN, Status.PUBLISHING)
        ]
        return EXIT_FAIL if bad else EXIT_OK
    interval = args.interval if args.interval is not None else (10.0 if args.test else 60.0)
    if not 0.05 <= interval <= 86400:
        raise CliError("--interval must be between 0.05 and 86400 seconds")
    from milton_desktop.engine.runner import run_headless

    return run_headless(engine, ctx.paths.data_dir, interval_s=interval)


COMMANDS = {
    "account": cmd_account,
    "post": cmd_post,
    "schedule": cmd_schedule,
    "queue": cmd_queue,
    "reschedule": cmd_reschedule,
    "list": cmd_list,
    "upcoming": cmd_upcoming,
    "cancel": cmd_cancel,
    "approve": cmd_approve,
    "show": cmd_show,
    "publish-now": cmd_publish_now,
    "resolve": cmd_resolve,
    "history": cmd_history,
    "status": cmd_status,
    "run": cmd_run,
}
for _group in GROUPS:
    COMMANDS.update(_group.COMMANDS)


#: kept under their old names: tests and scripts wrap their output with them
_Redacting = Redacting
_redacted_output = redacted_output


def _is_credential_error(exc: BaseException) -> bool:
    """A missing token or no keyring: an operational failure with its own message.

    Only a command that touched the keyring store can raise these, and it imported
    the store's module to do so: a command that did not never pays for the import.
    """
    store = sys.modules.get("milton_desktop.storage.credentials")
    return store is not None and isinstance(exc, store.KeyringUnavailable | store.CredentialMissing)


def main(argv: Sequence[str] | None = None) -> int:
    with _redacted_output():
        return _main(argv)


def _main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = list(argv if argv is not None else sys.argv[1:])
    if "--headless" in words:
        # `--headless [run options]` is the original daemon's spelling of `run [run options]`.
        at = words.index("--headless")
        words = [*words[:at], "run", *words[at + 1 :]]
    problem = unreadable_argument(words)
    if problem is not None:
        print(f"milton-desktop: {problem}", file=sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(words)
    if args.self_test:
        from milton_desktop.app import run_self_test

        return run_self_test(args.home)
    if args.command is None:
        from milton_desktop.app import run_app

        return run_app(args)
    if args.command in team.BEFORE_OPENING:
        try:
            return team.BEFORE_OPENING[args.command](args)
        except CliError as exc:
            print(f"milton-desktop: {exc}", file=sys.stderr)
            return exc.code
    from milton_desktop.context import open_context
    from milton_desktop.storage.db import DatabaseError

    try:
        ctx = open_context(
            args.home,
            verbose=args.verbose,
            stderr_logging=args.command == "run" or None,
            check_integrity=args.command not in READ_ONLY,
            database=args.database,
            member=args.member,
        )
    except DatabaseError as exc:
        print(f"milton-desktop: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except OSError as exc:
        print(f"milton-desktop: cannot prepare the data folders: {exc}", file=sys.stderr)
        return EXIT_FAIL
    try:
        return COMMANDS[args.command](ctx, args)
    except CliError as exc:
        print(f"milton-desktop: {exc}", file=sys.stderr)
        return exc.code
    except OperationFailed as exc:
        print(f"milton-desktop: {with_hint(exc)}", file=sys.stderr)
        return EXIT_FAIL
    except UserError as exc:
        print(f"milton-desktop: {with_hint(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseError as exc:
        print(f"milton-desktop: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except Exception as exc:
        if _is_credential_error(exc):
            print(f"milton-desktop: {exc}", file=sys.stderr)
            return EXIT_FAIL
        import peewee

        if isinstance(exc, peewee.PeeweeException | __import__("sqlite3").Error):
            from milton_desktop.storage.db import explain_error

            print(f"milton-desktop: {explain_error(ctx.paths.db_path, exc)}", file=sys.stderr)
            return EXIT_FAIL
        log.exception("unexpected error in %s", args.command)
        print(
            f"milton-desktop: unexpected error ({type(exc).__name__}: {exc}); details in {ctx.log_file}",
            file=sys.stderr,
        )
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
