"""Insights: snapshots of published posts' engagement, and best times from them.

The scheduler takes a snapshot of each post about 1 h, 24 h and 7 days after it went
out (:func:`take_snapshots`, on its own thread, which stops whenever a publish comes
near: ``engine/dispatch.py``); ``insights fetch`` takes one of every published post
now. Requests are batched per account as its platform allows (``MetricsSpec.batch``)
and a rate limit stops that account until the platform's reset: nothing is retried in
a loop. Network and keyring work: never on the window's thread.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from milton_desktop.domain import best_times as ranking
from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.credential import AccountRef, Credential
from milton_desktop.domain.metrics import AGES, MANUAL, MetricsBatch, interactions
from milton_desktop.domain.slots import Slot, slot_instants
from milton_desktop.domain.timeutil import get_zone
from milton_desktop.publishers import registry
from milton_desktop.publishers.base import AuthExpired, Publisher, PublishError, RateLimited
from milton_desktop.publishers.http import scrub
from milton_desktop.storage import queries, settings
from milton_desktop.storage.credentials import (
    CredentialMissing,
    CredentialStore,
    KeyringUnavailable,
)
from milton_desktop.storage.models import Account, PostMetric, database, utc_text

log = logging.getLogger("milton.insights")

#: per account id, the instant its platform said to come back (an internal setting)
WAIT_KEY = "metrics_wait"
#: per account id, what the last fetch had to say of the whole account
NOTES_KEY = "metrics_notes"
#: a post older than this gets no scheduled snapshot any more (``insights fetch`` still
#: takes one): a "7 d" figure read weeks late would not be one
SCHEDULED_UNTIL = timedelta(days=14)


@dataclass
class AccountFetch:
    """What one account's fetch did."""

    account: str
    platform: str
    taken: int = 0
    gone: int = 0
    pending: int = 0
    notes: list[str] = field(default_factory=list)
    #: the platform's rate limit stopped it; fetching resumes after this
    wait_until: datetime | None = None
    error: str | None = None
    #: a publish came near and the fetch stopped to leave it the way
    yielded: bool = False


def due_snapshots(
    now: datetime, *, account_id: int | None = None, manual: bool = False
) -> dict[int, list[tuple[int, str, str]]]:
    """Per account id, the (schedule id, remote id, age bucket) snapshots due now.

    A post is due for the latest of 1h / 24h / 7d it has reached and not had (one
    missed while the computer slept is not taken late under an earlier name). With
    ``manual``, every published post, whatever its age, as "manual".
    """
    since = None if manual else now - SCHEDULED_UNTIL
    due: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    order = list(AGES)
    for sid, acc, platform, remote, published, taken in queries.snapshot_candidates(
        since, account_id
    ):
        spec = registry.find(platform)
        if spec is None or spec.metrics is None:
            continue
        if manual:
            due[acc].append((sid, remote, MANUAL))
            continue
        age = (now - published).total_seconds()
        reached = [name for name, secs in AGES.items() if age >= secs]
        if not reached:
            continue
        latest = reached[-1]
        if any(order.index(b) >= order.index(latest) for b in taken if b in AGES):
            continue
        due[acc].append((sid, remote, latest))
    return dict(due)


def take_snapshots(
    credentials: CredentialStore,
    *,
    clock: Clock | None = None,
    account: str | int | None = None,
    manual: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    publisher_factory: Callable[..., Publisher] = registry.make_publisher,
) -> list[AccountFetch]:
    """Fetch and store the snapshots that are due (``manual``: of every post).

    ``should_stop`` is asked before every request: the scheduler's says so when a
    publish is near, and the rest waits for the next pass.
    """
    clock = clock or SystemClock()
    now = clock.now()
    account_id = queries.get_account(account).id if account is not None else None
    waits: dict[str, str] = dict(settings.get_internal(WAIT_KEY, {}) or {})
    reports = []
    for acc_id, items in due_snapshots(now, account_id=account_id, manual=manual).items():
        acc = Account.get_or_none(Account.id == acc_id)
        if acc is None:
            continue
        report = AccountFetch(acc.display_name, acc.platform)
        reports.append(report)
        wait = waits.get(str(acc_id))
        if wait and datetime.fromisoformat(wait) > now:
            report.wait_until = datetime.fromisoformat(wait)
            continue
        if should_stop():
            report.yielded = True
            break
        _fetch_account(credentials, acc, items, report, clock, should_stop, publisher_factory)
        if report.wait_until is not None:
            waits[str(acc_id)] = report.wait_until.isoformat()
        else:
            waits.pop(str(acc_id), None)
        settings.set_internal(WAIT_KEY, waits)
        if report.error is None and not report.yielded:
            notes = dict(settings.get_internal(NOTES_KEY, {}) or {})
            notes[str(acc_id)] = report.notes
            settings.set_internal(NOTES_KEY, notes)
        if report.yielded:
            break
    return reports


