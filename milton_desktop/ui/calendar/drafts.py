"""The drafts pane: posts not scheduled yet, ready to drag onto the calendar."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QTextLayout
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.ui import style
from milton_desktop.ui.calendar.model import (
    DraftItem,
    DraftsModel,
    display_zone,
    format_day,
    load_draft_items,
)
from milton_desktop.ui.tasks import LatestRead

log = logging.getLogger("milton.ui.drafts")

EMPTY_TEXT = "No drafts.\nClick “New post” to write one."


def _two_lines(text: str, font: QFont, width: int) -> list[str]:
    """``text`` word-wrapped into at most two lines, the second elided if it runs over."""
    if width <= 0:
        return []
    layout = QTextLayout(text, font)
    layout.beginLayout()
    line = layout.createLine()
    if not line.isValid():
        layout.endLayout()
        return []
    line.setLineWidth(width)
    cut = line.textStart() + line.textLength()
    layout.endLayout()
    first = text[:cut].rstrip()
    rest = text[cut:].strip()
    if not rest:
        return [first]
    return [first, QFontMetrics(font).elidedText(rest, Qt.TextElideMode.ElideRight, width)]


def media_label(n: int) -> str:
    return "no media" if n == 0 else f"{n} media file{'s' if n != 1 else ''}"


class DraftDelegate(QStyledItemDelegate):
    """Two lines of the post, then a dim line with its media and when it was edited."""

    PAD = 8

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        fm = option.fontMetrics
        return QSize(200, fm.height() * 3 + fm.leading() * 2 + self.PAD * 2 + 2)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        it: DraftItem | None = index.data(DraftsModel.ItemRole)
        if it is None:
            super().paint(painter, option, index)
            return
        painter.save()
        rect = option.rect
        theme = style.theme_for(option.palette)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        bg = theme.base
        if selected:
            bg = theme.accent
            painter.fillRect(rect, bg)
        elif option.state & QStyle.StateFlag.State_MouseOver:
            bg = theme.hover_fill
            painter.fillRect(rect, bg)
        fm = option.fontMetrics
        inner = rect.adjusted(self.PAD + 2, self.PAD, -self.PAD, -self.PAD)
        text_color = theme.on_accent if selected else style.readable(theme.text, bg)
        painter.setPen(style.text_on(text_color, bg, "draft title"))
        painter.setFont(option.font)
        lines = _two_lines(it.short_text or "(no text)", option.font, inner.width())
        y = inner.top()
        for line in lines:
            painter.drawText(
                QRectF(inner.left(), y, inner.width(), fm.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                line,
            )
            y += fm.height() + fm.leading()
        meta = f"{media_label(it.media_count)} · edited {format_day(it.updated_local.date(), weekday=False)}"
        small = QFont(option.font)
        small.setPointSizeF(option.font.pointSizeF() * 0.9)
        painter.setFont(small)
        dim = text_color if selected else style.readable(theme.text_dim, bg)
        painter.setPen(style.text_on(dim, bg, "draft details"))
        # right under the title, so a one-line title keeps its details with it (rows
        # share one height: the room a second line would take falls below instead)
        painter.drawText(
            QRectF(inner.left(), y, inner.width(), fm.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(small).elidedText(meta, Qt.TextElideMode.ElideRight, inner.width()),
        )
        painter.setPen(theme.grid_line)
        painter.drawLine(
            rect.left() + self.PAD, rect.bottom(), rect.right() - self.PAD, rect.bottom()
        )
        painter.restore()


class DraftsPane(QWidget):
    """Unscheduled posts (``store.drafts()``), draggable onto the calendar."""

    #: the user wants to edit a draft (its post id)
    editPostRequested = Signal(int)
    #: the user wants to write a new post
    newPostRequested = Signal()
    #: the user wants a draft in the next free slot of a queue (its post id)
    queueRequested = Signal(int)

    def __init__(
        self, parent: QWidget | None = None, *, load: bool = True, background_reads: bool = False
    ) -> None:
        super().__init__(parent)
        self._reads = LatestRead(self, background=background_reads)
        #: the drafts shown, to tell whether a reload changed anything
        self._shown: list[DraftItem] | None = None
        self.setObjectName("draftsPane")
        self.model = DraftsModel(self)
        self.new_button = QPushButton("New post", self)
        self.new_button.setObjectName("draftsNewPostButton")
        self.new_button.setToolTip("Write a new post (it is kept here until you schedule it)")
        self.list_view = QListView(self)
        self.list_view.setObjectName("draftsList")
        self.list_view.setModel(self.model)
        self.list_view.setItemDelegate(DraftDelegate(self.list_view))
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list_view.setDragEnabled(True)
        self.list_view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.list_view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.setMouseTracking(True)
        self.list_view.setUniformItemSizes(True)
        self.empty_label = QLabel(EMPTY_TEXT, self)
        self.empty_label.setObjectName("draftsEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setContentsMargins(24, 24, 24, 24)
        style.dim_label(self.empty_label)
        self.hint_label = QLabel(
            "Drag a draft onto the calendar to schedule it, or right-click it to add it "
            "to a queue.",
            self,
        )
        self.hint_label.setObjectName("draftsHint")
        self.hint_label.setWordWrap(True)
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        style.dim_label(self.hint_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.new_button)
        layout.addWidget(self.list_view, 1)
        layout.addWidget(self.empty_label, 1)
        layout.addWidget(self.hint_label)
        self.new_button.clicked.connect(self._on_new_button_clicked)
        self.list_view.doubleClicked.connect(self._on_list_view_double_clicked)
        self.list_view.activated.connect(self._on_list_view_double_clicked)
        self.list_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list_view.customContextMenuRequested.connect(self._on_list_view_menu_requested)
        if load:
            self.refresh()
        else:  # filled a moment later (after the window's first paint): blank till then
            self.empty_label.hide()
            self.hint_label.hide()

    def refresh(self, then: Callable[[], object] | None = None) -> None:
        """Reload the drafts from the store (on a worker in the window); the list is
        reset only when the drafts changed. ``then`` runs once they are shown."""
        zone, previous = display_zone(), self._shown

        def read() -> list[DraftItem] | None:
            fresh = load_draft_items(zone)
            return None if fresh == previous else fresh

        def shown(items: list[DraftItem] | None) -> None:
            self._on_read(items)
            if then is not None:
                then()

        self._reads.request(read, shown, self._on_read_failed)

    def loading(self) -> bool:
        """Whether a reload has not answered yet."""
        return self._reads.busy()

    def _on_read(self, items: list[DraftItem] | None) -> None:
        if items is not None:
            self._shown = items
            self.model.set_items(items)
        self._show_state()

    def _on_read_failed(self, exc: Exception) -> None:
        log.error("could not read the drafts: %s", exc)
        self.empty_label.setText(
            f"The drafts could not be read ({exc}). They are read again at the next change."
        )
        self.list_view.hide()
        self.hint_label.hide()
        self.empty_label.show()

    def _show_state(self) -> None:
        self.empty_label.setText(EMPTY_TEXT)
        empty = self.model.rowCount() == 0
        self.list_view.setVisible(not empty)
        self.hint_label.setVisible(not empty)
        self.empty_label.setVisible(empty)

    def select_post(self, post_id: int) -> bool:
        """Select and show the draft of ``post_id``; False when it is not a draft."""
        for row, it in enumerate(self.model.items()):
            if it.post_id == post_id:
                index = self.model.index(row)
                self.list_view.setCurrentIndex(index)
                self.list_view.scrollTo(index)
                return True
        return False

    def selected_post_id(self) -> int | None:
        index = self.list_view.currentIndex()
        return index.data(DraftsModel.PostIdRole) if index.isValid() else None

    def post_ids(self) -> list[int]:
        """The drafts shown, top to bottom."""
        return [it.post_id for it in self.model.items()]

    def _on_new_button_clicked(self) -> None:
        self.newPostRequested.emit()

    def draft_menu(self, post_id: int) -> QMenu:
        """What a right-click on a draft offers."""
        menu = QMenu(self)
        menu.setObjectName("draftMenu")
        edit = menu.addAction("Edit…")
        edit.triggered.connect(lambda: self.editPostRequested.emit(post_id))
        queue = menu.addAction("Add to queue")
        queue.setObjectName("addToQueue")
        queue.setToolTip("Schedule it in the next free posting time of an account's queue")
        queue.triggered.connect(lambda: self.queueRequested.emit(post_id))
        return menu

    def _on_list_view_menu_requested(self, pos: QPoint) -> None:
        index = self.list_view.indexAt(pos)
        post_id = index.data(DraftsModel.PostIdRole) if index.isValid() else None
        if not post_id:
            return
        self.list_view.setCurrentIndex(index)
        menu = self.draft_menu(int(post_id))
        menu.exec(self.list_view.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def _on_list_view_double_clicked(self, index: QModelIndex) -> None:
        post_id = index.data(DraftsModel.PostIdRole)
        if post_id:
            self.editPostRequested.emit(post_id)
