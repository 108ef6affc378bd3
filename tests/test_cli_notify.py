"""`milton-desktop notify` in-process: settings saved and shown, the password only in the
(real) keyring, a test message with the server's answer, clear refusals, `status`."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import UTC, datetime

import keyring
import pytest

from milton_desktop.cli import main
from milton_desktop.context import open_context
from milton_desktop.operations import notify_mail
from milton_desktop.storage.models import MailOutbox
from tests.fakes.smtp import FakeSmtp, dead_port

PASSWORD = "smtp-Secret-pass-7731"


def run(capsys, *argv, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def smtp():
    with FakeSmtp() as server:
        yield server


@pytest.fixture
def real_keyring():
    try:
        from keyring.backends import SecretService
    except ImportError:  # pragma: no cover
        pytest.skip("keyring has no SecretService backend")
    kr = SecretService.Keyring()
    try:
        kr.get_password("milton-desktop-probe", "probe")
    except Exception as exc:
        pytest.skip(f"no Secret Service in this session ({type(exc).__name__})")
    previous = keyring.get_keyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


def _email_args(smtp, *extra):
    return (
        "notify",
        "email",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(smtp.port),
        "--security",
        "none",
        "--from",
        "milton@example.com",
        "--to",
        "me@example.com",
        *extra,
    )


@pytest.mark.keyring
def test_the_password_goes_to_the_real_keyring_and_nowhere_else(
    capsys, milton_home, smtp, real_keyring, monkeypatch
):
    smtp.users = {"me": PASSWORD}
    code, out, err = run(
        capsys,
        *_email_args(smtp, "--user", "me", "--password-stdin", "--on", "failed,weekly"),
        stdin=PASSWORD + "\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0, err
    assert "email notifications on: failed, weekly to me@example.com" in out
    assert "password in the keyring" in out
    outputs = [out, err]
    code, out, err = run(capsys, "notify", "test")
    assert code == 0, err
    assert out.startswith("the server accepted the test message: 250 2.0.0 Ok: queued as FAKE")
    assert smtp.logins == [("me", True)]
    outputs += [out, err]
    code, out, err = run(capsys, "notify", "show", "--json")
    shown = json.loads(out)
    assert shown["password_stored"] is True and shown["user"] == "me"
    assert shown["on"] == ["failed", "weekly"]
    outputs += [out, err]
    code, out, err = run(capsys, "status", "--json")
    assert json.loads(out)["mail"] == {
        "enabled": True,
        "pending": 0,
        "failed": 0,
        "unknown": 0,
        "sent": 0,
        "last_error": None,
    }
    outputs += [out, err]
    for text in outputs:
        assert PASSWORD not in text
    # in the keyring, under this data folder's entry
    from milton_desktop.storage import settings

    name = f"smtp@{settings.install_id()}"
    assert PASSWORD in (real_keyring.get_password("milton-desktop", name) or "")
    # and nowhere on disk
    for path in milton_home.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    with sqlite3.connect(milton_home / "milton.sqlite3") as con:
        dump = "\n".join(con.iterdump())
    assert PASSWORD not in dump
    real_keyring.delete_password("milton-desktop", name)


def test_notify_email_then_show_and_off(capsys, milton_home, smtp, memory_keyring):
    code, out, err = run(capsys, *_email_args(smtp))
    assert code == 0, err
    assert "published, failed, uncertain, missed" in out
    code, out, _ = run(capsys, "notify", "show")
    assert "email notifications: on" in out
    assert f"server:   127.0.0.1:{smtp.port} (none)" in out
    assert "user:     (no sign-in)" in out
    code, out, _ = run(capsys, "notify", "off")
    assert code == 0 and out.startswith("email notifications off")
    code, out, _ = run(capsys, "notify", "show", "--json")
    assert json.loads(out)["enabled"] is False


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--to", "me at example.com"), "is not an email address"),
        (("--smtp-port", "0"), "is not a port: give a number from 1 to 65535"),
        (("--security", "starttls-please"), "unknown security"),
        (("--on", "published,daily"), "unknown event daily"),
        (("--password-stdin",), "--password-stdin needs --user"),
    ],
)
def test_bad_input_is_refused_with_exit_2(capsys, milton_home, smtp, memory_keyring, args, words):
    code, out, err = run(capsys, *_email_args(smtp), *args)
    assert code == 2
    assert words in err
    assert err.count("\n") == 1
    code, out, _ = run(capsys, "notify", "show", "--json")
    assert json.loads(out)["configured"] is False


def test_a_password_in_clear_to_a_remote_host_is_refused(
    capsys, milton_home, memory_keyring, monkeypatch
):
    code, _out, err = run(
        capsys,
        "notify",
        "email",
        "--smtp-host",
        "smtp.example.com",
        "--security",
        "none",
        "--user",
        "me",
        "--password-stdin",
        "--from",
        "a@example.com",
        "--to",
        "b@example.com",
        stdin=PASSWORD + "\n",
        monkeypatch=monkeypatch,
    )
    assert code == 2
    assert "refusing to send the SMTP password in clear to smtp.example.com" in err
    assert PASSWORD not in err
    assert memory_keyring.store == {}


def test_notify_test_says_what_the_server_answered(capsys, milton_home, smtp, memory_keyring):
    code, _out, err = run(capsys, "notify", "test")
    assert code == 2 and "no mail server is set up" in err
    run(capsys, *_email_args(smtp))
    code, out, _ = run(capsys, "notify", "test", "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["code"] == 250 and answer["text"].startswith("2.0.0 Ok")
    # the fake wants a sign-in: without one, its 530 is what the user reads
    smtp.users = {"me": PASSWORD}
    smtp.plan("accept")
    code, _out, err = run(capsys, "notify", "test")
    assert code == 1
    assert "530 5.7.0 Authentication required" in err


def test_status_shows_a_mail_that_could_not_go(capsys, milton_home, memory_keyring):
    class Dead:
        port = dead_port()

    run(capsys, *_email_args(Dead))
    ctx = open_context(None, stderr_logging=False)
    # a mail whose message is written already (as the weekly summary's is)
    MailOutbox.create(
        key="weekly:2027-01-11",
        event="weekly",
        subject="s",
        body="b",
        next_attempt_at=datetime.now(UTC),
    )
    notify_mail.deliver_due(ctx.credentials)
    code, out, _ = run(capsys, "status")
    assert code == 0
    assert "mail:      1 waiting for a retry (last error: cannot connect to 127.0.0.1" in out
    code, out, _ = run(capsys, "status", "--json")
    mail = json.loads(out)["mail"]
    assert mail["pending"] == 1 and "connection was refused" in mail["last_error"]
    code, out, _ = run(capsys, "notify", "show")
    assert "outbox:   0 sent, 1 waiting, 0 not sent, 0 unknown" in out
    assert "last error: cannot connect" in out
