"""Real pictures for the tests that need a platform-sized photo (made with Pillow)."""

from __future__ import annotations

import io
import random

#: EXIF tags the tests look for
ORIENTATION = 0x0112
MAKE = 0x010F
GPS_IFD = 0x8825


def noisy_jpeg(
    width: int, height: int, *, quality: int = 93, orientation: int = 1, seed: int = 7
) -> bytes:
    """A JPEG of random noise (which compresses badly, like a detailed photo) carrying
    an EXIF block with a camera make, a GPS position and ``orientation``."""
    from PIL import Image

    noise = random.Random(seed).randbytes(width * height * 3)
    img = Image.frombytes("RGB", (width, height), noise)
    exif = Image.Exif()
    exif[MAKE] = "Milton Test Camera"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def noisy_png(width: int, height: int, *, alpha: bool = False, seed: int = 7) -> bytes:
    """A PNG of random noise; with ``alpha``, every pixel is partly see-through."""
    from PIL import Image

    mode = "RGBA" if alpha else "RGB"
    rng = random.Random(seed)
    img = Image.frombytes(mode, (width, height), rng.randbytes(width * height * len(mode)))
    if alpha:
        img.putalpha(128)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def animated_gif(width: int, height: int, frames: int = 3, seed: int = 7) -> bytes:
    """An animated GIF of noise frames."""
    from PIL import Image

    rng = random.Random(seed)
    pictures = [
        Image.frombytes("L", (width, height), rng.randbytes(width * height)).convert("P")
        for _ in range(frames)
    ]
    out = io.BytesIO()
    pictures[0].save(out, "GIF", save_all=True, append_images=pictures[1:], duration=100, loop=0)
    return out.getvalue()


def animated_webp(width: int, height: int, frames: int = 3, seed: int = 7) -> bytes:
    """An animated WebP of noise frames."""
    from PIL import Image

    rng = random.Random(seed)
    pictures = [
        Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
        for _ in range(frames)
    ]
    out = io.BytesIO()
    pictures[0].save(out, "WEBP", save_all=True, append_images=pictures[1:], lossless=True)
    return out.getvalue()


def read(data: bytes):  # -> PIL.Image.Image
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    img.load()
    return img
