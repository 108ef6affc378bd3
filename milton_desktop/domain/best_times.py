"""Best times to post, ranked from the account's own history and nothing else.

Each weekday x hour slot (in the account's zone) is scored by how the account's posts
published in it did:

1. A post's engagement is its interactions (likes, reposts, replies, ...), divided by
   its impressions when the platform counted impressions for every measured post of
   the account (a rate; mixing rates and raw counts would compare unlike things).
2. It is divided by the account's median post, so 1.0 is a typical post and a big
   week, or a follower count that grew, does not drown the others.
3. A slot's score is the mean of its posts, shrunk toward 1.0 (the typical post):
   ``(n * slot_mean + K * 1) / (n + K)``. With ``K = 3`` a slot needs about three posts
   before its own figures outweigh "typical"; one lucky post moves it by a quarter of
   its luck, so a slot with one viral post does not outrank a slot that did well
   every week (about what a month of one-or-two posts per slot gives).

Fewer than :data:`MIN_POSTS` measured posts give no ranking at all ("too little
history"): nothing is invented, and general "industry" times are never offered in
their place.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

#: measured posts needed before any slot is ranked
MIN_POSTS = 10
#: prior strength: how many "typical" posts each slot starts with (see the module text)
K = 3.0
#: RFC 5545 day codes, Monday first (the queue's slots use them too)
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

HISTORY = "history"
TOO_LITTLE = "too little history"


@dataclass(frozen=True)
class MeasuredPost:
    """One published post and its engagement as last measured."""

    published_at: datetime  # aware
    interactions: int
    impressions: int | None = None


@dataclass(frozen=True)
class Slot:
    day: str  # MO..SU
    hour: int  # 0..23, in the account's zone
    score: float  # 1.0 is a typical post of the account
    posts: int
    #: the slot's own mean before shrinking, for the evidence shown to the user
    raw: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "hour": self.hour,
            "score": round(self.score, 3),
            "posts": self.posts,
        }


@dataclass(frozen=True)
class BestTimes:
    account: str
    timezone: str
    posts: int
    basis: str
    slots: tuple[Slot, ...]
    #: whether engagement was a rate per impression (else plain interaction counts)
    per_impression: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "timezone": self.timezone,
            "posts": self.posts,
            "basis": self.basis,
            "slots": [s.to_json() for s in self.slots],
        }

    def score_of(self, day: str, hour: int) -> Slot | None:
        for slot in self.slots:
            if slot.day == day and slot.hour == hour:
                return slot
        return None


def rank(
    posts: Iterable[MeasuredPost],
    zone: tzinfo,
    *,
    account: str = "",
    timezone: str = "",
    min_posts: int = MIN_POSTS,
    k: float = K,
) -> BestTimes:
    """Rank the slots that have posts, best first (see the module text)."""
    measured = list(posts)
    n = len(measured)
    if n < min_posts:
        return BestTimes(account, timezone, n, TOO_LITTLE, ())
    per_impression = all(p.impressions for p in measured)
    values = [
        p.interactions / p.impressions
        if per_impression and p.impressions
        else float(p.interactions)
        for p in measured
    ]
    typical = statistics.median(values) or statistics.fmean(values)
    by_slot: dict[tuple[int, int], list[float]] = defaultdict(list)
    for post, value in zip(measured, values, strict=True):
        local = post.published_at.astimezone(zone)
        normalised = value / typical if typical else 1.0
        by_slot[(local.weekday(), local.hour)].append(normalised)
    slots = []
    for (weekday, hour), found in by_slot.items():
        mean = statistics.fmean(found)
        score = (len(found) * mean + k * 1.0) / (len(found) + k)
        slots.append(Slot(DAYS[weekday], hour, score, len(found), mean))
    slots.sort(key=lambda s: (-s.score, -s.posts, DAYS.index(s.day), s.hour))
    return BestTimes(account, timezone, n, HISTORY, tuple(slots), per_impression)
