"""A small weighted-length counter (twitter-text v3) for the fake X, written apart
from the client's.

The fake X refuses a tweet that is too long. If it counted with the client's own
``milton_desktop.domain.twittertext``, a counting bug in the client would pass every
publisher test, so this module never imports it. It is checked instead against
twitter-text's conformance cases (``tests/publishers/test_fake_x_length.py``), and it is
deliberately a different, much simpler design: a few regexes and a loop.

How X counts (``config/v3.json`` of twitter-text, and its ``parseTweet``):

- the text is NFC-normalised first;
- each code point weighs 100 if it falls in one of :data:`RANGES`, else 200 (so
  Latin, Greek, Cyrillic and general punctuation count 1, CJK and astral code
  points count 2); the limit is 280 at a scale of 100;
- every URL counts 23, however long;
- every emoji sequence (with skin tones, ZWJ joins, flags, keycaps) counts 2.

What this counter does NOT do, on purpose (none of it is exercised by the
conformance cases, and a fake only needs to be right for what tests send):

- it does not check the top-level domain against twitter-text's TLD list when the
  URL has a scheme: ``http://example.zzz`` counts as a URL here, not on X;
- a URL without a scheme is only recognised for the generic TLDs in
  :data:`BARE_TLDS` (twitter-text knows every TLD, and has extra rules for
  two-letter names under country-code TLDs);
- a URL path or query stops at the first character outside ASCII, Latin-1/Latin
  Extended or Cyrillic, a simplification of twitter-text's path grammar;
- symbols whose default presentation is text (for example ``©``, ``®``, ``™``)
  count as emoji only when followed by U+FE0F.
"""

from __future__ import annotations

import re
import unicodedata

#: twitter-text v3 (``maxWeightedTweetLength``, ``scale``, ``defaultWeight``,
#: ``transformedURLLength``, ``ranges``); ``test_tweetlength`` compares these with the
#: config file shipped beside the conformance cases
MAX_WEIGHTED_LENGTH = 280
SCALE = 100
DEFAULT_WEIGHT = 200
URL_LENGTH = 23
RANGES: tuple[tuple[int, int, int], ...] = (
    (0, 4351, 100),
    (8192, 8205, 100),
    (8208, 8223, 100),
    (8242, 8247, 100),
)
#: code points twitter-text calls invalid: a text holding one is refused whatever its length
INVALID = frozenset("\ufffe\ufeff\uffff")
#: the TLDs a URL without ``http(s)://`` is recognised under (see the module docstring)
BARE_TLDS = ("com", "org", "net", "edu", "gov", "info", "dev", "app")
MAX_LABEL = 63  # a DNS label, after punycode: longer ones make twitter-text skip the URL
MAX_URL = 4096

# Path and query characters: ASCII URL characters plus Latin-1/Latin Extended letters
# and Cyrillic, which is what twitter-text's path grammar allows outside ASCII.
_PATH_CHAR = r"[A-Za-z0-9\u00c0-\u024f\u0400-\u04ff!*';:=+,.$/%#\[\]\-_~&|@()?\u2013]"
# A label is letters and digits of any script, with inner hyphens or underscores.
_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
# A URL may not follow an ASCII letter or digit or one of @ $ # (twitter-text's
# preceding rule); after a CJK character, say, it may.
_PRECEDING_OK = re.compile(r"[^A-Za-z0-9@$#＠＃]")
_WITH_SCHEME = re.compile(
    rf"https?://(?P<host>{_LABEL}(?:\.{_LABEL})+)(?::\d{{1,5}})?(?P<rest>/{_PATH_CHAR}*)?",
    re.IGNORECASE,
)
_BARE = re.compile(
    rf"(?P<host>(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{'|'.join(BARE_TLDS)}))"
    rf"(?![\w@+-])(?::\d{{1,5}})?(?P<rest>/{_PATH_CHAR}*)?",
    re.IGNORECASE,
)
# A URL does not end in sentence punctuation; a closing bracket ends it only if opened in it.
_TRAILING = ".,;:!?'*"

