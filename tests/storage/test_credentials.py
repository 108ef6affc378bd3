"""Tokens live in the OS keyring. These tests use the real Secret Service backend
(GNOME Keyring in the test run's private D-Bus session) where it exists."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest

from milton_desktop.domain.credential import Credential
from milton_desktop.storage.credentials import (
    SERVICE,
    CredentialMissing,
    CredentialStore,
    KeyringUnavailable,
    backend_is_secure,
)


def _secret_service_or_skip():
    try:
        from keyring.backends import SecretService
    except ImportError:  # pragma: no cover
        pytest.skip("keyring has no SecretService backend")
    kr = SecretService.Keyring()
    try:
        kr.get_password("milton-desktop-probe", "probe")
    except Exception as exc:
        pytest.skip(
            f"no Secret Service in this session ({type(exc).__name__}); scripts/test.sh provides one"
        )
    return kr


@pytest.fixture
def real_keyring():
    kr = _secret_service_or_skip()
    previous = keyring.get_keyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


@pytest.mark.keyring
def test_round_trip_in_the_real_keyring(real_keyring):
    store = CredentialStore("roundtrip")
    cred = Credential("acc-SECRET-1", refresh_token="ref-SECRET-2", client_id="cid")
    assert store.save("x", 7, cred) == "keyring"
    # Another store object (another process, later) reads it back from the OS keyring.
    loaded = CredentialStore("roundtrip").load("x", 7)
    assert loaded.access_token == "acc-SECRET-1"
    assert loaded.refresh_token == "ref-SECRET-2"
    assert real_keyring.get_password(SERVICE, "x:7@roundtrip") is not None
    store.delete("x", 7)
    with pytest.raises(CredentialMissing, match="reconnect"):
        store.load("x", 7)
    store.delete("x", 7)  # deleting twice is fine


@pytest.mark.keyring
def test_two_data_folders_do_not_share_tokens(real_keyring):
    a, b = CredentialStore("home-a"), CredentialStore("home-b")
    a.save("linkedin", 1, Credential("token-of-a"))
    b.save("linkedin", 1, Credential("token-of-b"))
    assert a.load("linkedin", 1).access_token == "token-of-a"
    assert b.load("linkedin", 1).access_token == "token-of-b"
    a.delete("linkedin", 1)
    b.delete("linkedin", 1)


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_without_a_keyring_the_token_is_refused_with_advice(no_keyring, tmp_path):
    assert backend_is_secure()[0] is False
    store = CredentialStore("nokr")
    with pytest.raises(KeyringUnavailable, match="gnome-keyring"):
        store.save("x", 1, Credential("never-on-disk-123"))
    with pytest.raises(KeyringUnavailable):
        store.load("x", 1)


def test_memory_fallback_is_explicit_and_session_only(no_keyring):
    store = CredentialStore("mem", allow_memory_fallback=True)
    assert store.save("x", 1, Credential("kept-in-memory")) == "memory"
    assert store.memory_only
    assert store.load("x", 1).access_token == "kept-in-memory"
    assert CredentialStore("mem").memory_only is False  # a new process knows nothing of it


def test_plaintext_backends_are_not_secure(monkeypatch):
    class PlaintextKeyring(keyring.backends.fail.Keyring):
        priority = 0.5

    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    try:
        assert backend_is_secure()[0] is False
    finally:
        keyring.set_keyring(previous)


def test_credential_repr_never_shows_tokens():
    cred = Credential("ACCESS-abc123", refresh_token="REFRESH-xyz789", client_secret="SECRET-1")
    for text in (repr(cred), str(cred), f"{cred}", str([cred])):
        assert "ACCESS" not in text and "REFRESH" not in text and "SECRET" not in text
