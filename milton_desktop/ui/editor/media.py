"""The editor's attachments: what each one is, its thumbnail, and how it is drawn.

A local image is decoded on a worker at preview size (big enough for the platform
previews, scaled down again for the tile). A linked image is fetched on a worker by
``operations.link_previews`` (bounded in time and size, kept a week); until it
arrives, or if it cannot be fetched, it is drawn as a card naming its host and file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from urllib.parse import urlsplit

from PySide6.QtCore import QEvent, QMimeData, QObject, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QIcon,
    QImage,
    QImageReader,
    QPainter,
    QPainterPath,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import QWidget

from milton_desktop.domain.content import MediaItem
from milton_desktop.operations import posts
from milton_desktop.storage import media as media_mod
from milton_desktop.ui import tones

THUMB = 88
#: the size images are decoded at: enough for a preview card, small in memory
PREVIEW_SIZE = 640

_keys = count(1)


@dataclass
class MediaEntry:
    """One attachment in the editor; ``info`` arrives from a worker for local files."""

    key: int
    path: Path | None = None
    url: str | None = None
    alt_text: str = ""
    kind: str = "image"
    mime: str = ""
    size: int = 0
    width: int | None = None
    height: int | None = None
    state: str = "loading"  # loading | ready
    stored: bool = False  # already part of the saved post (its file is in the media folder)
    #: the name it was added under; a stored file's own name is its content hash
    original_name: str = ""
    #: the decoded picture (preview size), once a worker has read it
    image: QImage | None = field(default=None, repr=False, compare=False)
    #: why there is no picture of a linked image (its link could not be fetched)
    note: str = ""

    @property
    def name(self) -> str:
        if self.original_name:
            return self.original_name
        if self.path is not None:
            return self.path.name
        parts = urlsplit(self.url or "")
        return parts.path.rsplit("/", 1)[-1] or parts.netloc

    @property
    def link_label(self) -> str:
        """``host/name`` of a linked attachment, as its card shows it."""
        parts = urlsplit(self.url or "")
        host = parts.netloc.rsplit("@", 1)[-1]
        name = parts.path.rsplit("/", 1)[-1]
        return f"{host}/{name}" if name else host

    @classmethod
    def from_item(cls, item: MediaItem, original_name: str) -> MediaEntry:
        """An entry for media already stored with the post (ready, nothing to import)."""
        return cls(
            key=next(_keys),
            path=item.path,
            url=item.url,
            alt_text=item.alt_text,
            kind=item.kind,
            mime=item.mime,
            size=item.size,
            width=item.width,
            height=item.height,
            state="ready",
            stored=True,
            original_name=original_name,
        )

    @classmethod
    def new(cls, **fields: object) -> MediaEntry:
        return cls(key=next(_keys), **fields)  # type: ignore[arg-type]

    def item(self) -> MediaItem:
        return MediaItem(
            kind=self.kind,
            mime=self.mime,
            path=self.path,
            url=self.url,
            alt_text=self.alt_text,
            size=self.size,
            width=self.width,
            height=self.height,
        )

    def media_input(self) -> posts.MediaInput:
        return posts.MediaInput(
            path=self.path, url=self.url, alt_text=self.alt_text, original_name=self.original_name
        )


def read_media(path: Path) -> tuple[media_mod.MediaInfo, QImage | None]:
    """Worker: what a file is (hashing it) and its picture, if it is an image."""
    info = media_mod.inspect(path)
    return info, thumbnail(path) if info.kind == "image" else None


def thumbnail(path: Path, size: int = PREVIEW_SIZE) -> QImage | None:
    """Worker: an image decoded at reduced size (QImage is safe off the GUI thread)."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    full = reader.size()
    if full.isValid() and (full.width() > size or full.height() > size):
        reader.setScaledSize(full.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    return None if image.isNull() else image


def paint_picture_icon(painter: QPainter, rect: QRectF, colour: QColor) -> None:
    """A framed landscape (a sun over a hill): "a picture", where none is shown."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = painter.pen()
    pen.setColor(colour)
    pen.setWidthF(max(1.5, rect.width() / 16))
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(rect, rect.width() / 8, rect.width() / 8)
    sun = rect.width() / 7
    painter.setBrush(colour)
    painter.drawEllipse(
        QRectF(rect.right() - rect.width() * 0.38, rect.top() + rect.height() * 0.2, sun, sun)
    )
    hill = QPainterPath()
    hill.moveTo(rect.left() + rect.width() * 0.12, rect.bottom() - rect.height() * 0.14)
    hill.lineTo(rect.left() + rect.width() * 0.42, rect.top() + rect.height() * 0.45)
    hill.lineTo(rect.left() + rect.width() * 0.62, rect.bottom() - rect.height() * 0.32)
    hill.lineTo(rect.left() + rect.width() * 0.72, rect.top() + rect.height() * 0.58)
    hill.lineTo(rect.right() - rect.width() * 0.12, rect.bottom() - rect.height() * 0.14)
    hill.closeSubpath()
    painter.drawPath(hill)
    painter.restore()


def tile(entry: MediaEntry, palette: QPalette) -> QIcon:
    """A square tile for the media list, so every item's label sits on the same line.

    An image shows itself; a link shows a picture icon and its host (it is not
    downloaded just to preview it); a video or a file being read shows a word.
    """
    pixmap = QPixmap(THUMB, THUMB)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    image = entry.image
    if image is not None and not image.isNull():
        scaled = image.scaled(
            THUMB,
            THUMB,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        painter.drawImage((THUMB - scaled.width()) // 2, (THUMB - scaled.height()) // 2, scaled)
        painter.end()
        return QIcon(pixmap)
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    painter.setPen(tones.mix(base, text, 0.25))
    painter.setBrush(tones.mix(base, text, 0.06))
    painter.drawRoundedRect(1, 1, THUMB - 2, THUMB - 2, 8, 8)
    ink = tones.readable(tones.mix(text, base, 0.25), tones.mix(base, text, 0.06))
    painter.setPen(ink)
    if entry.state == "loading":
        painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, "Reading…")
    elif entry.url and entry.kind == "image":
        paint_picture_icon(painter, QRectF(THUMB * 0.3, 10, THUMB * 0.4, THUMB * 0.32), ink)
        font = painter.font()
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
        painter.setFont(font)
        painter.setPen(ink)
        host = urlsplit(entry.url).netloc.rsplit("@", 1)[-1]
        metrics = painter.fontMetrics()
        host = metrics.elidedText(host, Qt.TextElideMode.ElideMiddle, THUMB - 8)
        painter.drawText(
            QRectF(4, THUMB * 0.48, THUMB - 8, THUMB * 0.5),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
            f"Linked image\n{host}",
        )
    else:
        word = {"video": "Video", "document": "Document"}.get(entry.kind, "Image")
        if entry.url:
            word = f"Linked {word.lower()}"
        painter.drawText(
            pixmap.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, word
        )
    painter.end()
    return QIcon(pixmap)


def dropped_files(mime: QMimeData) -> list[Path]:
    """The local files in a drag (file URLs from a file manager or the desktop)."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class FileDrops(QObject):
    """Lets widgets take files dragged from the desktop (an event filter on each).

    Signals:
        entered(int): files are being dragged over a watched widget (how many).
        left: the drag left without dropping.
        dropped(list): the local files dropped, as ``Path`` objects.
    """

    entered = Signal(int)
    left = Signal()
    dropped = Signal(list)

    def watch(self, widget: QWidget) -> None:
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            drag = event  # a QDragEnterEvent or QDragMoveEvent
            files = dropped_files(drag.mimeData())  # type: ignore[attr-defined]
            if not files:
                return False  # not files: the widget handles it (text into the editor)
            drag.setDropAction(Qt.DropAction.CopyAction)  # type: ignore[attr-defined]
            drag.accept()
            if kind == QEvent.Type.DragEnter:
                self.entered.emit(len(files))
            return True
        if kind == QEvent.Type.DragLeave:
            self.left.emit()
            return False
        if kind == QEvent.Type.Drop:
            files = dropped_files(event.mimeData())  # type: ignore[attr-defined]
            if not files:
                return False
            event.setDropAction(Qt.DropAction.CopyAction)  # type: ignore[attr-defined]
            event.accept()
            self.dropped.emit(files)
            return True
        return super().eventFilter(watched, event)
