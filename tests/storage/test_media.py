"""Bringing media in: the type read from the bytes (never the file name), cut-short files
refused with a clear message, copies named by content hash, and public links checked."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import pytest

from milton_desktop.storage import media
from milton_desktop.storage.media import MediaError, describe_url, import_file, inspect, sniff
from tests.fakes.instagram import make_jpeg


def make_png(width: int = 4, height: int = 3) -> bytes:
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def make_gif(width: int = 5, height: int = 7) -> bytes:
    # header, screen descriptor, no colour table, and the trailer (0x3B)
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00" + b"\x3b"


def make_webp() -> bytes:
    body = b"WEBP" + b"VP8L" + struct.pack("<I", 6) + b"\x2f\x00\x00\x00\x00\x00"
    return b"RIFF" + struct.pack("<I", len(body)) + body


def make_mp4(brand: bytes = b"isom") -> bytes:
    return b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x02\x00" + brand + b"iso2" + bytes(256)


def make_pdf(pages: int = 1) -> bytes:
    body = b"".join(b"%d 0 obj\n<< /Type /Page >>\nendobj\n" % (n + 1) for n in range(pages))
    return b"%PDF-1.7\n" + body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- the type, by content


@pytest.mark.parametrize(
    ("data", "misleading_name", "mime", "kind", "size"),
    [
        (make_jpeg(640, 480), "photo.png", "image/jpeg", "image", (640, 480)),
        (make_png(4, 3), "photo.jpg", "image/png", "image", (4, 3)),
        (make_gif(5, 7), "animation.mp4", "image/gif", "image", (5, 7)),
        (make_webp(), "picture.gif", "image/webp", "image", (None, None)),
        (make_mp4(), "clip.jpg", "video/mp4", "video", (None, None)),
        (make_mp4(b"qt  "), "clip.mp4", "video/quicktime", "video", (None, None)),
        (make_pdf(), "slides.png", "application/pdf", "document", (None, None)),
    ],
    ids=["jpeg", "png", "gif", "webp", "mp4", "mov", "pdf"],
)
def test_the_type_comes_from_the_bytes_not_the_name(
    tmp_path, data, misleading_name, mime, kind, size
):
    info = inspect(write(tmp_path / misleading_name, data))
    assert (info.mime, info.kind, (info.width, info.height)) == (mime, kind, size)
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()


def test_sniff_takes_only_what_can_be_published():
    assert sniff(b"%PDF-1.7\n") == "application/pdf"
    assert sniff(b"PDF-1.7 %") is None  # the magic must open the file
    assert sniff(b"RIFF\x24\x00\x00\x00WAVEfmt ") is None  # RIFF, but sound, not WebP
    assert sniff(b"<html><body>") is None
    assert sniff(b"") is None


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.jpg", b"just some text, not an image", "not an image, video or PDF Milton can"),
        ("report.pdf", b"PK\x03\x04 a zip, named as a PDF", "not an image, video or PDF Milton"),
        ("letter.pdf", b"<html><body>Sign in</body></html>", "not an image, video or PDF"),
        ("empty.jpg", b"", "the file is empty"),
    ],
)
def test_a_file_that_is_no_media_is_refused_whatever_its_name(tmp_path, name, data, message):
    path = write(tmp_path / name, data)
    with pytest.raises(MediaError, match=message) as refused:
        inspect(path)
    assert str(path) in str(refused.value)  # the message says which file


def test_a_missing_file_or_a_folder_is_refused(tmp_path):
    with pytest.raises(MediaError, match="no such file"):
        inspect(tmp_path / "gone.jpg")
    (tmp_path / "folder.jpg").mkdir()
    with pytest.raises(MediaError, match="not a regular file"):
        inspect(tmp_path / "folder.jpg")


# ---------------------------------------------------------------- cut short


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (make_jpeg(64, 64)[:-2], "the file is cut short"),  # no end-of-image marker
        (make_jpeg(64, 64)[:60], "the JPEG file is damaged or cut short"),  # before its size
        (make_png()[:-12], "the file is cut short"),  # no IEND chunk
        (make_gif()[:-1], "the file is cut short"),  # no trailer
        (make_webp()[:-4], "the file is cut short"),  # shorter than its RIFF header says
        (make_pdf(40)[:-200], "the file is cut short"),  # no %%EOF at its end
    ],
    ids=["jpeg end", "jpeg header", "png", "gif", "webp", "pdf"],
)
def test_a_truncated_file_is_refused_clearly(tmp_path, data, message):
    path = write(tmp_path / "download.bin", data)
    with pytest.raises(MediaError, match=message) as refused:
        inspect(path)
    assert str(path) in str(refused.value)
    media_dir = tmp_path / "media"
    with pytest.raises(MediaError):
        import_file(path, media_dir)
    assert not media_dir.exists() or list(media_dir.iterdir()) == []  # nothing half-copied


# ---------------------------------------------------------------- importing


def test_import_copies_into_the_media_folder_under_the_content_hash(tmp_path):
    data = make_png(8, 8)
    original = write(tmp_path / "holiday.jpg", data)  # a PNG, whatever the name says
    media_dir = tmp_path / "home" / "media"  # not there yet: made on first import

    stored, info = import_file(original, media_dir)

    assert stored == media_dir / f"{hashlib.sha256(data).hexdigest()}.png"
    assert stored.read_bytes() == data
    assert (info.mime, info.width, info.height) == ("image/png", 8, 8)
    assert original.read_bytes() == data  # the user's file is left alone


def test_a_pdf_is_imported_as_a_document_under_its_content_hash(tmp_path):
    data = make_pdf(3)
    original = write(tmp_path / "Quarterly deck.pdf", data)

    stored, info = import_file(original, tmp_path / "media")

    assert stored == tmp_path / "media" / f"{hashlib.sha256(data).hexdigest()}.pdf"
    assert stored.read_bytes() == data
    assert (info.kind, info.mime, info.size) == ("document", "application/pdf", len(data))
    assert (info.width, info.height) == (None, None)


def test_the_same_file_imported_twice_is_stored_once(tmp_path):
    data = make_jpeg(32, 32)
    first = write(tmp_path / "a.jpg", data)
    renamed = write(tmp_path / "copy of a.jpeg", data)
    media_dir = tmp_path / "media"

    stored_1, _ = import_file(first, media_dir)
    stored_2, _ = import_file(first, media_dir)
    stored_3, _ = import_file(renamed, media_dir)

    assert stored_1 == stored_2 == stored_3
    assert list(media_dir.iterdir()) == [stored_1]  # one file, and no temporary copy left
    other, _ = import_file(write(tmp_path / "b.jpg", make_jpeg(16, 16)), media_dir)
    assert sorted(media_dir.iterdir()) == sorted([stored_1, other])


class WatchedPath(type(Path())):  # type: ignore[misc]
    """A path that records every time it is opened."""

    opened: list[Path] = []

    def open(self, *args, **kwargs):
        WatchedPath.opened.append(self)
        return super().open(*args, **kwargs)


def test_a_file_over_the_limit_is_refused_without_being_read(tmp_path, monkeypatch):
    data = make_jpeg(64, 64, padding=2000)
    monkeypatch.setattr(media, "MAX_IMPORT_BYTES", len(data) - 1)
    WatchedPath.opened = []
    path = WatchedPath(write(tmp_path / "big.jpg", data))
    media_dir = tmp_path / "media"

    with pytest.raises(MediaError, match="larger than any platform accepts"):
        inspect(path)
    with pytest.raises(MediaError, match="larger than any platform accepts"):
        import_file(path, media_dir)

    # the size comes from the file system: a 4 GB video is refused at once, not hashed
    assert WatchedPath.opened == []
    assert not media_dir.exists() or list(media_dir.iterdir()) == []

    monkeypatch.setattr(media, "MAX_IMPORT_BYTES", len(data))  # exactly at the limit: fine
    assert inspect(path).size == len(data)


# ---------------------------------------------------------------- public links


@pytest.mark.parametrize(
    ("url", "described"),
    [
        ("https://cdn.example.com/a.jpg", ("image", "image/jpeg")),
        ("https://cdn.example.com/a.JPEG", ("image", "image/jpeg")),
        ("https://cdn.example.com/a.png", ("image", "image/png")),
        ("https://cdn.example.com/a.gif", ("image", "image/gif")),
        ("https://cdn.example.com/a.webp", ("image", "image/webp")),
        ("https://cdn.example.com/clip.mp4?sig=abc&exp=1", ("video", "video/mp4")),
        ("https://cdn.example.com/clip.mov#t=3", ("video", "video/quicktime")),
        ("https://cdn.example.com/a.jpe", ("image", "image/jpeg")),  # an old spelling
        ("https://example.com/report.pdf", ("document", "application/pdf")),
        ("https://example.com/Deck.PDF?dl=1", ("document", "application/pdf")),
        # CDNs often serve images from addresses without an extension, or from scripts
        ("https://images.example.com/photo/12345?w=1080", ("image", "image/jpeg")),
        ("https://example.com/thumb.php?id=3", ("image", "image/jpeg")),
    ],
)
def test_a_public_link_is_described_by_its_extension(url, described):
    assert describe_url(url) == described


@pytest.mark.parametrize(
    "url",
    [
        "ftp://cdn.example.com/a.jpg",
        "file:///home/me/a.jpg",
        "cdn.example.com/a.jpg",
        "https:///a.jpg",
        "javascript:alert(1)",
        "",
    ],
)
def test_a_link_that_is_not_a_web_address_is_refused(url):
    with pytest.raises(MediaError, match="is not a public http\\(s\\) link to an image or video"):
        describe_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/page.html",
        "https://example.com/notes.txt",
        "https://example.com/logo.svg",
        "https://example.com/song.mp3",
        "https://example.com/photos.zip",
    ],
)
def test_a_link_to_something_that_is_no_image_or_video_is_refused(url):
    # taken as a JPEG, it would only fail when the platform fetches it, hours later
    with pytest.raises(MediaError, match="not an image, video or PDF Milton can publish"):
        describe_url(url)
