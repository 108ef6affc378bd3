"""The weighted counter against twitter-text's own conformance suite, plus focused cases.

X refuses a post its counter finds too long, so ours must agree with X's reference
implementation on every case it publishes: each field of every ``WeightedTweets*``
case (and of the directional-marker cases) is checked.  The suite is a copy in
``tests/data/twitter-text`` (see its README) so the tests stand alone.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from milton_desktop.domain import twittertext
from milton_desktop.domain.twittertext import CONFIG_V2, CONFIG_V3, ParseResult, parse_tweet

DATA = Path(__file__).resolve().parents[1] / "data" / "twitter-text"
VALIDATE_YML = DATA / "twitter-text-validate.yml"
CONFIG_JSON = DATA / "twitter-text-config-v3.json"
# Where the copies come from, when this checkout sits next to the shared folder.
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"

# Section of validate.yml -> the config twitter-text's own conformance runner uses.
SECTIONS = {
    "WeightedTweetsCounterTest": CONFIG_V2,
    "WeightedTweetsWithDiscountedEmojiCounterTest": CONFIG_V3,
    "UnicodeDirectionalMarkerCounterTest": CONFIG_V3,
}


def _load_cases() -> list[Any]:
    with VALIDATE_YML.open(encoding="utf-8") as f:
        tests = yaml.safe_load(f)["tests"]
    params = []
    for section, config in SECTIONS.items():
        for n, case in enumerate(tests[section], 1):
            params.append(
                pytest.param(case, config, id=f"{section}-{n:02d}-{case['description'][:50]}")
            )
    return params


CASES = _load_cases()


def as_js(result: ParseResult) -> dict[str, Any]:
    """The result under the field names of twitter-text's ``parseTweet``."""
    return {
        "weightedLength": result.weighted_length,
        "valid": result.valid,
        "permillage": result.permillage,
        "displayRangeStart": result.display_range_start,
        "displayRangeEnd": result.display_range_end,
        "validRangeStart": result.valid_range_start,
        "validRangeEnd": result.valid_range_end,
    }


@pytest.mark.parametrize(("case", "config"), CASES)
def test_conformance(case: dict[str, Any], config: dict[str, Any]) -> None:
    assert as_js(parse_tweet(case["text"], config)) == case["expected"]


def test_every_weighted_case_is_collected() -> None:
    # Guards against a truncated copy silently shrinking the suite.
    assert len(CASES) == 20 + 22 + 2


def test_configs_match_twitter_text() -> None:
    with CONFIG_JSON.open(encoding="utf-8") as f:
        v3 = json.load(f)
    assert v3 == CONFIG_V3
    v2 = {k: v for k, v in v3.items() if k != "emojiParsingEnabled"} | {"version": 2}
    assert v2 == CONFIG_V2
    assert parse_tweet.__defaults__ == (CONFIG_V3,)


@pytest.mark.parametrize("name", ["twitter-text-validate.yml", "twitter-text-config-v3.json"])
def test_copies_match_the_shared_conformance_data(name: str) -> None:
    shared = SHARED / name
    if not shared.exists():
        pytest.skip("no shared conformance folder next to this checkout")
    assert (DATA / name).read_bytes() == shared.read_bytes()


# ------------------------------------------------------------------ URLs


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "https://example.com/" + "a" * 200,
        "example.com",
        "www.example.com:8080/x?y=z#frag",
        "https://t.co/abc123?x=1",
        "http://日本.jp",
        "a" * 63 + ".com",
    ],
)
def test_a_url_counts_23_whatever_its_length(url: str) -> None:
    result = parse_tweet(url)
    assert result.weighted_length == 23
    assert result.valid
    assert result.valid_range_end == result.display_range_end == len(url) - 1


def test_urls_in_text() -> None:
    assert parse_tweet("Visit example.com now").weighted_length == 6 + 23 + 4
    # Trailing punctuation is not part of the URL; balanced parentheses are.
    assert parse_tweet("see https://example.com/path.").weighted_length == 4 + 23 + 1
    assert parse_tweet("(https://en.wikipedia.org/wiki/Primer_(film))").weighted_length == 25
    assert parse_tweet("example.com.").weighted_length == 24


def test_what_is_not_a_url() -> None:
    # A 64-character label is not a DNS label, so the text counts character by character.
    assert parse_tweet("a" * 64 + ".com").weighted_length == 68
    # E-mail addresses, mentions and unknown TLDs are text.
    assert parse_tweet("foo@example.com").weighted_length == 15
    assert parse_tweet("@example.com").weighted_length == 12
    assert parse_tweet("mailto:me@example.com").weighted_length == 21
    assert parse_tweet("version.2 file.xyzzy").weighted_length == 20


def test_url_quirks_match_javascript() -> None:
    # A URL without protocol starts after a non-ASCII letter, as in JS ("stanbul.com").
    assert parse_tweet("İstanbul.com").weighted_length == 1 + 23
    # JS case-insensitive regexes never fold U+017F (long s) onto "s", so "co" followed
    # by it is still the TLD "co"; Python's re alone would disagree.
    assert parse_tweet("example.co\u017f").weighted_length == 23 + 1


# ------------------------------------------------------------------ weights


def test_cjk_hangul_and_kana_weigh_2() -> None:
    assert parse_tweet("日本語").weighted_length == 6
    assert parse_tweet("한국어").weighted_length == 6
    assert parse_tweet("カタカナ").weighted_length == 8
    assert parse_tweet("Ωmega").weighted_length == 5


