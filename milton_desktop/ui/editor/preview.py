"""How the post will look on each platform, next to the text, as it is typed.

One card per platform, chosen by a tab: the account's name and picture, the text up
to the feed's fold ("…see more"), links as the platform shows them (X's t.co), the
part over the limit marked, the first image cropped as the feed crops it, and a
link card where the platform makes one. Everything comes from the platform's
:class:`~milton_desktop.publishers.platform.Preview` via :mod:`.preview_layout`;
colours come from the palette, so the card reads in light and dark themes.

The text is re-laid out a moment after typing stops (a parented single-shot timer),
not on every keystroke.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.publishers import registry
from milton_desktop.publishers.platform import Platform
from milton_desktop.ui import tones
from milton_desktop.ui.editor.media import paint_picture_icon
from milton_desktop.ui.editor.preview_layout import (
    LINK,
    MORE,
    OVER,
    TextLayout,
    crop_box,
    layout_text,
    link_host,
    ratio_name,
    shown_ratio,
)

#: how long typing must pause before the preview is laid out again
DEBOUNCE_MS = 150
#: the card's width: about a phone's feed column
CARD_WIDTH = 320
AVATAR = 40


@dataclass(frozen=True)
class PreviewMedia:
    """One attachment as the preview shows it."""

    kind: str
    name: str
    url: str | None = None
    image: QImage | None = None
    width: int | None = None
    height: int | None = None
    #: ``host/name`` of a link
    link_label: str = ""


@dataclass(frozen=True)
class PreviewAuthor:
    """Who the post appears from."""

    name: str
    handle: str = ""
    tier: str | None = None


def _avatar(name: str, colour: QColor, ring: QColor | None = None) -> QPixmap:
    """A disc in the platform's colour with the account's initial."""
    pixmap = QPixmap(AVATAR * 2, AVATAR * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if ring is not None:  # a brand colour as dark as the card (X on a dark theme)
        painter.setPen(ring)
    else:
        painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawEllipse(QRectF(0.5, 0.5, AVATAR - 1, AVATAR - 1))
    white, black = QColor("#ffffff"), QColor("#000000")
    painter.setPen(
        white if tones.contrast(white, colour) >= tones.contrast(black, colour) else black
    )
    font = painter.font()
    font.setBold(True)
    font.setPixelSize(AVATAR // 2)
    painter.setFont(font)
    initial = next((c for c in name if c.isalnum()), "?").upper()
    painter.drawText(QRectF(0, 0, AVATAR, AVATAR), Qt.AlignmentFlag.AlignCenter, initial)
    painter.end()
    return pixmap


class PreviewCard(QFrame):
    """One post as a platform's feed shows it (filled by :meth:`show_post`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("previewCard")
        self.setFixedWidth(CARD_WIDTH)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Maximum)
        box = QVBoxLayout(self)
        box.setContentsMargins(12, 12, 12, 12)
        box.setSpacing(8)

        header = QHBoxLayout()
        header.setSpacing(8)
        self.avatar = QLabel()
        self.avatar.setFixedSize(AVATAR, AVATAR)
        header.addWidget(self.avatar, 0, Qt.AlignmentFlag.AlignTop)
        names = QVBoxLayout()
        names.setSpacing(0)
        self.author = QLabel()
        self.author.setObjectName("previewAuthor")
        font = self.author.font()
        font.setBold(True)
        self.author.setFont(font)
        self.handle = QLabel()
        self.handle.setObjectName("previewHandle")
        names.addWidget(self.author)
        names.addWidget(self.handle)
        header.addLayout(names, 1)
        box.addLayout(header)

        self.body = QLabel()
        self.body.setObjectName("previewBody")
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

        self.media = QLabel()
        self.media.setObjectName("previewMedia")
        self.media.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.media.setWordWrap(True)
        self.media_caption = QLabel()
        self.media_caption.setObjectName("previewMediaCaption")
        self.media_caption.setWordWrap(True)

        self.link_card = QFrame()
        self.link_card.setObjectName("previewLinkCard")
        link_box = QVBoxLayout(self.link_card)
        link_box.setContentsMargins(0, 0, 0, 8)
        link_box.setSpacing(4)
        self.link_picture = QLabel()
        self.link_picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.link_host = QLabel()
        self.link_host.setObjectName("previewLinkHost")
        self.link_host.setWordWrap(True)
        self.link_host.setContentsMargins(8, 0, 8, 0)
        link_box.addWidget(self.link_picture)
        link_box.addWidget(self.link_host)

        # the order (text, then media; or media, then caption) is set per platform
        self._content = QVBoxLayout()
        self._content.setSpacing(8)
        box.addLayout(self._content)
        self._order: tuple[QWidget, ...] = ()
        self._place((self.body, self.media, self.media_caption, self.link_card))

    def _place(self, order: tuple[QWidget, ...]) -> None:
        if order == self._order:
            return
        for widget in self._order:
            self._content.removeWidget(widget)
        for widget in order:
            self._content.addWidget(widget)
        self._order = order

    # ------------------------------------------------------------ filling

    def show_post(
        self,
        platform: Platform,
        layout: TextLayout,
        media: Sequence[PreviewMedia],
        author: PreviewAuthor,
    ) -> None:
        """Show ``layout`` and ``media`` as ``platform``'s feed would, from ``author``."""
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        dim = tones.dim(palette, QPalette.ColorRole.Base)
        self.setStyleSheet(
            f"#previewCard {{ background: {base.name()}; border: 1px solid "
            f"{tones.mix(base, text, 0.22).name()}; border-radius: 10px; }}"
            f"#previewCard QLabel {{ color: {text.name()}; background: transparent; }}"
            f"#previewCard #previewHandle, #previewCard #previewLinkHost, "
            f"#previewCard #previewMediaCaption {{ color: {dim.name()}; }}"
            f"#previewLinkCard {{ border: 1px solid {tones.mix(base, text, 0.22).name()}; "
            "border-radius: 8px; }"
        )
        brand = QColor(platform.colour)
        ring = tones.mix(base, text, 0.45) if tones.contrast(brand, base) < 1.6 else None
        self.avatar.setPixmap(_avatar(author.name, brand, ring))
        self.author.setText(author.name)
        self.handle.setText(author.handle)
        self.body.setText(self._body_html(platform, layout, palette))
        self.body.setVisible(bool(layout.segments))
        self.body.setAccessibleName(f"{platform.label} text: {layout.plain}")
        self._show_media(platform, media, palette)
        self._show_link_card(platform, layout, media, palette)
        order = (self.body, self.media, self.media_caption, self.link_card)
        if _media_first(platform):
            order = (self.media, self.media_caption, self.body, self.link_card)
        self._place(order)

    @staticmethod
    def _body_html(platform: Platform, layout: TextLayout, palette: QPalette) -> str:
        base_role = QPalette.ColorRole.Base
        link = tones.link(palette, base_role)
        dim = tones.dim(palette, base_role)
        error = tones.tone(palette, "error", base_role)
        error_bg = tones.mix(palette.color(base_role), error, 0.14)
        error = tones.readable(error, error_bg)
        parts = []
        for segment in layout.segments:
            words = html.escape(segment.text).replace("\n", "<br>")
            if segment.kind == LINK and platform.preview.links_clickable:
                parts.append(f"<span style='color: {link.name()}'>{words}</span>")
            elif segment.kind == MORE:
                parts.append(f"<span style='color: {dim.name()}'>{words}</span>")
            elif segment.kind == OVER:
                parts.append(
                    f"<span style='color: {error.name()}; background: {error_bg.name()}; "
                    f"text-decoration: line-through'>{words}</span>"
                )
            else:
                parts.append(words)
        return "".join(parts)

    def _show_media(
        self, platform: Platform, media: Sequence[PreviewMedia], palette: QPalette
    ) -> None:
        if not media:
            self.media.hide()
            self.media_caption.hide()
            return
        first = media[0]
        width = CARD_WIDTH - 24
        ratios = platform.preview.image_ratio
        more = f"1 of {len(media)}" if len(media) > 1 else ""
        if first.image is not None and not first.image.isNull():
            image = first.image
            x, y, w, h = crop_box(image.width(), image.height(), ratios)
            cropped = image.copy(x, y, w, h)
            shown = cropped.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
            self.media.setPixmap(QPixmap.fromImage(shown))
            ratio = shown_ratio(image.width(), image.height(), ratios)
            own = image.width() / image.height()
            what = f"Shown at {ratio_name(ratio)}"
            if abs(own - ratio) > 0.01:
                what += f" (cropped from {ratio_name(own)})"
            self.media.setAccessibleName(f"{first.name}: {what}")
            self.media_caption.setText(", ".join(p for p in (what, more) if p) + ".")
        else:
            self.media.setPixmap(self._placeholder(first, width, ratios, palette))
            if first.url:
                label = f"Linked {_kind_word(first.kind)}: {first.link_label or first.name}"
                note = f"{platform.label} fetches it when the post goes out."
            else:
                label = f"{_kind_word(first.kind).capitalize()}: {first.name}"
                note = "No picture of it is made here."
            self.media.setAccessibleName(label)
            self.media_caption.setText(" ".join(p for p in (label + ".", note, more) if p))
        self.media.show()
        self.media_caption.show()

    @staticmethod
    def _placeholder(
        item: PreviewMedia, width: int, ratios: tuple[float, float], palette: QPalette
    ) -> QPixmap:
        """A tinted box with a picture icon where an image will be (a link, a video)."""
        ratio = shown_ratio(item.width or 0, item.height or 0, ratios)
        height = max(60, round(width / ratio))
        pixmap = QPixmap(width, height)
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        pixmap.fill(tones.mix(base, text, 0.07))
        painter = QPainter(pixmap)
        ink = tones.mix(text, base, 0.35)
        size = min(56, height // 2)
        paint_picture_icon(
            painter, QRectF((width - size) / 2, (height - size * 0.8) / 2, size, size * 0.8), ink
        )
        painter.end()
        return pixmap

    def _show_link_card(
        self,
        platform: Platform,
        layout: TextLayout,
        media: Sequence[PreviewMedia],
        palette: QPalette,
    ) -> None:
        if media or not layout.first_link or not platform.preview.link_card:
            self.link_card.hide()
            return
        host = link_host(layout.first_link)
        width = CARD_WIDTH - 26
        item = PreviewMedia(kind="image", name=host)
        self.link_picture.setPixmap(self._placeholder(item, width, (1.91, 1.91), palette))
        self.link_host.setText(
            f"{host}\n{platform.label} shows the page's own picture and title here."
        )
        self.link_card.setAccessibleName(f"Link card for {host}")
        self.link_card.show()


def _media_first(platform: Platform) -> bool:
    # a feed that is all pictures (Instagram) puts the caption under the image; a
    # platform that takes no text-only posts is such a feed
    return platform.rules.requires_media


def _kind_word(kind: str) -> str:
    return {"video": "video", "document": "document"}.get(kind, "image")


class PreviewPanel(QWidget):
    """A tab per platform and the card of the chosen one, with notes under it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("previewPanel")
        self._texts: dict[str, str] = {}
        self._media: tuple[PreviewMedia, ...] = ()
        self._authors: dict[str, PreviewAuthor] = {}
        self._fallback: dict[str, PreviewAuthor] = {}
        self._chosen: frozenset[str] = frozenset()
        self._platforms = registry.names()

        box = QVBoxLayout(self)
        box.setContentsMargins(8, 0, 0, 0)
        title = QLabel("<b>Preview</b>")
        box.addWidget(title)
        self.tabs = QTabBar()
        self.tabs.setObjectName("previewPlatforms")
        self.tabs.setAccessibleName("Preview on platform")
        self.tabs.setExpanding(False)
        self.tabs.setDrawBase(False)
        for name in self._platforms:
            self.tabs.addTab(registry.label(name))
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        box.addWidget(self.tabs)

        self.card = PreviewCard()
        holder = QWidget()
        holder_box = QVBoxLayout(holder)
        holder_box.setContentsMargins(0, 4, 0, 4)
        holder_box.addWidget(self.card)
        self.note = QLabel()
        self.note.setObjectName("previewNote")
        self.note.setWordWrap(True)
        self.note.setFixedWidth(CARD_WIDTH)
        # no alignment flag: an aligned item gets its size hint, not the height its
        # wrapped text needs at this width, and its last lines were cut off
        holder_box.addWidget(self.note)
        holder_box.addStretch(1)
        self.scroller = QScrollArea()
        self.scroller.setObjectName("previewScroll")
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setWidget(holder)
        box.addWidget(self.scroller, 1)
        self.setMinimumWidth(CARD_WIDTH + 30)

        self._timer = QTimer(self)
        self._timer.setObjectName("milton-editor-preview")
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def platform(self) -> str:
        """The platform on show."""
        return self._platforms[max(self.tabs.currentIndex(), 0)]

    def show_platform(self, name: str) -> None:
        self.tabs.setCurrentIndex(self._platforms.index(name))
        self.flush()

    def set_content(
        self,
        texts: Mapping[str, str],
        media: Sequence[PreviewMedia],
        authors: Mapping[str, PreviewAuthor],
        chosen: Collection[str],
        fallback: Mapping[str, PreviewAuthor] | None = None,
    ) -> None:
        """What to preview: each platform's text, the media, who posts (``authors`` by
        platform for the chosen accounts, ``fallback`` for platforms with none chosen);
        laid out a moment later."""
        self._texts = dict(texts)
        self._fallback = dict(fallback or {})
        self._media = tuple(media)
        self._authors = dict(authors)
        chosen_now = frozenset(chosen)
        if chosen_now != self._chosen:
            self._chosen = chosen_now
            for n, name in enumerate(self._platforms):
                tip = "" if not chosen_now or name in chosen_now else " (not chosen)"
                self.tabs.setTabToolTip(n, f"How the post looks on {registry.label(name)}{tip}")
            if chosen_now and self.platform not in chosen_now:
                first = next(n for n in self._platforms if n in chosen_now)
                self.tabs.setCurrentIndex(self._platforms.index(first))
        self._timer.start()

    def flush(self) -> None:
        """Lay the preview out now (instead of after the pause in typing)."""
        self._timer.stop()
        self._render()

    def _render(self) -> None:
        name = self.platform
        platform = registry.platform(name)
        author = self._authors.get(name) or self._fallback.get(name)
        if author is None:
            author = PreviewAuthor(f"Your {platform.label} account", "now")
        layout = layout_text(platform, self._texts.get(name, ""), author.tier)
        self.card.show_post(platform, layout, self._media, author)
        self._update_note(platform, layout)

    def _update_note(self, platform: Platform, layout: TextLayout) -> None:
        palette = self.palette()
        dim = tones.dim(palette)
        error = tones.tone(palette, "error")
        lines = []
        if layout.over:
            unit = platform.rules.unit
            lines.append(
                f"<span style='color: {error.name()}'>{layout.over} {unit} over "
                f"{platform.label}'s limit: it would refuse the post. Shorten the text "
                "(crossed out above).</span>"
                if not layout.hidden
                else f"<span style='color: {error.name()}'>{layout.over} {unit} over "
                f"{platform.label}'s limit: it would refuse the post.</span>"
            )
        if layout.hidden:
            fold = platform.preview
            lines.append(
                f"The feed shows about {fold.fold_chars} characters"
                + (f" or {fold.fold_lines} lines" if fold.fold_lines else "")
                + f", then “{fold.more_label.lstrip('… ')}”: {layout.hidden} more "
                "characters are behind it. Put what matters first."
            )
        if self._media and platform.preview.image_note:
            lines.append(platform.preview.image_note)
        if platform.preview.note:
            lines.append(platform.preview.note)
        if self._chosen and platform.name not in self._chosen:
            lines.append(f"No {platform.label} account is chosen for this post.")
        # one line apart, not paragraph margins: QLabel measures <br> exactly, while a
        # last paragraph's margin was cut off its height
        body = "<br><br>".join(lines)
        self.note.setText(f"<span style='color: {dim.name()}'>{body}</span>")
        self.note.setAccessibleName("Notes on the preview")

    # ------------------------------------------------------------ slots

    def _on_tabs_current_changed(self, _index: int) -> None:
        self.flush()

    def _on_timer_timeout(self) -> None:
        self._render()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._timer.start()  # colours are taken from the palette when laid out
