"""The platform previews: what each feed shows of the post, live, readable in both themes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtGui import QColor, QImage, QPalette

from milton_desktop.domain.clock import FakeClock
from milton_desktop.publishers import registry
from milton_desktop.ui import tones
from milton_desktop.ui.editor.dialog import PostEditorDialog
from milton_desktop.ui.editor.preview_layout import LINK, MORE, OVER, crop_box, layout_text

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
LONG = "Every word here matters to somebody. " * 12  # 444 characters


@pytest.fixture
def editor(qtbot, accounts, milton_home):
    def make(**kwargs) -> PostEditorDialog:
        dlg = PostEditorDialog(clock=FakeClock(NOW), media_dir=milton_home / "media", **kwargs)
        dlg.confirm = lambda *a: True
        qtbot.addWidget(dlg)
        dlg.show()
        dlg.preview_toggle.setChecked(True)
        return dlg

    return make


def _image(path, w, h):
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366aa"))
    assert image.save(str(path), "JPEG")
    return path


# ---------------------------------------------------------------- what each feed shows


def test_linkedin_folds_after_about_210_characters_behind_see_more():
    shown = layout_text(registry.platform("linkedin"), LONG)
    assert shown.segments[-1] == type(shown.segments[-1])("…see more", MORE)
    visible = shown.plain.removesuffix("…see more")
    assert 150 < len(visible) <= 210
    assert LONG[len(visible)] == " "  # cut between words, not inside one
    assert shown.hidden == len(LONG) - len(visible)


def test_linkedin_folds_after_three_lines_even_when_short():
    shown = layout_text(registry.platform("linkedin"), "one\ntwo\nthree\nfour")
    assert shown.plain == "one\ntwo\nthree…see more"


def test_instagram_shows_about_125_characters_before_more():
    shown = layout_text(registry.platform("instagram"), LONG)
    assert shown.segments[-1].kind == MORE and shown.segments[-1].text == "… more"
    assert len(shown.plain) - len("… more") <= 125


def test_x_shows_all_of_it_and_crosses_out_what_is_over_the_limit():
    text = "x" * 300
    shown = layout_text(registry.platform("x"), text)
    assert shown.hidden == 0 and shown.over == 20
    assert [s.kind for s in shown.segments] == ["text", OVER]
    assert len(shown.segments[1].text) == 20


def test_x_shows_links_shortened_and_counts_them_as_23():
    url = "https://example.com/a/very/long/path/that/goes/on"
    shown = layout_text(registry.platform("x"), f"read {url} now")
    link = next(s for s in shown.segments if s.kind == LINK)
    assert link.text == "example.com/a/very/lon…" and len(link.text) == 23
    assert shown.first_link.startswith("example.com/a/very/long")
    # LinkedIn shows the same link as written, without its scheme
    on_linkedin = layout_text(registry.platform("linkedin"), f"read {url} now")
    assert next(s for s in on_linkedin.segments if s.kind == LINK).text == url[8:]


def test_a_fold_never_cuts_a_link_in_two():
    text = "a" * 200 + " https://example.com/long/enough/to/cross/the/fold"
    shown = layout_text(registry.platform("linkedin"), text)
    assert not any(s.kind == LINK for s in shown.segments)  # it moved behind the fold


def test_image_crops_follow_each_platform():
    assert crop_box(1000, 1000, registry.platform("x").preview.image_ratio) == (0, 219, 1000, 562)
    # Instagram keeps 4:5 to 1.91:1 and crops a taller image to 4:5
    assert crop_box(800, 2000, registry.platform("instagram").preview.image_ratio) == (
        0,
        500,
        800,
        1000,
    )
    assert crop_box(1080, 1080, registry.platform("instagram").preview.image_ratio) == (
        0,
        0,
        1080,
        1080,
    )


def test_every_platform_declares_a_preview():
    for platform in registry.platforms():
        preview = platform.preview
        lo, hi = preview.image_ratio
        assert 0 < lo <= hi


# ---------------------------------------------------------------- in the editor


def test_the_preview_follows_the_text_and_the_chosen_account(qtbot, editor):
    dlg = editor()
    dlg.set_account_checked("My X")
    qtbot.keyClicks(dlg.text_edit, "Hello from the preview")
    qtbot.waitUntil(lambda: "Hello from the preview" in dlg.preview.card.body.text())
    assert dlg.preview.platform == "x"  # the chosen platform comes first
    assert dlg.preview.card.author.text() == "My X"
    assert dlg.preview.card.handle.text() == "@x · now"
    dlg.preview.show_platform("linkedin")
    assert dlg.preview.card.author.text() == "Work LinkedIn"
    assert "No LinkedIn account is chosen" in dlg.preview.note.text()


def test_a_variant_text_is_previewed_on_its_platform(qtbot, editor):
    dlg = editor()
    dlg.text_edit.setPlainText("Common text")
    dlg.variant_checks["linkedin"].setChecked(True)
    dlg.variant_edits["linkedin"].setPlainText("Only on LinkedIn")
    dlg.preview.show_platform("linkedin")
    assert "Only on LinkedIn" in dlg.preview.card.body.text()
    dlg.preview.show_platform("x")
    assert "Common text" in dlg.preview.card.body.text()


def test_the_fold_is_explained_under_the_card(qtbot, editor):
    dlg = editor()
    dlg.text_edit.setPlainText(LONG)
    dlg.preview.show_platform("instagram")
    assert "… more" in dlg.preview.card.body.text()
    assert "about 125 characters" in dlg.preview.note.text()


def test_an_image_is_shown_cropped_as_the_timeline_crops_it(qtbot, editor, tmp_path):
    dlg = editor()
    dlg.text_edit.setPlainText("With a picture")
    dlg.add_media_files([_image(tmp_path / "square.jpg", 900, 900)])
    qtbot.waitUntil(lambda: all(e.image is not None for e in dlg._media), timeout=10000)
    dlg.preview.show_platform("x")
    pixmap = dlg.preview.card.media.pixmap()
    assert abs(pixmap.width() / pixmap.height() - 16 / 9) < 0.02
    assert "16:9 (cropped from 1:1 square)" in dlg.preview.card.media_caption.text()
    dlg.preview.show_platform("instagram")
    assert "Shown at 1:1 square" in dlg.preview.card.media_caption.text()


def test_a_linked_image_is_named_not_a_grey_box(qtbot, editor):
    dlg = editor()
    dlg.text_edit.setPlainText("Linked")
    assert dlg.add_media_url("https://cdn.example.com/photos/harbour.jpg")
    item = dlg.media_list.item(0)
    assert item.text() == "cdn.example.com/harbour.jpg"
    dlg.preview.show_platform("instagram")
    assert "Linked image: cdn.example.com/harbour.jpg" in dlg.preview.card.media_caption.text()


def test_a_link_without_media_gets_a_card_where_the_platform_makes_one(qtbot, editor):
    dlg = editor()
    dlg.text_edit.setPlainText("Read https://www.example.org/post")
    dlg.preview.show_platform("linkedin")
    assert dlg.preview.card.link_card.isVisible()
    assert dlg.preview.card.link_host.text().startswith("example.org")
    dlg.preview.show_platform("instagram")
    assert not dlg.preview.card.link_card.isVisible()
    assert "cannot be clicked" in dlg.preview.note.text()


def _dark() -> QPalette:
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#2b2d30"),
        (QPalette.ColorRole.WindowText, "#e6e6e6"),
        (QPalette.ColorRole.Base, "#1e1f22"),
        (QPalette.ColorRole.Text, "#e6e6e6"),
        (QPalette.ColorRole.Link, "#2a5db0"),  # too dark on the card: must be corrected
        (QPalette.ColorRole.PlaceholderText, "#5a5d62"),
    ):
        palette.setColor(role, QColor(colour))
    return palette


@pytest.mark.parametrize("dark", [False, True])
def test_preview_colours_read_at_4_5_to_1_in_both_themes(qtbot, editor, dark):
    dlg = editor()
    if dark:
        dlg.setPalette(_dark())
    dlg.text_edit.setPlainText("x" * 290 + " https://example.com")
    dlg.preview.show_platform("x")
    palette = dlg.preview.card.palette()
    base = palette.color(QPalette.ColorRole.Base)
    for colour in (
        palette.color(QPalette.ColorRole.Text),
        tones.link(palette),
        tones.dim(palette, QPalette.ColorRole.Base),
        tones.tone(palette, "error", QPalette.ColorRole.Base),
    ):
        assert tones.contrast(colour, base) >= 4.5, colour.name()
    window = dlg.palette().color(QPalette.ColorRole.Window)
    for meaning in ("error", "warning", "ok"):
        assert tones.contrast(tones.tone(dlg.palette(), meaning), window) >= 4.5
