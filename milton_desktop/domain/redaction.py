"""Scrubbing secrets out of text before it reaches a log, an error or a screen.

Two tools:

- :func:`scrub` removes given secret values (an account's tokens, its client secret)
  from text a platform sent back, in every form a server is likely to echo them:
  as sent, percent-encoded (in either case, even twice), JSON-escaped (``\\/``,
  ``\\u002f``) or as HTML character references.
- A process-wide register: every secret the process handles (each token read from
  the keyring or the user, each token a refresh returns) is registered with
  :func:`register_secret`, and the logging filter masks all of them in any record,
  whatever logger wrote it, as a safety net behind the scrubbing at the source.

Values shorter than :data:`MIN_SECRET_LENGTH` are never treated as secrets: no real
token is that short, and masking "abc" would mangle ordinary words.
"""

from __future__ import annotations

import functools
import logging
import re
import string
import threading
from collections.abc import Iterable

#: no platform's token, secret or app password is shorter; shorter values are left
#: alone, since masking them would hide ordinary words in messages
MIN_SECRET_LENGTH = 8
#: the register keeps this many of the most recently used secrets: a scheduler that
#: runs for months sees a fresh X token every two hours, and the oldest are long dead
MAX_REGISTERED = 256
MASK = "[redacted]"

_SECRET_PATTERNS = [
    (
        re.compile(r"(?i)(authorization\s*[:=]\s*)(bearer|basic|oauth)?\s*[^\s,'\"}]+"),
        r"\1\2 [redacted]",
    ),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/=]{8,}"), r"\1 [redacted]"),
    (
        re.compile(
            r"(?i)([\"']?(?:access_token|refresh_token|client_secret|token|password|code_verifier|fb_exchange_token)"
            r"[\"']?\s*[:=]\s*[\"']?)([^\s&\"',}]+)"
        ),
        r"\1[redacted]",
    ),
]

# Characters no URL or JSON encoder changes (RFC 3986's unreserved set): they only
# ever appear as themselves. Every other character may come back encoded.
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# A real token has a few dozen such characters at most (base64's / + =); a value with
# more is masked only as sent, which keeps its pattern, and the time to build it, small.
_MAX_ENCODABLE = 512
_HTML_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}


def _hex(value: int, width: int) -> str:
    """``value`` in hex as a pattern that matches upper and lower case digits."""
    return "".join(f"[{d}{d.lower()}]" if d.isalpha() else d for d in f"{value:0{width}X}")


def _char_pattern(c: str) -> str:
    if c in _UNRESERVED:
        return re.escape(c)
    forms = [
        # as it is, or backslash-escaped by a JSON encoder (``\/``), even twice (``\\\/``)
        r"\\*" + re.escape(c),
        # percent-encoded (``%2F`` or ``%2f``), or encoded twice (``%252F``)
        "".join(f"%(?:25)?{_hex(b, 2)}" for b in c.encode("utf-8")),
        # an HTML character reference, hex or decimal
        r"&#[xX]0*" + _hex(ord(c), 1) + ";",
        f"&#0*{ord(c)};",
    ]
    if ord(c) <= 0xFFFF:  # a JSON \u escape
        forms.append(r"\\+u" + _hex(ord(c), 4))
    if c in _HTML_NAMED:
        forms.append(re.escape(_HTML_NAMED[c]))
    if c == " ":
        forms.append(r"\+")  # form encoding
    return "(?:" + "|".join(forms) + ")"


def _secret_pattern(secret: str) -> str:
    return "".join(_char_pattern(c) for c in secret)


def _usable(values: Iterable[object]) -> list[str]:
    """The values worth masking, longest first (so a secret that holds another is
    masked whole), without duplicates."""
    found = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH}
    return sorted(found, key=lambda v: (-len(v), v))


