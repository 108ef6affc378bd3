"""What one press of Save draft, Schedule or Publish now in the editor writes.

The editor describes the press as a :class:`SavePlan`; :func:`save` checks and copies
its media first (slow: hashing and copying files), then applies the whole plan in one
short transaction, so a refusal anywhere leaves nothing behind. A batch import can
build plans the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from milton_desktop.domain.clock import Clock
from milton_desktop.domain.status import CANCELLABLE, Status
from milton_desktop.operations import posts, queue, schedules
from milton_desktop.storage.models import database
from milton_desktop.storage.queries import get_post, get_schedule


@dataclass(frozen=True)
class Target:
    account_id: int
    text: str | None  # the platform's own text, or None for the post's text


@dataclass(frozen=True)
class SavePlan:
    """Everything one press of Save draft, Schedule or Publish now writes."""

    text: str
    voice: str
    media: tuple[posts.MediaInput, ...] = ()
    post_id: int | None = None
    #: a saved post's media were changed: they are all replaced by ``media``
    media_changed: bool = False
    when: datetime | None = None  # None: a draft, no schedule
    timezone: str = "UTC"
    targets: tuple[Target, ...] = ()
    publish_now: bool = False
    #: each target's post goes in the next free slot of its account's queue (no ``when``)
    queued: bool = False
    #: the schedule being edited, and what becomes of it
    schedule_id: int | None = None
    keep_schedule: bool = True
    schedule_text: str | None = None
    #: the parts after the main text, and the seconds between two of them
    follow_ups: tuple[str, ...] = ()
    follow_up_delay: int = 0
    #: each follow-up's attachments, in order (may be shorter than ``follow_ups``)
    follow_up_media: tuple[tuple[posts.MediaInput, ...], ...] = ()
    #: a saved post's follow-up media were changed: all of them are replaced
    follow_up_media_changed: bool = False
    #: the post's own text per platform, kept with it for schedules made later (None
    #: on a platform: it takes the post's text); None leaves them as they are
    variants: tuple[tuple[str, str | None], ...] | None = None


def save(plan: SavePlan, media_dir: Path, clock: Clock) -> int:
    """Apply ``plan`` and return the post id (slow: call it off the GUI thread).

    Raises:
        UserError: something in the plan is refused; nothing was written.
    """
    prepared = None
    if plan.post_id is None or plan.media_changed:
        if plan.post_id is not None:
            get_post(plan.post_id)  # say "no such post" before copying any file
        prepared = posts.prepare_media(plan.media, media_dir)
    later = None
    if plan.post_id is None or plan.follow_up_media_changed:
        later = [posts.prepare_media(m, media_dir) for m in plan.follow_up_media]
    with database.atomic():
        if plan.post_id is None:
            assert prepared is not None
            post = posts.create_post(
                plan.text,
                plan.voice,
                prepared,
                clock=clock,
                follow_ups=plan.follow_ups,
                follow_up_delay=plan.follow_up_delay,
                follow_up_media=later or (),
            )
        else:
            post = posts.update_post(plan.post_id, text=plan.text, voice=plan.voice, clock=clock)
            posts.set_follow_ups(post.id, plan.follow_ups, plan.follow_up_delay, clock=clock)
        if plan.variants is not None:
            for platform, text in plan.variants:
                own = text if text and text.strip() else None
                if own is not None or platform in posts.variants_of(post.id):
                    posts.set_variant(post.id, platform, own, clock=clock)
        if plan.when is not None and plan.schedule_id is not None:
            _apply_to_schedule(plan, clock)
        if plan.post_id is not None and prepared is not None:
            # After the edited schedule's own change: set_media checks every schedule
            # still to go out against the new media, and that one is then final (or gone).
            posts.set_media(post.id, prepared, clock=clock)
        if plan.queued:
            for target in plan.targets:
                queue.schedule_next_slot(post.id, target.account_id, text=target.text, clock=clock)
            return post.id
        if plan.when is None:
            return post.id
        for target in plan.targets:
            schedules.schedule(
                post.id,
                target.account_id,
                plan.when,
                timezone=plan.timezone,
                text=target.text,
                clock=clock,
            )
    return post.id


def _apply_to_schedule(plan: SavePlan, clock: Clock) -> None:
    assert plan.schedule_id is not None and plan.when is not None
    row = get_schedule(plan.schedule_id)
    if not plan.keep_schedule:
        if row.status in CANCELLABLE:
            schedules.cancel(row.id, clock=clock)
        return
    text_changed = plan.schedule_text != row.text_override
    text = plan.schedule_text if text_changed else schedules.UNSET
    if plan.publish_now and not text_changed:
        schedules.publish_now(row.id, clock=clock)
    elif plan.publish_now:
        # publish_now() takes no text, so the row is set to the new text and to now
        schedules.update_schedule(row.id, when=plan.when, text=text, clock=clock)
    elif text_changed or row.status != Status.PENDING or row.scheduled_time != plan.when:
        # the same row, so its id, repeat and history stay; an unchanged time is left
        # alone (None) so a retry's back-off or a DST note on it survives a text edit
        moved = row.status != Status.PENDING or row.scheduled_time != plan.when
        schedules.update_schedule(row.id, when=plan.when if moved else None, text=text, clock=clock)
