"""The post editor: write once, check it against every platform as you type, schedule.

What the user sees while typing is what each platform will count: X's weighted
length (URLs cost 23), each platform's own limits, hashtags where they are limited.
Problems for the chosen accounts are listed under the text in plain words, and the
Schedule button stays off until there are none. Nothing is written unless every
chosen account accepts the post; the write itself (media hashing and copying
included) runs on a worker, in one transaction. Editing a schedule changes that
row in place (:func:`schedules.update_schedule`); a saved post's media are replaced
as a whole (:func:`posts.replace_media`), or not at all.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QSize, Qt, QTime, Signal
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QKeySequence,
    QPalette,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.content import Content, MediaItem
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.status import MOVABLE, AccountStatus, Status
from milton_desktop.domain.thread import split_thread
from milton_desktop.domain.timeutil import (
    TimeInputError,
    get_zone,
    human_delta,
    is_ambiguous,
    localize,
)
from milton_desktop.domain.validation import Rules, count_hashtags
from milton_desktop.operations import (
    accounts,
    approvals,
    compose,
    link_previews,
    posts,
    schedules,
    voices,
)
from milton_desktop.publishers import registry
from milton_desktop.publishers.base import PublishError
from milton_desktop.storage import media as media_mod
from milton_desktop.storage import queries, settings
from milton_desktop.storage.queries import AccountView
from milton_desktop.ui import tones
from milton_desktop.ui.editor.assistant import AssistantPanel
from milton_desktop.ui.editor.media import (
    THUMB,
    FileDrops,
    MediaEntry,
    read_media,
    thumbnail,
    tile,
)
from milton_desktop.ui.editor.preview import PreviewAuthor, PreviewMedia, PreviewPanel
from milton_desktop.ui.editor.suggest import SuggestTimeButton
from milton_desktop.ui.editor.thread import ThreadPanel, fits_all
from milton_desktop.ui.style import platform_dot
from milton_desktop.ui.tasks import run_in_background
from milton_desktop.ui.wording import describe, hinted, sentence, with_hint

log = logging.getLogger("milton.ui.editor")

#: the error colour on a light theme (a dark one gets a lighter red: see ui/tones.py)
ERROR_COLOUR = "#b3261e"

VOICE_LABELS = {"personal": "Personal", "coach": "Coach", "pr": "PR"}
#: what a voice is here: kept with the post, and what “Write with…” writes in
VOICE_LINE = (
    "The tone you write in, kept with the post. It does not change the text; "
    "“Write with…” writes in it."
)
VOICE_HELP = (
    "Voice is the tone a post is written in: Personal (as yourself), Coach (advice and "
    "teaching), PR (announcements for an organisation), or one of your own. Milton keeps "
    "it with the post, and the writing assistant (“Write with…”) follows its guide, "
    "which you can edit under Settings ▸ Writing assistant. Choosing a voice never "
    "changes the text by itself."
)

MEDIA_FILTER = (
    "Images and videos (*.jpg *.jpeg *.png *.gif *.webp *.mp4 *.mov *.pdf "
    "*.JPG *.JPEG *.PNG *.GIF *.WEBP *.MP4 *.MOV *.PDF);;All files (*)"
)


def _coloured(label: QLabel, colour: QColor | str) -> None:
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(colour))
    label.setPalette(palette)


def _dim_colour(widget: QWidget) -> QColor:
    return tones.dim(widget.palette())


def _error_colour(widget: QWidget, role: QPalette.ColorRole = QPalette.ColorRole.Window) -> QColor:
    return tones.tone(widget.palette(), "error", role)


def _handle(acc: AccountView) -> str:
    if acc.username and acc.username != acc.remote_id:
        return f"@{acc.username.lstrip('@')}"
    return ""


_HAS_THUMB = Qt.ItemDataRole.UserRole + 1
_COUNTERS_PER_ROW = 4

#: how a schedule that can no longer be edited is described
#: keyed by the status text a ScheduleView carries (a Status is that text)
_HISTORY_WORDS: dict[str, str] = {
    Status.PUBLISHED: "was published",
    Status.PUBLISHING: "is being published right now",
    Status.UNCERTAIN: "may or may not have been published",
    Status.CANCELLED: "was cancelled",
}


# ---------------------------------------------------------------- the dialog


@dataclass
class Check:
    """The result of checking the editor's content: what blocks which action."""

    problems: list[str] = field(default_factory=list)  # HTML lines, already escaped
    blocking: bool = False
    time_ok: bool = False
    reason: str = ""  # why Schedule is off, for its tooltip