@functools.lru_cache(maxsize=1024)
def _matcher(secret: str) -> tuple[str, re.Pattern[str]]:
    """The pattern of every echoed form of ``secret``, and an anchor: its longest run of
    unreserved characters, which each of those forms holds as it is. Looking for the
    anchor first is a plain substring search, so a log record costs next to nothing
    for each registered secret it does not contain."""
    anchor = max(re.findall(r"[A-Za-z0-9._~-]+", secret), key=len, default="")
    if sum(c not in _UNRESERVED for c in secret) > _MAX_ENCODABLE:
        return anchor, re.compile(re.escape(secret))  # no token looks like that
    try:
        pattern = re.compile(_secret_pattern(secret))
    except (re.error, OverflowError, RecursionError, MemoryError):
        # too large to build: mask it as sent, at least (the error is never shown: its
        # text could quote the pattern)
        pattern = re.compile(re.escape(secret))
    return anchor, pattern


def _mask(text: str, secrets: Iterable[str], mask: str) -> str:
    for secret in secrets:
        anchor, pattern = _matcher(secret)
        if anchor in text:
            text = pattern.sub(lambda _m: mask, text)
    return text


def scrub(text: str, secrets: Iterable[str | None], *, mask: str = MASK) -> str:
    """``text`` with every one of ``secrets`` replaced by ``mask``, in any encoding a
    server may echo it in. Values shorter than :data:`MIN_SECRET_LENGTH` are ignored."""
    if not text:
        return text
    return _mask(text, _usable(secrets), mask)


# ---------------------------------------------------------------- the process register

_lock = threading.Lock()
_registered: dict[str, None] = {}  # insertion-ordered: the oldest is dropped first
#: the registered secrets, longest first; replaced whole, so readers need no lock
_snapshot: tuple[str, ...] = ()


def register_secret(value: str | None) -> None:
    """Mask this exact value (in any encoding) in every log record and in
    :func:`redact_known`. Empty, short or non-text values are ignored."""
    register_secrets((value,))


def register_secrets(values: Iterable[str | None]) -> None:
    """:func:`register_secret` for each of ``values``."""
    global _snapshot
    new = _usable(values)
    if not new:
        return
    for value in new:
        _matcher(value)  # built now, outside the lock and before any record needs it
    with _lock:
        for value in new:
            # one still in use moves to the young end, so it is never the one dropped
            _registered.pop(value, None)
            _registered[value] = None
        while len(_registered) > MAX_REGISTERED:
            del _registered[next(iter(_registered))]
        _snapshot = tuple(_usable(_registered))


def redact_known(text: str, *, mask: str = MASK) -> str:
    """``text`` without any registered secret: for any text about to be shown or
    written, whatever its origin. Unlike :func:`redact`, it never guesses."""
    if not text:
        return text
    return _mask(text, _snapshot, mask)


def redact(text: str) -> str:
    """:func:`redact_known`, then anything shaped like a credential (an
    ``Authorization`` value, ``access_token=...``): for log records."""
    text = redact_known(text)
    for pattern, repl in _SECRET_PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        clean = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Formatted tracebacks are built later; render and scrub them now.
            formatter = logging.Formatter()
            clean += "\n" + redact(formatter.formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record.msg, record.args = clean, None
        return True


#: urllib3's loggers that write request URLs (query strings included) or hosts. A
#: filter on a logger sees only records made on that very logger, not those that
#: propagate up from its children, so each module logger is named here.
_URLLIB3_LOGGERS = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "urllib3.connection",
    "urllib3.response",
    "urllib3.util.retry",
)


def redact_urllib3_logs() -> None:
    """Put the redacting filter on urllib3's loggers, so a record is scrubbed before
    any handler sees it, whoever configured the handlers. Safe to call repeatedly."""
    for name in _URLLIB3_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


def redact_last_resort() -> None:
    """Put the redacting filter on the handler Python falls back to for records no
    handler takes (a warning from a library logger outside ``milton``, which goes
    straight to stderr). Safe to call repeatedly."""
    handler = logging.lastResort
    if handler is not None and not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter())
