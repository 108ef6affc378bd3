"""A picture of a linked image for the editor: fetched once, kept on disk for a week.

A post can carry an image by its public link (Instagram only takes those). The
editor shows what the link points at instead of a grey box, so a wrong link is seen
while writing, not when the platform fails to fetch it. The fetch goes through the
publishers' download (total deadline, size cap, redirects by hand, no platform
header sent) and the file lands in the media folder's ``previews`` folder, named by
the link's hash and readable by the user alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

from milton_desktop.domain.errors import UserError
from milton_desktop.publishers import http
from milton_desktop.publishers.base import PublishError
from milton_desktop.storage import media as media_mod

if TYPE_CHECKING:
    import requests

log = logging.getLogger("milton.media")

#: a preview bigger than this is not worth the wait (a real post's image is smaller)
PREVIEW_CAP = 20 * 1024 * 1024
#: a week: links rarely change what they show, and a stale picture is only a preview
FRESH_SECONDS = 7 * 24 * 3600
_TIMEOUT = (5.0, 15.0)


def preview_path(url: str, media_dir: Path) -> Path:
    """Where the picture of ``url`` is kept."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
    return media_dir / "previews" / digest


def fetch_preview(url: str, media_dir: Path, *, session: requests.Session | None = None) -> Path:
    """The file holding the image ``url`` links to, fetched unless a fresh copy is kept.

    Raises:
        UserError: the link is not an image link, or it could not be fetched; the
            message says why, in the words a publish would use.
    """
    try:
        kind, _mime = media_mod.describe_url(url)
    except media_mod.MediaError as exc:
        raise UserError(str(exc)) from None
    if kind != "image":
        raise UserError(f"{http.safe_url(url)} links to a {kind}: only images get a preview")
    target = preview_path(url, media_dir)
    with contextlib.suppress(OSError):
        if time.time() - target.stat().st_mtime < FRESH_SECONDS:
            return target
    host = urlsplit(url).netloc.rsplit("@", 1)[-1]
    import requests

    own = session is None
    client = session or requests.Session()
    try:
        with contextlib.ExitStack() as stack:
            got = http.download(
                client,
                url,
                what=f"fetching a preview from {host}",
                label="the linked image",
                cap=PREVIEW_CAP,
                timeout=_TIMEOUT,
                stack=stack,
                platform="the preview",
                log=log,
            )
            if got.content_type and not got.content_type.startswith("image/"):
                raise UserError(
                    f"{http.safe_url(url)} serves {got.content_type}, not an image: "
                    "check that the link opens the picture itself"
                )
            _keep(got.file, target)
    except PublishError as exc:
        raise UserError(f"no preview of {http.safe_url(url)}: {exc}") from None
    finally:
        if own:
            client.close()
    return target


def _keep(source: IO[bytes], target: Path) -> None:
    """Write ``source`` to ``target`` in one step, readable by the user alone."""
    import shutil

    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(source, out)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
