"""Who is using this client: the member name written on the schedules it makes,
changes and approves.

The name belongs to the client, not to the database: a team database is shared by
everyone, so the name lives in the home's data folder (the file ``member``), like its
install id. ``--member NAME`` overrides it for one command; with neither, it is the
operating system's user name. The operations read it from here (:func:`current`),
never from the window or the command line, so every front end records the same.
"""

from __future__ import annotations

import getpass
import logging
import os
from pathlib import Path

from milton_desktop.domain.errors import UserError

log = logging.getLogger("milton.members")

#: the file in a home's data folder holding its member name
MEMBER_FILE = "member"
#: a name is shown in chips, tooltips and listings: long ones would only be cut
MAX_NAME_LENGTH = 64

_current: str | None = None


def default_name() -> str:
    """The operating system's user name, or ``me`` where it cannot say."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name (a bare container)
        name = ""
    try:
        return check_name(name)
    except UserError:
        return "me"


def check_name(text: str) -> str:
    """``text`` as a member name, trimmed.

    Raises:
        UserError: it is empty, too long or holds control characters.
    """
    name = " ".join(str(text).split())
    if not name:
        raise UserError("the member name is empty: give the name your team knows you by")
    if len(name) > MAX_NAME_LENGTH:
        raise UserError(
            f"the member name is {len(name)} characters long: keep it to {MAX_NAME_LENGTH}"
        )
    if not name.isprintable():
        raise UserError("the member name holds control characters: type it again")
    return name


def saved_name(data_dir: Path) -> str | None:
    """The name kept in this home, or None when none was chosen (or it is unreadable)."""
    try:
        text = (data_dir / MEMBER_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("cannot read the member name in %s: %s", data_dir, exc)
        return None
    try:
        return check_name(text)
    except UserError:
        return None


def save_name(data_dir: Path, name: str) -> str:
    """Keep ``name`` as this home's member name and use it from now on; returns it.

    Raises:
        UserError: the name is not one (see :func:`check_name`), or cannot be written.
    """
    name = check_name(name)
    path = data_dir / MEMBER_FILE
    staged = path.with_suffix(".new")
    try:
        staged.write_text(name + "\n", encoding="utf-8")
        os.replace(staged, path)
    except OSError as exc:
        raise UserError(
            f"cannot keep the member name in {data_dir}: {exc.strerror}; check the folder"
        ) from None
    use(name)
    return name


def resolve(data_dir: Path, given: str | None = None) -> str:
    """The member this client acts as: ``given`` (``--member``), else the home's saved
    name, else the operating system's user name.

    Raises:
        UserError: ``given`` is not a name.
    """
    if given is not None:
        return check_name(given)
    return saved_name(data_dir) or default_name()


def use(name: str) -> None:
    """Act as ``name`` from now on (the context does this once at start-up)."""
    global _current
    _current = check_name(name)


def current() -> str:
    """The member the operations record as the author of what they change."""
    return _current if _current is not None else default_name()
