"""Editing in place: schedules.update_schedule and posts.replace_media."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.errors import UserError
from milton_desktop.operations import posts, repeats, schedules
from milton_desktop.storage import queries
from milton_desktop.storage.models import Account, Media, Post, Recurrence, ScheduledPost, database

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
LATER = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def media_dir(tmp_path) -> Path:
    return tmp_path / "media"


def _jpeg(path: Path, w: int = 800, h: int = 800) -> Path:
    """The smallest file media.inspect takes as a complete JPEG of w×h."""
    sof = b"\xff\xc0" + struct.pack(">HBHH", 11, 8, h, w) + b"\x01\x01\x11\x00"
    path.write_bytes(b"\xff\xd8" + sof + b"\xff\xd9")
    return path


def _schedule(post: Post, account: Account, clock: FakeClock, **kwargs) -> ScheduledPost:
    return schedules.schedule(
        post.id, account, LATER, timezone="Europe/Paris", clock=clock, **kwargs
    )


def _set_status(row: ScheduledPost, status: str, **fields) -> None:
    ScheduledPost.update(status=status, **fields).where(ScheduledPost.id == row.id).execute()


def _media_of(post: Post) -> list[tuple]:
    return [
        (m.id, m.position, m.path, m.url, m.alt_text, m.original_name)
        for m in Media.select().where(Media.post == post.id).order_by(Media.position)
    ]


# ---------------------------------------------------------------- update_schedule


def test_text_is_changed_in_place(accounts, clock):
    post = posts.add_post("Common words")
    row = _schedule(post, accounts["x"], clock)
    clock.advance(60)
    edited = schedules.update_schedule(row.id, text="X words", clock=clock)
    assert edited.id == row.id
    assert edited.text_override == "X words"
    assert (edited.scheduled_time, edited.next_attempt_at) == (LATER, LATER)
    assert edited.updated_at == NOW + timedelta(seconds=60)
    assert ScheduledPost.select().count() == 1
    # None drops the own text again; the post's text is what goes out
    assert schedules.update_schedule(row.id, text=None, clock=clock).text_override is None
    assert queries.content_for(queries.get_schedule(row.id)).text == "Common words"


def test_time_is_changed_in_place_and_the_own_text_kept(accounts, clock):
    post = posts.add_post("Common words")
    row = _schedule(post, accounts["x"], clock, text="X words")
    edited = schedules.update_schedule(row.id, when=LATER + timedelta(hours=2), clock=clock)
    assert edited.id == row.id
    assert edited.scheduled_time == edited.next_attempt_at == LATER + timedelta(hours=2)
    assert edited.text_override == "X words"
    assert edited.timezone == "Europe/Paris"
    assert ScheduledPost.select().count() == 1


def test_an_occurrence_of_a_repeat_stays_in_its_series(accounts, clock):
    post = posts.add_post("Weekly tip")
    rec = repeats.schedule_repeating(
        post.id,
        accounts["linkedin"],
        datetime(2027, 1, 12, 10, 0),
        "Europe/Paris",
        "FREQ=WEEKLY;COUNT=3",
        clock=clock,
    )
    first = ScheduledPost.select().where(ScheduledPost.recurrence == rec.id).first()
    edited = schedules.update_schedule(
        first.id, when=first.scheduled_time + timedelta(hours=1), text="This week's tip"
    )
    assert edited.id == first.id
    assert edited.recurrence_id == rec.id
    assert Recurrence.get_by_id(rec.id).active
    # the series can still be stopped from the edited occurrence
    assert repeats.stop_series(edited.id, clock=clock) == 3


@pytest.mark.parametrize("status", ["published", "publishing", "uncertain", "cancelled"])
def test_history_and_in_flight_rows_are_refused_like_reschedule(accounts, clock, status):
    post = posts.add_post("Common words")
    row = _schedule(post, accounts["x"], clock)
    _set_status(row, status)
    with pytest.raises(UserError) as moved:
        schedules.reschedule(row.id, LATER, clock=clock)
    with pytest.raises(UserError) as edited:
        schedules.update_schedule(row.id, text="New words", clock=clock)
    assert str(edited.value) == str(moved.value)
    assert str(edited.value).startswith(f"schedule {row.id} cannot be moved: ")
    unchanged = queries.get_schedule(row.id)
    assert (unchanged.status, unchanged.text_override) == (status, None)


def test_a_past_time_is_refused(accounts, clock):
    post = posts.add_post("Common words")
    row = _schedule(post, accounts["x"], clock)
    with pytest.raises(UserError, match=r"is in the past .* choose a future time"):
        schedules.update_schedule(row.id, when=NOW - timedelta(hours=1), text="New", clock=clock)
    unchanged = queries.get_schedule(row.id)
    assert (unchanged.scheduled_time, unchanged.text_override) == (LATER, None)


def test_a_missed_row_needs_a_new_time_to_go_back_to_pending(accounts, clock):
    post = posts.add_post("Common words")
    row = schedules.schedule(post.id, accounts["x"], NOW, clock=clock)
    clock.advance(timedelta(hours=3))
    _set_status(row, "missed")
    # keeping its old time would send it at once, hours late: that is publish_now's job
    with pytest.raises(UserError, match="is in the past"):
        schedules.update_schedule(row.id, text="New words", clock=clock)
    assert queries.get_schedule(row.id).status == "missed"


def test_a_failed_row_goes_back_to_pending_with_attempts_reset(accounts, clock):
    post = posts.add_post("Common words")
    row = _schedule(post, accounts["x"], clock)
    _set_status(row, "failed", attempts=3, error_message="X said no")
    edited = schedules.update_schedule(row.id, when=LATER, text="Fixed words", clock=clock)
    assert edited.id == row.id
    assert (edited.status, edited.attempts, edited.error_message) == ("pending", 0, None)
    assert edited.text_override == "Fixed words"
    assert edited.next_attempt_at == LATER


def test_a_pending_row_keeps_its_attempts_and_back_off_on_a_text_edit(accounts, clock):
    post = posts.add_post("Common words")
    row = _schedule(post, accounts["x"], clock)
    retry_at = LATER + timedelta(minutes=5)
    _set_status(row, "pending", attempts=1, next_attempt_at=retry_at)
    edited = schedules.update_schedule(row.id, when=LATER, text="New words", clock=clock)
    assert (edited.attempts, edited.next_attempt_at) == (1, retry_at)


def test_a_row_claimed_meanwhile_is_never_changed(accounts, clock, monkeypatch):
    post = posts.add_post("Common words")
    row = _schedule(post, accounts["x"], clock)
    real_validate = schedules.validate_for

    def claim_then_validate(account, content):
        # the engine's claim, landing between the read and the write
        database.execute_sql(
            "UPDATE scheduled_posts SET status = 'publishing', claimed_by = 'engine' WHERE id = ?",
            (row.id,),
        )
        real_validate(account, content)

    monkeypatch.setattr(schedules, "validate_for", claim_then_validate)
    with pytest.raises(UserError, match="not changed: it is being published right now"):
        schedules.update_schedule(
            row.id, when=LATER + timedelta(hours=1), text="Too late", clock=clock
        )
    unchanged = ScheduledPost.get_by_id(row.id)
    assert unchanged.text_override is None
    assert unchanged.scheduled_time == LATER


def test_content_the_platform_refuses_writes_nothing(accounts, clock):
    post = posts.add_post("Short")
    row = _schedule(post, accounts["x"], clock)
    before = queries.get_schedule(row.id)
    with pytest.raises(UserError, match=r"cannot schedule to X account 'My X': .*280"):
        schedules.update_schedule(
            row.id, when=LATER + timedelta(hours=1), text="x" * 300, clock=clock
        )
    after = queries.get_schedule(row.id)
    assert after.text_override is None
    assert (after.scheduled_time, after.updated_at) == (before.scheduled_time, before.updated_at)


# ---------------------------------------------------------------- replace_media


def test_media_are_replaced_in_order(accounts, clock, media_dir, tmp_path):
    old = _jpeg(tmp_path / "old.jpg", 640, 480)
    post = posts.add_post("Photos", media=[posts.MediaInput(path=old)], media_dir=media_dir)
    new = _jpeg(tmp_path / "new.jpg", 1200, 1000)
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
    photo = _jpeg(tmp_path / "holiday.jpg")
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
    old = _jpeg(tmp_path / "old.jpg", 640, 480)
    post = posts.add_post("Photos", media=[posts.MediaInput(path=old)], media_dir=media_dir)
    before = _media_of(post)
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    with pytest.raises(UserError, match=r"notes\.txt: not an image or video"):
        posts.replace_media(
            post.id,
            [
                posts.MediaInput(path=_jpeg(tmp_path / "good.jpg", 1000, 1000)),
                posts.MediaInput(path=notes),
                posts.MediaInput(url="https://cdn.example.com/b.jpg"),
            ],
            media_dir,
            clock=clock,
        )
    assert _media_of(post) == before
    with pytest.raises(UserError, match="not a public http"):
        posts.replace_media(
            post.id, [posts.MediaInput(url="ftp://example.com/c.jpg")], media_dir, clock=clock
        )
    assert _media_of(post) == before


def test_refused_while_a_schedule_of_the_post_is_publishing(accounts, clock, media_dir, tmp_path):
    post = posts.add_post("Words", media=[posts.MediaInput(url="https://cdn.example.com/a.jpg")])
    row = _schedule(post, accounts["linkedin"], clock)
    _set_status(row, "publishing")
    before = _media_of(post)
    with pytest.raises(UserError, match="it is being published right now; try again in a moment"):
        posts.replace_media(
            post.id, [posts.MediaInput(path=_jpeg(tmp_path / "a.jpg"))], media_dir, clock=clock
        )
    assert _media_of(post) == before


def test_instagram_refuses_a_local_only_file_and_nothing_changes(
    accounts, clock, media_dir, tmp_path
):
    link = posts.MediaInput(url="https://cdn.example.com/square.jpg", alt_text="Square")
    post = posts.add_post("A square", media=[link])
    ig = _schedule(post, accounts["instagram"], clock)
    _schedule(post, accounts["linkedin"], clock)
    before = _media_of(post)
    with pytest.raises(UserError) as refused:
        posts.replace_media(
            post.id, [posts.MediaInput(path=_jpeg(tmp_path / "sq.jpg"))], media_dir, clock=clock
        )
    message = str(refused.value)
    assert message.startswith(f"cannot change the media of post {post.id}: ")
    assert f"Instagram account 'Studio IG' (schedule {ig.id}) would refuse them" in message
    assert "Instagram fetches media from a public URL" in message
    assert "LinkedIn" not in message  # LinkedIn takes a local file
    assert _media_of(post) == before
    assert Post.get_by_id(post.id).updated_at == post.updated_at

    # once that schedule is cancelled nothing is left that would refuse the file
    schedules.cancel(ig.id, clock=clock)
    posts.replace_media(
        post.id, [posts.MediaInput(path=_jpeg(tmp_path / "sq.jpg"))], media_dir, clock=clock
    )
    assert Media.get(Media.post == post.id).url is None


def test_a_missed_schedule_is_checked_too(accounts, clock, media_dir):
    post = posts.add_post("A square", media=[posts.MediaInput(url="https://cdn.example.com/a.jpg")])
    row = _schedule(post, accounts["instagram"], clock)
    _set_status(row, "missed")  # publish_now() would send it without another check
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
            99, [posts.MediaInput(path=_jpeg(tmp_path / "a.jpg"))], media_dir, clock=clock
        )
    assert not media_dir.exists()
