"""Suggest a time and Fill my queue: the best free slots of an account's own history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from milton_desktop.domain import best_times as ranking
from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.slots import Slot
from milton_desktop.domain.status import Status
from milton_desktop.operations import insights, posts, queue, schedules
from milton_desktop.storage.models import Account, Post, PostMetric, ScheduledPost

# Monday 11 January 2027, 08:00 UTC (09:00 in Paris)
NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
PARIS = "Europe/Paris"


def _best(*slots: tuple[str, int, float, int], posts: int = 20) -> ranking.BestTimes:
    ranked = tuple(
        sorted(
            (ranking.Slot(d, h, s, n, s) for d, h, s, n in slots),
            key=lambda s: -s.score,
        )
    )
    return ranking.BestTimes("mine", PARIS, posts, ranking.HISTORY, ranked)


def test_the_best_slot_of_the_coming_week_is_suggested_with_its_evidence():
    best = _best(("TU", 10, 2.0, 4), ("TH", 18, 1.4, 3), ("WE", 9, 0.6, 4))
    (choice,) = insights.free_best_slots(best, [], NOW)
    # Tuesday 12 January, 10:00 in Paris
    assert choice.at == datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
    assert choice.slot.day == "TU" and choice.slot.hour == 10
    assert "Tue 10:00–11:00" in choice.evidence and "4 posts" in choice.evidence
    assert "2.0× a typical post" in choice.evidence and "20 measured posts" in choice.evidence


def test_a_slot_with_a_post_within_the_hour_is_skipped():
    best = _best(("TU", 10, 2.0, 4), ("TH", 18, 1.4, 3))
    taken = [datetime(2027, 1, 12, 9, 40, tzinfo=UTC)]  # Tue 10:40 in Paris
    (choice,) = insights.free_best_slots(best, taken, NOW)
    assert (choice.slot.day, choice.slot.hour) == ("TH", 18)
    assert choice.at == datetime(2027, 1, 14, 17, 0, tzinfo=UTC)
    # a post an hour or more away leaves the slot free
    later = [datetime(2027, 1, 12, 10, 0, tzinfo=UTC)]
    (choice,) = insights.free_best_slots(best, later, NOW)
    assert choice.slot.day == "TU"


def test_a_slot_that_starts_too_soon_is_next_week_and_so_out_of_reach():
    best = _best(("MO", 9, 2.0, 4), ("FR", 12, 1.2, 3))
    # Monday 09:00 Paris is now: its next one is 7 days away, past the week
    (choice,) = insights.free_best_slots(best, [], NOW)
    assert choice.slot.day == "FR"


def test_slots_below_typical_are_never_suggested():
    best = _best(("TU", 10, 0.9, 4), ("WE", 9, 0.5, 4))
    assert insights.free_best_slots(best, [], NOW) == []
    assert insights.queue_candidates(best, []) == []


def test_too_little_history_suggests_nothing():
    thin = ranking.BestTimes("mine", PARIS, 4, ranking.TOO_LITTLE, ())
    assert insights.free_best_slots(thin, [], NOW) == []
    assert "6 more measured" in insights.thin_history(thin)


def test_queue_candidates_skip_the_slots_the_queue_has():
    best = _best(("TU", 10, 2.0, 4), ("TH", 18, 1.4, 3), ("SA", 11, 1.1, 2))
    chosen = insights.queue_candidates(best, [Slot(1, 600)], count=5)
    assert [c.queue_slot for c in chosen] == [Slot(3, 18 * 60), Slot(5, 11 * 60)]
    assert insights.queue_candidates(best, [], count=1)[0].queue_slot == Slot(1, 600)


# ---------------------------------------------------------------- from the database


@pytest.fixture
def account(db) -> Account:
    return Account.create(platform="x", display_name="mine", remote_id="7", timezone=PARIS)


def _history(account: Account, weeks: int = 4) -> None:
    """A month where Tuesday 10:00 (Paris) clearly did best and Friday 16:00 did well."""
    start = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Paris
    n = 0
    for week in range(weeks):
        base = start + timedelta(weeks=week)
        for offset, engaged in ((timedelta(0), 40), (timedelta(days=1), 10),
                                (timedelta(days=2, hours=2), 8),
                                (timedelta(days=3, hours=6), 20)):  # fmt: skip
            n += 1
            at = base + offset
            row = ScheduledPost.create(
                post=Post.create(body=f"post {n}"), account=account, scheduled_time=at,
                next_attempt_at=at, published_at=at, status=Status.PUBLISHED, remote_id=str(n),
            )  # fmt: skip
            PostMetric.create(
                schedule=row, account=account, platform="x", remote_id=str(n),
                taken_at=at + timedelta(days=7), age_bucket="7d",
                counters=json.dumps({"likes": engaged}), interactions=engaged,
            )  # fmt: skip


def test_suggest_time_reads_the_history_and_the_account_s_posts(account):
    _history(account)
    clock = FakeClock(NOW)
    found = insights.suggest_time("mine", clock=clock)
    assert found.choice is not None and found.reason == ""
    assert found.choice.at == datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
    # a post scheduled on Tuesday 10:30 takes that slot: the next best is offered
    post = posts.add_post("already planned")
    schedules.schedule(
        post.id, account, datetime(2027, 1, 12, 9, 30, tzinfo=UTC), timezone=PARIS, clock=clock
    )
    again = insights.suggest_time("mine", clock=clock)
    assert again.choice is not None
    assert (again.choice.slot.day, again.choice.slot.hour) == ("FR", 16)
    assert again.choice.at == datetime(2027, 1, 15, 15, 0, tzinfo=UTC)


def test_suggest_time_with_too_little_history_says_how_many_more(account):
    _history(account, weeks=2)  # eight posts
    found = insights.suggest_time("mine", clock=FakeClock(NOW))
    assert found.choice is None and "2 more measured" in found.reason
    assert insights.propose_queue("mine").choices == []


def test_an_accepted_proposal_is_added_to_the_queue(account):
    _history(account)
    queue.set_queue("mine", ["MO 08:30"])
    proposal = insights.propose_queue("mine")
    assert [c.queue_slot for c in proposal.choices] == [Slot(1, 600), Slot(4, 16 * 60)]
    accepted = [c.queue_slot for c in proposal.choices[:1]]
    shown = queue.set_queue("mine", [*queue.slots_of(account.id), *accepted])
    assert shown.slots == (Slot(0, 8 * 60 + 30), Slot(1, 600))
    assert shown.timezone == PARIS
    assert [c.queue_slot for c in insights.propose_queue("mine").choices] == [Slot(4, 16 * 60)]
