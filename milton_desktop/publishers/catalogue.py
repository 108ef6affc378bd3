"""The platforms' names and labels, for text needed before any platform is used.

The command line's ``--help`` and choices, and the window's first frame, name the
platforms; importing every platform module to read them costs more than the rest of
a ``list`` command's start-up. This table is the only copy kept outside the
descriptors, and ``tests/publishers/test_catalogue.py`` fails the moment it disagrees
with them (a platform added, renamed or reordered), so it cannot drift.
"""

from __future__ import annotations

#: (stored name, label) of every platform, in the registry's display order
PLATFORMS: tuple[tuple[str, str], ...] = (
    ("linkedin", "LinkedIn"),
    ("x", "X"),
    ("instagram", "Instagram"),
    ("bluesky", "Bluesky"),
    ("mastodon", "Mastodon"),
    ("threads", "Threads"),
)
_LABELS = dict(PLATFORMS)


def names() -> tuple[str, ...]:
    """Every platform's stored name, in display order."""
    return tuple(name for name, _label in PLATFORMS)


def label(name: str) -> str:
    """How the user reads a platform's name (its stored name if it is unknown here)."""
    return _LABELS.get(name, name)


def labels(conjunction: str = "and") -> str:
    """Every platform's label in a sentence: ``LinkedIn, X and Instagram``."""
    found = [lab for _name, lab in PLATFORMS]
    if len(found) < 2:
        return "".join(found)
    return f"{', '.join(found[:-1])} {conjunction} {found[-1]}"
