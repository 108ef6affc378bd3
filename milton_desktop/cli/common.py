"""What every command group shares: exit codes, errors, argument types and output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any, NoReturn

from milton_desktop.domain.errors import Hint, UserError

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


#: what to do next, in this command line's words
HINTS: dict[Hint, str] = {
    Hint.LIST_POSTS: "see `milton-desktop post list`",
    Hint.LIST_SCHEDULES: "see `milton-desktop list`",
    Hint.ADD_ACCOUNT: "add one with `milton-desktop account add`",
    Hint.RESOLVE_UNCERTAIN: "`milton-desktop resolve ID --published` or `--not-published`",
    Hint.PUBLIC_URL: "give it with --media-url",
    Hint.FORCE_REMOVE: "or pass --force to cancel them with the account",
    Hint.SET_QUEUE: 'add them with `milton-desktop queue set ACCOUNT --slot "MO 09:00"`',
    Hint.SET_UP_ASSISTANT: "`milton-desktop ai set --base-url URL --model NAME [--key-stdin]`",
}


def with_hint(exc: UserError) -> str:
    """A core message followed by this command line's words for its hint."""
    words = HINTS.get(exc.hint) if exc.hint is not None else None
    return f"{exc} ({words})" if words else str(exc)


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line, with where to look next
        if "expected one argument" in message:
            message += " (for a value that starts with '-', write it as --option=VALUE)"
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}; see `{self.prog} --help`\n")


def row_id(text: str) -> int:
    """An id as the database can hold it (a positive 64-bit integer)."""
    if not (text.isascii() and text.lstrip("-").isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (a whole number)")
    value = int(text)
    if not 1 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{text} is not an id: ids are whole numbers from 1")
    return value


def member_name(text: str) -> str:
    """A member name as ``--member`` takes it."""
    from milton_desktop.operations.members import check_name

    try:
        return check_name(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def seconds(text: str) -> int:
    """A whole number of seconds (the range is checked with the post)."""
    if not (text.isascii() and text.lstrip("-").isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (a whole number)")
    return int(text)


# ---------------------------------------------------------------- output


def out(data: Any, as_json: bool, human: str) -> None:
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(human)


def zone_name() -> str:
    from milton_desktop.storage import settings

    return settings.get("timezone") or "UTC"


def local(dt: datetime | None) -> str:
    from milton_desktop.domain.timeutil import get_zone

    if dt is None:
        return "-"
    return dt.astimezone(get_zone(zone_name())).strftime("%Y-%m-%d %H:%M %Z")


def short(text: str, n: int = 40) -> str:
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 1] + "…"


def table(rows: list[list[str]], header: list[str]) -> str:
    if not rows:
        return "(none)"
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    return "\n".join(lines)


#: rows written to stdout at once by json_array_out
JSON_CHUNK_ROWS = 2000


def json_array_out(items: Iterator[str]) -> None:
    """A JSON array of already-encoded items, written as the rows arrive (the same
    text json.dumps writes for the list), so a large listing is never one string."""
    out = sys.stdout
    out.write("[")
    chunk: list[str] = []
    first = True
    for item in items:
        chunk.append(item)
        if len(chunk) >= JSON_CHUNK_ROWS:
            out.write(("" if first else ", ") + ", ".join(chunk))
            chunk.clear()
            first = False
    if chunk:
        out.write(("" if first else ", ") + ", ".join(chunk))
    out.write("]\n")
