"""A plain window start is read without the command line's parser; anything else
still goes to it, so its messages and commands stay the only ones."""

from __future__ import annotations

import pytest

from milton_desktop.__main__ import window_arguments


@pytest.mark.parametrize(
    ("words", "home", "verbose", "minimized"),
    [
        ([], None, False, False),
        (["--minimized"], None, False, True),
        (["-v", "--home", "/tmp/x"], "/tmp/x", True, False),
        (["--home=/tmp/y", "--verbose", "--minimized"], "/tmp/y", True, True),
    ],
)
def test_window_options_are_read_here(words, home, verbose, minimized):
    args = window_arguments(words)
    assert args is not None
    assert (args.home, args.verbose, args.minimized, args.command) == (
        home,
        verbose,
        minimized,
        None,
    )


@pytest.mark.parametrize(
    "words",
    [
        ["list"],
        ["--help"],
        ["--version"],
        ["--self-test"],
        ["--home"],  # a missing value: the command line says so
        ["--home", "--minimized"],
        ["--home="],
        ["--home", "/tmp/x", "run"],
        ["--headless"],
        ["--minimised"],  # a typo: the command line names the right option
        ["--home", "bad\udcff"],  # not UTF-8: the command line explains the encoding
    ],
)
def test_everything_else_goes_to_the_command_line(words):
    assert window_arguments(words) is None
