"""One logging setup: a rotating file in the log folder, stderr when interactive,
and a filter that scrubs anything that looks like a secret before it is written.

The filter sits on the handlers, so it sees every record they write, whichever logger
made it, and masks every secret registered with :mod:`milton_desktop.domain.redaction`
(each token the process read from the keyring or the user, or got from a refresh)."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from milton_desktop.domain.redaction import (
    RedactingFilter,
    redact_last_resort,
    redact_urllib3_logs,
)

_configured = False


class _RotatingFile(logging.handlers.RotatingFileHandler):
    """The standard rotating file, formatting each record once instead of twice (the
    base class formats it again just to learn its length) and without two ``stat``
    calls per record: a burst of publishes logs a line each, under this handler's lock.
    The size is still asked of the file, which other processes append to as well."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            if self.stream is None:
                self.stream = self._open()
            if self.maxBytes > 0:
                self.stream.seek(0, 2)  # where other processes' lines ended it
                if self.stream.tell() + len(line) >= self.maxBytes:
                    self.doRollover()
            self.stream.write(line)
            self.stream.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


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
    fh = _RotatingFile(log_file, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
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
    # a library's warning that no handler here takes goes to stderr as it is: scrub it too
    redact_last_resort()
    _configured = True
    return log_file
