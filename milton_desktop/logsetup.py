"""One logging setup: a rotating file in the log folder, stderr when interactive,
and a filter that scrubs anything that looks like a secret before it is written."""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from pathlib import Path

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


_configured = False


def setup_logging(log_dir: Path, *, verbose: bool = False, stderr: bool | None = None) -> Path:
    """Configure the ``milton`` loggers once; returns the log file path."""
    global _configured
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / "milton.log"
    root = logging.getLogger("milton")
    if _configured:
        for h in list(root.handlers):
            root.removeHandler(h)
            h.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    redactor = RedactingFilter()
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s [%(process)d] %(message)s")
    fh = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    fh.setFormatter(fmt)
    fh.addFilter(redactor)
    root.addHandler(fh)
    if stderr is None:
        stderr = sys.stderr.isatty()
    if stderr:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        sh.setLevel(logging.DEBUG if verbose else logging.WARNING)
        sh.addFilter(redactor)
        root.addHandler(sh)
    # urllib3 logs full request lines (query strings included) at DEBUG: keep it quiet,
    # and scrub what it does log in case a caller turns it up again.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    redact_urllib3_logs()
    _configured = True
    return log_file
