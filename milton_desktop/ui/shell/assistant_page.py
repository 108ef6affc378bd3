"""Settings ▸ Writing assistant: the model endpoint (address, model, key, Test) and
the voices' guides.

The endpoint is saved with the settings dialog's Save; its key goes to the keyring
only, and the field never shows it back. A remote endpoint (not on this computer) is
marked, and saving one asks once whether post text may be sent there. Voices are
saved with their own buttons, at once. Listing models and Test run on a worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.assistant.client import LLAMA_CPP_URL, OLLAMA_URL, is_loopback
from milton_desktop.domain.errors import UserError
from milton_desktop.operations import drafting, voices
from milton_desktop.ui import tones
from milton_desktop.ui.tasks import run_in_background
from milton_desktop.ui.wording import sentence

log = logging.getLogger("milton.ui.settings")

_IMAGES = (("auto", "As the model list says"), ("yes", "Yes"), ("no", "No"))


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {tones.dim(label.palette()).name()};")
    return label


class AssistantPage(QWidget):
    """The writing assistant's settings, as a page of the settings dialog."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assistantPage")
        #: asks a yes/no question; replaced in tests (a modal box would block them)
        self.confirm: Callable[[str, str], bool] = self._ask
        box = QVBoxLayout(self)
        box.addWidget(self._build_endpoint())
        box.addWidget(self._build_voices(), 1)
        self._load()

    # ------------------------------------------------------------ building

    def _build_endpoint(self) -> QGroupBox:
        group = QGroupBox("Language model")
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(
            _hint(
                "Any OpenAI-compatible endpoint. A model server on this computer keeps "
                "your posts on it: llama.cpp's llama-server, or Ollama."
            )
        )
        self.url_combo = QComboBox()
        self.url_combo.setObjectName("assistantUrl")
        self.url_combo.setEditable(True)
        self.url_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.url_combo.addItem(LLAMA_CPP_URL)
        self.url_combo.addItem(OLLAMA_URL)
        self.url_combo.setToolTip(
            f"{LLAMA_CPP_URL}: llama.cpp (llama-server --port 8080)\n"
            f"{OLLAMA_URL}: Ollama (ollama serve)"
        )
        self.url_combo.currentTextChanged.connect(self._on_url_combo_text_changed)
        self.where_label = QLabel()
        self.where_label.setObjectName("assistantWhere")
        row = QHBoxLayout()
        row.addWidget(self.url_combo, 1)
        row.addWidget(self.where_label)
        form.addRow("Base URL:", row)

        self.model_combo = QComboBox()
        self.model_combo.setObjectName("assistantModel")
        self.model_combo.setEditable(True)
        self.model_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        model_line = self.model_combo.lineEdit()
        if model_line is not None:  # the combo is editable, so it has one
            model_line.setPlaceholderText("e.g. llama3.2 (press “List models”)")
        self.list_button = QPushButton("List models")
        self.list_button.setObjectName("assistantListModels")
        self.list_button.clicked.connect(self._on_list_button_clicked)
        row = QHBoxLayout()
        row.addWidget(self.model_combo, 1)
        row.addWidget(self.list_button)
        form.addRow("Model:", row)

        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("assistantKey")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setAccessibleName("API key")
        self.forget_key = QPushButton("Forget key")
        self.forget_key.setObjectName("assistantForgetKey")
        self.forget_key.setCheckable(True)
        row = QHBoxLayout()
        row.addWidget(self.key_edit, 1)
        row.addWidget(self.forget_key)
        form.addRow("API key:", row)

        self.images_combo = QComboBox()
        self.images_combo.setObjectName("assistantImages")
        for value, label in _IMAGES:
            self.images_combo.addItem(label, value)
        form.addRow("Reads images:", self.images_combo)

        self.test_button = QPushButton("Test")
        self.test_button.setObjectName("assistantTest")
        self.test_button.clicked.connect(self._on_test_button_clicked)
        self.off_button = QPushButton("Turn off")
        self.off_button.setObjectName("assistantOff")
        self.off_button.clicked.connect(self._on_off_button_clicked)
        self.test_label = QLabel()
        self.test_label.setObjectName("assistantTestResult")
        self.test_label.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addWidget(self.off_button)
        row.addWidget(self.test_label, 1)
        form.addRow("", row)
        return group

    def _build_voices(self) -> QGroupBox:
        group = QGroupBox("Voices")
        box = QVBoxLayout(group)
        box.addWidget(
            _hint(
                "Each voice's guide is what the model is told: its tone, do's and "
                "don'ts, and a few example posts."
            )
        )
        row = QHBoxLayout()
        self.voice_list = QListWidget()
        self.voice_list.setObjectName("assistantVoices")
        self.voice_list.setMaximumWidth(170)
        self.voice_list.currentItemChanged.connect(self._on_voice_list_current_changed)
        row.addWidget(self.voice_list)
        self.guide_edit = QPlainTextEdit()
        self.guide_edit.setObjectName("assistantGuide")
        self.guide_edit.setAccessibleName("The voice's guide")
        self.guide_edit.setMinimumHeight(180)
        row.addWidget(self.guide_edit, 1)
        box.addLayout(row, 1)
        buttons = QHBoxLayout()
        self.new_voice_edit = QLineEdit()
        self.new_voice_edit.setObjectName("assistantNewVoice")
        self.new_voice_edit.setPlaceholderText("new voice's name, e.g. club-news")
        self.add_voice_button = QPushButton("Add voice")
        self.add_voice_button.setObjectName("assistantAddVoice")
        self.add_voice_button.clicked.connect(self._on_add_voice_button_clicked)
        self.save_guide_button = QPushButton("Save guide")
        self.save_guide_button.setObjectName("assistantSaveGuide")
        self.save_guide_button.clicked.connect(self._on_save_guide_button_clicked)
        self.reset_button = QPushButton("Shipped guide")
        self.reset_button.setObjectName("assistantResetGuide")
        self.reset_button.setToolTip("Put the built-in voice's guide back to the shipped one")
        self.reset_button.clicked.connect(self._on_reset_button_clicked)
        self.remove_button = QPushButton("Remove voice")
        self.remove_button.setObjectName("assistantRemoveVoice")
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        for widget in (self.new_voice_edit, self.add_voice_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        for widget in (self.save_guide_button, self.reset_button, self.remove_button):
            buttons.addWidget(widget)
        box.addLayout(buttons)
        self.voice_status = QLabel()
        self.voice_status.setObjectName("assistantVoiceStatus")
        self.voice_status.setWordWrap(True)
        box.addWidget(self.voice_status)
        return group

    # ------------------------------------------------------------ loading

    def _load(self) -> None:
        config = drafting.current()
        if config is not None:
            self.url_combo.setCurrentText(config.base_url)
            self.model_combo.setCurrentText(config.model)
            self.images_combo.setCurrentIndex(max(self.images_combo.findData(config.images), 0))
            self.key_edit.setPlaceholderText(
                "stored in the keyring (type to replace it)"
                if config.has_key
                else "none (a local server needs none)"
            )
        else:
            self.url_combo.setCurrentText(LLAMA_CPP_URL)
            self.key_edit.setPlaceholderText("none (a local server needs none)")
        self.forget_key.setVisible(bool(config and config.has_key))
        self.off_button.setEnabled(config is not None)
        self._on_url_combo_text_changed(self.url_combo.currentText())
        self._load_voices()

    def _load_voices(self, select: str | None = None) -> None:
        current = select or (
            self.voice_list.currentItem().data(Qt.ItemDataRole.UserRole)
            if self.voice_list.currentItem()
            else None
        )
        self.voice_list.blockSignals(True)
        self.voice_list.clear()
        for voice in voices.list_voices():
            item = QListWidgetItem(voice.label + ("" if voice.builtin else " (yours)"))
            item.setData(Qt.ItemDataRole.UserRole, voice.name)
            self.voice_list.addItem(item)
            if voice.name == current:
                self.voice_list.setCurrentItem(item)
        self.voice_list.blockSignals(False)
        if self.voice_list.currentItem() is None and self.voice_list.count():
            self.voice_list.setCurrentRow(0)
        self._on_voice_list_current_changed(self.voice_list.currentItem(), None)

    # ------------------------------------------------------------ endpoint

    def _on_url_combo_text_changed(self, text: str) -> None:
        url = text.strip()
        if not url:
            self.where_label.setText("")
            return
        if is_loopback(url):
            self.where_label.setText("on this computer")
            self.where_label.setStyleSheet(f"color: {tones.tone(self.palette(), 'ok').name()};")
        else:
            self.where_label.setText("⚠ remote: post text leaves this computer")
            self.where_label.setStyleSheet(f"color: {tones.tone(self.palette(), 'error').name()};")

    def _entered_key(self) -> str | None:
        return self.key_edit.text().strip() or None

    def _say(self, label: QLabel, text: str, *, error: bool = False) -> None:
        if text.endswith("…"):
            text = text[:1].upper() + text[1:]
        elif text:
            text = sentence(text)
        label.setText(text)
        colour = tones.tone(self.palette(), "error") if error else tones.dim(self.palette())
        label.setStyleSheet(f"color: {colour.name()};")

    def _on_list_button_clicked(self) -> None:
        url, key = self.url_combo.currentText(), self._entered_key()
        self.list_button.setEnabled(False)
        self._say(self.test_label, "asking for the models…")

        def done(found: list[drafting.ModelInfo]) -> None:
            self.list_button.setEnabled(True)
            typed = self.model_combo.currentText()
            self.model_combo.clear()
            for model in found:
                self.model_combo.addItem(
                    model.id + (" (reads images)" if model.vision else ""), model.id
                )
            keep = self.model_combo.findData(typed)
            if keep >= 0:
                self.model_combo.setCurrentIndex(keep)
            elif typed:
                self.model_combo.setEditText(typed)
            self._say(self.test_label, f"{len(found)} model(s) at this address")

        def failed(exc: Exception) -> None:
            self.list_button.setEnabled(True)
            self._say(self.test_label, str(exc), error=True)

        run_in_background(
            lambda: drafting.list_models(url, key, credentials=drafting.window_store()),
            parent=self,
            on_success=done,
            on_failure=failed,
            until_finished=False,
        )

    def model_name(self) -> str:
        index = self.model_combo.currentIndex()
        if index >= 0 and self.model_combo.itemText(index) == self.model_combo.currentText():
            data = self.model_combo.itemData(index)
            if data:
                return str(data)
        return self.model_combo.currentText().strip()

    def _on_test_button_clicked(self) -> None:
        url, model, key = self.url_combo.currentText(), self.model_name(), self._entered_key()
        config = drafting.current()
        use_stored = key is None and config is not None and config.has_key
        self.test_button.setEnabled(False)
        self._say(self.test_label, "testing…")

        def work() -> tuple[tuple[str, ...], str]:
            secret = key
            if use_stored:
                secret = drafting.window_store().load_secret(drafting.KEY_NAME)
            return drafting.probe(url, model, secret)

        def done(result: tuple[tuple[str, ...], str]) -> None:
            self.test_button.setEnabled(True)
            _names, reply = result
            self._say(self.test_label, f"it works: {model} answered “{reply[:40]}”")

        def failed(exc: Exception) -> None:
            self.test_button.setEnabled(True)
            self._say(self.test_label, str(exc), error=True)

        run_in_background(
            work, parent=self, on_success=done, on_failure=failed, until_finished=False
        )

    def _on_off_button_clicked(self) -> None:
        try:
            drafting.turn_off()
        except Exception as exc:  # the keyring refused: say so, keep the page
            self._say(self.test_label, str(exc), error=True)
            return
        self.key_edit.clear()
        self.model_combo.setEditText("")
        self._load()
        self._say(self.test_label, "the writing assistant is off")

    def save(self) -> str | None:
        """Write the endpoint (the settings dialog's Save); None when all went well,
        else what to fix. An empty model with no endpoint set leaves it off."""
        url, model = self.url_combo.currentText().strip(), self.model_name()
        config = drafting.current()
        if config is None and not model:
            return None  # never set up, and nothing asked for
        clear = self.forget_key.isChecked() and self._entered_key() is None
        remote = bool(url) and not is_loopback(url)
        agreed = (
            config is not None and config.remote_confirmed and config.base_url == url.rstrip("/")
        )
        if (
            remote
            and not agreed
            and not self.confirm(
                "Send post text to a remote service?",
                f"{url} is not on this computer. The writing assistant will send it the "
                "text of the posts you draft, rewrite or split, and your voices' guides. "
                "Use it?",
            )
        ):
            return (
                "the remote endpoint was not saved: choose one on this computer, or agree to use it"
            )
        try:
            drafting.configure(
                url,
                model,
                credentials=drafting.window_store(),
                key=self._entered_key(),
                clear_key=clear,
                images=str(self.images_combo.currentData()),
            )
            if remote and not agreed:
                drafting.confirm_remote()
        except UserError as exc:
            return str(exc)
        except Exception as exc:  # the keyring refused the key
            return f"the key could not be stored: {exc}"
        self.key_edit.clear()
        return None

    @staticmethod
    def _ask(title: str, text: str) -> bool:
        return QMessageBox.question(None, title, text) == QMessageBox.StandardButton.Yes

    # ------------------------------------------------------------ voices

    def _current_voice(self) -> str | None:
        item = self.voice_list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _on_voice_list_current_changed(self, current: object, _previous: object) -> None:
        name = self._current_voice()
        if name is None:
            self.guide_edit.clear()
            return
        voice = voices.get_voice(name)
        self.guide_edit.setPlainText(voice.guide)
        self.reset_button.setVisible(voice.builtin)
        self.reset_button.setEnabled(not voice.shipped)
        self.remove_button.setVisible(not voice.builtin)

    def _voice_action(
        self, action: Callable[[], object], done: str, select: str | None = None
    ) -> None:
        try:
            action()
        except UserError as exc:
            self._say(self.voice_status, str(exc), error=True)
            return
        self._load_voices(select)
        self._say(self.voice_status, done)

    def _on_save_guide_button_clicked(self) -> None:
        name = self._current_voice()
        if name is not None:
            text = self.guide_edit.toPlainText()
            self._voice_action(
                lambda: voices.set_voice(name, text), f"the guide of {name} is saved", name
            )

    def _on_reset_button_clicked(self) -> None:
        name = self._current_voice()
        if name is not None:
            self._voice_action(
                lambda: voices.reset_voice(name), f"{name} has its shipped guide again", name
            )

    def _on_add_voice_button_clicked(self) -> None:
        typed = self.new_voice_edit.text()
        try:
            name = voices.check_name(typed) if typed.strip() else ""
        except UserError as exc:
            self._say(self.voice_status, str(exc), error=True)
            return
        if not name:
            self._say(self.voice_status, "type the new voice's name first", error=True)
            return
        guide = (
            f"You write social media posts in the voice “{name}”.\n\nTone: …\n\nDo:\n- …\n\n"
            "Don't:\n- …\n\nExample posts:\n- …"
        )
        self._voice_action(
            lambda: voices.set_voice(name, guide),
            f"voice {name} added: write its guide, then save it",
            name,
        )
        self.new_voice_edit.clear()

    def _on_remove_button_clicked(self) -> None:
        name = self._current_voice()
        if name is not None:
            self._voice_action(lambda: voices.remove_voice(name), f"voice {name} removed")
