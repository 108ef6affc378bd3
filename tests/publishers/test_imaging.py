"""Reducing an image to a byte limit: real pictures made with Pillow, decoded again."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from milton_desktop.publishers import imaging
from milton_desktop.publishers.imaging import CannotReduce, fit, megabytes
from tests.fakes.pictures import (
    GPS_IFD,
    MAKE,
    animated_gif,
    animated_webp,
    noisy_jpeg,
    noisy_png,
    read,
)

LIMIT = 1_000_000


def _app1_segments(data: bytes) -> list[bytes]:
    """The APP1 (EXIF, XMP) segments of a JPEG, read from its markers."""
    found, i = [], 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        code = data[i + 1]
        if code == 0xDA:  # start of scan: the headers are over
            break
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if code == 0xE1:
            found.append(data[i + 4 : i + 2 + length])
        i += 2 + length
    return found


def test_a_large_photo_is_reencoded_then_scaled_to_fit_keeping_its_shape():
    source = noisy_jpeg(2000, 1500)
    assert len(source) > 2_500_000
    reduced = fit(source, LIMIT)
    assert len(reduced.data) <= LIMIT
    img = read(reduced.data)
    assert img.format == "JPEG" and reduced.mime == "image/jpeg"
    assert img.size == (reduced.width, reduced.height)
    assert abs(reduced.width / reduced.height - 2000 / 1500) < 0.01
    # not shrunk further than it had to be: most of the limit is used
    assert len(reduced.data) > 0.75 * LIMIT
    assert (reduced.source_bytes, reduced.source_width, reduced.source_height) == (
        len(source),
        2000,
        1500,
    )


def test_the_orientation_is_applied_and_exif_and_gps_are_dropped():
    source = noisy_jpeg(2000, 1500, orientation=6)  # shot sideways: shown 1500 wide
    assert read(source).getexif()[MAKE] == "Milton Test Camera"
    reduced = fit(source, LIMIT)
    img = read(reduced.data)
    assert img.width < img.height  # upright, as the viewer saw it
    assert (reduced.source_width, reduced.source_height) == (1500, 2000)
    assert not img.getexif() and GPS_IFD not in img.getexif()
    assert _app1_segments(reduced.data) == []
    assert b"Milton Test Camera" not in reduced.data


def test_a_photo_that_only_needs_reencoding_keeps_its_size():
    source = noisy_jpeg(1100, 800, quality=100)
    assert len(source) > LIMIT
    reduced = fit(source, LIMIT)
    assert (reduced.width, reduced.height) == (1100, 800)
    assert len(reduced.data) <= LIMIT


def test_a_png_without_transparency_becomes_a_jpeg():
    reduced = fit(noisy_png(1200, 900), LIMIT)
    assert reduced.mime == "image/jpeg" and read(reduced.data).format == "JPEG"
    assert len(reduced.data) <= LIMIT


def test_a_png_with_transparency_stays_a_png_and_is_scaled():
    source = noisy_png(900, 900, alpha=True)
    reduced = fit(source, LIMIT)
    img = read(reduced.data)
    assert reduced.mime == "image/png" and img.format == "PNG" and img.mode == "RGBA"
    assert img.getchannel("A").getextrema() == (128, 128)
    assert len(reduced.data) <= LIMIT and reduced.width == reduced.height < 900


def test_webp_is_reduced():
    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(noisy_png(1600, 1200))).save(buf, "WEBP", lossless=True)
    reduced = fit(buf.getvalue(), LIMIT)
    assert reduced.mime == "image/jpeg" and len(reduced.data) <= LIMIT


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (animated_gif(300, 300), "GIF"),
        (animated_webp(300, 300), "animated"),
        (b"\xff\xd8 not really a jpeg" * 100, "not a picture"),
    ],
    ids=["gif", "animated-webp", "junk"],
)
def test_what_cannot_be_reduced_says_why(data, reason):
    with pytest.raises(CannotReduce) as err:
        fit(data, 1000)
    assert reason in str(err.value)


def test_a_limit_too_small_for_any_useful_picture_is_refused():
    with pytest.raises(CannotReduce) as err:
        fit(noisy_jpeg(1200, 900), 5_000)
    assert "pixels a side" in str(err.value)


def test_too_many_pixels_or_bytes_are_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(imaging, "MAX_SOURCE_PIXELS", 1000 * 1000)
    with pytest.raises(CannotReduce) as err:
        fit(noisy_jpeg(1200, 900), LIMIT)
    assert "1200x900" in str(err.value)
    monkeypatch.setattr(imaging, "MAX_SOURCE_BYTES", 100)
    with pytest.raises(CannotReduce) as err:
        fit(noisy_jpeg(200, 200), LIMIT)
    assert "Milton scales down" in str(err.value)


def test_a_huge_jpeg_is_decoded_at_a_fraction_of_its_size(monkeypatch):
    monkeypatch.setattr(imaging, "_DRAFT_PIXELS", 500_000)
    reduced = fit(noisy_jpeg(2000, 1500), LIMIT)
    assert len(reduced.data) <= LIMIT
    assert (reduced.source_width, reduced.source_height) == (2000, 1500)


def test_the_note_names_both_sizes_in_decimal_megabytes():
    reduced = imaging.Reduced(b"x" * 960_000, "image/jpeg", 2048, 1536, 3_400_000, 4032, 3024)
    assert reduced.describe("image 2", "Bluesky", LIMIT) == (
        "image 2 was reduced from 3.4 MB 4032x3024 to 0.96 MB 2048x1536 to fit Bluesky's 1 MB limit"
    )
    assert megabytes(50_000_000) == "50 MB"


def test_pillow_is_not_imported_until_an_image_is_reduced():
    code = (
        "import sys\n"
        "from milton_desktop.publishers import registry, bluesky, imaging\n"
        "registry.platforms()\n"
        "assert 'PIL' not in sys.modules, 'PIL imported at start-up'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
