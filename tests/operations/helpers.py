"""What the operations tests share: a fixed clock, a tiny JPEG, a schedule and a status."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path

from milton_desktop.domain.clock import FakeClock
from milton_desktop.operations import schedules
from milton_desktop.storage.models import Account, Media, Post, ScheduledPost

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
LATER = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


def jpeg(path: Path, w: int = 800, h: int = 800) -> Path:
    """The smallest file media.inspect takes as a complete JPEG of w×h."""
    sof = b"\xff\xc0" + struct.pack(">HBHH", 11, 8, h, w) + b"\x01\x01\x11\x00"
    path.write_bytes(b"\xff\xd8" + sof + b"\xff\xd9")
    return path


def schedule_later(post: Post, account: Account, clock: FakeClock, **kwargs) -> ScheduledPost:
    return schedules.schedule(
        post.id, account, LATER, timezone="Europe/Paris", clock=clock, **kwargs
    )


def set_status(row: ScheduledPost, status: str, **fields) -> None:
    ScheduledPost.update(status=status, **fields).where(ScheduledPost.id == row.id).execute()


def media_of(post: Post) -> list[tuple]:
    return [
        (m.id, m.position, m.path, m.url, m.alt_text, m.original_name)
        for m in Media.select().where(Media.post == post.id).order_by(Media.position)
    ]
