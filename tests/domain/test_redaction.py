"""Secrets scrubbed from any text: patterns for headers and fields, and known values in
every form a server may echo them in."""

from __future__ import annotations

import html
import json
import re
import secrets as _random
from urllib.parse import quote, quote_plus

import pytest

from milton_desktop.domain.redaction import (
    MAX_REGISTERED,
    MIN_SECRET_LENGTH,
    redact,
    redact_known,
    register_secret,
    register_secrets,
    scrub,
)


def test_redacts_headers_tokens_and_known_secrets():
    register_secret("s3cr3t-token-value")
    text = redact(
        "Authorization: Bearer abcdefghijkl123 sent; access_token=AAA111BBB&x=1; "
        '{"refresh_token": "RRR222"} and s3cr3t-token-value'
    )
    for secret in ("abcdefghijkl123", "AAA111BBB", "RRR222", "s3cr3t-token-value"):
        assert secret not in text


def test_short_values_are_not_registered_so_common_words_survive():
    register_secret("abc")
    assert redact("abc and abcdef") == "abc and abcdef"


# ---------------------------------------------------------------- echoed forms

# a token with every kind of character an encoder changes: / + = and a non-ASCII one
TOKEN = "EAAB/x+y=z9Q8\u00e9-_.~W7v6"


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


ECHOES = {
    "as sent": TOKEN,
    "percent-encoded": quote(TOKEN, safe=""),
    "percent-encoded, slashes kept": quote(TOKEN),
    "percent-encoded in lower case": _lower_hex(quote(TOKEN, safe="")),
    "form-encoded": quote_plus(TOKEN),
    "percent-encoded twice": quote(quote(TOKEN, safe=""), safe=""),
    "in a JSON string": json.dumps(TOKEN)[1:-1],
    "in a JSON string, slashes escaped": json.dumps(TOKEN).replace("/", "\\/")[1:-1],
    "JSON inside JSON": json.dumps(json.dumps(TOKEN).replace("/", "\\/"))[3:-3],
    "as HTML": html.escape(TOKEN).replace("/", "&#x2F;").replace("+", "&#43;"),
}


@pytest.mark.parametrize("form", sorted(ECHOES))
def test_a_secret_is_scrubbed_in_every_form_a_server_echoes_it(form):
    text = f'{{"error": "invalid token {ECHOES[form]} in request"}}'
    assert scrub(text, [TOKEN]) == '{"error": "invalid token [redacted] in request"}'


@pytest.mark.parametrize("form", sorted(ECHOES))
def test_a_registered_secret_is_masked_in_every_form(form):
    register_secret(TOKEN)
    assert redact_known(f"x {ECHOES[form]} y") == "x [redacted] y"
    assert TOKEN not in redact(f"GET /me?access_token={ECHOES[form]}")


def test_values_below_the_floor_are_neither_scrubbed_nor_registered():
    short = "a" * (MIN_SECRET_LENGTH - 1)
    exact = "b" * MIN_SECRET_LENGTH
    assert scrub(f"{short} {exact}", [short, exact, None, ""]) == f"{short} [redacted]"
    register_secrets([short, None, "", 12345678])  # type: ignore[list-item]
    assert redact_known(f"the {short} word") == f"the {short} word"


def test_a_secret_holding_another_is_masked_whole():
    inner = "abcdefgh1234"
    outer = f"{inner}/more+stuff="
    assert scrub(f"[{outer}] [{inner}]", [inner, outer]) == "[[redacted]] [[redacted]]"


def test_redact_known_masks_values_only_and_never_guesses():
    # the log's patterns would mask "token: expired"; text for the user keeps its words
    text = "the token: expired, password = wrong"
    assert redact_known(text) == text


def test_the_register_stays_bounded_and_keeps_the_secrets_still_in_use():
    kept = f"kept-{_random.token_hex(8)}"
    oldest = f"oldest-{_random.token_hex(8)}"
    register_secrets([kept])
    register_secrets([oldest])
    for _ in range(MAX_REGISTERED):
        register_secrets([kept, f"filler-{_random.token_hex(8)}"])  # kept is read again
    assert redact_known(kept) == "[redacted]"
    assert redact_known(oldest) == oldest


def test_a_registered_secret_with_regex_characters_is_taken_literally():
    odd = "a.b*c+d(e)[f]?g|h^$"
    register_secrets([odd])
    assert redact_known(f"< {odd} >") == "< [redacted] >"
    assert redact_known("aXb*c+d(e)[f]?g|h^$") == "aXb*c+d(e)[f]?g|h^$"
