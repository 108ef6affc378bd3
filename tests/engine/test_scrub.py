"""The engine is the choke point between what a platform says and what is kept: an
echoed token never reaches a row, an attempt, the log or an outcome, whichever error,
field or encoding carries it, and whether or not a refresh happened mid-attempt."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

import pytest

from milton_desktop.domain.content import Published
from milton_desktop.domain.credential import Credential
from milton_desktop.engine.machine import Engine, EngineConfig
from milton_desktop.logsetup import setup_logging
from milton_desktop.operations import posts, schedules
from milton_desktop.publishers.base import (
    AuthExpired,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Transient,
)
from milton_desktop.storage import settings
from milton_desktop.storage.models import Account, PublishingResult, ScheduledPost, database
from tests.fakes.server import ECHO_ENCODINGS

ACCESS = "at-ECHO/old+tok=0123456789"
REFRESH = "rt-ECHO/old+rot=9876543210"
CLIENT_SECRET = "cs-ECHO/app+sec=5555"
NEW_ACCESS = "at-ECHO/new+tok=abcdefghij"
NEW_REFRESH = "rt-ECHO/new+rot=jihgfedcba"
SECRETS = (ACCESS, REFRESH, CLIENT_SECRET, NEW_ACCESS, NEW_REFRESH)


@pytest.fixture
def echo_account(db, creds):
    acc = Account.create(platform="linkedin", display_name="echo", username="echo", remote_id="1")
    creds.save(
        "linkedin",
        acc.id,
        Credential(ACCESS, refresh_token=REFRESH, client_id="app-1", client_secret=CLIENT_SECRET),
    )
    return acc


def _due(clock, account, text="hello"):
    post = posts.add_post(text)
    sched = schedules.schedule(post.id, account, clock.now() + timedelta(minutes=1), clock=clock)
    clock.advance(timedelta(minutes=1))
    return sched.id


def _everything_kept() -> str:
    """Every text the database holds, whatever table or column."""
    texts = []
    tables = [
        r[0] for r in database.execute_sql("SELECT name FROM sqlite_master WHERE type='table'")
    ]
    for table in tables:
        for row in database.execute_sql(f'SELECT * FROM "{table}"').fetchall():
            texts += [str(v) for v in row if v is not None]
    return "\n".join(texts)


def _assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            for name, encode in ECHO_ENCODINGS.items():
                assert encode(secret) not in text, f"{name} form of a secret in {text!r}"


def _echo(template: str, encoding: str) -> str:
    encode = ECHO_ENCODINGS[encoding]
    return template.format(**{k: encode(v) for k, v in _NAMES.items()})


_NAMES = {"access": ACCESS, "refresh": REFRESH, "secret": CLIENT_SECRET}
TEMPLATE = "bad Bearer {access} (refresh_token {refresh}, client {secret})"


@pytest.fixture
def log_file(tmp_path):
    """The real logging set-up, writing to a file: what the user would find there."""
    milton = logging.getLogger("milton")
    before = (milton.level, milton.propagate)
    path = setup_logging(tmp_path / "logs", verbose=True, stderr=False)
    yield path
    for handler in list(milton.handlers):
        milton.removeHandler(handler)
        handler.close()
    milton.setLevel(before[0])
    milton.propagate = before[1]


def _logged(path) -> str:
    for handler in logging.getLogger("milton").handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


ERRORS = {
    "rejected": (lambda m, now: Rejected(m, http_status=400), "failed"),
    "auth": (lambda m, now: AuthExpired(m, refreshable=False), "failed"),
    "unknown": (lambda m, now: OutcomeUnknown(m), "uncertain"),
    "transient": (lambda m, now: Transient(m), "pending"),
    "rate-limited": (lambda m, now: RateLimited(m, now + timedelta(minutes=5)), "pending"),
}


@pytest.mark.parametrize("encoding", sorted(ECHO_ENCODINGS))
@pytest.mark.parametrize("kind", sorted(ERRORS))
def test_an_echoed_secret_is_kept_nowhere(
    engine, clock, echo_account, scripted, log_file, encoding, kind
):
    make, status = ERRORS[kind]
    sid = _due(clock, echo_account)
    exc = make(_echo(TEMPLATE, encoding), clock.now())
    scripted.script = [exc]

    (outcome,) = engine.publish_due()

    assert outcome.status == status
    row = ScheduledPost.get_by_id(sid)
    (attempt,) = PublishingResult.select().where(PublishingResult.schedule == sid)
    assert "[redacted]" in (row.error_message or "") + (attempt.error_message or "")
    _assert_clean(
        row.error_message or "",
        attempt.error_message or "",
        outcome.message or "",
        _logged(log_file),
        _everything_kept(),
    )


def test_old_and_new_tokens_are_scrubbed_after_a_refresh_mid_attempt(
    engine, clock, echo_account, scripted, creds, log_file
):
    """The replay after a refresh fails with words echoing both the spent and the
    fresh credential: neither is kept."""
    sid = _due(clock, echo_account)
    scripted.refresh_result = Credential(
        NEW_ACCESS, refresh_token=NEW_REFRESH, client_id="app-1", client_secret=CLIENT_SECRET
    )
    said = f"old {ACCESS} / {REFRESH}, new {NEW_ACCESS} / {NEW_REFRESH}"
    scripted.script = [AuthExpired("401"), Rejected(said, http_status=400)]

    (outcome,) = engine.publish_due()

    assert outcome.status == "failed"
    assert scripted.calls == [("hello", ACCESS), ("hello", NEW_ACCESS)]
    assert creds.load("linkedin", echo_account.id).access_token == NEW_ACCESS
    row = ScheduledPost.get_by_id(sid)
    assert row.error_message.count("[redacted]") == 4
    _assert_clean(row.error_message, outcome.message or "", _logged(log_file), _everything_kept())


def test_a_failed_refresh_that_echoes_the_refresh_token_is_scrubbed(
    engine, clock, echo_account, scripted
):
    sid = _due(clock, echo_account)
    scripted.script = [AuthExpired("401")]
    scripted.refresh_result = AuthExpired(
        f"invalid_grant: refresh token {ECHO_ENCODINGS['percent'](REFRESH)} was revoked",
        refreshable=False,
    )
    (outcome,) = engine.publish_due()
    assert outcome.status == "failed" and outcome.needs_reconnect
    row = ScheduledPost.get_by_id(sid)
    assert "refresh token [redacted] was revoked" in row.error_message
    _assert_clean(_everything_kept())


def test_a_success_that_echoes_the_token_keeps_no_token(engine, clock, echo_account, scripted):
    """A platform could put the token in the post's id, its URL or a warning."""
    sid = _due(clock, echo_account)
    scripted.script = [
        Published(
            remote_id=f"urn:li:share:{ACCESS}",
            url=f"https://www.linkedin.com/feed/update/x?access_token={ECHO_ENCODINGS['percent'](ACCESS)}",
            warnings=(f"alt text refused for {ECHO_ENCODINGS['json-escaped'](ACCESS)}",),
        )
    ]
    (outcome,) = engine.publish_due()
    assert outcome.status == "published"
    row = ScheduledPost.get_by_id(sid)
    assert row.remote_id == "urn:li:share:[redacted]"
    assert row.remote_url.startswith("https://www.linkedin.com/feed/update/x?access_token=")
    assert "[redacted]" in row.warning and "[redacted]" in (outcome.warning or "")
    _assert_clean(outcome.url or "", outcome.warning or "", _everything_kept())


