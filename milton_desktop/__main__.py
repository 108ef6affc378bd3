"""Entry point: ``python -m milton_desktop`` is the same as ``milton-desktop``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import SimpleNamespace


def window_arguments(words: Sequence[str]) -> SimpleNamespace | None:
    """The options of a plain window start (``--home DIR``, ``--minimized``,
    ``-v``), or None when the words ask for anything else: then the full command
    line reads them (commands, ``--help``, ``--version``, a mistake to explain).

    Opening the window is the common case, and the command line's parser and
    commands cost a noticeable part of start-up to import."""
    home: str | None = None
    verbose = minimized = False
    at = 0
    while at < len(words):
        word = words[at]
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            return None  # the command line explains the terminal's encoding
        if word == "--minimized":
            minimized = True
        elif word in ("-v", "--verbose"):
            verbose = True
        elif word.startswith("--home="):
            home = word.removeprefix("--home=")
        elif word == "--home" and at + 1 < len(words) and not words[at + 1].startswith("-"):
            at += 1
            home = words[at]
            try:
                home.encode("utf-8")
            except UnicodeEncodeError:
                return None
        else:
            return None
        at += 1
    if home == "":
        return None  # the command line's own message for an empty value
    return SimpleNamespace(
        home=home, verbose=verbose, minimized=minimized, command=None, self_test=False
    )


def main(argv: Sequence[str] | None = None) -> int:
    words = list(argv if argv is not None else sys.argv[1:])
    window = window_arguments(words)
    if window is not None:
        from milton_desktop.app import run_app
        from milton_desktop.streams import redacted_output

        with redacted_output():
            return run_app(window)
    from milton_desktop.cli import main as cli_main

    return cli_main(words)


if __name__ == "__main__":
    sys.exit(main())
