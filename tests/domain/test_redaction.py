"""Secrets scrubbed from any text: patterns for headers and fields, and known values."""

from __future__ import annotations

from milton_desktop.domain.redaction import redact, register_secret


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
