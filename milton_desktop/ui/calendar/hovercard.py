"""The card a post shows while the pointer rests on its chip or its list row: its first
image, its text, where and when it goes, its status and, if it failed, why.

A frameless tool-tip window rather than a rich-text QToolTip: the image is decoded
once, scaled down as it is read (``QImageReader.setScaledSize``), and kept per file,
so resting on a chip of a post with a 12-megapixel photo costs one small decode.
Linked media are named (host and file), never fetched: the window makes no requests.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt
from PySide6.QtGui import (
    QFont,
    QGuiApplication,
    QHideEvent,
    QImageReader,
    QMouseEvent,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QVBoxLayout, QWidget

from milton_desktop.domain.content import MediaItem
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.status import Status
from milton_desktop.domain.timeutil import TimeInputError, get_zone
from milton_desktop.storage import queries
from milton_desktop.ui import style
from milton_desktop.ui.calendar.model import ScheduleItem, format_day, short_text

#: the card's width and its picture's largest height, in widths of "M"
CARD_EMS = 22
IMAGE_HEIGHT_EMS = 12
#: how many pictures are kept decoded (a screenful of posts, several times over)
CACHE_SIZE = 64

#: what hides the card: the user is doing something else now
HIDES_CARD = frozenset(
    {
        QEvent.Type.Leave,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.Wheel,
        QEvent.Type.KeyPress,
        QEvent.Type.Hide,
        QEvent.Type.DragEnter,
        QEvent.Type.FocusOut,
    }
)

_cache: dict[tuple[str, int, int], QPixmap] = {}


def preview_pixmap(path: Path, box: QSize) -> QPixmap | None:
    """``path`` decoded to fit ``box``, from the cache after the first time.

    Stored media files are named by their content, so a path never changes picture.
    """
    key = (str(path), box.width(), box.height())
    hit = _cache.get(key)
    if hit is not None:
        return hit
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    full = reader.size()
    if full.isValid() and (full.width() > box.width() or full.height() > box.height()):
        reader.setScaledSize(full.scaled(box, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return None
    if len(_cache) >= CACHE_SIZE:
        _cache.pop(next(iter(_cache)))
    pixmap = _cache[key] = QPixmap.fromImage(image)
    return pixmap


def _in_account_zone(item: ScheduleItem) -> str:
    """The time in the account's own zone, when it has one that is not the calendar's."""
    name = queries.account_timezone(item.account)
    shown = getattr(item.local.tzinfo, "key", None)
    if not name or name == shown:
        return ""
    try:
        there = item.local.astimezone(get_zone(name))
    except TimeInputError:
        return ""
    day = "" if there.date() == item.local.date() else f"{format_day(there.date())} "
    return f"  ({day}{there:%H:%M} in {name})"


def first_media(post_id: int) -> MediaItem | None:
    """The post's first attachment as stored now (None: none, or the post is gone)."""
    try:
        media = queries.post_view(post_id).media
    except UserError:
        return None
    return media[0] if media else None


def link_line(url: str) -> str:
    """``example.com · photo.jpg``: what a linked attachment is, without fetching it."""
    parts = urlsplit(url)
    name = parts.path.rsplit("/", 1)[-1]
    return " · ".join(p for p in (parts.netloc, name) if p) or url


