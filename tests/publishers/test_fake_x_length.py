"""The fake X's own tweet-length counter against twitter-text's conformance suite.

The fake refuses over-long tweets with :mod:`tests.fakes.tweetlength`, written apart
from the client's counter so that a counting bug in the client shows up in the
publisher tests. That only helps if the fake's counter is right, which is what
this module checks, on every case of the weighted sections of ``validate.yml``.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakes import tweetlength

DATA = Path(__file__).resolve().parents[1] / "data" / "twitter-text"
FAKES = Path(__file__).resolve().parents[1] / "fakes"

# Section -> whether emoji sequences count as one (v3, what X uses) or code point by
# code point (v2, which twitter-text's own runner uses for the first section).
SECTIONS = {
    "WeightedTweetsCounterTest": False,
    "WeightedTweetsWithDiscountedEmojiCounterTest": True,
    "UnicodeDirectionalMarkerCounterTest": True,
}


def _cases() -> list[Any]:
    with (DATA / "twitter-text-validate.yml").open(encoding="utf-8") as f:
        tests = yaml.safe_load(f)["tests"]
    return [
        pytest.param(case, emoji, id=f"{section}-{n:02d}-{case['description'][:50]}")
        for section, emoji in SECTIONS.items()
        for n, case in enumerate(tests[section], 1)
    ]


CASES = _cases()


@pytest.mark.parametrize(("case", "emoji"), CASES)
def test_fake_counter_agrees_with_twitter_text(case: dict[str, Any], emoji: bool) -> None:
    # No case is skipped: the counter's documented simplifications are never exercised here.
    text = case["text"]
    assert tweetlength.weighted_length(text, emoji=emoji) == case["expected"]["weightedLength"]
    assert tweetlength.is_valid(text, emoji=emoji) == case["expected"]["valid"]


def test_every_weighted_case_is_collected() -> None:
    # a truncated copy of the suite must not shrink the check silently
    assert len(CASES) == 20 + 22 + 2


def test_fake_counter_uses_the_v3_config() -> None:
    with (DATA / "twitter-text-config-v3.json").open(encoding="utf-8") as f:
        v3 = json.load(f)
    assert v3["version"] == 3 and v3["emojiParsingEnabled"] is True
    assert v3["maxWeightedTweetLength"] == tweetlength.MAX_WEIGHTED_LENGTH
    assert v3["scale"] == tweetlength.SCALE
    assert v3["defaultWeight"] == tweetlength.DEFAULT_WEIGHT
    assert v3["transformedURLLength"] == tweetlength.URL_LENGTH
    assert [
        {"start": start, "end": end, "weight": weight} for start, end, weight in tweetlength.RANGES
    ] == v3["ranges"]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("name", ["x.py", "tweetlength.py"])
def test_fake_x_never_counts_with_the_clients_counter(name: str) -> None:
    # the import statements, not the text: a function-level import counts too
    assert not {m for m in _imports(FAKES / name) if m.startswith("milton_desktop")}
