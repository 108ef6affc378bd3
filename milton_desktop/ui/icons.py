"""The app icon and the tray icons, drawn once as SVG.

The SVG text below is the single source of truth: ``resources/icons`` holds the same
files written out (plus PNG, ICO and ICNS renderings for packaging), and
``python -m milton_desktop.ui.icons [DIR]`` writes them again after a change. At run
time the files are read from :func:`milton_desktop.resources.resources_dir`; if they
are missing (a broken install) the built-in text is rendered instead, so the tray
never shows an empty square.

Design: a solid rounded tile with a white paper plane reads on light and dark
panels alike (the tile carries its own contrast); states add a badge rather than
changing the shape, so the icon stays recognisable: attention adds a red dot,
publishing a green arrow badge, paused greys the tile and adds an amber pause badge.
"""

from __future__ import annotations

import logging
import struct
import sys
from functools import cache
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QIcon, QImage, QImageWriter, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from milton_desktop import resources
from milton_desktop.resources import APP_ICON_NAME, APP_ICON_SIZES, TRAY_STATES

log = logging.getLogger("milton.ui")

#: sizes a tray or panel may ask for; pre-rendered so small sizes stay crisp
TRAY_SIZES = (16, 20, 22, 24, 32, 48, 64)

_TILE_COLORS = {
    "active": ("#5C7CFA", "#364FC7", "#23369E"),
    "paused": ("#9AA3AD", "#5C656E", "#3E454C"),
}

# The paper plane (the "send" shape) in a 24-unit box, split into two wings so the
# lower one can be shaded: it reads as folded paper at large sizes and as one
# solid arrow at 16 px.
_UPPER_WING = "M2.01 3 L23 12 L17 12 L2 10 Z"
_LOWER_WING = "M2 14 L17 12 L23 12 L2.01 21 Z"


def _tile(colors: tuple[str, str, str]) -> str:
    top, bottom, edge = colors
    return (
        "<defs><linearGradient id='bg' x1='0' y1='0' x2='0' y2='1'>"
        f"<stop offset='0' stop-color='{top}'/><stop offset='1' stop-color='{bottom}'/>"
        "</linearGradient></defs>"
        f"<rect x='1.5' y='1.5' width='29' height='29' rx='7' fill='url(#bg)' "
        f"stroke='{edge}' stroke-width='1'/>"
    )


def _plane(lower: str = "#D0DBFF") -> str:
    # 24-unit glyph scaled into the tile, nudged left so it looks centred optically
    return (
        "<g transform='translate(4.6 5.7) scale(0.86)'>"
        f"<path d='{_UPPER_WING}' fill='#FFFFFF'/>"
        f"<path d='{_LOWER_WING}' fill='{lower}'/>"
        "</g>"
    )


#: badge centre offset from the tile's corner, and radius: kept inside the 32-unit
#: canvas with its ring, and as large as the plane allows so it survives 16 px
_BADGE_LOW, _BADGE_HIGH, _BADGE_R = 7.6, 24.4, 6.6


def _badge(cx: float, cy: float, fill: str, glyph: str = "") -> str:
    # the white ring keeps the badge apart from the tile and from a dark panel
    return (
        f"<circle cx='{cx}' cy='{cy}' r='{_BADGE_R}' fill='{fill}' "
        f"stroke='#FFFFFF' stroke-width='1.6'/>" + glyph
    )


def _svg(body: str, size: int = 32) -> str:
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{size}' height='{size}' "
        f"viewBox='0 0 32 32'>{body}</svg>\n"
    )


def app_svg() -> str:
    """The application icon (window, task bar, desktop entry)."""
    return _svg(_tile(_TILE_COLORS["active"]) + _plane(), size=256)


def tray_svg(state: str) -> str:
    """The tray icon for ``state`` (idle, publishing, attention or paused)."""
    if state not in TRAY_STATES:
        raise ValueError(f"unknown tray state {state!r}: one of {', '.join(TRAY_STATES)}")
    c = _BADGE_HIGH
    if state == "paused":
        bars = (
            f"<g transform='translate({c} {c})' fill='#212529'>"
            "<rect x='-3' y='-3.5' width='2.2' height='7' rx='0.6'/>"
            "<rect x='0.8' y='-3.5' width='2.2' height='7' rx='0.6'/></g>"
        )
        return _svg(
            _tile(_TILE_COLORS["paused"]) + _plane("#E9ECEF") + _badge(c, c, "#FAB005", bars)
        )
    body = _tile(_TILE_COLORS["active"]) + _plane()
    if state == "attention":
        body += _badge(c, _BADGE_LOW, "#F03E3E")
    elif state == "publishing":  # not a status: the tray icon state
        arrow = (
            f"<path transform='translate({c} {c})' fill='#FFFFFF' "
            "d='M0 -4.2 L3.8 0 L1.3 0 L1.3 4 L-1.3 4 L-1.3 0 L-3.8 0 Z'/>"
        )
        body += _badge(c, c, "#2F9E44", arrow)
    return _svg(body)


