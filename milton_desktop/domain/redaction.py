"""Scrubbing secrets out of text before it reaches a log, an error or a screen.

Publishers register every token they handle; the logging filter and the error
messages run text through :func:`redact`, so a token never leaves the process.
"""

from __future__ import annotations

import logging
import re

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

_known_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Make the filter scrub this exact value wherever it shows up."""
    if value and len(value) >= 6:
        _known_secrets.add(value)


def redact(text: str) -> str:
    for secret in list(_known_secrets):
        if secret in text:
            text = text.replace(secret, "[redacted]")
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
