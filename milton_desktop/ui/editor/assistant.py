"""The editor's "Write with…" panel: drafts, rewrites, a shorter text, a thread,
hashtags and alt text from the writing assistant's model.

Every request runs on a worker; the model's answer streams into the panel piece by
piece through signals, so the window keeps turning while a slow local model writes.
What the model writes is only shown: it reaches the post when the user presses
"Use", and the database only when the user saves the post. Cancel stops the request
(and closes its connection).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.assistant.client import AssistantError, Cancel, Cancelled
from milton_desktop.domain.errors import UserError
from milton_desktop.operations import drafting
from milton_desktop.operations.drafting import Assistant, Suggestion
from milton_desktop.publishers import registry
from milton_desktop.storage.db import worker_connection
from milton_desktop.ui import tones
from milton_desktop.ui.wording import sentence, with_hint

if TYPE_CHECKING:
    from milton_desktop.ui.editor.dialog import PostEditorDialog

log = logging.getLogger("milton.ui.assistant")

OPTIONS = 3
_ANY = ""


class _Relay(QObject):
    """Carries a worker's news to the GUI thread (queued: it lives there).

    Signals:
        piece: (option, text) a piece of an answer as it arrives.
        retry: (option, why) the option is being asked for again; its text restarts.
        optionDone: (option, Suggestion) one option is complete.
        finished: the task's result.
        failed: the exception that ended it.
    """

    piece = Signal(int, str)
    retry = Signal(int, str)
    optionDone = Signal(int, object)
    finished = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[_Relay], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn = fn
        self.relay = relay
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            with worker_connection():
                result = self.fn(self.relay)
        except Exception as exc:  # the GUI thread words it
            self._emit(self.relay.failed, exc)
        else:
            self._emit(self.relay.finished, result)

    @staticmethod
    def _emit(signal: Any, value: Any) -> None:
        try:
            signal.emit(value)
        except RuntimeError:
            pass  # the editor closed meanwhile: nobody is left to tell


class _Option(QWidget):
    """One of the drafts: its text as it streams in, how it measures, "Use this"."""

    def __init__(self, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.text = QPlainTextEdit()
        self.text.setObjectName(f"assistantOption{index}")
        self.text.setReadOnly(True)
        self.text.setAccessibleName(f"Option {index + 1}")
        self.text.setPlaceholderText(f"Option {index + 1}")
        self.text.setMinimumHeight(90)
        box.addWidget(self.text, 1)
        row = QHBoxLayout()
        self.note = QLabel()
        self.note.setObjectName(f"assistantOptionNote{index}")
        self.note.setWordWrap(True)
        row.addWidget(self.note, 1)
        self.use = QPushButton("Use this")
        self.use.setObjectName(f"assistantUse{index}")
        self.use.setEnabled(False)
        row.addWidget(self.use)
        box.addLayout(row)
        self.suggestion: Suggestion | None = None

    def reset(self) -> None:
        self.text.clear()
        self.note.clear()
        self.use.setEnabled(False)
        self.suggestion = None

    def add(self, piece: str) -> None:
        cursor = self.text.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(piece)


class AssistantPanel(QFrame):
    """ "Write with…": the model's suggestions for the post being edited."""

    def __init__(self, editor: PostEditorDialog) -> None:
        super().__init__(editor)
        self.setObjectName("assistantPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.editor = editor
        self._cancel: Cancel | None = None
        self._relay: _Relay | None = None
        self._pending_use: Callable[[], None] | None = None
        #: asks a yes/no question; replaced in tests (a modal box would block them)
        self.confirm: Callable[[str, str], bool] = self._ask
        #: timeouts for the client (tests shorten them)
        self.timeouts: dict[str, float] | None = None
        self.pool = QThreadPool.globalInstance()
        self._build()
        self.reload()

    # ------------------------------------------------------------ building

    def _build(self) -> None:
        box = QVBoxLayout(self)
        head = QHBoxLayout()
        title = QLabel("<b>Write with</b>")
        head.addWidget(title)
        self.voice_combo = QComboBox()
        self.voice_combo.setObjectName("assistantVoice")
        self.voice_combo.setAccessibleName("Write in this voice")
        head.addWidget(self.voice_combo)
        head.addWidget(QLabel("for"))
        self.platform_combo = QComboBox()
        self.platform_combo.setObjectName("assistantPlatform")
        self.platform_combo.setAccessibleName("Fit this platform")
        self.platform_combo.addItem("any platform", _ANY)
        for platform in registry.platforms():
            self.platform_combo.addItem(platform.label, platform.name)
        head.addWidget(self.platform_combo)
        head.addStretch(1)
        self.endpoint_label = QLabel()
        self.endpoint_label.setObjectName("assistantEndpoint")
        head.addWidget(self.endpoint_label)
        box.addLayout(head)

        topic_row = QHBoxLayout()
        self.topic_edit = QLineEdit()
        self.topic_edit.setObjectName("assistantTopic")
        self.topic_edit.setAccessibleName("What the post is about")
        self.topic_edit.setPlaceholderText("What is it about? e.g. Tuesday's game recap")
        self.topic_edit.returnPressed.connect(self._on_write_button_clicked)
        topic_row.addWidget(self.topic_edit, 1)
        self.write_button = QPushButton(f"Write {OPTIONS} options")
        self.write_button.setObjectName("assistantWrite")
        self.write_button.clicked.connect(self._on_write_button_clicked)
        topic_row.addWidget(self.write_button)
        box.addLayout(topic_row)

        grid = QGridLayout()
        self.options = [_Option(i) for i in range(OPTIONS)]
        for option in self.options:
            option.use.clicked.connect(lambda _=False, o=option: self._on_use_option(o))
            grid.addWidget(option, 0, option.index)
        box.addLayout(grid)

        actions = QHBoxLayout()
        self.rewrite_button = QPushButton("Rewrite for…")
        self.rewrite_button.setObjectName("assistantRewrite")
        self.rewrite_button.setToolTip(
            "Rewrite the text for the platform chosen above, as its own text there"
        )
        self.shorter_button = QPushButton("Shorter")
        self.shorter_button.setObjectName("assistantShorter")
        self.split_button = QPushButton("Split into a thread")
        self.split_button.setObjectName("assistantSplit")
        self.hashtags_button = QPushButton("Suggest hashtags")
        self.hashtags_button.setObjectName("assistantHashtags")
        self.alt_button = QPushButton("Suggest alt text")
        self.alt_button.setObjectName("assistantAlt")
        self.alt_button.setToolTip("Describe the selected image (the model reads images)")
        self.rewrite_button.clicked.connect(self._on_rewrite_button_clicked)
        self.shorter_button.clicked.connect(self._on_shorter_button_clicked)
        self.split_button.clicked.connect(self._on_split_button_clicked)
        self.hashtags_button.clicked.connect(self._on_hashtags_button_clicked)
        self.alt_button.clicked.connect(self._on_alt_button_clicked)
        for button in (
            self.rewrite_button,
            self.shorter_button,
            self.split_button,
            self.hashtags_button,
            self.alt_button,
        ):
            actions.addWidget(button)
        actions.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("assistantCancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        actions.addWidget(self.cancel_button)
        box.addLayout(actions)

        self.suggestion_box = QWidget()
        sbox = QVBoxLayout(self.suggestion_box)
        sbox.setContentsMargins(0, 0, 0, 0)
        self.suggestion_title = QLabel()
        sbox.addWidget(self.suggestion_title)
        self.suggestion_text = QPlainTextEdit()
        self.suggestion_text.setObjectName("assistantSuggestion")
        self.suggestion_text.setReadOnly(True)
        self.suggestion_text.setMaximumHeight(130)
        sbox.addWidget(self.suggestion_text)
        srow = QHBoxLayout()
        self.suggestion_note = QLabel()
        self.suggestion_note.setWordWrap(True)
        srow.addWidget(self.suggestion_note, 1)
        self.use_button = QPushButton("Use")
        self.use_button.setObjectName("assistantUseSuggestion")
        self.use_button.clicked.connect(self._on_use_button_clicked)
        self.discard_button = QPushButton("Discard")
        self.discard_button.setObjectName("assistantDiscard")
        self.discard_button.clicked.connect(self._on_discard_button_clicked)
        srow.addWidget(self.use_button)
        srow.addWidget(self.discard_button)
        sbox.addLayout(srow)
        self.suggestion_box.hide()
        box.addWidget(self.suggestion_box)

        self.status = QLabel()
        self.status.setObjectName("assistantStatus")
        self.status.setWordWrap(True)
        box.addWidget(self.status)

    # ------------------------------------------------------------ state

    def reload(self) -> None:
        """Read the endpoint and the voices again (after the settings changed)."""
        from milton_desktop.operations import voices

        current = self.voice_combo.currentData() or self.editor.voice_combo.currentData()
        self.voice_combo.clear()
        for voice in voices.list_voices():
            self.voice_combo.addItem(voice.label, voice.name)
        index = self.voice_combo.findData(current)
        self.voice_combo.setCurrentIndex(max(index, 0))
        self.config = drafting.current()
        if self.config is None:
            self.endpoint_label.setText("not set up")
            self._say(
                "The writing assistant is not set up: give it a model server under "
                "Settings ▸ Writing assistant (llama.cpp or Ollama on this computer keeps "
                "your posts on it)."
            )
        else:
            where = "remote" if self.config.remote else "on this computer"
            self.endpoint_label.setText(f"{self.config.model} · {where}")
            self.endpoint_label.setToolTip(self.config.base_url)
            colour = _colour(self, self.config.remote)
            self.endpoint_label.setStyleSheet(f"color: {colour};")
            self._say("")
        self.refresh()

    def refresh(self) -> None:
        """Enable what can run now (the editor calls this when its media change)."""
        busy = self._cancel is not None
        ready = self.config is not None and not busy
        for widget in (
            self.write_button,
            self.topic_edit,
            self.rewrite_button,
            self.shorter_button,
            self.split_button,
            self.hashtags_button,
        ):
            widget.setEnabled(ready)
        images = self.config is not None and self.config.reads_images
        self.alt_button.setVisible(images)
        self.alt_button.setEnabled(ready and self._selected_image() is not None)
        self.cancel_button.setEnabled(busy)

    @property
    def busy(self) -> bool:
        return self._cancel is not None

    def _voice(self) -> str:
        return str(self.voice_combo.currentData() or "personal")

    def _platform(self) -> str | None:
        return self.platform_combo.currentData() or None

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {_colour(self, error)};")

    def _selected_image(self) -> Any:
        return self.editor.selected_image()

    @staticmethod
    def _ask(title: str, text: str) -> bool:
        answer = QMessageBox.question(None, title, text)
        return answer == QMessageBox.StandardButton.Yes

    # ------------------------------------------------------------ running

    def _start(
        self, what: str, work: Callable[[Assistant, _Relay], Any], done: Callable[[Any], None]
    ) -> bool:
        """Run ``work`` on a worker with a fresh assistant; ``done`` gets its result."""
        if self.busy or self.config is None:
            return False
        if self.config.remote and not self.config.remote_confirmed:
            if not self.confirm(
                "Send post text to a remote service?",
                f"The writing assistant's endpoint, {self.config.base_url}, is not on this "
                "computer: the text of your post and your voice's guide will be sent there. "
                "Go ahead (this is asked once for this address)?",
            ):
                self._say("Nothing was sent.")
                return False
            self.config = drafting.confirm_remote()
        cancel = Cancel()
        relay = _Relay(self)
        self._cancel, self._relay = cancel, relay
        timeouts = self.timeouts

        def run(r: _Relay) -> Any:
            helper = Assistant(drafting.window_store(), timeouts=timeouts, cancel=cancel)
            return work(helper, r)

        def finished(result: Any) -> None:
            relay.deleteLater()  # its last signal: the worker is done with it
            if relay is not self._relay:
                return  # cancelled: a newer request (or none) owns the panel now
            self._end()
            done(result)

        def failed(exc: Exception) -> None:
            relay.deleteLater()
            if relay is not self._relay:
                return
            self._end()
            self._failed(exc)

        relay.finished.connect(finished)
        relay.failed.connect(failed)
        self._say(f"{what}…")
        self.refresh()
        self.pool.start(_Task(run, relay))
        return True

    def _end(self) -> None:
        self._cancel = None
        self._relay = None
        self.refresh()

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, Cancelled):
            self._say("Stopped.")
        elif isinstance(exc, UserError | AssistantError):
            self._say(with_hint(str(exc), exc.hint), error=True)
        else:
            log.exception("the writing assistant failed", exc_info=exc)
            self._say(sentence(f"unexpected error ({type(exc).__name__}): {exc}"), error=True)

    def _on_cancel_button_clicked(self) -> None:
        """Stop now: the worker's connection is closed, and whatever it still sends is
        ignored, so the panel is free at once."""
        if self._cancel is not None:
            self._cancel.cancel()
        self._relay = None
        self._cancel = None
        self.refresh()
        self._say("Stopped.")

    def stop(self) -> None:
        """Cancel what runs (the editor is closing)."""
        if self._cancel is not None and shiboken6.isValid(self):
            self._on_cancel_button_clicked()

    # ------------------------------------------------------------ options

    def _on_write_button_clicked(self) -> None:
        topic = self.topic_edit.text()
        voice, platform = self._voice(), self._platform()
        for option in self.options:
            option.reset()
        self.suggestion_box.hide()

        def work(helper: Assistant, r: _Relay) -> list[Suggestion]:
            return helper.options(
                voice,
                topic,
                platform,
                OPTIONS,
                on_piece=r.piece.emit,
                on_retry=r.retry.emit,
                on_done=r.optionDone.emit,
            )

        if self._start("Writing", work, self._on_options_done):
            assert self._relay is not None
            self._relay.piece.connect(self._on_relay_piece)
            self._relay.retry.connect(self._on_relay_retry)
            self._relay.optionDone.connect(self._on_relay_option_done)

    def _on_relay_piece(self, index: int, piece: str) -> None:
        if self.sender() is self._relay and 0 <= index < len(self.options):
            self.options[index].add(piece)

    def _on_relay_retry(self, index: int, why: str) -> None:
        if self.sender() is self._relay and 0 <= index < len(self.options):
            option = self.options[index]
            option.text.clear()
            option.note.setText(sentence(f"asking again: {why}"))

    def _on_relay_option_done(self, index: int, made: Suggestion) -> None:
        if self.sender() is not self._relay or not 0 <= index < len(self.options):
            return
        option = self.options[index]
        option.suggestion = made
        option.text.setPlainText(made.text)
        option.note.setText(_describe(made, self._platform()))
        bad = not made.usable
        option.note.setStyleSheet(f"color: {_colour(self, bad)};")
        # an incomplete answer is never offered as a draft; one over the limit may be
        # taken and shortened by hand, as the counters under the text will insist
        option.use.setEnabled(made.complete and bool(made.text))

    def _on_options_done(self, found: list[Suggestion]) -> None:
        usable = sum(1 for s in found if s.usable)
        self._say(
            f"{usable} of {len(found)} options fit. Nothing is saved until you save the post."
        )

    def _on_use_option(self, option: _Option) -> None:
        if option.suggestion is None:
            return
        self.editor.text_edit.setPlainText(option.suggestion.text)
        self.editor.set_voice(self._voice())
        self._say(f"Option {option.index + 1} is in the post; save it to keep it.")

    # ------------------------------------------------------------ one suggestion

    def _show(self, title: str, text: str, note: str, use: Callable[[], None] | None) -> None:
        self.suggestion_title.setText(f"<b>{title}</b>")
        self.suggestion_text.setPlainText(text)
        self.suggestion_note.setText(note)
        self._pending_use = use
        self.use_button.setEnabled(use is not None)
        self.suggestion_box.show()

    def _streaming(self, title: str) -> None:
        self._show(title, "", "", None)
        assert self._relay is not None
        self._relay.piece.connect(self._on_relay_suggestion_piece)
        self._relay.retry.connect(self._on_relay_suggestion_retry)

    def _on_relay_suggestion_piece(self, _index: int, piece: str) -> None:
        if self.sender() is self._relay:
            cursor = self.suggestion_text.textCursor()
            cursor.movePosition(cursor.MoveOperation.End)
            cursor.insertText(piece)

    def _on_relay_suggestion_retry(self, _index: int, why: str) -> None:
        if self.sender() is self._relay:
            self.suggestion_text.clear()
            self.suggestion_note.setText(sentence(f"asking again: {why}"))

    def _offer(
        self, title: str, made: Suggestion, platform: str | None, use: Callable[[str], None]
    ) -> None:
        note = _describe(made, platform)
        self._show(title, made.text, note, (lambda: use(made.text)) if made.complete else None)
        self._say("Nothing is saved until you save the post.")

    def _on_use_button_clicked(self) -> None:
        if self._pending_use is not None:
            self._pending_use()
        self.suggestion_box.hide()
        self._pending_use = None

    def _on_discard_button_clicked(self) -> None:
        self.suggestion_box.hide()
        self._pending_use = None
        self._say("")

    def _on_rewrite_button_clicked(self) -> None:
        platform = self._platform()
        if platform is None:
            self._say("Choose the platform to rewrite for (next to the voice).", error=True)
            return
        text, voice = self.editor.text_edit.toPlainText(), self._voice()
        label = registry.label(platform)

        def use(result: str) -> None:
            self.editor.set_variant(platform, result)
            self._say(f"The rewrite is the post's text on {label}; save the post to keep it.")

        if self._start(
            f"Rewriting for {label}",
            lambda helper, r: helper.rewrite(
                text, platform, voice, on_piece=r.piece.emit, on_retry=r.retry.emit
            ),
            lambda made: self._offer(f"For {label}", made, platform, use),
        ):
            self._streaming(f"For {label}")

    def _on_shorter_button_clicked(self) -> None:
        text, voice, platform = self.editor.text_edit.toPlainText(), self._voice(), self._platform()

        def use(result: str) -> None:
            self.editor.text_edit.setPlainText(result)

        if self._start(
            "Shortening",
            lambda helper, r: helper.shorter(
                text, voice, platform, on_piece=r.piece.emit, on_retry=r.retry.emit
            ),
            lambda made: self._offer("Shorter", made, platform, use),
        ):
            self._streaming("Shorter")

    def _on_split_button_clicked(self) -> None:
        platform = self._platform() or "x"
        parts_now = [self.editor.text_edit.toPlainText(), *self.editor.thread_panel.texts()]
        text, voice = "\n\n".join(p for p in parts_now if p.strip()), self._voice()
        label = registry.label(platform)

        def done(parts: list[str]) -> None:
            shown = "\n\n".join(f"[{k}/{len(parts)}] {p}" for k, p in enumerate(parts, 1))

            def use() -> None:
                self.editor.text_edit.setPlainText(parts[0])
                self.editor.thread_panel.set_texts(parts[1:])
                self._say(f"The thread of {len(parts)} parts is in the post; save it to keep it.")

            self._show(
                f"A thread for {label}", shown, f"{len(parts)} parts, each fits {label}.", use
            )

        if self._start(
            f"Splitting for {label}",
            lambda helper, r: helper.thread(
                text, platform, voice, on_piece=r.piece.emit, on_retry=r.retry.emit
            ),
            done,
        ):
            self._streaming(f"A thread for {label}")

    def _on_hashtags_button_clicked(self) -> None:
        text, voice, platform = self.editor.text_edit.toPlainText(), self._voice(), self._platform()

        def done(tags: list[str]) -> None:
            line = " ".join(tags)

            def use() -> None:
                current = self.editor.text_edit.toPlainText().rstrip()
                self.editor.text_edit.setPlainText(f"{current}\n\n{line}" if current else line)

            self._show("Hashtags", line, "Added at the end of the text if you use them.", use)

        self._start(
            "Finding hashtags",
            lambda helper, _r: helper.hashtags(text, voice, platform),
            done,
        )

    def _on_alt_button_clicked(self) -> None:
        image = self._selected_image()
        if image is None:
            self._say("Select an image first.", error=True)
            return
        text = self.editor.text_edit.toPlainText()

        def use(result: str) -> None:
            self.editor.set_alt_text(result)

        self._start(
            "Describing the image",
            lambda helper, _r: helper.alt_text(image, text),
            lambda made: self._offer("Alt text", made, None, use),
        )


def _colour(widget: QWidget, error: bool) -> str:
    palette = widget.palette()
    return (tones.tone(palette, "error") if error else tones.dim(palette)).name()


def _describe(made: Suggestion, platform: str | None) -> str:
    if not made.complete:
        return sentence(f"incomplete: {made.problem}")
    if not made.fits:
        return sentence(f"does not fit after {made.attempts} tries: {made.problem}")
    if made.measured is not None and platform:
        length, limit = made.measured
        again = f", after {made.attempts} tries" if made.attempts > 1 else ""
        return f"{length} of {limit} on {registry.label(platform)}{again}."
    return ""
