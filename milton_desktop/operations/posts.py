"""Posts and their media: create a draft, change its text or voice, replace its media,
duplicate a post.

Media files are checked and copied into the media folder before any transaction
starts (a large video takes seconds to hash and copy); the database then changes in
one short transaction, or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.content import Content, MediaItem
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.status import WAITING, Status
from milton_desktop.domain.thread import MAX_FOLLOW_UP_DELAY_S, MAX_FOLLOW_UPS
from milton_desktop.operations import approvals, voices
from milton_desktop.publishers import registry
from milton_desktop.storage import media as media_mod
from milton_desktop.storage.models import Account, Media, Post, ScheduledPost, database
from milton_desktop.storage.queries import follow_up_texts, get_post, media_item, post_variants


def check_voice(voice: str) -> str:
    """``voice`` if it names a voice (built-in or the user's), else :class:`UserError`."""
    return voices.check_voice(voice)


def variants_of(post_id: int) -> dict[str, str]:
    """The post's own text per platform (platform name -> text)."""
    return post_variants(get_post(post_id))


def set_variant(
    post_id: int, platform: str, text: str | None, *, clock: Clock | None = None
) -> Post:
    """Give the post its own text for ``platform`` (None: it takes the post's text
    there again). A schedule made to that platform afterwards starts with it."""
    registry.platform(platform)
    if text is not None:
        _check_text(text)
        if not text.strip():
            raise UserError(f"the text for {registry.label(platform)} is empty")
    with database.atomic():
        post = get_post(post_id)
        variants = post_variants(post)
        if text is None:
            variants.pop(platform, None)
        else:
            variants[platform] = text
        post.variants = json.dumps(variants, ensure_ascii=False, sort_keys=True)
        post.updated_at = (clock or SystemClock()).now()
        post.save()
    return post


@dataclass(frozen=True)
class MediaInput:
    """One attachment as the user gives it: a local file or a public URL."""

    path: Path | None = None
    url: str | None = None
    alt_text: str = ""
    #: the name shown for it; empty means the file's or link's own name. A file that is
    #: already in the media folder (named by its hash) passes its first name on here.
    original_name: str = ""


@dataclass(frozen=True)
class PreparedMedia:
    """Attachments checked and copied into the media folder: ready to be stored.

    Preparing reads, hashes and copies files, which takes seconds for a video, so it
    happens before any transaction; storing them is then quick.
    """

    rows: tuple[dict[str, Any], ...] = ()

    def items(self) -> tuple[MediaItem, ...]:
        """What validation and the publishers will see of these attachments."""
        return tuple(media_item(Media(**row)) for row in self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)


def prepare_media(media: Sequence[MediaInput], media_dir: Path | None) -> PreparedMedia:
    """Check every attachment and copy local files into ``media_dir``.

    Raises :class:`UserError` on the first unusable item, before anything is stored.
    """
    rows: list[dict[str, Any]] = []
    for pos, item in enumerate(media):
        if item.path is not None:
            if media_dir is None:
                raise UserError("no media folder is set up to keep a copy of the file")
            try:
                stored, info = media_mod.import_file(Path(item.path), media_dir)
            except media_mod.MediaError as exc:
                raise UserError(str(exc)) from None
            rows.append(
                dict(
                    position=pos,
                    kind=info.kind,
                    path=str(stored),
                    mime=info.mime,
                    bytes=info.size,
                    width=info.width,
                    height=info.height,
                    alt_text=item.alt_text,
                    original_name=item.original_name or Path(item.path).name,
                )
            )
        elif item.url:
            try:
                kind, mime = media_mod.describe_url(item.url)
            except media_mod.MediaError as exc:
                raise UserError(str(exc)) from None
            rows.append(
                dict(
                    position=pos,
                    kind=kind,
                    url=item.url,
                    mime=mime,
                    alt_text=item.alt_text,
                    original_name=item.original_name or item.url.rsplit("/", 1)[-1][:200],
                )
            )
    return PreparedMedia(tuple(rows))


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise UserError("the text contains a NUL character: remove it")


def check_follow_ups(follow_ups: Sequence[str], delay: int = 0) -> tuple[list[str], int]:
    """The follow-ups and the delay between parts as they are stored.

    Raises:
        UserError: a follow-up is empty or has a NUL, there are too many, or the delay
            is negative or longer than two hours.
    """
    texts = list(follow_ups)
    if len(texts) > MAX_FOLLOW_UPS:
        raise UserError(
            f"{len(texts)} follow-ups: a post takes at most {MAX_FOLLOW_UPS}; make it two posts"
        )
    for index, text in enumerate(texts, 2):
        if not text.strip():
            raise UserError(f"part {index} is empty: write its text or remove it")
        if "\x00" in text:
            raise UserError(f"part {index} contains a NUL character: remove it")
    if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
        raise UserError(f"the follow-up delay must be a whole number of seconds, not {delay!r}")
    if delay > MAX_FOLLOW_UP_DELAY_S:
        raise UserError(
            f"a follow-up delay of {delay} s is over the limit of {MAX_FOLLOW_UP_DELAY_S} s "
            "(two hours): shorten it, or schedule the rest as a post of its own"
        )
    return texts, delay


def add_post(
    text: str,
    voice: str = "personal",
    media: Sequence[MediaInput] = (),
    media_dir: Path | None = None,
    clock: Clock | None = None,
    *,
    follow_ups: Sequence[str] = (),
    follow_up_delay: int = 0,
    follow_up_media: Sequence[Sequence[MediaInput]] = (),
) -> Post:
    """Create a draft post; media files are checked and copied before anything is stored.

    ``follow_up_media[k]`` are the attachments of follow-up k + 1."""
    check_voice(voice)
    _check_text(text)
    if not text.strip() and not media:
        raise UserError("the post is empty: give it some text or at least one image or video")
    check_follow_ups(follow_ups, follow_up_delay)
    prepared = prepare_media(media, media_dir)
    later = [prepare_media(m, media_dir) for m in follow_up_media]
    with database.atomic():
        return create_post(
            text,
            voice,
            prepared,
            clock=clock,
            follow_ups=follow_ups,
            follow_up_delay=follow_up_delay,
            follow_up_media=later,
        )


def create_post(
    text: str,
    voice: str,
    media: PreparedMedia,
    *,
    clock: Clock | None = None,
    follow_ups: Sequence[str] = (),
    follow_up_delay: int = 0,
    follow_up_media: Sequence[PreparedMedia] = (),
) -> Post:
    """Store a post with prepared media; the caller holds the transaction.

    ``follow_up_media[k]`` are the attachments of follow-up k + 1, where it has any."""
    check_voice(voice)
    _check_text(text)
    if not text.strip() and not media:
        raise UserError("the post is empty: give it some text or at least one image or video")
    texts, delay = check_follow_ups(follow_ups, follow_up_delay)
    now = (clock or SystemClock()).now()
    post = Post.create(
        body=text,
        voice=voice,
        created_at=now,
        updated_at=now,
        follow_ups=json.dumps(texts, ensure_ascii=False),
        follow_up_delay=delay,
    )
    for row in media.rows:
        Media.create(post=post, **row)
    _store_follow_up_media(post, follow_up_media, len(texts))
    return post


def _store_follow_up_media(post: Post, media: Sequence[PreparedMedia], count: int) -> None:
    if len(media) > count:
        raise UserError(f"media for {len(media)} follow-ups, but the post has {count}")
    for part, prepared in enumerate(media, 1):
        for row in prepared.rows:
            Media.create(post=post, **{**row, "part": part})


def set_follow_ups(
    post_id: int,
    follow_ups: Sequence[str],
    delay: int | None = None,
    *,
    clock: Clock | None = None,
    media: Sequence[PreparedMedia] | None = None,
) -> Post:
    """Replace a post's follow-ups (and, if given, the delay between parts and the
    follow-ups' media: ``media[k]`` for follow-up k + 1; None keeps what they have).

    A follow-up that goes away takes its media with it. Schedules whose thread has
    started keep going with what they were given: the parts already live are never
    sent again, and the rest go out as they are now.
    """
    with database.atomic():
        post = get_post(post_id)
        texts, delay = check_follow_ups(
            follow_ups, post.follow_up_delay if delay is None else delay
        )
        now = (clock or SystemClock()).now()
        if tuple(texts) != follow_up_texts(post) or media is not None:
            approvals.content_changed(post.id, now)
        post.follow_ups = json.dumps(texts, ensure_ascii=False)
        post.follow_up_delay = delay
        post.updated_at = (clock or SystemClock()).now()
        post.save()
        if media is None:
            Media.delete().where((Media.post == post) & (Media.part > len(texts))).execute()
        else:
            Media.delete().where((Media.post == post) & (Media.part > 0)).execute()
            _store_follow_up_media(post, media, len(texts))
    return post


def update_post(
    post_id: int,
    text: str | None = None,
    voice: str | None = None,
    *,
    clock: Clock | None = None,
) -> Post:
    """Change a post's text and/or voice (None keeps it)."""
    post = get_post(post_id)
    now = (clock or SystemClock()).now()
    if voice is not None:
        post.voice = check_voice(voice)
    changed = text is not None and text != post.body
    if text is not None:
        _check_text(text)
        post.body = text
    post.updated_at = now
    with database.atomic():
        post.save()
        if changed:
            approvals.content_changed(post.id, now, body_only=True)
    return post


def replace_media(
    post_id: int,
    media: Sequence[MediaInput],
    media_dir: Path,
    clock: Clock | None = None,
) -> Post:
    """Replace all of a post's media with ``media`` (in order), or change nothing.

    Every new item is checked, and local files copied into ``media_dir``, before the
    database is touched (as in :func:`add_post`); see :func:`set_media` for the rest.
    """
    get_post(post_id)  # say "no such post" before copying any file
    prepared = prepare_media(media, media_dir)
    with database.atomic():
        return set_media(post_id, prepared, clock=clock)


def set_media(post_id: int, media: PreparedMedia, *, clock: Clock | None = None) -> Post:
    """Replace a post's media with prepared ones; the caller holds the transaction.

    Refused while a schedule of the post is being published (its publisher is reading
    the old media) and when any schedule still to go out would be refused by its
    platform with the new media (e.g. Instagram and a local-only file).
    """
    now = (clock or SystemClock()).now()
    items = media.items()
    # read under the write lock: the engine cannot claim a row until we are done
    post = get_post(post_id)
    if not post.body.strip() and not media:
        raise UserError(
            f"post {post_id} would be empty: keep at least one image or video, "
            "or give the post some text"
        )
    live = list(
        ScheduledPost.select(ScheduledPost, Account)
        .join(Account)
        .where(
            (ScheduledPost.post == post_id)
            & ScheduledPost.status.in_([Status.PUBLISHING, *WAITING])
        )
        .order_by(ScheduledPost.id)
    )
    if any(s.status == Status.PUBLISHING for s in live):
        raise UserError(
            f"the media of post {post_id} cannot be changed: "
            "it is being published right now; try again in a moment"
        )
    refusals = []
    hint = None
    for s in live:
        text = s.text_override if s.text_override is not None else post.body
        problems = registry.validate(
            s.account.platform, Content(text=text, media=items), tier=s.account.tier
        )
        if problems:
            hint = hint or next((p.hint for p in problems if p.hint), None)
            refusals.append(
                f"{registry.label(s.account.platform)} account {s.account.display_name!r} "
                f"(schedule {s.id}) would refuse them: " + "; ".join(p.message for p in problems)
            )
    if refusals:
        raise UserError(f"cannot change the media of post {post_id}: " + "; ".join(refusals), hint)
    approvals.content_changed(post_id, now)
    Media.delete().where((Media.post == post_id) & (Media.part == 0)).execute()
    for row in media.rows:
        Media.create(post=post, **row)
    post.updated_at = now
    post.save()
    return post


def duplicate_post(post_id: int, *, clock: Clock | None = None) -> Post:
    """A new draft with the text, voice and media (alt text included) of ``post_id``.

    No file is copied: stored files are named by their content, so both posts share
    them. The copy has no schedule: it is a draft to change and schedule anew.

    Raises:
        UserError: there is no such post.
    """
    now = (clock or SystemClock()).now()
    with database.atomic():
        source = get_post(post_id)
        copy = Post.create(
            body=source.body,
            voice=source.voice,
            created_at=now,
            updated_at=now,
            follow_ups=source.follow_ups,
            follow_up_delay=source.follow_up_delay,
            variants=source.variants,
        )
        for item in source.media.order_by(Media.position, Media.id):
            Media.create(
                post=copy,
                position=item.position,
                part=item.part,
                kind=item.kind,
                path=item.path,
                url=item.url,
                mime=item.mime,
                bytes=item.bytes,
                width=item.width,
                height=item.height,
                alt_text=item.alt_text,
                original_name=item.original_name,
            )
    return copy
