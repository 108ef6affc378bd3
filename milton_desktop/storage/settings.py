"""Preferences, each declared once with its default, kept in the ``settings`` table."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from milton_desktop.domain.status import MAILED_OUTCOMES
from milton_desktop.storage import backend
from milton_desktop.storage.models import Setting, database

#: the file in a home's data folder holding its install id in team mode: each home is
#: a machine of its own, so the id cannot live in the shared database
INSTALL_ID_FILE = "install-id"


@dataclass(frozen=True)
class Option:
    key: str
    default: Any
    label: str


def _default_zone() -> str:
    from milton_desktop.domain.timeutil import local_zone_name

    return local_zone_name()


OPTIONS: dict[str, Option] = {
    o.key: o
    for o in (
        Option("timezone", None, "Time zone for showing and entering times"),
        Option("default_post_time", "10:00", "Default posting time for drops on a day"),
        Option("grace_minutes", 120, "Publish late posts up to this many minutes after their time"),
        Option("max_attempts", 5, "Attempts before a temporary failure becomes final"),
        Option("notify_published", True, "Notify when a post is published"),
        Option("notify_failed", True, "Notify when a post fails"),
        Option("notify_uncertain", True, "Notify when a post's outcome is unknown"),
        Option("notify_reconnect", True, "Notify when an account needs reconnecting"),
        Option("start_at_login", False, "Start Milton Desktop at login, in the tray"),
        # on by default: the schedule and its media live only on this computer, and a
        # daily archive is what lets a user recover from a deleted folder or a bad disk
        Option("auto_backup", True, "Back up the database and media once a day"),
        Option("auto_backup_keep", 14, "Automatic backups to keep (the oldest go first)"),
        Option("auto_backup_folder", "", "Folder for automatic backups (empty: backups/)"),
        # email notifications (the SMTP password is in the keyring, never here)
        Option("mail_enabled", False, "Send email notifications"),
        Option("mail_smtp_host", "", "SMTP server"),
        Option("mail_smtp_port", 587, "SMTP port"),
        Option("mail_security", "starttls", "SMTP security: starttls, ssl or none"),
        Option("mail_user", "", "SMTP user name (empty: no sign-in)"),
        Option("mail_from", "", "Send notifications from this address"),
        Option("mail_to", "", "Send notifications to this address"),
        Option(
            "mail_on",
            [str(s) for s in MAILED_OUTCOMES],
            "Mail these outcomes: published, failed, uncertain, missed, weekly",
        ),
    )
}


def get(key: str) -> Any:
    option = OPTIONS[key]
    row = Setting.get_or_none(Setting.key == key)
    if row is None:
        return _default_zone() if key == "timezone" else option.default
    return json.loads(row.value)


def set_value(key: str, value: Any) -> None:
    if key not in OPTIONS:
        raise KeyError(f"unknown setting {key!r}")
    _upsert(key, json.dumps(value))


def all_values() -> dict[str, Any]:
    """Every preference, in one query (the tray reads them for each outcome)."""
    stored = {
        key: value
        for key, value in database.execute_sql(
            f"SELECT key, value FROM settings WHERE key IN ({', '.join('?' * len(OPTIONS))})",
            list(OPTIONS),
        )
    }
    out: dict[str, Any] = {}
    for key, option in OPTIONS.items():
        if key in stored:
            out[key] = json.loads(stored[key])
        else:
            out[key] = _default_zone() if key == "timezone" else option.default
    return out


def install_id() -> str:
    """A random id for this data folder, made once; scopes keyring entries to it.

    Kept in the database of a home's own SQLite file; in team mode in the home's data
    folder (:func:`machine_install_id`), as the database is every machine's.
    """
    on = backend.current()
    if on.is_postgres and on.local_dir is not None:
        return machine_install_id(on.local_dir)
    # read first: every command asks for it at start-up, and a read-only one must not
    # wait for another process's write lock
    row = Setting.get_or_none(Setting.key == "_install_id")
    if row is not None:
        return json.loads(row.value)
    with database.atomic():
        row = Setting.get_or_none(Setting.key == "_install_id")
        if row is None:
            value = secrets.token_hex(8)
            Setting.insert(
                key="_install_id", value=json.dumps(value)
            ).on_conflict_ignore().execute()
            row = Setting.get(Setting.key == "_install_id")
    return json.loads(row.value)


def machine_install_id(data_dir: Path) -> str:
    """The install id of the home whose data folder is ``data_dir``, made once."""
    path = data_dir / INSTALL_ID_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    value = secrets.token_hex(8)
    staged = path.with_suffix(f".{os.getpid()}.new")
    staged.write_text(value + "\n", encoding="ascii")
    try:  # two processes starting at once: the first one's id wins, and both use it
        os.link(staged, path)
    except FileExistsError:
        pass
    finally:
        staged.unlink(missing_ok=True)
    return path.read_text(encoding="ascii").strip()


def platform_state(platform: str) -> dict[str, str]:
    """What a platform's publisher learned in earlier runs (see ``Publisher.state``)."""
    value = get_internal(f"platform:{platform}", {})
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def remember_platform_state(platform: str, learned: dict[str, str]) -> None:
    """Keep what a publisher learned, for every later publisher of that platform."""
    if not learned:
        return
    with database.atomic():
        set_internal(f"platform:{platform}", {**platform_state(platform), **learned})


def get_internal(key: str, default: Any = None) -> Any:
    row = Setting.get_or_none(Setting.key == f"_{key}")
    return default if row is None else json.loads(row.value)


def set_internal(key: str, value: Any) -> None:
    _upsert(f"_{key}", json.dumps(value))


def _upsert(key: str, text: str) -> None:
    """Write one setting, replacing what was there (an upsert both engines speak)."""
    Setting.insert(key=key, value=text).on_conflict(
        conflict_target=[Setting.key], update={Setting.value: text}
    ).execute()