def test_limit_boundary() -> None:
    at_limit = parse_tweet("a" * 280)
    assert (at_limit.weighted_length, at_limit.valid, at_limit.permillage) == (280, True, 1000)
    over = parse_tweet("a" * 281)
    assert (over.weighted_length, over.valid, over.valid_range_end) == (281, False, 279)
    assert parse_tweet("日" * 140).valid
    assert not parse_tweet("日" * 141).valid


@pytest.mark.parametrize(
    ("text", "v3", "v2"),
    [
        ("👨\u200d👩\u200d👧\u200d👦", 2, 11),  # family: 4 emoji and 3 zero-width joiners
        ("👍🏽", 2, 4),  # skin tone
        ("1\ufe0f\u20e3", 2, 5),  # keycap
        ("🇯🇵", 2, 4),  # flag
        ("😷", 2, 2),
        ("🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", 2, 14),  # England
    ],
)
def test_emoji_sequences_weigh_2_with_v3(text: str, v3: int, v2: int) -> None:
    assert parse_tweet(text).weighted_length == v3
    assert parse_tweet(text, CONFIG_V3).weighted_length == v3
    assert parse_tweet(text, CONFIG_V2).weighted_length == v2


def test_140_families_fit() -> None:
    result = parse_tweet("👨\u200d👩\u200d👧\u200d👦" * 140)
    assert (result.weighted_length, result.valid) == (280, True)
    assert result.valid_range_end == 11 * 140 - 1  # UTF-16 index of the last unit


def test_surrogates_held_separately_count_as_one_character() -> None:
    assert parse_tweet("\ud83d\ude37") == parse_tweet("😷")


# ------------------------------------------------------------------ validity


@pytest.mark.parametrize("bad", ["\ufffe", "\ufeff", "\uffff"])
def test_refused_characters_make_the_text_invalid(bad: str) -> None:
    result = parse_tweet("abc" + bad)
    assert result.weighted_length == 5
    assert not result.valid
    assert result.has_invalid_characters
    assert result.valid_range_end == 2
    assert not parse_tweet("abc").has_invalid_characters


def test_empty_text_is_invalid() -> None:
    assert parse_tweet("") == ParseResult(
        weighted_length=0,
        valid=False,
        permillage=0,
        display_range_start=0,
        display_range_end=0,
        valid_range_start=0,
        valid_range_end=0,
        has_invalid_characters=False,
    )


def test_text_is_nfc_normalized() -> None:
    decomposed = parse_tweet("e\u0301")  # e + combining acute: "é" once composed
    assert decomposed.weighted_length == 1
    assert decomposed.display_range_end == 1  # ranges index the text as given
    assert decomposed.valid_range_end == 1
    # U+FB2C decomposes into three Hebrew code points of weight 1 each.
    expanded = parse_tweet("\ufb2c")
    assert (expanded.weighted_length, expanded.display_range_end) == (3, 0)


def test_negative_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        parse_tweet("x", CONFIG_V3 | {"defaultWeight": -1})


# ------------------------------------------------------------------ speed


def test_emoji_start_set_is_the_regex_first_set() -> None:
    """``_EMOJI_START`` must hold every code unit the emoji regex can start with."""
    parser = pytest.importorskip("re._parser")
    constants = pytest.importorskip("re._constants")

    def first(items: list[Any]) -> tuple[set[int], bool]:
        found: set[int] = set()
        for op, av in items:
            units, nullable = first_of(op, av)
            found |= units
            if not nullable:
                return found, False
        return found, True

    def first_of(op: Any, av: Any) -> tuple[set[int], bool]:
        if op is constants.LITERAL:
            return {av}, False
        if op is constants.IN:
            units: set[int] = set()
            for kind, value in av:
                assert kind in (constants.LITERAL, constants.RANGE)
                units |= (
                    {value} if kind is constants.LITERAL else set(range(value[0], value[1] + 1))
                )
            return units, False
        if op is constants.SUBPATTERN:
            return first(list(av[3]))
        if op is constants.BRANCH:
            units, nullable = set(), False
            for alternative in av[1]:
                alt_units, alt_nullable = first(list(alternative))
                units |= alt_units
                nullable = nullable or alt_nullable
            return units, nullable
        if op in (constants.MAX_REPEAT, constants.MIN_REPEAT):
            units, nullable = first(list(av[2]))
            return units, nullable or av[0] == 0
        assert op in (constants.ASSERT, constants.ASSERT_NOT), op
        return set(), True

    units, nullable = first(list(parser.parse(twittertext._EMOJI_SOURCE)))
    assert not nullable
    starters = {u for u in range(0x10000) if twittertext._EMOJI_START.match(chr(u))}
    assert starters == units


@pytest.mark.parametrize(
    "text",
    [
        "a." * 140,  # dots everywhere, no TLD
        "あ" * 279 + ".",  # a long unspaced run before a dot
        "日本語" * 90 + ".xyzzy",
        "ภาษาไทยไม่มีช่องว่าง" * 14 + ".",
        "a.com." * 47,
        "😷" * 140,
        "https://example.com/" + "a(b)" * 60,
    ],
)
def test_pathological_texts_stay_fast(text: str) -> None:
    # Typically well under a millisecond; quadratic backtracking took tens of them.
    parse_tweet(text)
    started = time.perf_counter()
    for _ in range(10):
        parse_tweet(text)
    assert (time.perf_counter() - started) / 10 < 0.02
