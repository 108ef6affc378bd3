"""The command line's last guard: whatever a command prints, a secret this process
knows (a pasted token, one read from the keyring) never reaches the terminal."""

from __future__ import annotations

import sys
from urllib.parse import quote

from milton_desktop import cli
from milton_desktop.domain.redaction import register_secret

SECRET = "cli-ECHO/printed+token=0042"


def test_a_known_secret_printed_by_any_path_is_masked(capsys):
    register_secret(SECRET)
    with cli._redacted_output():
        print(f"connected as {SECRET}")
        print(f"error: bad {quote(SECRET, safe='')}", file=sys.stderr)
        sys.stdout.flush()  # a stream's other methods still work
    out, err = capsys.readouterr()
    assert out == "connected as [redacted]\n"
    assert err == "error: bad [redacted]\n"


def test_the_streams_are_given_back_after_a_command(capsys):
    before = (sys.stdout, sys.stderr)
    assert cli.main(["status"]) == 0
    assert (sys.stdout, sys.stderr) == before
    assert "scheduler:" in capsys.readouterr().out
