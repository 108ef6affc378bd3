"""Best times from a seeded history: a clearly best slot, a thin history, the shrinkage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from milton_desktop.domain.best_times import (
    HISTORY,
    MIN_POSTS,
    TOO_LITTLE,
    MeasuredPost,
    rank,
)

PARIS = ZoneInfo("Europe/Paris")
# Monday 5 January 2026, 00:00 in Paris
MONDAY = datetime(2026, 1, 5, tzinfo=PARIS)


def at(week: int, day: int, hour: int) -> datetime:
    return (MONDAY + timedelta(weeks=week, days=day, hours=hour)).astimezone(UTC)


def month_of_posts() -> list[MeasuredPost]:
    """Four weeks: Tuesday 10:00 does three times as well as the other slots."""
    posts = []
    for week in range(4):
        posts.append(MeasuredPost(at(week, 1, 10), interactions=30))  # TU 10
        posts.append(MeasuredPost(at(week, 3, 15), interactions=10))  # TH 15
        posts.append(MeasuredPost(at(week, 4, 9), interactions=9))  # FR 09
    return posts


def test_the_clearly_best_slot_comes_first_in_the_accounts_zone():
    best = rank(month_of_posts(), PARIS, account="me", timezone="Europe/Paris")
    assert best.basis == HISTORY
    assert best.posts == 12
    first = best.slots[0]
    assert (first.day, first.hour, first.posts) == ("TU", 10, 4)
    assert first.score > 1.5
    assert [(s.day, s.hour) for s in best.slots] == [("TU", 10), ("TH", 15), ("FR", 9)]


def test_the_json_has_the_documented_shape():
    data = rank(month_of_posts(), PARIS, account="me", timezone="Europe/Paris").to_json()
    assert set(data) == {"account", "timezone", "posts", "basis", "slots"}
    assert data["account"] == "me" and data["timezone"] == "Europe/Paris"
    assert set(data["slots"][0]) == {"day", "hour", "score", "posts"}
    assert data["slots"][0]["day"] == "TU" and data["slots"][0]["hour"] == 10


def test_the_slot_is_read_in_the_accounts_zone_not_utc():
    best = rank(month_of_posts(), ZoneInfo("UTC"))
    # 10:00 in Paris in January is 09:00 UTC
    assert (best.slots[0].day, best.slots[0].hour) == ("TU", 9)


def test_too_little_history_suggests_nothing():
    thin = month_of_posts()[: MIN_POSTS - 1]
    best = rank(thin, PARIS, account="me", timezone="Europe/Paris")
    assert best.basis == TOO_LITTLE
    assert best.slots == ()
    assert best.posts == MIN_POSTS - 1
    assert best.to_json()["slots"] == []


def test_one_lucky_post_does_not_outrank_a_slot_that_does_well_every_week():
    posts = month_of_posts()
    # one lucky Saturday post: five times the typical post, beating every Tuesday
    posts.append(MeasuredPost(at(2, 5, 20), interactions=50))
    best = rank(posts, PARIS)
    assert (best.slots[0].day, best.slots[0].hour) == ("TU", 10)
    saturday = best.score_of("SA", 20)
    assert saturday is not None and saturday.posts == 1
    # shrunk: (1 * 5 + 3) / 4, not its raw 5
    assert saturday.raw == pytest.approx(50 / 10)
    assert saturday.score == pytest.approx((1 * 5 + 3) / 4)


def test_a_big_week_does_not_dominate_through_normalisation_by_the_median():
    posts = month_of_posts()
    doubled = [MeasuredPost(p.published_at, p.interactions * 2) for p in posts]
    # doubling everything changes nothing: scores are relative to the typical post
    assert [s.score for s in rank(doubled, PARIS).slots] == pytest.approx(
        [s.score for s in rank(posts, PARIS).slots]
    )


def test_impressions_are_the_denominator_when_every_post_has_them():
    posts = []
    for week in range(4):
        # Tuesday gets more likes only because it was shown more: same rate
        posts.append(MeasuredPost(at(week, 1, 10), interactions=30, impressions=3000))
        posts.append(MeasuredPost(at(week, 3, 15), interactions=10, impressions=500))
        posts.append(MeasuredPost(at(week, 4, 9), interactions=10, impressions=1000))
    best = rank(posts, PARIS)
    assert best.per_impression
    assert (best.slots[0].day, best.slots[0].hour) == ("TH", 15)


def test_mixed_impressions_fall_back_to_counts():
    posts = month_of_posts()
    posts[0] = MeasuredPost(posts[0].published_at, 30, impressions=100)
    best = rank(posts, PARIS)
    assert not best.per_impression
    assert (best.slots[0].day, best.slots[0].hour) == ("TU", 10)


def test_an_account_with_no_engagement_at_all_ranks_every_slot_typical():
    posts = [MeasuredPost(at(w, 1, 10), 0) for w in range(12)]
    best = rank(posts, PARIS)
    assert best.basis == HISTORY
    assert [s.score for s in best.slots] == [1.0]