def _fetch_account(
    credentials: CredentialStore,
    acc: Account,
    items: list[tuple[int, str, str]],
    report: AccountFetch,
    clock: Clock,
    should_stop: Callable[[], bool],
    publisher_factory: Callable[..., Publisher],
) -> None:
    spec = registry.platform(acc.platform)
    assert spec.metrics is not None
    label = spec.label
    try:
        credential = credentials.load(acc.platform, acc.id)
    except (CredentialMissing, KeyringUnavailable) as exc:
        report.error = f"the {label} token could not be read: {exc}"
        return
    publisher = publisher_factory(acc.platform, api_base=acc.api_base)
    publisher.now = clock.now
    publisher.state = settings.platform_state(acc.platform)
    ref = AccountRef(acc.remote_id, acc.username)
    step = max(1, spec.metrics.batch)
    try:
        credential = _fresh(credentials, acc, credential, publisher, clock)
        for start in range(0, len(items), step):
            if should_stop():
                report.yielded = True
                return
            chunk = items[start : start + step]
            batch = publisher.metrics([remote for _sid, remote, _b in chunk], credential, ref)
            _store(acc, chunk, batch, clock.now(), report)
    except RateLimited as exc:
        report.wait_until = exc.retry_at
        log.info("%s metrics of account id %s wait until %s", label, acc.id, exc.retry_at)
    except AuthExpired as exc:
        report.error = (
            f"{label} did not accept the sign-in of “{acc.display_name}” "
            f"({scrub(str(exc), credential.secrets())}): reconnect it to see its figures"
        )
    except PublishError as exc:
        report.error = (
            f"could not read the {label} figures now: {scrub(str(exc), credential.secrets())}"
        )
        log.warning("%s metrics of account id %s: %s", label, acc.id, report.error)
    finally:
        publisher.session.close()


def _fresh(
    credentials: CredentialStore,
    acc: Account,
    credential: Credential,
    publisher: Publisher,
    clock: Clock,
) -> Credential:
    """A short-lived token (X's, Bluesky's) about to expire is renewed first, as the
    publish path does, so the fetch is not spent on a 401."""
    upkeep = registry.platform(acc.platform).token_upkeep
    expires = credential.expires_at
    if upkeep is None or not upkeep.before_use or not credential.refresh_token or expires is None:
        return credential
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if expires - clock.now() > upkeep.renew_before:
        return credential
    fresh = publisher.refresh(credential)
    try:
        credentials.save(acc.platform, acc.id, fresh)
    except KeyringUnavailable:
        log.warning("the renewed token could not be kept; using it for this fetch only")
    with database.atomic():
        Account.update(
            token_expires_at=fresh.expires_at or acc.token_expires_at,
            token_refreshed_at=clock.now(),
        ).where(Account.id == acc.id).execute()
    return fresh


def _store(
    acc: Account,
    chunk: list[tuple[int, str, str]],
    batch: MetricsBatch,
    taken_at: datetime,
    report: AccountFetch,
) -> None:
    spec = registry.platform(acc.platform).metrics
    assert spec is not None
    rows = []
    for sid, remote, bucket in chunk:
        counters = batch.counters.get(remote)
        if counters is None:
            continue
        shown = counters.get(spec.impressions) if spec.impressions else None
        rows.append(
            {
                "schedule": sid,
                "account": acc.id,
                "platform": acc.platform,
                "remote_id": remote,
                "taken_at": utc_text(taken_at),
                "age_bucket": bucket,
                "counters": json.dumps(counters, sort_keys=True),
                "interactions": interactions(counters, spec.interactions),
                "impressions": shown,
            }
        )
    if rows:
        with database.atomic():
            PostMetric.insert_many(rows).execute()
    report.taken += len(rows)
    report.gone += len(batch.gone)
    report.pending += len(batch.pending)
    report.notes += [n for n in batch.notes if n not in report.notes]


# ---------------------------------------------------------------- reading


def account_notes(account_id: int) -> list[str]:
    """What the last fetch said of the whole account (a permission it lacks)."""
    notes = settings.get_internal(NOTES_KEY, {}) or {}
    return list(notes.get(str(account_id)) or [])


