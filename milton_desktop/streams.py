"""stdout and stderr that mask every secret this process knows before writing.

Kept apart from the command line so the window's start-up wraps its streams without
importing the CLI's parser and commands."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, TextIO, cast


class Redacting:
    """A text stream that masks every secret this process knows before writing.

    Whatever a command prints (an error a platform worded, a name it chose, a URL it
    sent) goes through here, so a token it echoed never reaches the terminal or a
    script, even on a path nothing scrubbed before."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        from milton_desktop.domain.redaction import redact_known

        self._stream.write(redact_known(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def redacted_output() -> Iterator[None]:
    """Route ``sys.stdout`` and ``sys.stderr`` through :class:`Redacting` meanwhile."""
    out, err = sys.stdout, sys.stderr
    if out is not None:
        sys.stdout = cast("TextIO", Redacting(out))
    if err is not None:
        sys.stderr = cast("TextIO", Redacting(err))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
