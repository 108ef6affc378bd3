"""Making an image fit a platform's byte limit: re-encoded first, then scaled down.

A platform that caps an image's bytes (Bluesky's blobs: 1,000,000) would refuse a
phone photo as it is. :func:`fit` re-encodes it as a JPEG at decreasing quality and,
when that is not enough, scales it down in steps, keeping its aspect ratio, until it
fits. The picture is turned upright first (its EXIF orientation applied) and leaves
without its EXIF block, so neither the camera's details nor a GPS position reach the
platform. A picture with real transparency stays a PNG and is only scaled.

Pillow is imported inside :func:`fit`, on the first image that needs reducing: the
window and the scheduler start, and stay, without it.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from PIL import Image

#: the types :func:`fit` takes (GIFs are left alone: reducing one would stop its animation)
REDUCIBLE = frozenset({"image/jpeg", "image/png", "image/webp"})
#: the largest file taken to reduce (a phone's largest photos are a few tens of MB)
MAX_SOURCE_BYTES = 50_000_000
#: the most pixels taken to reduce (108-megapixel phone cameras exist)
MAX_SOURCE_PIXELS = 120_000_000
#: JPEG qualities tried at full size, before any scaling
QUALITIES = (90, 80, 70)
#: the quality of the scaled-down steps: smaller pictures, not blockier ones
SCALED_QUALITY = 80
#: each scaled-down step keeps this share of the width and height
SCALE_STEP = 0.85
#: a picture whose shorter side would fall under this is not worth posting
MIN_SIDE = 160
# a JPEG this many times the largest picture worth keeping is decoded at a half,
# a quarter or an eighth of its size straight away (libjpeg's draft mode): the
# reduction needs far fewer pixels, and this spares the memory of the full decode
_DRAFT_PIXELS = 24_000_000
#: halvings of the gap between a scale that fits and one that does not
_REFINE = 2


class CannotReduce(Exception):
    """The image cannot be made to fit; ``str()`` says why, in words for the user."""


@dataclass(frozen=True)
class Reduced:
    """An image made to fit, and what it was before."""

    data: bytes
    mime: str
    width: int
    height: int
    source_bytes: int
    source_width: int
    source_height: int

    def describe(self, label: str, platform: str, limit: int) -> str:
        """One sentence for the user: ``image 2 was reduced from 3.4 MB 4032x3024 to
        0.96 MB 2048x1536 to fit Bluesky's 1 MB limit``."""
        return (
            f"{label} was reduced from {megabytes(self.source_bytes)} "
            f"{self.source_width}x{self.source_height} to {megabytes(len(self.data))} "
            f"{self.width}x{self.height} to fit {platform}'s {megabytes(limit)} limit"
        )


def megabytes(n: int) -> str:
    """``n`` bytes in decimal megabytes, as platforms state their limits (1 MB = 10^6)."""
    value = n / 1_000_000
    if value == int(value):
        return f"{int(value)} MB"
    return f"{value:.2f} MB" if value < 1 else f"{value:.1f} MB"


def fit(data: bytes, max_bytes: int) -> Reduced:
    """``data`` (a JPEG, PNG or WebP) re-encoded, and scaled down if need be, to at
    most ``max_bytes``; upright, without EXIF.

    Raises:
        CannotReduce: the bytes are not such an image, it is animated, too large
            to decode safely, or it would have to become too small to fit.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > MAX_SOURCE_BYTES:
        raise CannotReduce(f"it is over the {megabytes(MAX_SOURCE_BYTES)} Milton scales down")
    try:
        with warnings.catch_warnings():
            # the pixel count is checked below, against a cap of this module's own
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        raise CannotReduce("it is not a picture Milton can read") from None
    if img.format not in ("JPEG", "PNG", "WEBP"):
        raise CannotReduce(f"it is a {img.format or 'picture'} file, which Milton does not scale")
    if getattr(img, "is_animated", False):
        raise CannotReduce("it is animated, and scaling it down would stop the animation")
    width, height = img.size
    if width * height > MAX_SOURCE_PIXELS:
        raise CannotReduce(
            f"it is {width}x{height}, more than the {MAX_SOURCE_PIXELS // 1_000_000} "
            "megapixels Milton scales down"
        )
    icc = img.info.get("icc_profile")
    try:
        if img.format == "JPEG" and width * height > _DRAFT_PIXELS:
            share = math.sqrt(_DRAFT_PIXELS / (width * height))
            img.draft("RGB", (math.ceil(width * share), math.ceil(height * share)))
        img.load()
        upright = ImageOps.exif_transpose(img) or img
    except (OSError, ValueError, SyntaxError) as exc:  # a truncated or corrupt file
        raise CannotReduce(f"it cannot be decoded ({exc})") from None
    source_width, source_height = _turned(img, width, height)

    encode: Callable[[Image.Image, int, bytes | None], bytes]
    if _has_transparency(upright):
        picture = upright.convert("RGBA")
        encode = _png
        mime = "image/png"
        qualities: tuple[int, ...] = (0,)  # a PNG has no quality to give up
    else:
        picture = upright if upright.mode in ("RGB", "L") else upright.convert("RGB")
        encode = _jpeg
        mime = "image/jpeg"
        qualities = QUALITIES

    def done(out: bytes, size: tuple[int, int]) -> Reduced:
        return Reduced(out, mime, size[0], size[1], len(data), source_width, source_height)

    out = b""
    for quality in qualities:
        out = encode(picture, quality, icc)
        if len(out) <= max_bytes:
            return done(out, picture.size)
    # bytes grow about with the pixels: aim near the size that fits, step down until
    # one does, then look between it and the last that did not for a larger one
    w0, h0 = picture.size

    def scaled(share: float) -> tuple[bytes, tuple[int, int]]:
        size = (max(1, round(w0 * share)), max(1, round(h0 * share)))
        if min(size) < MIN_SIDE:
            raise CannotReduce(
                f"it would have to shrink below {MIN_SIDE} pixels a side to fit "
                f"{megabytes(max_bytes)}"
            )
        smaller = picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        return encode(smaller, SCALED_QUALITY, icc), size

    too_big = 1.0
    share = min(SCALE_STEP, math.sqrt(max_bytes / len(out)))
    while True:
        out, size = scaled(share)
        if len(out) <= max_bytes:
            break
        too_big, share = share, share * SCALE_STEP
    best = (out, size)
    for _ in range(_REFINE):
        middle = (share + too_big) / 2
        out, size = scaled(middle)
        if len(out) <= max_bytes:
            best, share = (out, size), middle
        else:
            too_big = middle
    return done(*best)


def _turned(img: Image.Image, width: int, height: int) -> tuple[int, int]:
    """The size the viewer saw: width and height swapped by a quarter-turn orientation."""
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # an unreadable EXIF block orients nothing
        orientation = 1
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _has_transparency(img: Image.Image) -> bool:
    """Whether some pixel is see-through (an alpha channel that is all opaque is not)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        alpha = img.convert("RGBA").getchannel("A")
        low = cast(float, alpha.getextrema()[0])  # one band: (lowest, highest)
        return low < 255
    return False


def _jpeg(img: Image.Image, quality: int, icc: bytes | None) -> bytes:
    buf = io.BytesIO()
    # no exif= given: the file goes out without the camera's block (GPS included);
    # the colour profile is kept, it is how the colours are meant
    img.save(buf, "JPEG", quality=quality, optimize=True, icc_profile=icc)
    return buf.getvalue()


def _png(img: Image.Image, quality: int, icc: bytes | None) -> bytes:
    del quality  # a PNG has none: it is lossless
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True, icc_profile=icc)
    return buf.getvalue()