def best_times(account: str | int) -> ranking.BestTimes:
    """The account's slots ranked by its own history (``domain/best_times.py``)."""
    from milton_desktop.operations.queue import account_zone

    acc = queries.get_account(account)
    zone = account_zone(acc)
    posts = [
        ranking.MeasuredPost(at, interacted, impressions)
        for at, interacted, impressions in queries.measured_posts(acc.id)
    ]
    return ranking.rank(posts, get_zone(zone), account=acc.display_name, timezone=zone)


# ---------------------------------------------------------------- the window's reads


@dataclass(frozen=True)
class AccountInsights:
    """Everything the insights view shows of one account, read in one go."""

    account_id: int
    account: str
    platform: str
    timezone: str
    best: ranking.BestTimes
    #: each published post's latest snapshot (``queries.latest_metrics``), newest first
    rows: list[dict[str, object]]
    #: per schedule id, its snapshots' (taken at, interactions), oldest first
    histories: dict[int, list[tuple[datetime, int]]]
    #: what the last fetch said of the whole account (a permission it lacks)
    notes: list[str]
    #: the counters the platform gives, in its own order
    counters: tuple[str, ...]
    #: whether the platform counts how often a post was shown
    has_impressions: bool
    #: whether ``timezone`` is the account's own (False: it follows the app's)
    own_zone: bool = False

    @property
    def missing(self) -> int:
        """How many more measured posts best times need (0 when they have enough)."""
        return max(0, ranking.MIN_POSTS - self.best.posts)


def account_insights(account: str | int) -> AccountInsights:
    """The insights view's read of one account (run it on a worker)."""
    acc = queries.get_account(account)
    spec = registry.find(acc.platform)
    metrics = spec.metrics if spec is not None else None
    best = best_times(acc.id)
    return AccountInsights(
        account_id=acc.id,
        account=acc.display_name,
        platform=acc.platform,
        timezone=best.timezone,
        best=best,
        rows=queries.latest_metrics(acc.id),
        histories=queries.metric_histories(acc.id),
        notes=account_notes(acc.id),
        counters=metrics.counters if metrics is not None else (),
        has_impressions=bool(metrics and metrics.impressions),
        own_zone=acc.timezone is not None,
    )


# ---------------------------------------------------------------- suggesting times

#: a suggested time keeps at least this far from the account's other posts
CLEARANCE = timedelta(hours=1)
#: how far ahead "Suggest a time" looks
SUGGEST_DAYS = 7
#: a suggested time is at least this far ahead, to leave time to finish the post
SUGGEST_LEAD = timedelta(minutes=15)
#: how many slots "Fill my queue from best times" proposes
QUEUE_PROPOSAL = 5

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class SlotChoice:
    """A best-times slot offered to the user, with the evidence for it."""

    slot: ranking.Slot
    #: the next instant of the slot (UTC), for a suggested time; None for a queue slot
    at: datetime | None
    evidence: str

    @property
    def queue_slot(self) -> Slot:
        return Slot(ranking.DAYS.index(self.slot.day), self.slot.hour * 60)


def slot_words(slot: ranking.Slot) -> str:
    """``Tue 10:00–11:00``: the hour a slot covers."""
    day = _DAY_NAMES[ranking.DAYS.index(slot.day)]
    return f"{day} {slot.hour:02d}:00–{(slot.hour + 1) % 24:02d}:00"


def evidence(slot: ranking.Slot, best: ranking.BestTimes) -> str:
    """Why a slot is offered, in words: its posts, how they did, what it rests on."""
    what = "interactions per impression" if best.per_impression else "interactions"
    posts = f"{slot.posts} post{'s' if slot.posts != 1 else ''}"
    return (
        f"{slot_words(slot)} ({best.timezone}): {posts} of “{best.account}” went out in "
        f"this hour and did {slot.raw:.1f}× a typical post in {what} (score {slot.score:.2f} "
        f"once weighed for how few posts it has), out of {best.posts} measured posts."
    )


def _better(best: ranking.BestTimes) -> list[ranking.Slot]:
    """The ranked slots that did better than a typical post, best first: a slot below
    typical is no best time, however it ranks."""
    if best.basis != ranking.HISTORY:
        return []
    return [s for s in best.slots if s.score > 1.0]


