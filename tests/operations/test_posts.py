"""A post's media replaced all at once, checked against every schedule still to go out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from milton_desktop.domain.errors import UserError
from milton_desktop.operations import posts, schedules
from milton_desktop.storage.models import Media, Post
from milton_desktop.storage.queries import media_items
from tests.operations.helpers import NOW, jpeg, media_of, schedule_later, set_status

# ---------------------------------------------------------------- replace_media


def test_media_are_replaced_in_order(accounts, clock, media_dir, tmp_path):
    old = jpeg(tmp_path / "old.jpg", 640, 480)
    post = posts.add_post("Photos", media=[posts.MediaInput(path=old)], media_dir=media_dir)
    new = jpeg(tmp_path / "new.jpg", 1200, 1000)
    clock.advance(60)
    result = posts.replace_media(
        post.id,
        [
            posts.MediaInput(url="https://cdn.example.com/a.png", alt_text="A chart"),
            posts.MediaInput(path=new, alt_text="A photo"),
        ],
        media_dir,
        clock=clock,
    )
    assert result.id == post.id
    rows = list(Media.select().where(Media.post == post.id).order_by(Media.position))
    assert [(m.position, m.url, m.mime, m.alt_text) for m in rows] == [
        (0, "https://cdn.example.com/a.png", "image/png", "A chart"),
        (1, None, "image/jpeg", "A photo"),
    ]
    assert (rows[1].width, rows[1].height, rows[1].original_name) == (1200, 1000, "new.jpg")
    assert Path(rows[1].path).parent == media_dir
    assert Post.get_by_id(post.id).updated_at == NOW + timedelta(seconds=60)


def test_a_stored_file_passed_back_keeps_its_name(accounts, clock, media_dir, tmp_path):
    photo = jpeg(tmp_path / "holiday.jpg")
    post = posts.add_post("Photo", media=[posts.MediaInput(path=photo)], media_dir=media_dir)
    stored = Media.get(Media.post == post.id)
    posts.replace_media(
        post.id,
        [posts.MediaInput(path=Path(stored.path), alt_text="Beach", original_name="holiday.jpg")],
        media_dir,
        clock=clock,
    )
    again = Media.get(Media.post == post.id)
    assert (again.path, again.original_name, again.alt_text) == (
        stored.path,
        "holiday.jpg",
        "Beach",
    )
    assert len(list(media_dir.iterdir())) == 1  # same content, same file


def test_one_bad_file_among_good_ones_leaves_the_old_media(accounts, clock, media_dir, tmp_path):
    old = jpeg(tmp_path / "old.jpg", 640, 480)
    post = posts.add_post("Photos", media=[posts.MediaInput(path=old)], media_dir=media_dir)
    before = media_of(post)
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    with pytest.raises(UserError, match=r"notes\.txt: not an image, video or PDF"):
        posts.replace_media(
            post.id,
            [
                posts.MediaInput(path=jpeg(tmp_path / "good.jpg", 1000, 1000)),
                posts.MediaInput(path=notes),
                posts.MediaInput(url="https://cdn.example.com/b.jpg"),
            ],
            media_dir,
            clock=clock,
        )
    assert media_of(post) == before
    with pytest.raises(UserError, match="not a public http"):
        posts.replace_media(
            post.id, [posts.MediaInput(url="ftp://example.com/c.jpg")], media_dir, clock=clock
        )
    assert media_of(post) == before


def test_refused_while_a_schedule_of_the_post_is_publishing(accounts, clock, media_dir, tmp_path):
    post = posts.add_post("Words", media=[posts.MediaInput(url="https://cdn.example.com/a.jpg")])
    row = schedule_later(post, accounts["linkedin"], clock)
    set_status(row, "publishing")
    before = media_of(post)
    with pytest.raises(UserError, match="it is being published right now; try again in a moment"):
        posts.replace_media(
            post.id, [posts.MediaInput(path=jpeg(tmp_path / "a.jpg"))], media_dir, clock=clock
        )
    assert media_of(post) == before


def test_instagram_refuses_a_local_only_file_and_nothing_changes(
    accounts, clock, media_dir, tmp_path
):
    link = posts.MediaInput(url="https://cdn.example.com/square.jpg", alt_text="Square")
    post = posts.add_post("A square", media=[link])
    ig = schedule_later(post, accounts["instagram"], clock)
    schedule_later(post, accounts["linkedin"], clock)
    before = media_of(post)
    with pytest.raises(UserError) as refused:
        posts.replace_media(
            post.id, [posts.MediaInput(path=jpeg(tmp_path / "sq.jpg"))], media_dir, clock=clock
        )
    message = str(refused.value)
    assert message.startswith(f"cannot change the media of post {post.id}: ")
    assert f"Instagram account 'Studio IG' (schedule {ig.id}) would refuse them" in message
    assert "Instagram fetches media from a public URL" in message
    assert "LinkedIn" not in message  # LinkedIn takes a local file
    assert media_of(post) == before
    assert Post.get_by_id(post.id).updated_at == post.updated_at

    # once that schedule is cancelled nothing is left that would refuse the file
    schedules.cancel(ig.id, clock=clock)
    posts.replace_media(
        post.id, [posts.MediaInput(path=jpeg(tmp_path / "sq.jpg"))], media_dir, clock=clock
    )
    assert Media.get(Media.post == post.id).url is None


def test_a_missed_schedule_is_checked_too(accounts, clock, media_dir):
    post = posts.add_post("A square", media=[posts.MediaInput(url="https://cdn.example.com/a.jpg")])
    row = schedule_later(post, accounts["instagram"], clock)
    set_status(row, "missed")  # publish_now() would send it without another check
    with pytest.raises(UserError, match="Instagram needs at least one image"):
        posts.replace_media(post.id, [], media_dir, clock=clock)
    assert Media.select().where(Media.post == post.id).count() == 1


def test_a_post_is_not_left_empty(accounts, clock, media_dir):
    post = posts.add_post("", media=[posts.MediaInput(url="https://cdn.example.com/a.jpg")])
    with pytest.raises(UserError, match="would be empty"):
        posts.replace_media(post.id, [], media_dir, clock=clock)
    assert Media.select().where(Media.post == post.id).count() == 1


def test_an_unknown_post_is_refused_before_copying(accounts, clock, media_dir, tmp_path):
    with pytest.raises(UserError, match="no post with id 99"):
        posts.replace_media(
            99, [posts.MediaInput(path=jpeg(tmp_path / "a.jpg"))], media_dir, clock=clock
        )
    assert not media_dir.exists()


def test_a_pdf_is_kept_as_a_document_that_remembers_its_name(accounts, clock, media_dir, tmp_path):
    pdf = tmp_path / "Board pack.pdf"
    pdf.write_bytes(b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\n%%EOF\n")
    post = posts.add_post("Slides", media=[posts.MediaInput(path=pdf)], media_dir=media_dir)

    (item,) = media_items(Post.get_by_id(post.id))
    assert (item.kind, item.mime, item.name) == ("document", "application/pdf", "Board pack.pdf")
    assert item.path is not None and item.path.parent == media_dir and item.path.suffix == ".pdf"


def test_duplicate_copies_text_voice_and_media_into_a_new_draft(
    accounts, clock, media_dir, tmp_path
):
    original = posts.add_post(
        "Say it again",
        voice="pr",
        media=[
            posts.MediaInput(path=jpeg(tmp_path / "a.jpg"), alt_text="first"),
            posts.MediaInput(url="https://cdn.example.com/b.jpg"),
        ],
        media_dir=media_dir,
    )
    schedule_later(original, accounts["linkedin"], clock)
    copy = posts.duplicate_post(original.id, clock=clock)
    assert copy.id != original.id
    assert (copy.body, copy.voice, copy.created_at) == ("Say it again", "pr", clock.now())
    assert media_items(copy) == media_items(original)  # same files (named by content), in order
    assert [m.original_name for m in copy.media.order_by(Media.position)] == ["a.jpg", "b.jpg"]
    assert not copy.schedules.exists()  # a draft: nothing goes out until it is scheduled
    with pytest.raises(UserError, match="no post with id 999"):
        posts.duplicate_post(999)