# Emoji: a keycap, a pair of regional indicators (a flag), or a pictograph followed
# by modifiers (skin tones, VS16, tag characters) and further ZWJ-joined pictographs.
_PICTOGRAPH = (
    "\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a-\u23ff\u24c2\u25aa-\u27bf"
    "\u2934\u2935\u2b05-\u2b55\u3030\u303d\u3297\u3299\U0001f000-\U0001f1e5"
    "\U0001f200-\U0001faff"
)
_MODIFIER = "\U0001f3fb-\U0001f3ff\ufe0f\U000e0020-\U000e007f\u20e3"
_EMOJI = re.compile(
    "[0-9#*]\ufe0f?\u20e3"
    "|[\U0001f1e6-\U0001f1ff]{2}"
    f"|[\u00a9\u00ae]\ufe0f"
    f"|[{_PICTOGRAPH}][{_MODIFIER}]*(?:\u200d[{_PICTOGRAPH}][{_MODIFIER}]*)*"
)


def _weight(ch: str) -> int:
    cp = ord(ch)
    for start, end, weight in RANGES:
        if start <= cp <= end:
            return weight
    return DEFAULT_WEIGHT


def _label_ok(label: str) -> bool:
    if label.isascii():
        return len(label) <= MAX_LABEL
    # IDNA's ASCII form of a label is "xn--" and the label's punycode
    return len("xn--") + len(label.encode("punycode")) <= MAX_LABEL


def _ascii_length(host: str) -> int:
    return sum(
        len(label) if label.isascii() else len("xn--") + len(label.encode("punycode"))
        for label in host.split(".")
    ) + host.count(".")


def _trim(url: str) -> str:
    while url:
        last = url[-1]
        opener = {")": "(", "]": "["}.get(last)
        unbalanced = opener is not None and url.count(last) > url.count(opener)
        if last not in _TRAILING and not unbalanced:
            break
        url = url[:-1]
    return url


def _url_at(text: str, i: int) -> tuple[int, bool] | None:
    """``(end, counts_as_url)`` when a URL candidate starts at ``i``, else None."""
    if i > 0 and not _PRECEDING_OK.fullmatch(text[i - 1]):
        return None
    m = _WITH_SCHEME.match(text, i)
    if m is None:
        if i > 0 and text[i - 1] in "-_./":  # e.g. inside a longer host name or path
            return None
        m = _BARE.match(text, i)
        if m is None:
            return None
    host = m.group("host")
    url = m.group(0)
    if m.group("rest"):
        url = _trim(url)
    end = i + len(url)
    valid = all(_label_ok(label) for label in host.split(".")) and (
        len(url) - len(host) + _ascii_length(host) <= MAX_URL
    )
    return end, valid


def weighted_length(text: str, *, emoji: bool = True) -> int:
    """The weighted length X gives ``text`` (280 is the most a tweet may have).

    ``emoji=False`` counts as twitter-text's v2 config does (each code point of an
    emoji sequence on its own); X uses v3, where a whole emoji sequence counts 2.
    """
    text = unicodedata.normalize("NFC", text)
    total = 0
    i, n = 0, len(text)
    while i < n:
        found = _url_at(text, i)
        if found is not None:
            end, is_url = found
            if is_url:
                total += URL_LENGTH * SCALE
            else:
                # a URL twitter-text refuses (a label over 63) counts character by character
                total += sum(_weight(ch) for ch in text[i:end])
            i = end
            continue
        if emoji:
            m = _EMOJI.match(text, i)
            if m is not None:
                total += DEFAULT_WEIGHT
                i = m.end()
                continue
        total += _weight(text[i])
        i += 1
    # twitter-text divides by the scale with no rounding; every weight is a multiple of it
    return total // SCALE


def has_invalid_characters(text: str) -> bool:
    return any(ch in INVALID for ch in text)


def is_valid(text: str, *, emoji: bool = True) -> bool:
    """Whether X takes ``text`` as a tweet's text: not empty, not too long, no invalid characters."""
    length = weighted_length(text, emoji=emoji)
    return 0 < length <= MAX_WEIGHTED_LENGTH and not has_invalid_characters(text)