def free_best_slots(
    best: ranking.BestTimes,
    taken: Iterable[datetime],
    now: datetime,
    *,
    days: int = SUGGEST_DAYS,
    clearance: timedelta = CLEARANCE,
    lead: timedelta = SUGGEST_LEAD,
    limit: int | None = 1,
) -> list[SlotChoice]:
    """The best slots whose next instant in ``[now + lead, now + days)`` has no time of
    ``taken`` (the account's posts) within ``clearance``, best first, at most ``limit``.

    Pure: the ranking, the account's post times and the clock are given. A slot's
    instant is the start of its hour in the ranking's zone (a slot the clocks skip that
    week is left out).
    """
    busy = sorted(t.astimezone(UTC) for t in taken)
    start, end = now + lead, now + timedelta(days=days)
    found: list[SlotChoice] = []
    for slot in _better(best):
        weekly = Slot(ranking.DAYS.index(slot.day), slot.hour * 60)
        for at, _weekly in slot_instants([weekly], best.timezone, start, end):
            if any(abs(t - at) < clearance for t in busy):
                continue
            found.append(SlotChoice(slot, at, evidence(slot, best)))
            break
        if limit is not None and len(found) >= limit:
            break
    return found


def queue_candidates(
    best: ranking.BestTimes, existing: Iterable[Slot], count: int = QUEUE_PROPOSAL
) -> list[SlotChoice]:
    """The top ``count`` better-than-typical slots as weekly queue slots (on the hour),
    leaving out those the queue already has, best first. Pure."""
    have = set(existing)
    out: list[SlotChoice] = []
    for slot in _better(best):
        choice = SlotChoice(slot, None, evidence(slot, best))
        if choice.queue_slot in have:
            continue
        out.append(choice)
        if len(out) >= count:
            break
    return out


def thin_history(best: ranking.BestTimes) -> str:
    """What to say instead of a suggestion when the history is too thin."""
    more = ranking.MIN_POSTS - best.posts
    return (
        f"“{best.account}” has {best.posts} measured post{'s' if best.posts != 1 else ''}; "
        f"best times need {ranking.MIN_POSTS}, so {more} more measured a day or more after "
        "they went out. Nothing is suggested until then: no general advice stands in for "
        "this account's own history."
    )


@dataclass(frozen=True)
class Suggested:
    """What "Suggest a time" found for one account."""

    account_id: int
    best: ranking.BestTimes
    choice: SlotChoice | None
    #: why there is no choice (too little history, no good slot free), else ""
    reason: str = ""


def suggest_time(account: str | int, *, clock: Clock | None = None) -> Suggested:
    """The best free slot of the account in the next week (``free_best_slots``)."""
    now = (clock or SystemClock()).now()
    acc = queries.get_account(account)
    best = best_times(acc.id)
    if best.basis != ranking.HISTORY:
        return Suggested(acc.id, best, None, thin_history(best))
    reach = timedelta(days=SUGGEST_DAYS)
    taken = queries.account_post_times(acc.id, now - CLEARANCE, now + reach + CLEARANCE)
    found = free_best_slots(best, taken, now)
    if not found:
        if not _better(best):
            reason = (
                f"no hour of “{best.account}” has done better than its typical post yet "
                f"(from {best.posts} measured posts)"
            )
        else:
            reason = (
                f"every hour where “{best.account}” did better than usual already has a "
                f"post within {int(CLEARANCE.total_seconds() // 60)} minutes in the next "
                f"{SUGGEST_DAYS} days"
            )
        return Suggested(acc.id, best, None, reason)
    return Suggested(acc.id, best, found[0])


@dataclass(frozen=True)
class QueueProposal:
    """What "Fill my queue from best times" offers one account."""

    account_id: int
    best: ranking.BestTimes
    choices: list[SlotChoice]
    #: why nothing is offered, else ""
    reason: str = ""


def propose_queue(
    account: str | int, existing: Iterable[Slot] | None = None, *, count: int = QUEUE_PROPOSAL
) -> QueueProposal:
    """The account's best slots as queue slots it does not have yet (``existing``: the
    slots the user is editing; the stored ones when None)."""
    from milton_desktop.operations.queue import slots_of

    acc = queries.get_account(account)
    best = best_times(acc.id)
    if best.basis != ranking.HISTORY:
        return QueueProposal(acc.id, best, [], thin_history(best))
    have = list(existing) if existing is not None else list(slots_of(acc.id))
    choices = queue_candidates(best, have, count)
    reason = ""
    if not choices:
        reason = (
            "the queue already has every hour where this account did better than usual"
            if _better(best)
            else "no hour of this account has done better than its typical post yet"
        )
    return QueueProposal(acc.id, best, choices, reason)
