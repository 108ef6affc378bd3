"""The editor's Write with… panel and Settings ▸ Writing assistant, against the fake
model server over real HTTP, offscreen."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from itertools import pairwise

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QImage

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.voices import BUILTIN_GUIDES
from milton_desktop.operations import drafting, posts, voices
from milton_desktop.storage.models import Post
from milton_desktop.ui.editor.dialog import PostEditorDialog
from milton_desktop.ui.shell.assistant_page import AssistantPage
from milton_desktop.ui.shell.settings_dialog import SettingsDialog
from tests.fakes.llm import FakeLLM

MODEL = "llama-3.2-3b-instruct"
KEY = "sk-window-secret-0123456789"
NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def fake(accounts):
    with FakeLLM(key=KEY, models=(MODEL, "llava-7b"), vision=("llava-7b",)) as server:
        drafting.configure(server.base_url, MODEL, credentials=drafting.window_store(), key=KEY)
        yield server


@pytest.fixture
def editor(qtbot, accounts, milton_home):
    def make(**kwargs) -> PostEditorDialog:
        kwargs.setdefault("media_dir", milton_home / "media")
        dlg = PostEditorDialog(clock=FakeClock(NOW), **kwargs)
        dlg.confirm = lambda *a: True
        qtbot.addWidget(dlg)
        dlg.show()
        dlg.assistant_toggle.setChecked(True)
        assert dlg.assistant is not None
        dlg.assistant.timeouts = {"chunk_timeout": 5.0}
        return dlg

    return make


def wait_idle(qtbot, panel, timeout=15000):
    qtbot.waitUntil(lambda: not panel.busy, timeout=timeout)


def test_three_options_stream_in_while_the_window_keeps_turning(qtbot, fake, editor):
    fake.delay = 0.15
    fake.expected_system = BUILTIN_GUIDES["coach"].strip()
    fake.answer(
        "Tuesday: proud of the fight. Thursday we finish our chances.",
        "Down to ten on Tuesday and still pressing. That is us.",
        "Lesson from Tuesday: keep talking. We did.",
    )
    dlg = editor()
    panel = dlg.assistant
    panel.voice_combo.setCurrentIndex(panel.voice_combo.findData("coach"))
    panel.platform_combo.setCurrentIndex(panel.platform_combo.findData("x"))
    qtbot.keyClicks(panel.topic_edit, "Tuesday's game recap")
    ticks = []
    timer = QTimer(dlg)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    qtbot.mouseClick(panel.write_button, Qt.MouseButton.LeftButton)
    assert panel.busy and panel.cancel_button.isEnabled()
    # the first option fills in piece by piece, long before the last is written
    qtbot.waitUntil(lambda: len(panel.options[0].text.toPlainText()) > 0, timeout=5000)
    first = panel.options[0].text.toPlainText()
    assert first != "Tuesday: proud of the fight. Thursday we finish our chances."
    # the user clicks and types elsewhere meanwhile
    qtbot.mouseClick(dlg.text_edit, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dlg.text_edit, "typing while it writes")
    assert dlg.text_edit.toPlainText() == "typing while it writes"
    wait_idle(qtbot, panel)
    timer.stop()
    gaps = [b - a for a, b in pairwise(ticks)]
    # the event loop kept turning (a shared test machine may pause it briefly)
    assert len(ticks) > 40 and max(gaps) < 1.0
    assert [o.text.toPlainText() for o in panel.options][1] == (
        "Down to ten on Tuesday and still pressing. That is us."
    )
    assert all(o.use.isEnabled() for o in panel.options)
    assert "of 280 on X" in panel.options[0].note.text()
    assert Post.select().count() == 0  # shown, not saved
    qtbot.mouseClick(panel.options[2].use, Qt.MouseButton.LeftButton)
    assert dlg.text_edit.toPlainText() == "Lesson from Tuesday: keep talking. We did."
    assert dlg.voice_combo.currentData() == "coach"
    assert Post.select().count() == 0


def test_an_option_over_the_limit_is_asked_for_again(qtbot, fake, editor):
    fake.answer("word " * 80, "Short now.", "Two.", "Three.")
    dlg = editor()
    panel = dlg.assistant
    panel.platform_combo.setCurrentIndex(panel.platform_combo.findData("x"))
    panel.topic_edit.setText("the season")
    panel.write_button.click()
    wait_idle(qtbot, panel)
    assert panel.options[0].text.toPlainText() == "Short now."
    assert "after 2 tries" in panel.options[0].note.text()
    assert len(fake.chats) == 4


def test_an_incomplete_option_cannot_be_used(qtbot, fake, editor):
    fake.truncate = 2
    dlg = editor()
    panel = dlg.assistant
    panel.topic_edit.setText("training")
    panel.write_button.click()
    wait_idle(qtbot, panel)
    assert not any(o.use.isEnabled() for o in panel.options)
    assert "Incomplete" in panel.options[0].note.text()


def test_cancel_frees_the_panel_at_once(qtbot, fake, editor):
    fake.delay = 2.0
    dlg = editor()
    panel = dlg.assistant
    panel.topic_edit.setText("x")
    panel.write_button.click()
    qtbot.waitUntil(fake.streaming.is_set, timeout=5000)
    panel.cancel_button.click()
    assert not panel.busy and panel.write_button.isEnabled()
    assert panel.status.text() == "Stopped."


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ({"status": 401}, "refused the API key"),
        ({"status": 500, "body": {"error": {"message": "out of memory"}}}, "failed (HTTP 500)"),
        ({"status": 429, "headers": {"Retry-After": "30"}}, "try again in 30 s"),
    ],
)
def test_errors_are_said_plainly(qtbot, fake, editor, fault, words):
    fake.inject("POST /v1/chat/completions", **fault)
    dlg = editor()
    panel = dlg.assistant
    panel.topic_edit.setText("x")
    panel.write_button.click()
    wait_idle(qtbot, panel)
    assert words in panel.status.text()
    assert KEY not in panel.status.text()


def test_an_endpoint_that_is_down(qtbot, accounts, editor):
    drafting.configure("http://127.0.0.1:9/v1", MODEL, credentials=drafting.window_store())
    dlg = editor()
    panel = dlg.assistant
    panel.topic_edit.setText("x")
    panel.write_button.click()
    wait_idle(qtbot, panel)
    assert (
        "Is llama.cpp's server or Ollama running at http://127.0.0.1:9/v1?" in panel.status.text()
    )


def test_not_set_up_says_where(qtbot, accounts, editor):
    dlg = editor()
    assert not dlg.assistant.write_button.isEnabled()
    assert "Settings ▸ Writing assistant" in dlg.assistant.status.text()


def test_rewrite_for_x_becomes_its_text_there_and_is_kept_on_save(qtbot, fake, editor):
    post = posts.add_post("word " * 120, "pr")
    dlg = editor(post_id=post.id)
    panel = dlg.assistant
    panel.platform_combo.setCurrentIndex(panel.platform_combo.findData("x"))
    fake.answer("Short for X.")
    panel.rewrite_button.click()
    wait_idle(qtbot, panel)
    assert panel.suggestion_text.toPlainText() == "Short for X."
    assert posts.variants_of(post.id) == {}
    panel.use_button.click()
    assert dlg.variant("x") == "Short for X."
    assert posts.variants_of(post.id) == {}  # not until the user saves
    dlg.draft_button.click()
    qtbot.waitUntil(lambda: posts.variants_of(post.id) == {"x": "Short for X."}, timeout=5000)


def test_shorter_split_and_hashtags(qtbot, fake, editor):
    dlg = editor()
    panel = dlg.assistant
    dlg.text_edit.setPlainText("word " * 100)
    fake.answer("Much shorter.")
    panel.shorter_button.click()
    wait_idle(qtbot, panel)
    panel.use_button.click()
    assert dlg.text_edit.toPlainText() == "Much shorter."

    dlg.text_edit.setPlainText("word " * 100)
    panel.platform_combo.setCurrentIndex(panel.platform_combo.findData("x"))
    fake.answer("Part one.\n---\nPart two.\n---\nPart three.")
    panel.split_button.click()
    wait_idle(qtbot, panel)
    assert "[1/3] Part one." in panel.suggestion_text.toPlainText()
    panel.use_button.click()
    assert dlg.text_edit.toPlainText() == "Part one."
    assert dlg.thread_panel.texts() == ["Part two.", "Part three."]

    fake.answer("#grassroots #coaching #football")
    panel.hashtags_button.click()
    wait_idle(qtbot, panel)
    panel.use_button.click()
    assert dlg.text_edit.toPlainText() == "Part one.\n\n#grassroots #coaching #football"
    assert Post.select().count() == 0


def _png(path):
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366aa"))
    assert image.save(str(path), "PNG")
    return path


def test_alt_text_only_for_a_model_that_reads_images(qtbot, fake, editor, tmp_path, milton_home):
    post = posts.add_post(
        "Camp photo",
        media=[posts.MediaInput(path=_png(tmp_path / "camp.png"))],
        media_dir=milton_home / "media",
    )
    dlg = editor(post_id=post.id)
    assert not dlg.assistant.alt_button.isVisible()  # this model is text only
    dlg.close()
    drafting.configure(fake.base_url, "llava-7b", credentials=drafting.window_store())
    drafting.list_models()  # the endpoint's list says llava reads images
    dlg = editor(post_id=post.id)
    panel = dlg.assistant
    assert panel.alt_button.isVisible() and not panel.alt_button.isEnabled()
    dlg.media_list.setCurrentRow(0)
    assert panel.alt_button.isEnabled()
    fake.answer("A blue square, the camp's flag colour.")
    panel.alt_button.click()
    wait_idle(qtbot, panel)
    sent = fake.chats[-1]["messages"][-1]["content"]
    assert sent[1]["image_url"]["url"].startswith("data:image/png;base64,")
    panel.use_button.click()
    assert dlg.alt_edit.text() == "A blue square, the camp's flag colour."
    assert dlg._media[0].alt_text == "A blue square, the camp's flag colour."


def test_a_remote_endpoint_asks_once_before_sending(qtbot, accounts, editor):
    drafting.configure(
        "https://models.example.invalid/v1", MODEL, credentials=drafting.window_store()
    )
    dlg = editor()
    panel = dlg.assistant
    assert "remote" in panel.endpoint_label.text()
    asked = []
    panel.confirm = lambda title, text: asked.append(text) or False
    panel.topic_edit.setText("x")
    panel.write_button.click()
    assert len(asked) == 1 and "not on this computer" in asked[0]
    assert not panel.busy and panel.status.text() == "Nothing was sent."
    panel.confirm = lambda title, text: asked.append(text) or True
    panel.write_button.click()
    assert drafting.current().remote_confirmed
    wait_idle(qtbot, panel)
    panel.write_button.click()  # agreed once: not asked again
    assert len(asked) == 2
    wait_idle(qtbot, panel)


# ---------------------------------------------------------------- settings page


def test_the_settings_page_lists_models_tests_and_saves(qtbot, accounts, memory_keyring, tmp_path):
    with FakeLLM(key=KEY, models=("qwen2.5-7b", "llava-7b"), vision=("llava-7b",)) as server:
        dlg = SettingsDialog()
        qtbot.addWidget(dlg)
        dlg.show()
        page = dlg.assistant_page
        dlg.pages.setCurrentWidget(page)
        page.url_combo.setCurrentText(server.base_url)
        assert page.where_label.text() == "on this computer"
        page.key_edit.setText(KEY)
        page.list_button.click()
        qtbot.waitUntil(lambda: page.model_combo.count() == 2, timeout=5000)
        assert page.model_combo.itemText(1) == "llava-7b (reads images)"
        page.model_combo.setCurrentIndex(0)
        server.answer("OK")
        page.test_button.click()
        qtbot.waitUntil(lambda: "Testing" not in page.test_label.text(), timeout=5000)
        assert "It works" in page.test_label.text(), page.test_label.text()
        assert drafting.current() is None  # testing saves nothing
        dlg.resize(900, 820)
        shot = dlg.grab()
        assert not shot.isNull()
        shot.save(str(tmp_path / "writing-assistant.png"))
        assert dlg.save()
        config = drafting.current()
        assert (config.base_url, config.model, config.has_key) == (
            server.base_url,
            "qwen2.5-7b",
            True,
        )
        assert KEY in memory_keyring.store.values()


def test_the_settings_page_marks_a_remote_endpoint_and_asks(qtbot, accounts):
    page = AssistantPage()
    qtbot.addWidget(page)
    page.url_combo.setCurrentText("https://api.example.com/v1")
    assert "remote" in page.where_label.text()
    page.model_combo.setEditText("big-model")
    page.confirm = lambda *a: False
    assert "not saved" in page.save()
    assert drafting.current() is None
    page.confirm = lambda *a: True
    assert page.save() is None
    assert drafting.current().remote_confirmed


def test_the_voices_editor(qtbot, accounts):
    page = AssistantPage()
    qtbot.addWidget(page)
    page.show()
    assert [page.voice_list.item(i).text() for i in range(3)] == ["Personal", "Coach", "PR"]
    page.voice_list.setCurrentRow(1)
    assert page.guide_edit.toPlainText() == BUILTIN_GUIDES["coach"].strip()
    page.guide_edit.setPlainText("Short, kind, specific.")
    page.save_guide_button.click()
    assert voices.get_voice("coach").guide == "Short, kind, specific."
    assert page.reset_button.isEnabled()
    page.reset_button.click()
    assert voices.get_voice("coach").shipped
    page.new_voice_edit.setText("club-news")
    page.add_voice_button.click()
    assert "club-news" in [v.name for v in voices.list_voices()]
    assert page.remove_button.isVisible()
    page.remove_button.click()
    assert "club-news" not in [v.name for v in voices.list_voices()]
    page.new_voice_edit.setText("Bad Name")
    page.add_voice_button.click()
    assert "cannot be a voice's name" in page.voice_status.text()
