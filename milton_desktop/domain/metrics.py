"""Engagement counters of published posts, as the platforms report them.

Counters carry one vocabulary across platforms (``likes``, ``reposts``, ``replies``,
``quotes``, ``comments``, ``shares``, ``saves``, ``bookmarks``, ``impressions``,
``reach``, ``views``), so a snapshot reads the same whichever platform it came from;
each publisher maps its platform's names onto these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: the ages a snapshot is taken at after a post went out, in seconds, by name
AGES: Mapping[str, int] = {"1h": 3600, "24h": 24 * 3600, "7d": 7 * 24 * 3600}
#: a snapshot the user asked for (``insights fetch``), whatever the post's age
MANUAL = "manual"
BUCKETS = (*AGES, MANUAL)


@dataclass(frozen=True)
class MetricsBatch:
    """What one fetch of an account's posts found.

    ``counters``: per remote post id, counter name -> value; ``gone``: posts the
    platform no longer shows (deleted, or not visible to the token); ``pending``:
    posts the platform has no figures for yet (Instagram's "not enough viewers");
    ``notes``: what the user should hear once for the whole account, such as a
    permission the token lacks for some counters.
    """

    counters: dict[str, dict[str, int]] = field(default_factory=dict)
    gone: frozenset[str] = frozenset()
    pending: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()

    def merged(self, other: MetricsBatch) -> MetricsBatch:
        notes = list(self.notes)
        notes += [n for n in other.notes if n not in notes]
        return MetricsBatch(
            counters={**self.counters, **other.counters},
            gone=self.gone | other.gone,
            pending=self.pending | other.pending,
            notes=tuple(notes),
        )


def interactions(counters: Mapping[str, int], names: Iterable[str]) -> int:
    """The sum of the interaction counters ``names`` present in ``counters``."""
    return sum(int(counters.get(name, 0) or 0) for name in names)


def engagement(interacted: int, impressions: int | None) -> float:
    """One post's engagement: interactions per impression where the platform counts
    impressions (so a post shown to many is not favoured for that alone), else the
    plain interaction count. Only ever compared within one account."""
    if impressions:
        return interacted / impressions
    return float(interacted)