class HoverCard(QFrame):
    """One post at a glance, beside the pointer; any click, key or leaving hides it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.ToolTip | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("calendarHoverCard")
        self.setFrameShape(QFrame.Shape.Box)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.setForegroundRole(QPalette.ColorRole.Text)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        em = self.fontMetrics().horizontalAdvance("M")
        self.setFixedWidth(em * CARD_EMS)
        inner = em * CARD_EMS - 20
        self.image_box = QSize(inner, em * IMAGE_HEIGHT_EMS)
        self.schedule_id: int | None = None
        self._area: QRect | None = None
        self._watching = False

        self.image_label = QLabel(self)
        self.image_label.setObjectName("hoverCardImage")
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.head_label = QLabel(self)
        self.head_label.setObjectName("hoverCardHead")
        bold = QFont(self.head_label.font())
        bold.setBold(True)
        self.head_label.setFont(bold)
        self.when_label = QLabel(self)
        self.when_label.setObjectName("hoverCardWhen")
        self.text_label = QLabel(self)
        self.text_label.setObjectName("hoverCardText")
        self.media_label = QLabel(self)
        self.media_label.setObjectName("hoverCardMedia")
        self.reason_label = QLabel(self)
        self.reason_label.setObjectName("hoverCardReason")
        self.members_label = QLabel(self)
        self.members_label.setObjectName("hoverCardMembers")
        for label in (
            self.head_label,
            self.when_label,
            self.text_label,
            self.media_label,
            self.reason_label,
            self.members_label,
        ):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setForegroundRole(QPalette.ColorRole.Text)
        for label in (self.when_label, self.media_label, self.members_label):
            style.dim_label(label)
            label.setForegroundRole(QPalette.ColorRole.WindowText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(4)
        layout.addWidget(self.image_label)
        layout.addWidget(self.head_label)
        layout.addWidget(self.when_label)
        layout.addWidget(self.text_label)
        layout.addWidget(self.media_label)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.members_label)

    def show_for(self, item: ScheduleItem, global_pos: QPoint, area: QRect | None = None) -> None:
        """Fill the card with ``item`` and show it beside ``global_pos``.

        ``area`` (global) is the chip or row: the pointer leaving it hides the card, as
        a tooltip would.
        """
        self._area = area
        if self.schedule_id == item.id and self.isVisible():
            return
        self.schedule_id = item.id
        self.fill(item)
        self.adjustSize()
        self.move(self._place(global_pos))
        self.show()
        self.raise_()
        app = QApplication.instance()
        if app is not None and not self._watching:
            app.installEventFilter(self)
            self._watching = True

    def fill(self, item: ScheduleItem) -> None:
        ps = style.platform_style(item.platform)
        repeats = (" · repeats" if item.recurring else "") + item.thread_words
        self.head_label.setText(
            f"{style.status_label(item.status)} · {ps.label} · {item.account}{repeats}"
        )
        when = f"{format_day(item.local.date(), year=True)}  {item.time_label}"
        self.when_label.setText(when + _in_account_zone(item))
        self.text_label.setText(short_text(item.text, 280) or "(no text)")
        media = first_media(item.post_id)
        pixmap = None
        self.media_label.setVisible(False)
        if media is not None and media.path is not None and media.kind == "image":
            pixmap = preview_pixmap(media.path, self.image_box)
            if pixmap is None:
                self.media_label.setText(f"Image not readable: {media.name or media.path.name}")
                self.media_label.setVisible(True)
        elif media is not None and media.url:
            self.media_label.setText(f"Linked {media.kind}: {link_line(media.url)}")
            self.media_label.setVisible(True)
        elif media is not None:
            self.media_label.setText(f"{media.kind.capitalize()}: {media.name}")
            self.media_label.setVisible(True)
        self.image_label.setVisible(pixmap is not None)
        self.image_label.setPixmap(pixmap if pixmap is not None else QPixmap())
        self.image_label.setAccessibleName(
            f"Picture: {media.alt_text}" if media is not None and media.alt_text else "Picture"
        )
        reason = ""
        if item.error:
            lead = "Why it failed" if item.status == Status.FAILED else "Note"
            reason = f"{lead}: {item.error}"
        elif item.status == Status.AWAITING_APPROVAL:
            reason = "Waits for a member's approval: right-click it and choose Approve."
        self.reason_label.setText(reason)
        self.reason_label.setVisible(bool(reason))
        who = item.members_line()
        self.members_label.setText(who)
        self.members_label.setVisible(bool(who))

    def dismiss(self) -> None:
        self.schedule_id = None
        self.hide()

    def hideEvent(self, event: QHideEvent) -> None:
        app = QApplication.instance()
        if app is not None and self._watching:
            app.removeEventFilter(self)
            self._watching = False
        super().hideEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.MouseMove
            and isinstance(event, QMouseEvent)
            and self._area is not None
            and not self._area.contains(event.globalPosition().toPoint())
        ):
            self.dismiss()
        return False

    def _place(self, global_pos: QPoint) -> QPoint:
        """Below and right of the pointer, moved inside the screen when it would leave it."""
        pos = global_pos + QPoint(16, 20)
        screen = QGuiApplication.screenAt(global_pos) or QGuiApplication.primaryScreen()
        if screen is None:
            return pos
        area = screen.availableGeometry()
        size = self.sizeHint()
        if pos.x() + size.width() > area.right():
            pos.setX(max(area.left(), global_pos.x() - size.width() - 8))
        if pos.y() + size.height() > area.bottom():
            pos.setY(max(area.top(), global_pos.y() - size.height() - 8))
        return pos