# ---------------------------------------------------------------- rendering


def render(svg: str | bytes, size: int) -> QImage:
    """Render SVG text to a square ARGB image of ``size`` pixels."""
    data = svg.encode() if isinstance(svg, str) else svg
    renderer = QSvgRenderer(QByteArray(data))
    if not renderer.isValid():
        raise ValueError("invalid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def _read_svg(path: Path, builtin: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        log.warning("icon %s is missing; using the built-in drawing", path)
        return builtin


def _icon_from_svg(svg: str, sizes: tuple[int, ...]) -> QIcon:
    icon = QIcon()
    for size in sizes:
        icon.addPixmap(QPixmap.fromImage(render(svg, size)))
    return icon


@cache
def app_icon() -> QIcon:
    """The application icon, crisp at every common size (needs a QGuiApplication)."""
    icon = QIcon()
    for size in APP_ICON_SIZES:
        png = resources.app_icon_png(size)
        pixmap = QPixmap(str(png)) if png.is_file() else QPixmap()
        if pixmap.isNull():
            pixmap = QPixmap.fromImage(render(app_svg(), size))
        icon.addPixmap(pixmap)
    return icon


@cache
def tray_icon(state: str) -> QIcon:
    """The tray icon for a state; also usable as ``TrayController``'s icon provider."""
    svg = _read_svg(resources.tray_icon_svg(state), tray_svg(state))
    return _icon_from_svg(svg, TRAY_SIZES)


# ---------------------------------------------------------------- toolbar and menu icons

#: line drawings in a 24-unit box, stroked in the palette's text colour
_ACTION_SHAPES: dict[str, str] = {
    "new-post": "<path d='M12 5v14M5 12h14'/>",
    "undo": "<path d='M9 14 4 9l5-5'/><path d='M4 9h10.5a5.5 5.5 0 0 1 0 11H11'/>",
    "redo": "<path d='m15 14 5-5-5-5'/><path d='M20 9H9.5a5.5 5.5 0 0 0 0 11H13'/>",
    "today": (
        "<rect x='3' y='5' width='18' height='16' rx='2'/><path d='M3 10h18M8 3v4M16 3v4'/>"
        "<circle cx='12' cy='15.5' r='2' fill='{color}'/>"
    ),
    "month": (
        "<rect x='3' y='4' width='18' height='17' rx='2'/>"
        "<path d='M3 9.5h18M3 15h18M9 9.5V21M15 9.5V21'/>"
    ),
    "week": "<rect x='3' y='4' width='18' height='17' rx='2'/><path d='M3 9h18M9 9v12M15 9v12'/>",
    "day": (
        "<rect x='3' y='4' width='18' height='17' rx='2'/><path d='M3 9h18'/>"
        "<rect x='7' y='12' width='10' height='5' rx='1' fill='{color}'/>"
    ),
    "list": (
        "<path d='M9 6h11M9 12h11M9 18h11'/>"
        "<circle cx='4.5' cy='6' r='1' fill='{color}'/><circle cx='4.5' cy='12' r='1' "
        "fill='{color}'/><circle cx='4.5' cy='18' r='1' fill='{color}'/>"
    ),
    "publish": "<path d='M3 3.5 21 12 3 20.5l3-8.5z'/><path d='M6 12h15'/>",
    "accounts": "<circle cx='12' cy='8' r='4'/><path d='M4 21a8 8 0 0 1 16 0'/>",
    "settings": (
        "<path d='M4 6h16M4 12h16M4 18h16'/>"
        "<circle cx='9' cy='6' r='2' fill='{bg}'/><circle cx='15' cy='12' r='2' fill='{bg}'/>"
        "<circle cx='7' cy='18' r='2' fill='{bg}'/>"
    ),
    "drafts": "<path d='M6 3h8l5 5v13H6z'/><path d='M14 3v5h5M9 13h6M9 17h6'/>",
    "upcoming": "<circle cx='12' cy='12' r='9'/><path d='M12 7v5l3.5 2'/>",
    "attention": (
        "<path d='M10.3 4.2 2.6 18a2 2 0 0 0 1.7 3h15.4a2 2 0 0 0 1.7-3L13.7 4.2a2 2 0 0 0-3.4 0z'/>"
        "<path d='M12 9.5v4.5'/><circle cx='12' cy='17.5' r='0.9' fill='{color}' stroke='none'/>"
    ),
    "quit": "<path d='M10 4H5v16h5M15 8l4 4-4 4M19 12H9'/>",
}

ACTION_ICON_NAMES = tuple(_ACTION_SHAPES)


def action_svg(name: str, color: str, bg: str = "none") -> str:
    """The SVG of toolbar icon ``name`` stroked in ``color`` (``bg`` fills knobs)."""
    shape = _ACTION_SHAPES[name].format(color=color, bg=bg)
    return (
        "<svg xmlns='http://www.w3.org/2000/svg' width='24' height='24' viewBox='0 0 24 24' "
        f"fill='none' stroke='{color}' stroke-width='1.8' stroke-linecap='round' "
        f"stroke-linejoin='round'>{shape}</svg>"
    )


_action_icons: dict[tuple[str, str, str, str], QIcon] = {}


def action_icon(name: str, palette: QPalette | None = None) -> QIcon:
    """Toolbar and menu icon ``name``, drawn in ``palette``'s button text colour (and
    its disabled colour), so it reads on a light and on a dark toolbar."""
    from PySide6.QtGui import QGuiApplication

    pal = palette if palette is not None else QGuiApplication.palette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    fg = pal.color(group.Active, role.ButtonText).name()
    off = pal.color(group.Disabled, role.ButtonText).name()
    bg = pal.color(group.Active, role.Button).name()
    key = (name, fg, off, bg)
    icon = _action_icons.get(key)
    if icon is None:
        icon = QIcon()
        for size in (16, 24, 32, 48):
            icon.addPixmap(
                QPixmap.fromImage(render(action_svg(name, fg, bg), size)), QIcon.Mode.Normal
            )
            icon.addPixmap(
                QPixmap.fromImage(render(action_svg(name, off, bg), size)), QIcon.Mode.Disabled
            )
        _action_icons[key] = icon
    return icon


# ---------------------------------------------------------------- packaging files


def _png_bytes(image: QImage) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # what QImage.save(buffer, "PNG") does; its stub wrongly asks for the format as bytes
    if not QImageWriter(buffer, b"PNG").write(image):
        raise OSError("could not encode PNG")
    return bytes(buffer.data().data())


def ico_bytes(images: list[QImage]) -> bytes:
    """A multi-size Windows .ico with PNG-compressed entries.

    Qt's ico writer stores one image per file; Windows picks the best of several,
    so the directory is written here (the format is a small header plus a table).
    """
    blobs = [_png_bytes(img) for img in images]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    table = b""
    for img, blob in zip(images, blobs, strict=True):
        w = img.width() if img.width() < 256 else 0  # 0 means 256 in this format
        h = img.height() if img.height() < 256 else 0
        table += struct.pack("<BBBBHHII", w, h, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
    return header + table + b"".join(blobs)


#: ICNS element types that hold PNG data, by pixel size (Apple's icns format)
_ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}


def icns_bytes(images: list[QImage]) -> bytes:
    """A macOS .icns holding each image whose size has a PNG element type."""
    elements = b""
    for img in images:
        kind = _ICNS_TYPES.get(img.width())
        if kind is None:
            continue
        blob = _png_bytes(img)
        elements += kind + struct.pack(">I", len(blob) + 8) + blob
    return b"icns" + struct.pack(">I", len(elements) + 8) + elements


def write_resources(icons_dir: Path) -> list[Path]:
    """Write every icon file (SVG sources, PNGs, .ico, .icns) into ``icons_dir``."""
    icons_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(name: str, data: bytes) -> None:
        path = icons_dir / name
        path.write_bytes(data)
        written.append(path)

    put(f"{APP_ICON_NAME}.svg", app_svg().encode())
    for state in TRAY_STATES:
        put(f"tray-{state}.svg", tray_svg(state).encode())
    images = {size: render(app_svg(), size) for size in (*APP_ICON_SIZES, 512)}
    for size in APP_ICON_SIZES:
        put(f"{APP_ICON_NAME}-{size}.png", _png_bytes(images[size]))
    put(f"{APP_ICON_NAME}.ico", ico_bytes([images[s] for s in (16, 32, 48, 64, 128, 256)]))
    put(f"{APP_ICON_NAME}.icns", icns_bytes([images[s] for s in (16, 32, 64, 128, 256, 512)]))
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m milton_desktop.ui.icons [DIR]``: regenerate the icon files."""
    from PySide6.QtGui import QGuiApplication

    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else resources.resources_dir() / "icons"
    _app = QGuiApplication.instance() or QGuiApplication(["milton-icons"])
    for path in write_resources(target):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
