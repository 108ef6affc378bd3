"""Team mode: media bytes in the database, so any machine can use any post's media.

A home's own SQLite database keeps media as files in the home's media folder, as it
always did. On a team database the file a machine copies into its media folder is
also written to ``media_blobs`` (content-addressed by its SHA-256, in chunks so a
large video is never one huge value in memory or on the wire), and a machine that
needs a file it does not have (to publish it, show it, export it) fetches it into its
own cache, ``<data folder>/media-cache/``, under the same name. A media row keeps the
path it was stored under on the machine that added it; its file name is the hash.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

from milton_desktop.storage import backend
from milton_desktop.storage.models import MediaBlob

log = logging.getLogger("milton.media")

#: the size of one stored chunk
CHUNK = 4 * 1024 * 1024

#: the cache folder in a machine's data folder
CACHE_DIR = "media-cache"

_HASHED_NAME = re.compile(r"^([0-9a-f]{64})(\.[a-z0-9]+)?$")


def sha256_of(stored: str | Path) -> str | None:
    """The content hash a stored media file is named by, or None for another name."""
    found = _HASHED_NAME.match(Path(stored).name)
    return found.group(1) if found else None


def has(sha256: str) -> bool:
    return MediaBlob.select().where(MediaBlob.sha256 == sha256).exists()


def put(path: Path, sha256: str, mime: str) -> bool:
    """Store the file at ``path`` (whose hash is ``sha256``) unless it is stored
    already; True when it was written now. Each chunk is its own short statement in
    one transaction: the file appears whole or not at all."""
    if has(sha256):
        return False
    size = path.stat().st_size
    digest = hashlib.sha256()
    # the database the table is bound to (the team's, also while migrate-to fills one)
    with MediaBlob._meta.database.atomic():
        if has(sha256):  # another machine stored it while this one read the file
            return False
        with path.open("rb") as fh:
            for seq, chunk in enumerate(iter(lambda: fh.read(CHUNK), b"")):
                digest.update(chunk)
                MediaBlob.insert(sha256=sha256, seq=seq, size=size, mime=mime, data=chunk).execute()
        if digest.hexdigest() != sha256:
            raise ValueError(f"{path} changed while it was stored: add it again")
    log.info("media %s… stored in the team database (%d bytes)", sha256[:12], size)
    return True


def write_to(sha256: str, target: Path) -> bool:
    """Write the stored file ``sha256`` to ``target`` (under a temporary name, checked
    against its hash, then renamed); False when the database does not hold it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".fetch-")
    digest = hashlib.sha256()
    found = False
    try:
        with os.fdopen(fd, "wb") as out:
            last = -1
            while True:
                # one chunk per query: a large file is never read into memory whole
                row = (
                    MediaBlob.select(MediaBlob.seq, MediaBlob.data)
                    .where((MediaBlob.sha256 == sha256) & (MediaBlob.seq > last))
                    .order_by(MediaBlob.seq)
                    .limit(1)
                    .first()
                )
                if row is None:
                    break
                found = True
                data = bytes(row.data)
                digest.update(data)
                out.write(data)
                last = row.seq
        if not found:
            return False
        if digest.hexdigest() != sha256:
            raise OSError(f"the stored media {sha256[:12]}… does not match its hash")
        os.replace(tmp, target)
        return True
    finally:
        Path(tmp).unlink(missing_ok=True)


def local_path(stored: str | Path) -> Path:
    """Where this machine finds the media file stored as ``stored``: that path when it
    is here (always, on a home's own database), else on a team database this machine's
    cached copy, fetched from the database when first needed. A file found nowhere
    comes back as ``stored``: whoever reads it says it is missing."""
    path = Path(stored)
    on = backend.current()
    if not on.is_postgres or on.local_dir is None or path.is_file():
        return path
    sha256 = sha256_of(path)
    if sha256 is None:
        return path
    cached = on.local_dir / CACHE_DIR / path.name
    if cached.is_file():
        return cached
    try:
        if write_to(sha256, cached):
            log.info("media %s… fetched from the team database", sha256[:12])
            return cached
    except OSError as exc:
        log.warning("could not fetch media %s… from the team database: %s", sha256[:12], exc)
    return path