def test_what_a_publisher_checkpoints_or_learns_is_kept_without_tokens(
    db, creds, clock, echo_account
):
    """A retry's resume point and a platform's learned state are stored too: a token a
    platform put in an id there is scrubbed like any other text."""

    from tests.engine.conftest import ScriptedPublisher

    class Checkpointing(ScriptedPublisher):
        def publish(self, content, credential, account, progress=None):
            self.checkpoint["container"] = f"c-{credential.access_token}"
            self.learned["version"] = f"202401-{ECHO_ENCODINGS['percent'](ACCESS)}"
            raise Transient("503 while checking the container; will retry")

    engine = Engine(
        creds,
        clock=clock,
        config=EngineConfig(max_attempts=3),
        publisher_factory=lambda platform, api_base=None: Checkpointing(),
        rng=random.Random(3),
    )
    sid = _due(clock, echo_account)
    (outcome,) = engine.publish_due()
    assert outcome.status == "pending"
    assert ScheduledPost.get_by_id(sid).resume == '{"container": "c-[redacted]"}'
    assert settings.platform_state("linkedin")["version"] == "202401-[redacted]"
    _assert_clean(_everything_kept())


def test_an_unexpected_error_that_quotes_the_token_is_not_logged_with_it(
    engine, clock, echo_account, scripted, log_file
):
    sid = _due(clock, echo_account)
    scripted.script = [KeyError(f"no field in {{'token': '{ACCESS}'}}")]
    (outcome,) = engine.publish_due()
    assert outcome.status == "uncertain"
    assert "KeyError" in ScheduledPost.get_by_id(sid).error_message
    logged = _logged(log_file)
    assert "unexpected error publishing schedule" in logged and "no field in" in logged
    _assert_clean(logged, _everything_kept())
