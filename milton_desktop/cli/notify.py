"""``milton-desktop notify``: email notifications (set up, test, show, turn off)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from milton_desktop.cli.common import EXIT_OK, CliError, Parser, out
from milton_desktop.domain.status import MailState

if TYPE_CHECKING:
    from milton_desktop.context import AppContext

_EVENTS = "published,failed,uncertain,missed,weekly"


def add_parsers(sub: Any) -> None:
    n = sub.add_parser("notify", help="email notifications: when a post goes out or goes wrong")
    n_sub = n.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    e = n_sub.add_parser(
        "email",
        help="mail me about outcomes through this SMTP server (the password goes to the keyring)",
    )
    e.add_argument("--smtp-host", required=True, metavar="HOST", help="e.g. smtp.example.com")
    e.add_argument(
        "--smtp-port",
        metavar="N",
        help="default: 587 for starttls, 465 for ssl, 25 for none",
    )
    e.add_argument(
        "--security",
        default="starttls",
        metavar="starttls|ssl|none",
        help="STARTTLS (the default), TLS from the start (ssl), or none (a relay on this "
        "computer only)",
    )
    e.add_argument("--user", metavar="USER", help="sign in as USER (with --password-stdin)")
    e.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the SMTP password from stdin's first line (kept in the keyring only)",
    )
    e.add_argument("--from", dest="sender", required=True, metavar="ADDR", help="sender address")
    e.add_argument("--to", required=True, metavar="ADDR", help="where the mails go")
    e.add_argument(
        "--on",
        metavar="EVENTS",
        help=f"comma-separated, among {_EVENTS} (default: published,failed,uncertain,missed; "
        "weekly is a summary on Mondays at 08:00)",
    )
    e.add_argument("--json", action="store_true")
    t = n_sub.add_parser("test", help="send a test message now and show the server's answer")
    t.add_argument("--json", action="store_true")
    n_sub.add_parser("off", help="stop sending email notifications")
    s = n_sub.add_parser("show", help="the email settings (never the password) and the outbox")
    s.add_argument("--json", action="store_true")


def _read_password() -> str:
    if sys.stdin is None or sys.stdin.closed:
        raise CliError(
            "--password-stdin reads the password from stdin: pipe it in, e.g. "
            "`printf '%s\\n' \"$SMTP_PASSWORD\" | milton-desktop notify email ...`"
        )
    if sys.stdin.isatty():  # typed, not echoed
        import getpass

        return getpass.getpass("SMTP password: ")
    try:
        line = sys.stdin.readline()
    except UnicodeDecodeError:
        raise CliError("the password on stdin is not text (its bytes are not UTF-8)") from None
    password = line.rstrip("\r\n")
    if not password:
        raise CliError("no password on stdin: the first line must hold the SMTP password")
    return password


def cmd_notify(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.operations import notify_mail

    if args.action == "email":
        if args.password_stdin and not args.user:
            raise CliError("--password-stdin needs --user: the name to sign in with")
        password = _read_password() if args.password_stdin else None
        config = notify_mail.configure(
            ctx.credentials,
            host=args.smtp_host,
            port=args.smtp_port,
            security=args.security,
            user=args.user,
            password=password,
            sender=args.sender,
            to=args.to,
            events=args.on,
        )
        signed = (
            f", signing in as {config.user}" + (" (password in the keyring)" if password else "")
            if config.user
            else ""
        )
        out(
            notify_mail.show(ctx.credentials),
            args.json,
            f"email notifications on: {', '.join(config.events)} to {config.to}, through "
            f"{config.host}:{config.port} ({config.security}){signed}. "
            "Try it with `milton-desktop notify test`",
        )
        return EXIT_OK
    if args.action == "test":
        answer = notify_mail.send_test(ctx.credentials)
        out(
            {"code": answer.code, "text": answer.text},
            args.json,
            f"the server accepted the test message: {answer}",
        )
        return EXIT_OK
    if args.action == "off":
        dropped = notify_mail.turn_off()
        tail = f"; {dropped} waiting mail(s) dropped" if dropped else ""
        print(f"email notifications off{tail} (`milton-desktop notify email ...` turns them on)")
        return EXIT_OK
    shown = notify_mail.show(ctx.credentials)
    if args.json:
        out({**shown, "problems": notify_mail.problem_rows()}, True, "")
        return EXIT_OK
    print(_describe(shown))
    for row in notify_mail.problem_rows(10):
        print(
            f"  mail {row['id']} ({row['event']}, schedule {row['schedule_id'] or '-'}) "
            f"{row['status']}: {row['error']}"
        )
    return EXIT_OK


def _describe(shown: dict[str, Any]) -> str:
    mail = shown["mail"]
    counts = (
        f"outbox:   {mail[MailState.SENT]} sent, {mail[MailState.PENDING]} waiting, "
        f"{mail[MailState.FAILED]} not sent, {mail[MailState.UNKNOWN]} unknown"
    )
    if not shown.get("configured"):
        return (
            "email notifications: not set up (`milton-desktop notify email --smtp-host HOST "
            "--from ADDR --to ADDR`)"
        )
    user = shown["user"] or "(no sign-in)"
    if shown["user"]:
        user += " (password stored)" if shown["password_stored"] else " (no password stored)"
    lines = [
        f"email notifications: {'on' if shown['enabled'] else 'off'}",
        f"server:   {shown['smtp_host']}:{shown['smtp_port']} ({shown['security']})",
        f"user:     {user}",
        f"from:     {shown['from']}",
        f"to:       {shown['to']}",
        f"on:       {', '.join(shown['on'])}",
        counts,
    ]
    if mail["last_error"]:
        lines.append(f"last error: {mail['last_error']}")
    return "\n".join(lines)


COMMANDS = {"notify": cmd_notify}