class PostEditorDialog(QDialog):
    """Write, check and schedule a post.

    Args:
        post_id: edit this post (draft or scheduled); None for a new post.
        schedule_id: edit this schedule of the post: its account, time and own text.
        clock: the time source (tests pass a fake one).
        media_dir: the media folder of the open data folder.

    Raises:
        milton_desktop.domain.errors.UserError: ``post_id`` or ``schedule_id`` does not exist.

    Signals:
        saved(int): the post id, after Save draft, Schedule or Publish now wrote it.
    """

    saved = Signal(int)
    #: the post id, after Publish now wrote it: the window follows it out and says how it went
    publishedNow = Signal(int)

    def __init__(
        self,
        post_id: int | None = None,
        schedule_id: int | None = None,
        parent: QWidget | None = None,
        clock: Clock | None = None,
        *,
        media_dir: Path,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("postEditor")
        self.clock: Clock = clock or SystemClock()
        #: where attached files are copied: the data folder chosen at start (``--home``)
        self.media_dir = media_dir
        self._busy = False
        self._media: list[MediaEntry] = []
        self._loading_alt = False
        #: asks the user to confirm; replaced in tests (a modal box would block them)
        self.confirm: Callable[[str, str, str], bool] = self._ask

        self.zone_name = str(settings.get("timezone") or "UTC")
        try:
            self.zone: Any = get_zone(self.zone_name)
        except TimeInputError:
            self.zone_name, self.zone = "UTC", UTC

        row = queries.schedule_view(schedule_id) if schedule_id is not None else None
        if row is not None:
            post_id = row.post_id
        # a published, in-flight or cancelled schedule is history: shown, not edited;
        # so is one whose account was removed (it cannot go out again)
        editable = (
            row is not None
            and row.status in MOVABLE
            and row.account.status != AccountStatus.REMOVED
        )
        self._schedule = row if editable else None
        self._history = row if row is not None and not editable else None
        self._post = queries.post_view(post_id) if post_id is not None else None
        self._accounts = sorted(
            accounts.list_accounts(), key=lambda a: (a.platform, a.display_name)
        )

        self.setWindowTitle(self._title())
        self._build()
        self._load()
        self._initial = self._snapshot()
        self._initial_media = self._media_state()
        self._initial_follow_up_media = self.thread_panel.media_state()
        self._refresh()
        self._fit_to_screen()

    # ------------------------------------------------------------ building

    def _title(self) -> str:
        if self._schedule is not None:
            return f"Edit scheduled post – {self._schedule.account.display_name}"
        return "Edit post" if self._post is not None else "New post"

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        body = QHBoxLayout()
        outer.addLayout(body, 1)

        left = QVBoxLayout()
        body.addLayout(left, 3)
        self.tabs = QTabWidget()
        self.assistant_slot = QVBoxLayout()
        left.addLayout(self.assistant_slot)
        self.tabs.setObjectName("textTabs")
        self.tabs.setAccessibleName("Text per platform")
        # a tab per platform: they scroll rather than set the dialog's width
        self.tabs.setUsesScrollButtons(True)
        self.tabs.tabBar().setExpanding(False)
        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("postText")
        self.text_edit.setAccessibleName("Post text, for all platforms")
        self.text_edit.setPlaceholderText("What do you want to say?")
        # Tab moves on to the next control, as everywhere else in the dialog
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.textChanged.connect(self._on_text_edit_text_changed)
        self.tabs.addTab(self.text_edit, "All platforms")
        self.variant_checks: dict[str, QCheckBox] = {}
        self.variant_edits: dict[str, QPlainTextEdit] = {}
        for platform in registry.names():
            self.tabs.addTab(self._build_variant_tab(platform), registry.label(platform))
        left.addWidget(self.tabs, 1)

        # rows of a few counters: one line for six platforms would widen the dialog
        # past a laptop's screen
        counters = QGridLayout()
        counters.setHorizontalSpacing(18)
        counters.setVerticalSpacing(2)
        self.counters: dict[str, QLabel] = {}
        for platform in registry.names():
            label = QLabel()
            label.setObjectName(f"counter_{platform}")
            self.counters[platform] = label
        self.hashtag_counter = QLabel()
        self.hashtag_counter.setObjectName("counter_hashtags")
        for n, label in enumerate([*self.counters.values(), self.hashtag_counter]):
            counters.addWidget(label, n // _COUNTERS_PER_ROW, n % _COUNTERS_PER_ROW)
        counters.setColumnStretch(_COUNTERS_PER_ROW, 1)
        left.addLayout(counters)

        self.thread_panel = ThreadPanel()
        self.thread_panel.changed.connect(self._refresh)
        self.thread_panel.splitRequested.connect(self._on_thread_panel_split_requested)
        left.addWidget(self.thread_panel)

        self.problems_label = QLabel()
        self.problems_label.setObjectName("problems")
        self.problems_label.setWordWrap(True)
        self.problems_label.setTextFormat(Qt.TextFormat.RichText)
        self.problems_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        left.addWidget(self.problems_label)

        left.addWidget(self._build_media_box())

        body.addWidget(self._build_side_panel(), 0)
        self.preview = PreviewPanel()
        body.addWidget(self.preview, 0)

        self.status_label = QLabel()
        self.status_label.setObjectName("editorStatus")
        self.status_label.setWordWrap(True)
        _coloured(self.status_label, _error_colour(self))
        self.status_label.hide()
        outer.addWidget(self.status_label)

        buttons = QHBoxLayout()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel")
        self.cancel_button.setToolTip("Close the editor (Esc); asks first if there are changes")
        self.cancel_button.clicked.connect(self.reject)
        self.preview_toggle = QCheckBox("Show preview")
        self.preview_toggle.setObjectName("previewToggle")
        self.preview_toggle.setChecked(True)
        self.preview_toggle.toggled.connect(self._on_preview_toggle_toggled)
        self.duplicate_button = QPushButton("Duplicate")
        self.duplicate_button.setObjectName("duplicate")
        self.duplicate_button.setToolTip(
            "Save a copy of this post, with its text and media, as a new draft"
        )
        self.duplicate_button.clicked.connect(self._on_duplicate_button_clicked)
        self.duplicate_button.setVisible(self._post is not None)
        self.draft_button = QPushButton("Save draft")
        self.draft_button.setObjectName("saveDraft")
        self.draft_button.clicked.connect(self._on_draft_button_clicked)
        self.queue_button = QPushButton("Add to queue")
        self.queue_button.setObjectName("addToQueue")
        self.queue_button.setToolTip(
            "Schedule it in the next free posting time of each chosen account's queue"
        )
        self.queue_button.clicked.connect(self._on_queue_button_clicked)
        # a schedule being edited already has its time
        self.queue_button.setVisible(self._schedule is None)
        self.approve_button = QPushButton("Approve")
        self.approve_button.setObjectName("approve")
        self.approve_button.setToolTip(
            "Approve this post as it is saved: it goes out at its time, with your name as approver"
        )
        self.approve_button.clicked.connect(self._on_approve_button_clicked)
        self.approve_button.setVisible(
            self._schedule is not None and self._schedule.status == Status.AWAITING_APPROVAL
        )
        self.publish_button = QPushButton("Publish now")
        self.publish_button.setObjectName("publishNow")
        self.publish_button.clicked.connect(self._on_publish_button_clicked)
        # editing a schedule changes it in place: say so on the button
        self.schedule_words = "Save changes" if self._schedule is not None else "Schedule"
        self.schedule_button = QPushButton(self.schedule_words)
        self.schedule_button.setObjectName("schedule")
        self.schedule_button.setDefault(True)
        self.schedule_button.setToolTip(f"{self.schedule_words} (Ctrl+Enter)")
        self.schedule_button.clicked.connect(self._on_schedule_button_clicked)
        self.assistant_toggle = QPushButton("Write with…")
        self.assistant_toggle.setObjectName("assistantToggle")
        self.assistant_toggle.setCheckable(True)
        self.assistant_toggle.setToolTip(
            "Draft, rewrite, shorten or split the post with the writing assistant"
        )
        self.assistant_toggle.toggled.connect(self._on_assistant_toggle_toggled)
        self.assistant: AssistantPanel | None = None
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.preview_toggle)
        buttons.addWidget(self.assistant_toggle)
        buttons.addStretch(1)
        buttons.addWidget(self.duplicate_button)
        buttons.addWidget(self.approve_button)
        for button in (
            self.draft_button,
            self.queue_button,
            self.publish_button,
            self.schedule_button,
        ):
            buttons.addWidget(button)
        outer.addLayout(buttons)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(self._on_schedule_shortcut_activated)
        self._set_focus_order()

    def _set_focus_order(self) -> None:
        """Tab goes as the eye reads: the text, its media, then who, when, and the buttons."""
        chain: list[QWidget] = [self.tabs.tabBar(), self.text_edit]
        for platform in registry.names():
            chain += [self.variant_checks[platform], self.variant_edits[platform]]
        chain += [
            self.media_list,
            self.add_files_button,
            self.url_edit,
            self.add_link_button,
            self.remove_media_button,
            self.alt_edit,
            self.voice_combo,
            self.account_list,
            self.date_edit,
            self.time_edit,
            self.suggest_button,
            self.second_check,
            self.preview.tabs,
            self.cancel_button,
            self.preview_toggle,
            self.duplicate_button,
            self.draft_button,
            self.publish_button,
            self.schedule_button,
        ]
        for first, second in pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _build_variant_tab(self, platform: str) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        label = registry.label(platform)
        check = QCheckBox(f"Use a different text on {label}")
        check.setAccessibleName(f"Use a different text on {label}")
        check.setObjectName(f"variant_check_{platform}")
        check.toggled.connect(lambda on, p=platform: self._on_variant_check_toggled(p, on))
        edit = QPlainTextEdit()
        edit.setObjectName(f"variant_{platform}")
        edit.setAccessibleName(f"Text for {label} only")
        edit.setTabChangesFocus(True)
        edit.setEnabled(False)
        edit.setPlaceholderText(f"{label} gets the text of the All platforms tab.")
        edit.textChanged.connect(self._on_variant_edit_text_changed)
        note = QLabel(
            f"Stored with each {label} schedule. A draft keeps only the text of the "
            "All platforms tab."
        )
        note.setWordWrap(True)
        _coloured(note, _dim_colour(note))
        self.variant_checks[platform] = check
        self.variant_edits[platform] = edit
        box.addWidget(check)
        box.addWidget(edit, 1)
        box.addWidget(note)
        return page

    def _build_media_box(self) -> QWidget:
        box = QFrame()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 4, 0, 0)
        header = QHBoxLayout()
        title = QLabel("<b>Media</b>")
        header.addWidget(title)
        self.media_note = QLabel()
        self.media_note.setObjectName("mediaNote")
        self.media_note.setWordWrap(True)
        header.addWidget(self.media_note, 1)
        layout.addLayout(header)

        self.media_list = QListWidget()
        self.media_list.setObjectName("mediaList")
        self.media_list.setAccessibleName("Media (drop image files here)")
        self.media_list.setViewMode(QListView.ViewMode.IconMode)
        self.media_list.setIconSize(QSize(THUMB, THUMB))
        self.media_list.setGridSize(QSize(THUMB + 36, THUMB + 30))
        self.media_list.setSpacing(4)
        self.media_list.setMovement(QListView.Movement.Static)
        self.media_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.media_list.setWrapping(True)
        self.media_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.media_list.setFixedHeight(THUMB + 44)
        self.media_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.media_list.itemSelectionChanged.connect(self._on_media_list_selection_changed)
        layout.addWidget(self.media_list)
        # files dragged from the desktop attach like "Add files…" (onto the text too:
        # a file dropped there is meant as media, not as its path typed into the post)
        self.file_drops = FileDrops(self)
        for target in (box, self.media_list, self.media_list.viewport(), self.text_edit.viewport()):
            self.file_drops.watch(target)
        self.file_drops.entered.connect(self._on_file_drops_entered)
        self.file_drops.left.connect(self._on_file_drops_left)
        self.file_drops.dropped.connect(self._on_file_drops_dropped)

        row = QHBoxLayout()
        self.add_files_button = QPushButton("Add files…")
        self.add_files_button.setObjectName("addFiles")
        self.add_files_button.clicked.connect(self._on_add_files_clicked)
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("mediaUrl")
        self.url_edit.setAccessibleName("Link to an image or video")
        self.url_edit.setPlaceholderText("https://… public link to an image or video")
        self.url_edit.returnPressed.connect(self._on_add_link_clicked)
        self.add_link_button = QPushButton("Add link")
        self.add_link_button.setObjectName("addLink")
        self.add_link_button.clicked.connect(self._on_add_link_clicked)
        self.remove_media_button = QPushButton("Remove")
        self.remove_media_button.setObjectName("removeMedia")
        self.remove_media_button.clicked.connect(self._on_remove_media_clicked)
        row.addWidget(self.add_files_button)
        row.addWidget(self.url_edit, 1)
        row.addWidget(self.add_link_button)
        row.addWidget(self.remove_media_button)
        layout.addLayout(row)

        alt_row = QHBoxLayout()
        alt_label = QLabel("&Alt text:")
        alt_row.addWidget(alt_label)
        self.alt_edit = QLineEdit()
        self.alt_edit.setObjectName("altText")
        self.alt_edit.setAccessibleName("Alt text of the selected image")
        alt_label.setBuddy(self.alt_edit)
        self.alt_edit.setMaxLength(1000)
        self.alt_edit.setPlaceholderText(
            "Select an image, then describe it for people who cannot see it"
        )
        self.alt_edit.textEdited.connect(self._on_alt_edit_text_edited)
        alt_row.addWidget(self.alt_edit, 1)
        layout.addLayout(alt_row)
        return box

    def _build_side_panel(self) -> QWidget:
        panel = QWidget()
        panel.setFixedWidth(300)
        box = QVBoxLayout(panel)
        box.setContentsMargins(8, 0, 0, 0)

        form = QFormLayout()
        self.voice_combo = QComboBox()
        self.voice_combo.setObjectName("voice")
        for voice in voices.list_voices():
            self.voice_combo.addItem(VOICE_LABELS.get(voice.name, voice.label), voice.name)
        self.voice_combo.currentIndexChanged.connect(self._on_voice_combo_changed)
        self.voice_combo.setAccessibleName("Voice")
        self.voice_combo.setToolTip(VOICE_HELP)
        voice_label = QLabel("&Voice:")
        voice_label.setBuddy(self.voice_combo)
        voice_label.setToolTip(VOICE_HELP)
        form.addRow(voice_label, self.voice_combo)
        box.addLayout(form)
        self.voice_help = QLabel(VOICE_LINE)
        self.voice_help.setObjectName("voiceHelp")
        self.voice_help.setWordWrap(True)
        _coloured(self.voice_help, _dim_colour(self.voice_help))
        box.addWidget(self.voice_help)

        box.addWidget(QLabel("<b>Publish to</b>"))
        self.account_list = QListWidget()
        self.account_list.setObjectName("accountList")
        self.account_list.setAccessibleName("Publish to accounts (Space ticks one)")
        self.account_list.itemChanged.connect(self._on_account_list_item_changed)
        self.account_list.setMaximumHeight(170)
        box.addWidget(self.account_list)
        self.accounts_hint = QLabel()
        self.accounts_hint.setWordWrap(True)
        _coloured(self.accounts_hint, _dim_colour(self.accounts_hint))
        box.addWidget(self.accounts_hint)

        box.addSpacing(6)
        box.addWidget(QLabel("<b>When</b>"))
        when_row = QHBoxLayout()
        self.date_edit = QDateEdit()
        self.date_edit.setObjectName("date")
        self.date_edit.setAccessibleName("Date")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd d MMM yyyy")
        self.date_edit.dateChanged.connect(self._on_when_changed)
        self.time_edit = QTimeEdit()
        self.time_edit.setObjectName("time")
        self.time_edit.setAccessibleName("Time")
        self.time_edit.setDisplayFormat("HH:mm")
        self.time_edit.timeChanged.connect(self._on_when_changed)
        when_row.addWidget(self.date_edit, 1)
        when_row.addWidget(self.time_edit)
        box.addLayout(when_row)
        self.suggest_button = SuggestTimeButton(self.zone, self, clock=self.clock)
        self.suggest_button.chosen.connect(self._on_suggest_button_chosen)
        box.addWidget(self.suggest_button)
        self.zone_label = QLabel()
        self.zone_label.setObjectName("zone")
        _coloured(self.zone_label, _dim_colour(self.zone_label))
        box.addWidget(self.zone_label)
        self.second_check = QCheckBox()
        self.second_check.setObjectName("secondOccurrence")
        self.second_check.toggled.connect(self._on_when_changed)
        self.second_check.hide()
        self.time_note = QLabel()
        self.time_note.setObjectName("timeNote")
        self.time_note.setWordWrap(True)
        box.addWidget(self.time_note)
        box.addWidget(self.second_check)
        self.history_label = QLabel()
        self.history_label.setWordWrap(True)
        _coloured(self.history_label, _dim_colour(self.history_label))
        self.history_label.hide()
        box.addWidget(self.history_label)
        self.members_label = QLabel()
        self.members_label.setObjectName("scheduleMembers")
        self.members_label.setWordWrap(True)
        _coloured(self.members_label, _dim_colour(self.members_label))
        self.members_label.hide()
        box.addWidget(self.members_label)
        box.addStretch(1)
        return panel

    # ------------------------------------------------------------ loading

    def _load(self) -> None:
        post, row = self._post, self._schedule
        if post is not None:
            self.text_edit.setPlainText(post.body)
            self.thread_panel.set_texts(post.follow_ups)
            self.thread_panel.set_media(post.follow_up_media)
            self.thread_panel.set_delay(post.follow_up_delay)
            index = self.voice_combo.findData(post.voice)
            self.voice_combo.setCurrentIndex(max(index, 0))
            for media_item, name in zip(post.media, post.media_names, strict=True):
                entry = MediaEntry.from_item(media_item, name)
                self._add_entry(entry)
        checked = {row.account_id} if row is not None else set()
        self.account_list.blockSignals(True)
        for acc in self._accounts:
            handle = _handle(acc)
            text = f"{acc.display_name}  ·  {registry.label(acc.platform)}"
            if handle:
                text += f" {handle}"
            item = QListWidgetItem(platform_dot(acc.platform), text)
            item.setData(Qt.ItemDataRole.UserRole, acc.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if acc.id in checked else Qt.CheckState.Unchecked
            )
            if acc.status != AccountStatus.CONNECTED:
                item.setText(text + " (needs reconnecting)")
                item.setForeground(_error_colour(self, QPalette.ColorRole.Base))
            self.account_list.addItem(item)
        self.account_list.blockSignals(False)
        if not self._accounts:
            self.accounts_hint.setText(
                "No accounts connected yet: connect one under Accounts. You can save a draft meanwhile."
            )
        if post is not None:  # the post's own text per platform (a rewrite for X, ...)
            for platform, own in post.variants:
                if platform in self.variant_checks:
                    self.variant_checks[platform].setChecked(True)
                    self.variant_edits[platform].setPlainText(own)
        if row is not None and row.text_override is not None:
            platform = row.account.platform
            self.variant_checks[platform].setChecked(True)
            self.variant_edits[platform].setPlainText(row.text_override)
        if self._history is not None:
            h = self._history
            when = h.scheduled_time.astimezone(self.zone).strftime("%a %d %b %Y, %H:%M")
            what = _HISTORY_WORDS.get(h.status, h.status)
            self.history_label.setText(
                f"This post {what} on {h.account.display_name} ({when}). "
                "Scheduling it again creates new posts; the one above stays as it is."
            )
            self.history_label.show()
        self._show_members(self._schedule or self._history)
        self._media_message("")
        self._set_when(self._initial_when())
        self.suggest_button.set_accounts(self.selected_accounts())

    def _show_members(self, row: queries.ScheduleView | None) -> None:
        """Who made and changed the schedule, and where it stands with its approval."""
        if row is None:
            self.members_label.hide()
            return
        said = []
        if row.created_by:
            said.append(f"Created by {row.created_by}.")
        if row.updated_by and row.updated_by != row.created_by:
            said.append(f"Last changed by {row.updated_by}.")
        if row.status == Status.AWAITING_APPROVAL:
            said.append("It waits for a member's approval before it can go out.")
        elif row.approved_by and row.approved_at is not None:
            at = row.approved_at.astimezone(self.zone).strftime("%a %d %b, %H:%M")
            said.append(f"Approved by {row.approved_by} ({at}).")
        if row.account.require_approval and row.status in MOVABLE:
            said.append(
                "Changing its text or media sends it back to wait for approval."
                if row.status != Status.AWAITING_APPROVAL
                else "Changes you save keep it waiting for approval."
            )
        self.members_label.setText(" ".join(said))
        self.members_label.setVisible(bool(said))

    def approve(self) -> bool:
        """Approve the schedule being edited, as it is saved; False when refused."""
        row = self._schedule
        if row is None or row.status != Status.AWAITING_APPROVAL or self._busy:
            return False
        if self.is_dirty():
            self._refuse(
                "Save your changes first: Approve approves the post as it is saved, "
                "and what you changed would go out unapproved."
            )
            return False
        sid, clock = row.id, self.clock
        self._busy = True
        self._refresh()
        run_in_background(
            lambda: queries.ScheduleView.of(approvals.approve(sid, clock=clock)),
            parent=self,
            on_success=self._on_approve_done,
            on_failure=self._on_approve_failed,
            writes=True,
        )
        return True

    def _on_approve_button_clicked(self) -> None:
        self.approve()

    def _on_approve_done(self, view: queries.ScheduleView) -> None:
        self._busy = False
        self._schedule = view
        self.approve_button.hide()
        self._show_members(view)
        self.status_label.hide()
        self._refresh()
        self.saved.emit(view.post_id)

    def _on_approve_failed(self, exc: Exception) -> None:
        self._busy = False
        self._refuse(sentence(describe(exc)))
        self._refresh()

    def _initial_when(self) -> datetime:
        now = self.clock.now().astimezone(self.zone)
        if self._schedule is not None:
            return self._schedule.scheduled_time.astimezone(self.zone)
        hhmm = QTime.fromString(str(settings.get("default_post_time")), "HH:mm")
        at = time(hhmm.hour(), hhmm.minute()) if hhmm.isValid() else time(10, 0)
        candidate = datetime.combine(now.date(), at)
        # today's default time if it is still comfortably ahead, else tomorrow's
        if candidate <= now.replace(tzinfo=None) + timedelta(minutes=15):
            candidate += timedelta(days=1)
        return candidate

    def _set_when(self, when: datetime) -> None:
        self.date_edit.blockSignals(True)
        self.time_edit.blockSignals(True)
        self.date_edit.setDate(QDate(when.year, when.month, when.day))
        self.time_edit.setTime(QTime(when.hour, when.minute))
        self.second_check.setChecked(bool(getattr(when, "fold", 0)))
        self.date_edit.blockSignals(False)
        self.time_edit.blockSignals(False)

    # ------------------------------------------------------------ reading the form

    def selected_accounts(self) -> list[AccountView]:
        by_id = {acc.id: acc for acc in self._accounts}
        chosen = []
        for row in range(self.account_list.count()):
            item = self.account_list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                chosen.append(by_id[int(item.data(Qt.ItemDataRole.UserRole))])
        return chosen

    def set_account_checked(self, name_or_id: str | int, checked: bool = True) -> None:
        """Tick or untick an account by its name or id (keyboard users and tests)."""
        for row in range(self.account_list.count()):
            item = self.account_list.item(row)
            acc_id = int(item.data(Qt.ItemDataRole.UserRole))
            acc = next(a for a in self._accounts if a.id == acc_id)
            if name_or_id in (acc.id, acc.display_name):
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
                return
        raise KeyError(name_or_id)

    def text_for(self, platform: str) -> str:
        """The text ``platform`` will get: its own variant, or the common text."""
        if self.variant_checks[platform].isChecked():
            return self.variant_edits[platform].toPlainText()
        return self.text_edit.toPlainText()

    def variant(self, platform: str) -> str | None:
        if self.variant_checks[platform].isChecked():
            return self.variant_edits[platform].toPlainText()
        return None

    def media_items(self) -> tuple[MediaItem, ...]:
        return tuple(e.item() for e in self._media)

    def _naive_when(self) -> datetime:
        d, t = self.date_edit.date(), self.time_edit.time()
        return datetime.combine(date(d.year(), d.month(), d.day()), time(t.hour(), t.minute()))

    def when(self) -> datetime:
        """The chosen local time as a UTC instant.

        Raises:
            TimeInputError: the time does not exist in the zone (a DST gap).
        """
        fold = 1 if self.second_check.isChecked() else 0
        return localize(self._naive_when(), self.zone, fold=fold).astimezone(UTC)

    def _snapshot(self) -> tuple:
        return (
            self.text_edit.toPlainText(),
            self.voice_combo.currentData(),
            tuple((p, self.variant(p)) for p in registry.names()),
            self._media_state(),
            tuple(a.id for a in self.selected_accounts()),
            tuple(self.thread_panel.texts()),
            self.thread_panel.delay(),
            self.thread_panel.media_state(),
        )

    def _media_state(self) -> tuple:
        """The media as saving would store them: order, file or link, alt text."""
        return tuple((e.path, e.url, e.alt_text) for e in self._media)

    def is_dirty(self) -> bool:
        return self._snapshot() != self._initial

    # ------------------------------------------------------------ checking

    def _refresh(self) -> None:
        """Recount, re-check and set the buttons; cheap enough for every keystroke."""
        chosen = self.selected_accounts()
        chosen_platforms = {a.platform for a in chosen}
        for platform in registry.names():
            self._update_counter(platform, chosen_platforms)
        self._update_hashtags(chosen_platforms)
        self.thread_panel.show_counts(
            self._follow_up_targets(chosen_platforms),
            _error_colour(self).name(),
            _dim_colour(self).name(),
        )
        for n, platform in enumerate(registry.names(), start=1):
            mark = " ✎" if self.variant_checks[platform].isChecked() else ""
            self.tabs.setTabText(n, registry.label(platform) + mark)
        check = self._check(chosen)
        self._show_problems(check)
        self._update_time_note()
        self._update_buttons(check, chosen)
        self._update_preview(chosen)

    def _update_counter(self, platform: str, chosen: set[str]) -> None:
        label = self.counters[platform]
        n, limit = registry.platform(platform).length(
            self.text_for(platform), self._tier_for(platform)
        )
        own = " (own text)" if self.variant_checks[platform].isChecked() else ""
        label.setText(f"{registry.label(platform)}{own} {n}/{limit}")
        over = n > limit
        label.setProperty("over", over)
        if over:
            colour = _error_colour(self)
        elif chosen and platform not in chosen:
            colour = _dim_colour(label)  # not going there: keep it quiet
        else:
            colour = self.palette().color(QPalette.ColorRole.WindowText)
        _coloured(label, colour)
        font = label.font()
        font.setBold(over)
        label.setFont(font)
        unit = registry.platform(platform).rules.unit
        label.setToolTip(f"{n} {unit} of {limit} allowed on {registry.label(platform)}")

    def _update_hashtags(self, chosen: set[str]) -> None:
        # the platform that limits hashtags (Instagram), if any
        counted = next((p for p in registry.platforms() if p.rules.max_hashtags), None)
        label = self.hashtag_counter
        if counted is None or counted.rules.max_hashtags is None:
            label.hide()
            return
        tags = count_hashtags(self.text_for(counted.name))
        limit = counted.rules.max_hashtags
        label.setVisible(tags > 0)
        label.setText(f"{counted.label} hashtags {tags}/{limit}")
        over = tags > limit
        label.setProperty("over", over)
        if over:
            colour = _error_colour(self)
        elif chosen and counted.name not in chosen:
            colour = _dim_colour(label)
        else:
            colour = self.palette().color(QPalette.ColorRole.WindowText)
        _coloured(label, colour)

    def _follow_up_targets(self, chosen: set[str]) -> list[tuple[str, str, Rules]]:
        """(label, what a follow-up is called there, its rules) per chosen platform that
        takes follow-ups; every such platform when none is chosen yet."""
        names = [p for p in registry.names() if not chosen or p in chosen]
        targets = []
        for name in names:
            found = registry.platform(name)
            if found.follow_ups is not None:
                rules = found.follow_up_rules(self._tier_for(name))
                targets.append((found.label, found.follow_ups.noun, rules))
        return targets

    def parts_for(self, platform: str) -> list[Content]:
        """What ``platform`` gets: its main post, then each follow-up."""
        main = Content(text=self.text_for(platform), media=self.media_items())
        return [main, *self._follow_up_parts()]

    def _tier_for(self, platform: str) -> str | None:
        """The plan the chosen accounts of ``platform`` share (the standard one if they
        differ or none is chosen), so the counter shows the limit that applies to all."""
        return _common_tier([a for a in self.selected_accounts() if a.platform == platform])

    def _check(self, chosen: list[AccountView]) -> Check:
        check = Check()
        loading = [e for e in self._media if e.state == "loading"]
        if loading or self.thread_panel.loading():
            check.blocking = True
            check.reason = "Wait until the media files are read."
        by_platform: dict[str, list[AccountView]] = {}
        for acc in chosen:
            by_platform.setdefault(acc.platform, []).append(acc)
        items = self.media_items()
        for platform, accs in by_platform.items():
            names = ", ".join(a.display_name for a in accs)
            found = registry.validate_parts(
                platform,
                [Content(text=self.text_for(platform), media=items), *self._follow_up_parts()],
                tier=_common_tier(accs),
            )
            for problem in found:
                check.problems.append(
                    f"<b>{html.escape(registry.label(platform))}</b> "
                    f"({html.escape(names)}): {html.escape(with_hint(problem.message, problem.hint))}"
                )
            if found:
                check.blocking = True
                check.reason = check.reason or f"Fix what {registry.label(platform)} refuses first."
            for acc in accs:
                if acc.status != AccountStatus.CONNECTED:
                    check.problems.append(
                        f"<b>{html.escape(acc.display_name)}</b> needs reconnecting: reconnect it "
                        "under Accounts before scheduling to it."
                    )
                    check.blocking = True
                    check.reason = check.reason or f"Reconnect {acc.display_name} first."
        if not chosen:
            check.reason = check.reason or "Choose at least one account to publish to."
        try:
            when = self.when()
        except TimeInputError:
            check.reason = (
                check.reason or "Choose a time that exists (see the note under the time)."
            )
        else:
            check.time_ok = when >= self.clock.now() - schedules.PAST_TOLERANCE
            if not check.time_ok:
                check.reason = check.reason or "Choose a time in the future."
        return check

    def _follow_up_parts(self) -> list[Content]:
        return [Content(text=p.text(), media=p.media_items()) for p in self.thread_panel.editors()]

    def _show_problems(self, check: Check) -> None:
        if not check.problems:
            self.problems_label.clear()
            self.problems_label.hide()
            return
        lines = "".join(f"<li>{line}</li>" for line in check.problems)
        self.problems_label.setText(
            f"<ul style='margin: 0; -qt-list-indent: 1; color: {_error_colour(self).name()}'>{lines}</ul>"
        )
        self.problems_label.show()

    def _update_time_note(self) -> None:
        naive = self._naive_when()
        try:
            aware = localize(naive, self.zone, fold=1 if self.second_check.isChecked() else 0)
        except TimeInputError as exc:
            self.zone_label.setText(self.zone_name)
            self._note(sentence(str(exc)), _error_colour(self))
            self.second_check.hide()
            return
        self.zone_label.setText(f"{self.zone_name} ({aware.tzname()})")
        if is_ambiguous(naive, self.zone):
            first = naive.replace(tzinfo=self.zone, fold=0)
            second = naive.replace(tzinfo=self.zone, fold=1)
            used, other = (second, first) if self.second_check.isChecked() else (first, second)
            order = "second" if used is second else "first"
            self._note(
                f"{naive:%H:%M} happens twice on {naive:%d %b} because the clocks go back: "
                f"Milton uses the {order} one ({used.tzname()}, {_utc_offset(used)}).",
                tones.tone(self.palette(), "warning"),
            )
            self.second_check.setText(
                f"Use the other {naive:%H:%M} ({other.tzname()}, {_utc_offset(other)})"
                if order == "first"
                else f"Use the first {naive:%H:%M} ({other.tzname()}, {_utc_offset(other)})"
            )
            self.second_check.show()
            return
        self.second_check.hide()
        delta = aware.astimezone(UTC) - self.clock.now()
        if delta < -schedules.PAST_TOLERANCE:
            self._note(
                "That time has passed: choose a later one, or use Publish now.",
                _error_colour(self),
            )
        else:
            self._note(f"In {human_delta(delta)}.", _dim_colour(self.time_note))

    def _note(self, text: str, colour: QColor | str) -> None:
        self.time_note.setText(text)
        _coloured(self.time_note, colour)

    def _update_buttons(self, check: Check, chosen: list[AccountView]) -> None:
        has_content = bool(self.text_edit.toPlainText().strip() or self._media)
        loading = any(e.state == "loading" for e in self._media) or self.thread_panel.loading()
        free = not self._busy
        can_publish = free and has_content and bool(chosen) and not check.blocking
        self.publish_button.setEnabled(can_publish)
        # the queue gives the time, so the time field's state does not matter here
        self.queue_button.setEnabled(can_publish)
        self.schedule_button.setEnabled(can_publish and check.time_ok)
        self.draft_button.setEnabled(free and has_content and not loading)
        reason = "" if self.schedule_button.isEnabled() else check.reason
        if not has_content:
            reason = "Write some text or add media first."
        self.schedule_button.setToolTip(reason or f"{self.schedule_words} (Ctrl+Enter)")
        self.publish_button.setToolTip(
            "" if can_publish else (reason or "Choose at least one account to publish to.")
        )
        self.approve_button.setEnabled(free)
        if self._schedule is not None and self._schedule.status == Status.AWAITING_APPROVAL:
            # it goes out only once approved: Approve, then it leaves at its time
            self.publish_button.setEnabled(False)
            self.publish_button.setToolTip("It waits for approval: approve it first.")
        for widget in (self.add_files_button, self.add_link_button, self.url_edit):
            widget.setEnabled(free)
        self.thread_panel.set_busy(not free)
        self.remove_media_button.setEnabled(free and bool(self.media_list.selectedItems()))
        self.alt_edit.setEnabled(free and len(self.media_list.selectedItems()) == 1)

    # ------------------------------------------------------------ text slots

    def _on_text_edit_text_changed(self) -> None:
        self._refresh()

    def _on_variant_edit_text_changed(self) -> None:
        self._refresh()

    def _on_variant_check_toggled(self, platform: str, on: bool) -> None:
        edit = self.variant_edits[platform]
        edit.setEnabled(on)
        if on and not edit.toPlainText():
            edit.setPlainText(self.text_edit.toPlainText())  # start from the common text
        if on:
            edit.setFocus()
        self._refresh()

    def _on_voice_combo_changed(self, _index: int) -> None:
        self._refresh()

    def _on_account_list_item_changed(self, _item: QListWidgetItem) -> None:
        self.suggest_button.set_accounts(self.selected_accounts())
        self._refresh()

    def _on_suggest_button_chosen(self, at: datetime) -> None:
        self._set_when(at.astimezone(self.zone).replace(tzinfo=None))
        self._refresh()

    def _on_when_changed(self, *_args: object) -> None:
        self._refresh()

    # ------------------------------------------------------------ media

    def _add_entry(self, entry: MediaEntry) -> None:
        self._media.append(entry)
        item = QListWidgetItem(entry.name)
        item.setData(Qt.ItemDataRole.UserRole, entry.key)
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.media_list.addItem(item)
        self._paint_entry(entry)
        if entry.stored and entry.kind == "image" and entry.path is not None:
            path, key = entry.path, entry.key
            run_in_background(
                lambda: thumbnail(path),
                parent=self,
                on_success=lambda img: self._on_thumbnail_ready(key, img),
            )
        elif entry.url and entry.kind == "image":
            # a linked image is fetched (bounded in time and size) to show what it is
            url, key, media_dir = entry.url, entry.key, self.media_dir
            run_in_background(
                lambda: thumbnail(link_previews.fetch_preview(url, media_dir)),
                parent=self,
                on_success=lambda img: self._on_thumbnail_ready(key, img),
                on_failure=partial(self._on_preview_failed, key),
            )

    def _item_for(self, key: int) -> QListWidgetItem | None:
        for row in range(self.media_list.count()):
            item = self.media_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == key:
                return item
        return None

    def _entry(self, key: int) -> MediaEntry | None:
        return next((e for e in self._media if e.key == key), None)

    def _paint_entry(self, entry: MediaEntry) -> None:
        item = self._item_for(entry.key)
        if item is None:
            return
        item.setIcon(tile(entry, self.media_list.palette()))
        item.setData(_HAS_THUMB, entry.image is not None)
        if entry.state == "loading":
            item.setText("Reading…")
        else:
            item.setText(entry.link_label if entry.url else entry.name)
        tip = [str(entry.path or entry.url)]
        if entry.state == "ready":
            bits = [entry.mime or entry.kind]
            if entry.size:
                bits.append(f"{entry.size / 1024 / 1024:.1f} MB")
            if entry.width and entry.height:
                bits.append(f"{entry.width}×{entry.height}")
            tip.append(", ".join(bits))
        tip.append(f"Alt text: {entry.alt_text}" if entry.alt_text else "No alt text yet")
        if entry.note:
            tip.append(entry.note)
        item.setToolTip("\n".join(tip))

    def add_media_files(self, paths: Sequence[str | Path]) -> None:
        """Attach local files; each is read (type, size, hash, thumbnail) on a worker."""
        for raw in paths:
            path = Path(raw)
            entry = MediaEntry.new(path=path)
            self._add_entry(entry)
            key = entry.key
            run_in_background(
                partial(read_media, path),
                parent=self,
                on_success=partial(self._on_media_read, key),
                on_failure=partial(self._on_media_failed, key),
            )
        self._refresh()

    def add_media_url(self, url: str) -> bool:
        """Attach a public link; returns False (and says why) when it cannot be used."""
        url = url.strip()
        if not url:
            return False
        try:
            kind, mime = media_mod.describe_url(url)
        except media_mod.MediaError as exc:
            self._media_message(sentence(str(exc)) + " Paste a link starting with https://.")
            return False
        self._add_entry(MediaEntry.new(url=url, kind=kind, mime=mime, state="ready"))
        self._media_message("")
        self._refresh()
        return True

    def _media_message(self, text: str) -> None:
        """Show a media problem, or (with no text) the usual hint."""
        if text:
            self.media_note.setText(text)
            _coloured(self.media_note, _error_colour(self))
            return
        need_links = [p.label for p in registry.platforms() if p.rules.requires_url]
        note = "Images or videos from this computer, or public links"
        if need_links:
            note += (
                f" ({' and '.join(need_links)} {'needs' if len(need_links) == 1 else 'need'} links)"
            )
        self.media_note.setText(note + ".")
        _coloured(self.media_note, _dim_colour(self.media_note))

    def _on_media_read(self, key: int, result: tuple[media_mod.MediaInfo, QImage | None]) -> None:
        entry = self._entry(key)
        if entry is None:
            return  # removed while it was being read
        info, image = result
        entry.kind, entry.mime, entry.size = info.kind, info.mime, info.size
        entry.width, entry.height, entry.state = info.width, info.height, "ready"
        entry.image = image
        self._paint_entry(entry)
        self._refresh()

    def _on_media_failed(self, key: int, exc: Exception) -> None:
        entry = self._entry(key)
        if entry is None:
            return
        self._remove_entry(key)
        if isinstance(exc, media_mod.MediaError):
            message = sentence(str(exc))
        else:
            log.error("reading media failed", exc_info=exc)
            message = sentence(f"{entry.name} could not be read ({exc})")
        self._media_message(message)
        self._refresh()

    def _on_thumbnail_ready(self, key: int, image: QImage | None) -> None:
        entry = self._entry(key)
        if entry is not None and image is not None:
            entry.image = image
            self._paint_entry(entry)
            self._refresh()  # the preview shows the picture now

    def _on_preview_failed(self, key: int, exc: Exception) -> None:
        entry = self._entry(key)
        if entry is None:
            return
        # the card stays: the link may work for the platform even if not from here
        entry.note = sentence(str(exc)) if isinstance(exc, UserError) else "No preview."
        self._paint_entry(entry)

    def _remove_entry(self, key: int) -> None:
        self._media = [e for e in self._media if e.key != key]
        item = self._item_for(key)
        if item is not None:
            self.media_list.takeItem(self.media_list.row(item))

    def _on_add_files_clicked(self) -> None:
        start = str(Path.home())
        paths, _ = QFileDialog.getOpenFileNames(self, "Add images or videos", start, MEDIA_FILTER)
        if paths:
            self._media_message("")
            self.add_media_files(paths)

    def _on_file_drops_entered(self, n: int) -> None:
        self.media_note.setText(f"Drop to attach {'the file' if n == 1 else f'{n} files'}.")
        _coloured(self.media_note, self.palette().color(QPalette.ColorRole.WindowText))

    def _on_file_drops_left(self) -> None:
        self._media_message("")

    def _on_file_drops_dropped(self, files: list[Path]) -> None:
        self._media_message("")
        if not self._busy:
            self.add_media_files(files)

    def _on_add_link_clicked(self) -> None:
        if self.add_media_url(self.url_edit.text()):
            self.url_edit.clear()

    def _on_remove_media_clicked(self) -> None:
        for item in self.media_list.selectedItems():
            self._remove_entry(int(item.data(Qt.ItemDataRole.UserRole)))
        self._media_message("")
        self._refresh()

    def _on_media_list_selection_changed(self) -> None:
        items = self.media_list.selectedItems()
        entry = (
            self._entry(int(items[0].data(Qt.ItemDataRole.UserRole))) if len(items) == 1 else None
        )
        self._loading_alt = True
        self.alt_edit.setText(entry.alt_text if entry else "")
        self._loading_alt = False
        self._refresh()
        if self.assistant is not None:
            self.assistant.refresh()

    # ------------------------------------------------------------ for the assistant

    def selected_image(self) -> MediaItem | None:
        """The one image selected in the media list, or None."""
        items = self.media_list.selectedItems()
        entry = (
            self._entry(int(items[0].data(Qt.ItemDataRole.UserRole))) if len(items) == 1 else None
        )
        if entry is None or entry.kind != "image":
            return None
        return entry.item()

    def set_alt_text(self, text: str) -> None:
        """Give the selected image ``text`` as its alt text, as typing it would."""
        self.alt_edit.setText(text)
        self._on_alt_edit_text_edited(text)

    def set_voice(self, voice: str) -> None:
        index = self.voice_combo.findData(voice)
        if index >= 0:
            self.voice_combo.setCurrentIndex(index)

    def set_variant(self, platform: str, text: str) -> None:
        """Give ``platform`` its own text (and show its tab)."""
        self.variant_checks[platform].setChecked(True)
        self.variant_edits[platform].setPlainText(text)
        self.tabs.setCurrentIndex(1 + registry.names().index(platform))

    def _on_assistant_toggle_toggled(self, on: bool) -> None:
        if on and self.assistant is None:  # built when first wanted: it reads the voices
            self.assistant = AssistantPanel(self)
            self.assistant_slot.addWidget(self.assistant)
            self.finished.connect(lambda _r: self.assistant.stop() if self.assistant else None)
        if self.assistant is not None:
            self.assistant.setVisible(on)
            if on:
                self.assistant.reload()
                self.assistant.topic_edit.setFocus()

    def _on_alt_edit_text_edited(self, text: str) -> None:
        items = self.media_list.selectedItems()
        if self._loading_alt or len(items) != 1:
            return
        entry = self._entry(int(items[0].data(Qt.ItemDataRole.UserRole)))
        if entry is not None:
            entry.alt_text = text
            self._paint_entry(entry)

    # ------------------------------------------------------------ saving

    def _plan(self, mode: str) -> compose.SavePlan | None:
        """Check everything for ``mode`` (draft, schedule, now); None after saying why."""
        self.status_label.hide()
        text = self.text_edit.toPlainText()
        if not text.strip() and not self._media:
            self._refuse("The post is empty: write some text or add an image or video.")
            return None
        if any(e.state == "loading" for e in self._media) or self.thread_panel.loading():
            self._refuse("Wait a moment: the media files are still being read.")
            return None
        voice = str(self.voice_combo.currentData())
        empty = [n for n, t in enumerate(self.thread_panel.texts(), 2) if not t.strip()]
        if empty:
            self._refuse(f"Part {empty[0]} is empty: write it or remove it.")
            return None
        plan = compose.SavePlan(
            text=text,
            voice=voice,
            media=tuple(e.media_input() for e in self._media),
            post_id=self._post.id if self._post is not None else None,
            # untouched media are not re-imported (nor refused while a schedule publishes)
            media_changed=self._post is not None and self._media_state() != self._initial_media,
            timezone=self.zone_name,
            follow_ups=tuple(self.thread_panel.texts()),
            follow_up_delay=self.thread_panel.delay(),
            follow_up_media=tuple(p.media_inputs() for p in self.thread_panel.editors()),
            follow_up_media_changed=(
                self._post is not None
                and self.thread_panel.media_state() != self._initial_follow_up_media
            ),
            # a schedule's own text stays that schedule's; a post's is kept with the post
            variants=(
                tuple((p, self.variant(p)) for p in registry.names())
                if self._schedule is None
                else None
            ),
        )
        if mode == "draft":
            return plan
        chosen = self.selected_accounts()
        if not chosen:
            self._refuse("Choose at least one account to publish to.")
            return None
        check = self._check(chosen)
        if check.blocking:
            # every account is checked before anything is written
            self._refuse(
                "Nothing was saved: fix the problems listed under the text first."
                if check.problems
                else check.reason
            )
            return None
        if mode == "queue":
            queued = tuple(compose.Target(acc.id, self.variant(acc.platform)) for acc in chosen)
            return replace(plan, targets=queued, queued=True)
        if mode == "now":
            when = self.clock.now()
        else:
            try:
                when = self.when()
            except TimeInputError as exc:
                self._refuse(sentence(str(exc)))
                return None
            if when < self.clock.now() - schedules.PAST_TOLERANCE:
                self._refuse("That time has passed: choose a later one, or use Publish now.")
                return None
        targets = []
        keep, own_text = True, None
        for acc in chosen:
            if self._schedule is not None and acc.id == self._schedule.account_id:
                own_text = self.variant(acc.platform)
                continue
            targets.append(compose.Target(acc.id, self.variant(acc.platform)))
        if self._schedule is not None:
            keep = any(acc.id == self._schedule.account_id for acc in chosen)
        return replace(
            plan,
            when=when,
            targets=tuple(targets),
            publish_now=mode == "now",
            schedule_id=self._schedule.id if self._schedule is not None else None,
            keep_schedule=keep,
            schedule_text=own_text,
        )

    def _on_thread_panel_split_requested(self, numbered: bool) -> None:
        """Cut the main text into parts that fit every chosen platform; the parts
        after the first go before any follow-ups already written."""
        chosen = {a.platform for a in self.selected_accounts()}
        names = [p for p in registry.names() if p in chosen] or [
            p.name
            for p in registry.platforms()
            if p.follow_ups is not None and p.follow_ups.style == "reply"
        ]
        rules = []
        for name in names:
            found = registry.platform(name)
            rules += [found.rules_for(self._tier_for(name)), found.follow_up_rules()]
        parts = split_thread(self.text_edit.toPlainText(), fits_all(rules), numbered=numbered)
        if len(parts) <= 1:
            self._refuse(
                "The text already fits as one post on every chosen platform: "
                "there is nothing to split."
            )
            return
        self.status_label.hide()
        self.text_edit.setPlainText(parts[0])
        self.thread_panel.set_texts([*parts[1:], *self.thread_panel.texts()])

    def _refuse(self, message: str) -> None:
        """Say why an action cannot run."""
        self.status_label.setText(message)
        self.status_label.show()

    def save(self, mode: str) -> bool:
        """Start saving: ``draft``, ``schedule``, ``queue`` or ``now``. False when refused
        up front."""
        if self._busy:
            return False
        plan = self._plan(mode)
        if plan is None:
            return False
        media_dir, clock = self.media_dir, self.clock
        self._busy = True
        self._mode = mode
        words = {
            "draft": "Saving the draft…",
            "schedule": "Scheduling…",
            "now": "Publishing…",
            "queue": "Adding to the queue…",
        }
        self.status_label.setText(words[mode])
        _coloured(self.status_label, self.palette().color(QPalette.ColorRole.WindowText))
        self.status_label.show()
        self._refresh()
        run_in_background(
            lambda: compose.save(plan, media_dir, clock),
            parent=self,
            on_success=self._on_write_done,
            on_failure=self._on_write_failed,
            writes=True,
            # the post is written whatever happens to the dialog: say so while it exists
            until_finished=False,
        )
        return True

    def _on_write_done(self, post_id: int) -> None:
        self._busy = False
        self.saved.emit(int(post_id))
        if getattr(self, "_mode", None) == "now":
            self.publishedNow.emit(int(post_id))
        super().accept()

    def _on_write_failed(self, exc: Exception) -> None:
        self._busy = False
        if isinstance(exc, UserError | media_mod.MediaError | PublishError | TimeInputError):
            message = "Nothing was saved: " + hinted(str(exc), getattr(exc, "hint", None))
        else:
            log.error("saving the post failed", exc_info=exc)
            message = (
                f"Nothing was saved: something unexpected went wrong ({type(exc).__name__}: {exc})"
            )
        self.status_label.setText(sentence(message))
        _coloured(self.status_label, _error_colour(self))
        self.status_label.show()
        self._refresh()

    def _on_draft_button_clicked(self) -> None:
        self.save("draft")

    def _on_schedule_button_clicked(self) -> None:
        self.save("schedule")

    def _on_queue_button_clicked(self) -> None:
        self.save("queue")

    def _on_publish_button_clicked(self) -> None:
        self.save("now")

    def keyPressEvent(self, event: Any) -> None:
        # The shortcut above fires while the window is active; a Ctrl+Enter that reaches
        # the dialog as a plain key press (no active window, e.g. offscreen) is the same.
        ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if ctrl and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._on_schedule_shortcut_activated()
            return
        super().keyPressEvent(event)

    def _on_schedule_shortcut_activated(self) -> None:
        # the default button's action (Schedule, or Save changes on a schedule); a
        # draft is never saved by it, as a forgotten account would then pass unnoticed
        if self.schedule_button.isEnabled():
            self.save("schedule")
        else:
            # say why instead of doing nothing
            self._refuse(self.schedule_button.toolTip())

    # ------------------------------------------------------------ duplicate

    def duplicate(self) -> bool:
        """Save a copy of the saved post as a new draft; False when there is none yet."""
        if self._post is None or self._busy:
            return False
        post_id, clock = self._post.id, self.clock
        self._busy = True
        self._refresh()
        run_in_background(
            lambda: posts.duplicate_post(post_id, clock=clock).id,
            parent=self,
            on_success=self._on_duplicate_done,
            on_failure=self._on_write_failed,
            writes=True,
        )
        return True

    def _on_duplicate_button_clicked(self) -> None:
        self.duplicate()

    def _on_duplicate_done(self, new_id: int) -> None:
        self._busy = False
        unsaved = " Your unsaved changes here are not in the copy." if self.is_dirty() else ""
        self.status_label.setText(
            f"A copy of the saved post is now a draft (post {new_id}): find it under "
            f"Drafts.{unsaved}"
        )
        _coloured(self.status_label, self.palette().color(QPalette.ColorRole.WindowText))
        self.status_label.show()
        self.saved.emit(int(new_id))
        self._refresh()

    # ------------------------------------------------------------ preview

    def _update_preview(self, chosen: list[AccountView]) -> None:
        def author(acc: AccountView) -> PreviewAuthor:
            handle = _handle(acc)
            return PreviewAuthor(
                name=acc.profile_name or acc.display_name,
                handle=f"{handle} · now" if handle else "now",
                tier=self._tier_for(acc.platform),
            )

        authors, fallback = {}, {}
        for platform in registry.names():
            acc = next((a for a in chosen if a.platform == platform), None)
            if acc is not None:
                authors[platform] = author(acc)
            # not chosen: still show it from one of the user's accounts there
            other = next((a for a in self._accounts if a.platform == platform), None)
            if other is not None:
                fallback[platform] = author(other)
        media = [
            PreviewMedia(
                kind=e.kind,
                name=e.name,
                url=e.url,
                image=e.image,
                width=e.width,
                height=e.height,
                link_label=e.link_label if e.url else "",
            )
            for e in self._media
        ]
        texts = {platform: self.text_for(platform) for platform in registry.names()}
        self.preview.set_content(
            texts, media, authors, {a.platform for a in chosen}, fallback=fallback
        )

    def _on_preview_toggle_toggled(self, shown: bool) -> None:
        self.preview.setVisible(shown)
        if shown:
            self.preview.flush()

    # ------------------------------------------------------------ closing

    def _ask(self, title: str, text: str, ok_label: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        ok = box.addButton(ok_label, QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.exec()
        return box.clickedButton() is ok

    def reject(self) -> None:
        if self._busy:
            return  # the write is under way: its result closes the dialog
        if self.is_dirty() and not self.confirm(
            "Discard changes?",
            "This post has changes that are not saved. Discard them?",
            "Discard",
        ):
            return
        super().reject()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.text_edit.setFocus()
        self.preview.flush()

    def _fit_to_screen(self) -> None:
        """Open at a comfortable size, never larger than the screen; on a small screen
        the preview starts hidden (Show preview brings it back)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        room = screen.availableGeometry() if screen is not None else None
        width, height = 1320, 740
        if room is not None:
            width, height = min(width, room.width() - 40), min(height, room.height() - 40)
            # the three columns need more than a 1024-wide screen: there the preview
            # starts hidden rather than the dialog running off the screen's edge
            if self.minimumSizeHint().width() > width:
                self.preview_toggle.setChecked(False)
        self.resize(width, height)


def _common_tier(chosen: Sequence[AccountView]) -> str | None:
    tiers = {a.tier for a in chosen}
    return tiers.pop() if len(tiers) == 1 else None


def _utc_offset(value: datetime) -> str:
    offset = value.strftime("%z")
    return f"UTC{offset[0]}{offset[1:3]}:{offset[3:5]}"
