"""Bringing media into the app: type by content (not by file name), size and
dimensions, and a copy in the media folder named by its content hash.

Media are images, videos and PDF documents (which LinkedIn shows as a carousel)."""

from __future__ import annotations

import functools
import hashlib
import mimetypes
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from milton_desktop.domain.errors import UserError
from milton_desktop.storage import backend

MAX_IMPORT_BYTES = 512 * 1024 * 1024

_EXT = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "application/pdf": ".pdf",
}

#: what to tell someone whose file or link is none of the types above
_TAKEN = "use JPEG, PNG, GIF, WebP, MP4, MOV or PDF"
#: a PDF's end-of-file marker must lie within its last 1024 bytes (PDF 1.7, annex H)
_PDF_TAIL = 1024


class MediaError(UserError):
    """A media file that cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class MediaInfo:
    kind: str
    mime: str
    size: int
    width: int | None
    height: int | None
    sha256: str


def sniff(head: bytes) -> str | None:
    """The MIME type from a file's first bytes, or None when it is not one we take."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def kind_of(mime: str) -> str:
    """The media kind ("image", "video" or "document") of a type :func:`sniff` gives."""
    if mime == "application/pdf":
        return "document"
    return "video" if mime.startswith("video/") else "image"


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) >= 24 and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    return None


def _gif_size(data: bytes) -> tuple[int, int] | None:
    if len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    return None


def _jpeg_size(fh) -> tuple[int, int] | None:
    fh.seek(2)
    while True:
        marker = fh.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        code = marker[1]
        if code in (0xD8, 0x01) or 0xD0 <= code <= 0xD7:
            continue
        seglen = fh.read(2)
        if len(seglen) < 2:
            return None
        length = struct.unpack(">H", seglen)[0]
        if code in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            seg = fh.read(5)
            if len(seg) < 5:
                return None
            h, w = struct.unpack(">HH", seg[1:5])
            return w, h
        fh.seek(length - 2, os.SEEK_CUR)


def _complete(mime: str, path: Path, size: int) -> bool:
    """Cheap checks that a file was not cut short (a half-copied download)."""
    with path.open("rb") as fh:
        if mime == "image/jpeg":
            fh.seek(max(0, size - 2))
            return fh.read(2) == b"\xff\xd9"
        if mime == "image/png":
            fh.seek(max(0, size - 12))
            return fh.read(12)[4:8] == b"IEND"
        if mime == "image/gif":
            fh.seek(max(0, size - 1))
            return fh.read(1) == b"\x3b"
        if mime == "image/webp":
            fh.seek(4)
            declared = struct.unpack("<I", fh.read(4))[0]
            return declared + 8 <= size
        if mime == "application/pdf":
            fh.seek(max(0, size - _PDF_TAIL))
            return b"%%EOF" in fh.read(_PDF_TAIL)
    return True


def inspect(path: Path) -> MediaInfo:
    """Read what a file is. Raises :class:`MediaError` with a clear message."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise MediaError(f"{path}: no such file") from None
    except OSError as exc:
        raise MediaError(f"{path}: cannot read it ({exc.strerror})") from None
    if not path.is_file():
        raise MediaError(f"{path}: not a regular file")
    size = st.st_size
    if size == 0:
        raise MediaError(f"{path}: the file is empty")
    if size > MAX_IMPORT_BYTES:
        raise MediaError(
            f"{path}: {size / 2**20:.0f} MB is larger than any platform accepts (512 MB)"
        )
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
            mime = sniff(head)
            if mime is None:
                raise MediaError(
                    f"{path}: not an image, video or PDF Milton can publish ({_TAKEN})"
                )
            width = height = None
            if mime == "image/png":
                width, height = _png_size(head) or (None, None)
            elif mime == "image/gif":
                width, height = _gif_size(head) or (None, None)
            elif mime == "image/jpeg":
                dims = _jpeg_size(fh)
                if dims is None:
                    raise MediaError(f"{path}: the JPEG file is damaged or cut short")
                width, height = dims
            fh.seek(0)
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise MediaError(f"{path}: cannot read it ({exc.strerror})") from None
    if not _complete(mime, path, size):
        raise MediaError(f"{path}: the file is cut short (incomplete download or copy?)")
    return MediaInfo(kind_of(mime), mime, size, width, height, digest.hexdigest())


def stored_path(info: MediaInfo, media_dir: Path) -> Path:
    """Where :func:`import_file` keeps the copy of a file described by ``info``."""
    return media_dir / f"{info.sha256}{_EXT[info.mime]}"


def import_file(path: Path, media_dir: Path) -> tuple[Path, MediaInfo]:
    """Copy ``path`` into ``media_dir`` under its content hash; returns (stored path, info)."""
    info = inspect(path)
    media_dir.mkdir(parents=True, exist_ok=True)
    target = stored_path(info, media_dir)
    if not target.exists():
        # Copy to a temporary name, then rename: a crash never leaves half a file under the real name.
        fd, tmp = tempfile.mkstemp(dir=media_dir, prefix=".import-")
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise MediaError(f"{path}: cannot copy it into {media_dir} ({exc.strerror})") from None
    if backend.current().is_postgres:  # every machine of the team may need the bytes
        from milton_desktop.storage import media_store

        media_store.put(target, info.sha256, info.mime)
    return target, info


_URL_VIDEO_EXT = {".mp4": "video/mp4", ".mov": "video/quicktime"}
_URL_DOCUMENT_EXT = {".pdf": "application/pdf"}
_URL_IMAGE_EXT = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


@functools.cache
def _known_types() -> mimetypes.MimeTypes:
    """Python's own table of file types: the same on every computer (the system's
    mime.types is not read), and only built when a link is first checked."""
    return mimetypes.MimeTypes()


def _split_link(url: str) -> SplitResult:
    """The parts of a media link, or a MediaError saying what is wrong with it."""
    if any(c.isspace() or not c.isprintable() for c in url):
        raise MediaError(
            f"{url!r} has a space or a control character in it: copy the link again "
            "(a space inside a link is written %20)"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it checks it: a port past 65535 raises
    except ValueError as exc:
        raise MediaError(
            f"{url!r} is not a well-formed link ({exc}): copy the link again"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MediaError(f"{url!r} is not a public http(s) link to an image or video")
    return parts


def describe_url(url: str) -> tuple[str, str]:
    """(kind, mime) of a public media URL, from its extension; JPEG image when it has
    none, or one that names no known type (CDNs serve images from such addresses).

    A ``.pdf`` link is a document. A link whose extension names another type
    (``.html``, ``.zip``) is refused now: taken as an image, it would only fail when
    the platform fetched it.
    """
    parts = _split_link(url)
    ext = os.path.splitext(parts.path)[1].lower()
    if ext in _URL_VIDEO_EXT:
        return "video", _URL_VIDEO_EXT[ext]
    if ext in _URL_IMAGE_EXT:
        return "image", _URL_IMAGE_EXT[ext]
    if ext in _URL_DOCUMENT_EXT:
        return "document", _URL_DOCUMENT_EXT[ext]
    table = _known_types().types_map
    other = table[True].get(ext) or table[False].get(ext)
    if other in _EXT:  # another spelling of a type we take, such as .jpe
        return kind_of(other), other
    if other is not None:
        raise MediaError(
            f"{url!r} links to a {ext} file ({other}), not an image, video or PDF Milton "
            f"can publish ({_TAKEN})"
        )
    return "image", "image/jpeg"
