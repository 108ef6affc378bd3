"""The editor's follow-ups: the parts after the main text, as a column.

On X, Bluesky, Mastodon and Threads each part is a reply to the one before (a
thread); on LinkedIn and Instagram each is a comment on the post, in order (the
"first comment"). Each part has its own counter for the chosen platforms; "Split
into a thread" cuts a long main text into parts that fit them all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.content import MediaItem
from milton_desktop.domain.thread import MAX_FOLLOW_UP_DELAY_S, MAX_FOLLOW_UPS
from milton_desktop.domain.validation import Rules
from milton_desktop.operations import posts
from milton_desktop.storage import media as media_mod
from milton_desktop.ui.editor.media import MediaEntry
from milton_desktop.ui.tasks import run_in_background

#: what "Add file…" offers for a part's media
PART_MEDIA_FILTER = (
    "Images and videos (*.jpg *.jpeg *.png *.gif *.webp *.mp4 *.mov "
    "*.JPG *.JPEG *.PNG *.GIF *.WEBP *.MP4 *.MOV);;All files (*)"
)


class PartMedia(QWidget):
    """One attachment of a follow-up: its name, its alt text and a remove button."""

    removeRequested = Signal(object)
    changed = Signal()

    def __init__(self, entry: MediaEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.name_label = QLabel()
        self.name_label.setObjectName("followUpMediaName")
        row.addWidget(self.name_label)
        self.alt_edit = QLineEdit(entry.alt_text)
        self.alt_edit.setObjectName("followUpAlt")
        self.alt_edit.setMaxLength(1000)
        self.alt_edit.setPlaceholderText("Alt text: describe it for people who cannot see it")
        self.alt_edit.textEdited.connect(self._on_alt_edit_text_edited)
        row.addWidget(self.alt_edit, 1)
        self.remove_button = QToolButton()
        self.remove_button.setText("×")
        self.remove_button.setToolTip("Remove this attachment")
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self))
        row.addWidget(self.remove_button)
        self.refresh()

    def refresh(self) -> None:
        entry = self.entry
        words = " (reading…)" if entry.state == "loading" else ""
        self.name_label.setText(f"{entry.kind.capitalize()}: {entry.name}{words}")
        self.alt_edit.setAccessibleName(f"Alt text of {entry.name}")
        self.remove_button.setAccessibleName(f"Remove {entry.name}")

    def _on_alt_edit_text_edited(self, text: str) -> None:
        self.entry.alt_text = text
        self.changed.emit()


#: (platform label, what a follow-up there is called, its rules) for each chosen platform
Targets = Sequence[tuple[str, str, Rules]]


class PartEditor(QFrame):
    """One follow-up: its text, a counter per chosen platform and a remove button."""

    changed = Signal()
    removeRequested = Signal(object)

    def __init__(self, number: int, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("followUp")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(self)
        box.setContentsMargins(6, 4, 6, 4)
        box.setSpacing(2)
        head = QHBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("followUpTitle")
        head.addWidget(self.title)
        self.counter = QLabel()
        self.counter.setObjectName("followUpCounter")
        head.addWidget(self.counter, 1)
        self.remove_button = QToolButton()
        self.remove_button.setObjectName("removeFollowUp")
        self.remove_button.setText("Remove")
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self))
        head.addWidget(self.remove_button)
        box.addLayout(head)
        self.edit = QPlainTextEdit(text)
        self.edit.setObjectName("followUpText")
        self.edit.setTabChangesFocus(True)
        self.edit.setFixedHeight(64)
        self.edit.textChanged.connect(self.changed)
        box.addWidget(self.edit)
        self.media_box = QVBoxLayout()
        self.media_box.setSpacing(2)
        box.addLayout(self.media_box)
        media_row = QHBoxLayout()
        self.add_file_button = QToolButton()
        self.add_file_button.setObjectName("followUpAddFile")
        self.add_file_button.setText("Add file…")
        self.add_file_button.clicked.connect(self._on_add_file_button_clicked)
        media_row.addWidget(self.add_file_button)
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("followUpMediaUrl")
        self.url_edit.setPlaceholderText("or a public https link to an image or video")
        self.url_edit.returnPressed.connect(self._on_url_edit_return_pressed)
        media_row.addWidget(self.url_edit, 1)
        self.media_note = QLabel()
        self.media_note.setObjectName("followUpMediaNote")
        media_row.addWidget(self.media_note)
        box.addLayout(media_row)
        self._media: list[PartMedia] = []
        self.set_number(number)

    def set_number(self, number: int) -> None:
        self.title.setText(f"<b>Part {number}</b>")
        self.edit.setAccessibleName(f"Text of part {number}")
        self.remove_button.setAccessibleName(f"Remove part {number}")
        self.add_file_button.setAccessibleName(f"Add a file to part {number}")
        self.url_edit.setAccessibleName(f"Link to an image or video for part {number}")

    def text(self) -> str:
        return self.edit.toPlainText()

    # ------------------------------------------------------------ its media
    def entries(self) -> list[MediaEntry]:
        return [m.entry for m in self._media]

    def media_items(self) -> tuple[MediaItem, ...]:
        return tuple(e.item() for e in self.entries())

    def media_inputs(self) -> tuple[posts.MediaInput, ...]:
        return tuple(e.media_input() for e in self.entries())

    def media_state(self) -> tuple:
        return tuple((e.path, e.url, e.alt_text) for e in self.entries())

    def loading(self) -> bool:
        return any(e.state == "loading" for e in self.entries())

    def add_entry(self, entry: MediaEntry) -> None:
        row = PartMedia(entry, self)
        row.removeRequested.connect(self._on_media_remove_requested)
        row.changed.connect(self.changed)
        self._media.append(row)
        self.media_box.addWidget(row)
        self.changed.emit()

    def add_files(self, paths: Sequence[str | Path]) -> None:
        """Attach local files: each is read on a worker (its kind, size, dimensions)."""
        for raw in paths:
            path = Path(raw)
            entry = MediaEntry.new(path=path, original_name=path.name)
            self.add_entry(entry)
            run_in_background(
                partial(media_mod.inspect, path),
                parent=self,
                on_success=partial(self._on_file_read, entry.key),
                on_failure=partial(self._on_file_failed, entry.key),
            )

    def add_url(self, url: str) -> bool:
        url = url.strip()
        try:
            kind, mime = media_mod.describe_url(url)
        except media_mod.MediaError as exc:
            self.media_note.setText(str(exc))
            return False
        self.media_note.clear()
        self.add_entry(MediaEntry.new(url=url, kind=kind, mime=mime, state="ready"))
        return True

    def _row(self, key: int) -> PartMedia | None:
        return next((m for m in self._media if m.entry.key == key), None)

    def _on_file_read(self, key: int, info: media_mod.MediaInfo) -> None:
        row = self._row(key)
        if row is None:
            return
        entry = row.entry
        entry.kind, entry.mime, entry.size = info.kind, info.mime, info.size
        entry.width, entry.height, entry.state = info.width, info.height, "ready"
        row.refresh()
        self.changed.emit()

    def _on_file_failed(self, key: int, exc: Exception) -> None:
        row = self._row(key)
        if row is not None:
            self._on_media_remove_requested(row)
        self.media_note.setText(str(exc))

    def _on_media_remove_requested(self, row: PartMedia) -> None:
        self._media.remove(row)
        self.media_box.removeWidget(row)
        row.deleteLater()
        self.changed.emit()

    def _on_add_file_button_clicked(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Attach to this part", str(Path.home()), PART_MEDIA_FILTER
        )
        self.add_files(files)

    def _on_url_edit_return_pressed(self) -> None:
        if self.add_url(self.url_edit.text()):
            self.url_edit.clear()

    def show_counts(self, targets: Targets, error: str, dim: str) -> bool:
        """Count the text as each chosen platform does; True if any says it is too long."""
        text = self.text()
        over = False
        pieces = []
        for label, noun, rules in targets:
            n, limit = rules.length(text)
            piece = f"{label} {noun} {n}/{limit}"
            if n > limit:
                over = True
                piece = f"<b style='color:{error}'>{piece}</b>"
            pieces.append(piece)
        self.counter.setText(
            f"<span style='color:{dim}'>{' · '.join(pieces)}</span>" if pieces else ""
        )
        self.setProperty("over", over)
        return over


class ThreadPanel(QFrame):
    """The follow-ups of a post, shown when there are some or when asked for."""

    changed = Signal()
    #: the user asked to cut the main text into parts; the bool: number them "k/n"
    splitRequested = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("threadPanel")
        self._parts: list[PartEditor] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 4, 0, 0)
        outer.setSpacing(4)

        head = QHBoxLayout()
        self.toggle = QToolButton()
        self.toggle.setObjectName("threadToggle")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setAutoRaise(True)
        self.toggle.toggled.connect(self._on_toggle_toggled)
        head.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        self.explain = QLabel(
            "A thread of replies on X, Bluesky, Mastodon and Threads; comments on the "
            "post on LinkedIn and Instagram."
        )
        self.explain.setObjectName("threadExplain")
        self.explain.setWordWrap(True)
        head.addWidget(self.explain, 1)
        head.addStretch(0)
        outer.addLayout(head)

        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(18, 0, 0, 0)
        body.setSpacing(4)
        self.parts_box = QVBoxLayout()
        self.parts_box.setSpacing(4)
        body.addLayout(self.parts_box)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add part")
        self.add_button.setObjectName("addFollowUp")
        self.add_button.setToolTip("Add a reply (or comment) after the last part")
        self.add_button.clicked.connect(self._on_add_button_clicked)
        row.addWidget(self.add_button)
        self.split_button = QPushButton("Split into a thread")
        self.split_button.setObjectName("splitThread")
        self.split_button.setToolTip(
            "Cut the main text at paragraph or sentence ends into parts that fit every "
            "chosen platform"
        )
        self.split_button.clicked.connect(self._on_split_button_clicked)
        row.addWidget(self.split_button)
        self.number_check = QCheckBox("Number the parts (1/n)")
        self.number_check.setObjectName("numberParts")
        row.addWidget(self.number_check)
        row.addStretch(1)
        delay_label = QLabel("Wait between parts:")
        row.addWidget(delay_label)
        self.delay_spin = QSpinBox()
        self.delay_spin.setObjectName("followUpDelay")
        self.delay_spin.setAccessibleName("Minutes to wait between parts")
        self.delay_spin.setRange(0, MAX_FOLLOW_UP_DELAY_S // 60)
        self.delay_spin.setSuffix(" min")
        self.delay_spin.setSpecialValueText("no wait")
        self.delay_spin.valueChanged.connect(self.changed)
        delay_label.setBuddy(self.delay_spin)
        row.addWidget(self.delay_spin)
        body.addLayout(row)
        outer.addWidget(self.body)
        self._seconds = 0  # a delay that is not whole minutes (set from the CLI) is kept
        self._update_title()
        self.body.setVisible(False)

    # ------------------------------------------------------------ reading and setting
    def texts(self) -> list[str]:
        return [p.text() for p in self._parts]

    def set_texts(self, texts: Sequence[str]) -> None:
        for part in list(self._parts):
            self._remove(part, notify=False)
        for text in texts:
            self._append(text)
        if texts:
            self.toggle.setChecked(True)
        self._update_title()
        self.changed.emit()

    def set_media(self, media: Sequence[Sequence[tuple[MediaItem, str]]]) -> None:
        """The saved attachments of each follow-up, in order."""
        for part, items in zip(self._parts, media, strict=False):
            for item, name in items:
                part.add_entry(MediaEntry.from_item(item, name))

    def media_state(self) -> tuple:
        return tuple(p.media_state() for p in self._parts)

    def loading(self) -> bool:
        return any(p.loading() for p in self._parts)

    def delay(self) -> int:
        """Seconds to wait between parts."""
        minutes = self.delay_spin.value()
        if self._seconds and self._seconds // 60 == minutes:
            return self._seconds
        return minutes * 60

    def set_delay(self, seconds: int) -> None:
        self._seconds = seconds
        self.delay_spin.setValue(seconds // 60)

    def editors(self) -> list[PartEditor]:
        return list(self._parts)

    def show_counts(self, targets: Targets, error: str, dim: str) -> None:
        for part in self._parts:
            part.show_counts(targets, error, dim)

    def set_busy(self, busy: bool) -> None:
        for widget in (self.add_button, self.split_button, self.delay_spin):
            widget.setEnabled(not busy)
        for part in self._parts:
            part.add_file_button.setEnabled(not busy)
            part.url_edit.setEnabled(not busy)
        self.add_button.setEnabled(not busy and len(self._parts) < MAX_FOLLOW_UPS)

    # ------------------------------------------------------------ inside
    def _append(self, text: str = "") -> PartEditor:
        part = PartEditor(len(self._parts) + 2, text, self)
        part.changed.connect(self.changed)
        part.removeRequested.connect(self._on_part_remove_requested)
        self._parts.append(part)
        self.parts_box.addWidget(part)
        self.add_button.setEnabled(len(self._parts) < MAX_FOLLOW_UPS)
        return part

    def _remove(self, part: PartEditor, *, notify: bool = True) -> None:
        self._parts.remove(part)
        self.parts_box.removeWidget(part)
        part.deleteLater()
        for number, other in enumerate(self._parts, 2):
            other.set_number(number)
        self.add_button.setEnabled(len(self._parts) < MAX_FOLLOW_UPS)
        if notify:
            self._update_title()
            self.changed.emit()

    def _update_title(self) -> None:
        n = len(self._parts)
        self.toggle.setText(
            f"Thread and first comments ({n} part{'s' if n != 1 else ''} after the main text)"
            if n
            else "Thread and first comments"
        )
        # the explanation stays until the parts themselves show what they are
        self.explain.setText(
            ""
            if n and self.toggle.isChecked()
            else "A thread of replies on X, Bluesky, Mastodon and Threads; comments on "
            "the post on LinkedIn and Instagram."
        )

    def _on_toggle_toggled(self, shown: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.body.setVisible(shown)
        self._update_title()

    def _on_add_button_clicked(self) -> None:
        part = self._append()
        self.toggle.setChecked(True)
        self._update_title()
        part.edit.setFocus()
        self.changed.emit()

    def _on_part_remove_requested(self, part: PartEditor) -> None:
        self._remove(part)

    def _on_split_button_clicked(self) -> None:
        self.splitRequested.emit(self.number_check.isChecked())


def fits_all(targets: Sequence[Rules]) -> Callable[[str], bool]:
    """Whether a part's text is within every one of ``targets``' limits."""
    return lambda text: all(rules.length(text)[0] <= rules.max_chars for rules in targets)
