"""The outcome journal: what the platform said, kept on disk until the database has it.

The result of a publish is the truth about the platform. Before the engine commits
it, it writes it here (one small file per result, fsync'd, private to the user), and
removes the file once the commit landed. If the commit has to wait (another process
holds the database's write lock) and the process dies meanwhile, the next engine to
start finds the file and records the result before it decides that a row left in
``publishing`` was interrupted. A result recorded twice is impossible: the file's key
is stored with the result and is unique.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from milton_desktop.engine.liveness import worker_key

log = logging.getLogger("milton.scheduler")

#: the folder (inside the data folder) holding results not yet in the database
FOLDER = "journal"
_VERSION = 1


@dataclass(frozen=True)
class Settlement:
    """How one attempt ends, as the database must record it."""

    schedule_id: int
    #: the claim this result belongs to (``scheduled_posts.claimed_by``)
    worker_id: str
    #: the ``publishing_results`` row
    result: dict[str, Any]
    #: what changes on the ``scheduled_posts`` row
    changes: dict[str, Any]
    #: an account the platform stopped accepting (``needs_reconnect``)
    reconnect_account: int | None = None
    key: str = field(default_factory=lambda: secrets.token_hex(12))

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": _VERSION,
                "key": self.key,
                "schedule_id": self.schedule_id,
                "worker_id": self.worker_id,
                "result": self.result,
                "changes": self.changes,
                "reconnect_account": self.reconnect_account,
            },
            default=_encode,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Settlement:
        data = json.loads(text, object_hook=_decode)
        if data.get("v") != _VERSION:
            raise ValueError(f"unknown journal entry version {data.get('v')!r}")
        return cls(
            schedule_id=int(data["schedule_id"]),
            worker_id=str(data["worker_id"]),
            result=dict(data["result"]),
            changes=dict(data["changes"]),
            reconnect_account=data.get("reconnect_account"),
            key=str(data["key"]),
        )

    @property
    def outcome(self) -> str:
        return str(self.result.get("outcome"))


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        return {"$utc": value.astimezone(UTC).isoformat()}
    raise TypeError(f"cannot keep {type(value).__name__} in the journal")


def _decode(obj: dict[str, Any]) -> object:
    if obj.keys() == {"$utc"}:
        return datetime.fromisoformat(obj["$utc"]).astimezone(UTC)
    return obj


class Journal:
    """One folder of entries, shared by every engine of one database."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def write(self, settlement: Settlement) -> Path:
        """Keep ``settlement`` durably; returns its file.

        Raises:
            OSError: it could not be written (the caller commits all the same).
        """
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{worker_key(settlement.worker_id)}.{settlement.schedule_id}.{settlement.key}"
        final = self.folder / f"{name}.json"
        partial = self.folder / f"{name}.part"
        data = settlement.to_json().encode("utf-8")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _O_BINARY, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        # a complete entry or none: a reader never sees half of one
        os.replace(partial, final)
        _sync_folder(self.folder)
        return final

    def remove(self, path: Path) -> None:
        # not synced: an entry that comes back after a power cut is replayed, and a
        # replay of a result already recorded changes nothing
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def entries(self, worker_id: str | None = None) -> list[tuple[Path, Settlement]]:
        """The entries waiting (of one worker, or all), oldest first."""
        pattern = f"{worker_key(worker_id)}.*.json" if worker_id else "*.json"
        try:
            paths = sorted(self.folder.glob(pattern), key=_mtime)
        except OSError:
            return []
        found = []
        for path in paths:
            try:
                settlement = Settlement.from_json(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue  # another engine recorded it meanwhile
            except (OSError, ValueError, KeyError, TypeError) as exc:
                aside = path.with_suffix(".unreadable")
                log.error(
                    "the journal entry %s cannot be read (%s); moved to %s", path, exc, aside.name
                )
                with contextlib.suppress(OSError):
                    os.replace(path, aside)
                continue
            if worker_id is None or settlement.worker_id == worker_id:
                found.append((path, settlement))
        return found

    def workers(self) -> set[str]:
        """The workers with entries waiting."""
        return {s.worker_id for _, s in self.entries()}

    def discard_partial(self, worker_id: str) -> None:
        """Remove what a dead worker was writing when it died (never a complete entry)."""
        with contextlib.suppress(OSError):
            for path in self.folder.glob(f"{worker_key(worker_id)}.*.part"):
                path.unlink()


_O_BINARY = getattr(os, "O_BINARY", 0)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _sync_folder(folder: Path) -> None:
    """Make the new name durable too (POSIX; Windows has no handle for a folder)."""
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
