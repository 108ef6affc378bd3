"""Email notifications against a real SMTP server on 127.0.0.1 (aiosmtpd): the settings,
one mail per outcome written with the outcome itself, retries on what is transient,
never a second copy of a mail whose fate is unknown, and the weekly summary."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from milton_desktop.domain import mail
from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.credential import Credential
from milton_desktop.domain.errors import OperationFailed
from milton_desktop.domain.mail import MailSettingsError, OutcomeFacts
from milton_desktop.engine.machine import Engine, EngineConfig
from milton_desktop.engine.mailer import MailWorker, SenderLock, send_once
from milton_desktop.operations import notify_mail, posts, schedules
from milton_desktop.storage import settings
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Account, MailOutbox, ScheduledPost, Setting
from tests.fakes.smtp import FakeSmtp, dead_port
from tests.fakes.x import FakeX

NOW = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)  # a Tuesday
X_USER, X_TOKEN = "2244994945", "x-token-mail-0001"
PASSWORD = "smtp-pass-Secret-42"


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture
def creds(db, memory_keyring):
    return CredentialStore("mailtest")


@pytest.fixture
def smtp():
    with FakeSmtp() as server:
        yield server


@pytest.fixture
def fake_x():
    with FakeX() as fake:
        fake.add_user(X_USER, "miltonhq", "Milton HQ", token=X_TOKEN)
        yield fake


@pytest.fixture
def x_account(db, creds, fake_x):
    acc = Account.create(
        platform="x", display_name="hq", username="miltonhq", remote_id=X_USER, api_base=fake_x.url
    )
    creds.save("x", acc.id, Credential(X_TOKEN))
    return acc


@pytest.fixture
def engine(creds, clock):
    return Engine(creds, clock=clock, config=EngineConfig(max_attempts=2))


def _configure(creds, smtp, clock, **kwargs):
    values = {
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": "none",
        "sender": "milton@example.com",
        "to": "me@example.com",
        **kwargs,
    }
    return notify_mail.configure(creds, clock=clock, **values)


def _publish(engine, clock, account, text="Shipping v2 today, with the changelog first"):
    post = posts.add_post(text, clock=clock)
    row = schedules.schedule(
        post.id, account, clock.now() + timedelta(minutes=5), timezone="Europe/Paris", clock=clock
    )
    clock.advance(timedelta(minutes=5))
    engine.publish_due()
    return ScheduledPost.get_by_id(row.id)


def _outbox():
    return list(MailOutbox.select().order_by(MailOutbox.id))


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"sender": "not an address"}, "is not an email address"),
        ({"to": "Me <me@example.com>"}, "one plain address"),
        ({"to": ""}, r"the recipient \(--to\) is empty"),
        ({"port": "70000"}, "from 1 to 65535"),
        ({"port": "25a"}, "is not a port"),
        ({"host": "smtp://mail.example.com"}, "without a port or a scheme"),
        ({"security": "tls"}, "unknown security"),
        ({"events": "published,sometimes"}, "unknown event sometimes"),
    ],
)
def test_bad_settings_are_refused_saying_what_to_fix(creds, smtp, clock, change, words):
    with pytest.raises(MailSettingsError, match=words):
        _configure(creds, smtp, clock, **change)
    assert notify_mail.current() is None  # nothing was saved


def test_a_password_in_clear_to_another_host_is_refused(creds, smtp, clock):
    with pytest.raises(MailSettingsError, match="refusing to send the SMTP password in clear"):
        _configure(creds, smtp, clock, host="smtp.example.com", user="me", password=PASSWORD)
    assert notify_mail.current() is None
    # to this computer it is fine (a local relay), and so is TLS anywhere
    _configure(creds, smtp, clock, user="me", password=PASSWORD)
    _configure(
        creds, smtp, clock, host="smtp.example.com", security="starttls", user="me", password=None
    )


def test_the_password_is_kept_in_the_keyring_only(creds, smtp, clock, memory_keyring):
    config = _configure(creds, smtp, clock, user="me", password=PASSWORD, events="failed,weekly")
    assert config.port == smtp.port and config.events == ("failed", "weekly")
    assert config.security == "none"
    stored = [v for (service, _k), v in memory_keyring.store.items() if service == "milton-desktop"]
    assert any(PASSWORD in v for v in stored)
    database_text = json.dumps([(s.key, s.value) for s in Setting.select()])
    assert PASSWORD not in database_text
    shown = notify_mail.show(creds)
    assert shown["password_stored"] is True
    assert PASSWORD not in json.dumps(shown)
    # saving again without a password keeps the stored one for the same user
    _configure(creds, smtp, clock, user="me")
    assert notify_mail.password_for(creds, notify_mail.current()) == PASSWORD
    # no user: no password kept anywhere
    _configure(creds, smtp, clock)
    assert not any(PASSWORD in v for v in memory_keyring.store.values())


def test_default_port_and_events(creds, smtp, clock):
    config = notify_mail.configure(
        creds, host="smtp.example.com", sender="a@example.com", to="b@example.com", clock=clock
    )
    assert (config.port, config.security) == (587, "starttls")
    assert config.events == ("published", "failed", "uncertain", "missed")
    ssl_config = notify_mail.configure(
        creds,
        host="smtp.example.com",
        security="ssl",
        sender="a@example.com",
        to="b@example.com",
        clock=clock,
    )
    assert ssl_config.port == 465


# ---------------------------------------------------------------- what the mails say


def _facts(event, **kwargs):
    values = {
        "event": event,
        "schedule_id": 7,
        "platform": "LinkedIn",
        "account": "Work",
        "text": "Shipping v2 today (finally): small releases, changelog first, and more",
        "zone": "Europe/Paris",
        "scheduled_at": datetime(2027, 3, 30, 8, 0, tzinfo=UTC),
        "happened_at": datetime(2027, 3, 30, 8, 0, 2, tzinfo=UTC),
        **kwargs,
    }
    return OutcomeFacts(**values)


def test_subjects_are_exactly_as_the_user_reads_them():
    assert (
        mail.outcome_subject(_facts("published"))
        == "Published on LinkedIn: Shipping v2 today (finally): small releases, changelog…"
    )
    assert (
        mail.outcome_subject(_facts("failed", platform="X", text="Hello world"))
        == "Could not publish on X: Hello world"
    )
    assert (
        mail.outcome_subject(_facts("uncertain", platform="Instagram", text="New  shop\nopen"))
        == "Check this post on Instagram: New shop open"
    )
    assert mail.outcome_subject(_facts("missed", text="Launch day")) == "Missed: Launch day"


def test_the_body_has_the_text_times_in_the_users_zone_the_link_and_what_to_do():
    body = mail.outcome_body(_facts("published", url="https://www.linkedin.com/feed/update/1"))
    assert "Shipping v2 today (finally)" in body
    assert "Account:    Work (LinkedIn)" in body
    # 08:00 UTC on 30 March 2027 is 10:00 in Paris, summer time, and says so
    assert "Scheduled:  Tue 30 Mar 2027 10:00 CEST (Europe/Paris)" in body
    assert "Published at: Tue 30 Mar 2027 10:00 CEST (Europe/Paris)" in body
    assert "https://www.linkedin.com/feed/update/1" in body
    failed = mail.outcome_body(_facts("failed", error="the text is too long (3100 > 3000)"))
    assert "Reason:     the text is too long (3100 > 3000)" in failed
    assert "milton-desktop publish-now 7" in failed
    uncertain = mail.outcome_body(_facts("uncertain", error="no answer"))
    assert "milton-desktop resolve 7 --published" in uncertain
    assert "milton-desktop resolve 7 --not-published" in uncertain
    missed = mail.outcome_body(_facts("missed"))
    assert "milton-desktop reschedule 7 --at" in missed
    assert "milton-desktop cancel 7" in missed


# ---------------------------------------------------------------- one mail per outcome


@pytest.mark.both_backends
def test_one_publish_makes_exactly_one_mail(creds, smtp, clock, engine, x_account, fake_x):
    _configure(creds, smtp, clock)
    row = _publish(engine, clock, x_account)
    assert row.status == "published"
    (queued,) = _outbox()  # written with the result, before anything is sent
    assert (queued.event, queued.status, queued.schedule_id) == ("published", "pending", row.id)
    (done,) = notify_mail.deliver_due(creds, clock=clock)
    assert done.status == "sent"
    assert notify_mail.deliver_due(creds, clock=clock) == []  # never twice
    (message,) = smtp.messages
    assert message["Subject"] == "Published on X: Shipping v2 today, with the changelog first"
    assert message["To"] == "me@example.com" and message["From"] == "milton@example.com"
    assert row.remote_url in message.get_content()
    assert message["Message-ID"] == _outbox()[0].message_id
    assert smtp.envelopes == [("milton@example.com", ["me@example.com"])]


def test_one_failure_makes_exactly_one_mail(creds, smtp, clock, engine, x_account, fake_x):
    _configure(creds, smtp, clock)
    fake_x.inject("POST /2/tweets", status=403)
    row = _publish(engine, clock, x_account, text="A post the platform refuses")
    assert row.status == "failed"
    notify_mail.deliver_due(creds, clock=clock)
    notify_mail.deliver_due(creds, clock=clock)
    (message,) = smtp.messages
    assert message["Subject"] == "Could not publish on X: A post the platform refuses"
    body = message.get_content()
    assert "Reason:" in body and f"milton-desktop publish-now {row.id}" in body


def test_a_retry_then_a_publish_makes_one_mail(creds, smtp, clock, engine, x_account, fake_x):
    _configure(creds, smtp, clock)
    reset = int((NOW + timedelta(minutes=10)).timestamp())
    fake_x.inject("POST /2/tweets", status=429, headers={"x-rate-limit-reset": str(reset)})
    row = _publish(engine, clock, x_account)
    assert row.status == "pending"  # a retry is not news
    assert _outbox() == []
    clock.advance(timedelta(hours=1))
    engine.publish_due()
    assert ScheduledPost.get_by_id(row.id).status == "published"
    assert [m.event for m in _outbox()] == ["published"]


@pytest.mark.both_backends
def test_an_outcome_recorded_again_queues_no_second_mail(creds, smtp, clock):
    _configure(creds, smtp, clock)
    assert notify_mail.queue_outcome(5, 11, "published", clock.now()) is True
    assert notify_mail.queue_outcome(5, 11, "published", clock.now()) is False
    assert notify_mail.queue_missed(5, clock.now(), clock.now()) is True
    assert notify_mail.queue_missed(5, clock.now(), clock.now()) is False
    assert len(_outbox()) == 2


def test_events_not_chosen_are_not_mailed(creds, smtp, clock, engine, x_account):
    _configure(creds, smtp, clock, events="failed")
    _publish(engine, clock, x_account)
    assert _outbox() == []


def test_a_missed_post_is_mailed_once(creds, smtp, clock, engine, x_account):
    _configure(creds, smtp, clock)
    post = posts.add_post("Launch day is here", clock=clock)
    row = schedules.schedule(post.id, x_account, clock.now() + timedelta(minutes=1), clock=clock)
    clock.advance(timedelta(hours=3))  # the computer slept through the grace window
    engine.publish_due()
    engine.publish_due()
    assert ScheduledPost.get_by_id(row.id).status == "missed"
    notify_mail.deliver_due(creds, clock=clock)
    (message,) = smtp.messages
    assert message["Subject"] == "Missed: Launch day is here"
    assert f"milton-desktop publish-now {row.id}" in message.get_content()


def test_nothing_is_queued_while_mail_is_off(creds, smtp, clock, engine, x_account):
    _publish(engine, clock, x_account)
    assert _outbox() == []


# ---------------------------------------------------------------- the connection


def test_starttls_with_a_trusted_test_certificate_and_sign_in(
    creds, clock, engine, x_account, tmp_path, monkeypatch, caplog
):
    with FakeSmtp(security="starttls", users={"me": PASSWORD}, tmp=tmp_path) as server:
        monkeypatch.setenv("MILTON_SMTP_CA_FILE", server.ca_file)
        _configure(creds, server, clock, security="starttls", user="me", password=PASSWORD)
        _publish(engine, clock, x_account)
        with caplog.at_level(logging.DEBUG):
            (done,) = notify_mail.deliver_due(creds, clock=clock)
        assert done.status == "sent", done.detail
        assert server.logins == [("me", True)]
        assert len(server.messages) == 1
    assert PASSWORD not in caplog.text


def test_starttls_refuses_a_certificate_it_does_not_trust(
    creds, clock, engine, x_account, tmp_path, monkeypatch
):
    other = FakeSmtp(security="starttls", tmp=tmp_path / "other")
    (tmp_path / "other").mkdir()
    with FakeSmtp(security="starttls", tmp=tmp_path) as server, other:
        monkeypatch.setenv("MILTON_SMTP_CA_FILE", other.ca_file)  # another CA than the server's
        _configure(creds, server, clock, security="starttls")
        _publish(engine, clock, x_account)
        (done,) = notify_mail.deliver_due(creds, clock=clock)
    assert done.status == "failed"
    assert "certificate is not trusted" in done.detail
    assert server.received == []


def test_implicit_ssl_and_a_wrong_password(creds, clock, engine, x_account, tmp_path, monkeypatch):
    with FakeSmtp(security="ssl", users={"me": PASSWORD}, tmp=tmp_path) as server:
        monkeypatch.setenv("MILTON_SMTP_CA_FILE", server.ca_file)
        _configure(creds, server, clock, security="ssl", user="me", password="not-the-password-9")
        _publish(engine, clock, x_account)
        (done,) = notify_mail.deliver_due(creds, clock=clock)
        assert done.status == "failed"
        assert "did not accept the user name and password (535" in done.detail
        assert "not-the-password-9" not in done.detail
        _configure(creds, server, clock, security="ssl", user="me", password=PASSWORD)
        assert notify_mail.send_test(creds).code == 250
        assert server.logins == [("me", False), ("me", True)]


def test_a_refusal_for_now_is_retried_later_with_the_same_message_id(
    creds, smtp, clock, engine, x_account
):
    _configure(creds, smtp, clock)
    _publish(engine, clock, x_account)
    smtp.plan("451 4.7.1 Greylisted, try again in a minute")
    (first,) = notify_mail.deliver_due(creds, clock=clock)
    assert first.status == "pending" and "451 4.7.1 Greylisted" in first.detail
    assert notify_mail.deliver_due(creds, clock=clock) == []  # not before its backoff
    assert notify_mail.mail_status().summary().startswith("1 waiting for a retry")
    clock.advance(notify_mail.backoff(1))
    (second,) = notify_mail.deliver_due(creds, clock=clock)
    assert second.status == "sent"
    refused, accepted = smtp.received
    assert refused["Message-ID"] == accepted["Message-ID"]
    assert len(smtp.messages) == 1
    assert notify_mail.mail_status().summary() == ""


def test_a_permanent_refusal_is_not_retried_and_says_why(creds, smtp, clock, engine, x_account):
    _configure(creds, smtp, clock)
    _publish(engine, clock, x_account)
    smtp.plan("554 5.7.1 Message rejected as spam")
    (done,) = notify_mail.deliver_due(creds, clock=clock)
    assert done.status == "failed"
    clock.advance(timedelta(days=1))
    assert notify_mail.deliver_due(creds, clock=clock) == []
    (row,) = _outbox()
    assert "554 5.7.1 Message rejected as spam" in row.last_error
    state = notify_mail.mail_status()
    assert (state.failed, state.pending) == (1, 0)
    assert "554" in (state.last_error or "")


def test_a_dead_server_keeps_the_mail_waiting_and_says_so(creds, clock, engine, x_account):
    class Dead:
        port = dead_port()

    _configure(creds, Dead, clock)
    _publish(engine, clock, x_account)
    _publish(engine, clock, x_account, text="a second post")
    done = notify_mail.deliver_due(creds, clock=clock)
    assert [d.status for d in done] == ["pending"]  # the second waits with the first
    rows = _outbox()
    assert all(r.status == "pending" for r in rows)
    assert rows[1].next_attempt_at == rows[0].next_attempt_at > clock.now()
    state = notify_mail.mail_status()
    assert state.pending == 2
    assert "connection was refused" in (state.last_error or "")
    for _ in range(2 * notify_mail.MAX_TRIES):
        clock.advance(notify_mail.BACKOFF_CAP)
        notify_mail.deliver_due(creds, clock=clock)
    assert {r.status for r in _outbox()} == {"failed"}
    assert "gave up after" in (_outbox()[0].last_error or "")


def test_a_drop_after_the_message_is_unknown_and_never_resent(
    creds, smtp, clock, engine, x_account
):
    _configure(creds, smtp, clock)
    _publish(engine, clock, x_account)
    smtp.plan("drop")
    (done,) = notify_mail.deliver_due(creds, clock=clock)
    assert done.status == "unknown"
    assert "may have been delivered" in done.detail
    for _ in range(3):
        clock.advance(timedelta(hours=2))
        notify_mail.deliver_due(creds, clock=clock)
    assert len(smtp.received) == 1  # the message travelled once, and only once
    state = notify_mail.mail_status()
    assert state.unknown == 1
    assert "may not have arrived" in state.summary()


def test_a_stop_mid_send_leaves_the_mail_unknown(creds, smtp, clock):
    _configure(creds, smtp, clock)
    notify_mail.queue_outcome(1, 1, "published", clock.now())
    MailOutbox.update(status="sending").execute()  # what a process killed mid-send leaves
    assert notify_mail.recover_interrupted() == 1
    assert notify_mail.deliver_due(creds, clock=clock) == []
    (row,) = _outbox()
    assert row.status == "unknown" and "may have been delivered" in row.last_error
    assert smtp.received == []


def test_turning_off_drops_what_waits(creds, smtp, clock, engine, x_account):
    _configure(creds, smtp, clock)
    _publish(engine, clock, x_account)
    assert notify_mail.turn_off() == 1
    assert notify_mail.deliver_due(creds, clock=clock) == []
    assert smtp.received == []
    _publish(engine, clock, x_account, text="after it was turned off")
    assert len(_outbox()) == 1


def test_send_test_reports_the_servers_answer(creds, smtp, clock):
    with pytest.raises(MailSettingsError, match="no mail server is set up"):
        notify_mail.send_test(creds)
    _configure(creds, smtp, clock)
    answer = notify_mail.send_test(creds, clock=clock)
    assert answer.code == 250 and "queued as FAKE1" in answer.text
    assert smtp.messages[0]["Subject"] == "Milton Desktop test message"
    smtp.plan("550 5.1.1 No such user here")
    with pytest.raises(OperationFailed, match=r"550 5\.1\.1 No such user here"):
        notify_mail.send_test(creds, clock=clock)


def test_the_worker_sends_beside_a_running_engine(creds, smtp, clock, engine, x_account):
    _configure(creds, smtp, clock)
    worker = MailWorker(creds, folder=engine.state_dir, clock=clock, poll_s=0.2)
    worker.start()
    try:
        _publish(engine, clock, x_account)
        worker.wake()
        deadline = time.monotonic() + 10
        while not smtp.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert worker.stop(5)
    assert len(smtp.messages) == 1


def test_a_run_without_a_mail_thread_sends_what_its_outcomes_queued(
    creds, smtp, clock, engine, x_account
):
    _configure(creds, smtp, clock)
    _publish(engine, clock, x_account)
    assert send_once(creds, engine.state_dir, clock=clock) == 1
    assert len(smtp.messages) == 1
    assert send_once(creds, engine.state_dir, clock=clock) == 0  # sent is sent
    assert len(smtp.messages) == 1


def test_only_one_process_at_a_time_sends_and_the_sender_takes_over_what_waits(
    creds, smtp, clock, engine, x_account
):
    _configure(creds, smtp, clock)
    _publish(engine, clock, x_account)
    other = SenderLock(engine.state_dir)  # a running scheduler's mail thread, say
    assert other.take()
    try:
        assert send_once(creds, engine.state_dir, clock=clock) == 0
        assert smtp.messages == []
        assert MailOutbox.get().status == "pending"  # left to the sender, not cut off
    finally:
        other.release()
    assert send_once(creds, engine.state_dir, clock=clock) == 1
    assert len(smtp.messages) == 1


# ---------------------------------------------------------------- the weekly summary


def test_week_start_is_monday_0800_local_across_a_dst_change():
    zone = "Europe/Paris"
    # the clocks went forward on Sunday 28 March 2027: 08:00 is 07:00 UTC before, 06:00 after
    before = mail.week_start(datetime(2027, 3, 27, 12, 0, tzinfo=UTC), zone)
    after = mail.week_start(datetime(2027, 3, 29, 6, 0, tzinfo=UTC), zone)
    just_before = mail.week_start(datetime(2027, 3, 29, 5, 59, tzinfo=UTC), zone)
    assert before == datetime(2027, 3, 22, 7, 0, tzinfo=UTC)
    assert after == datetime(2027, 3, 29, 6, 0, tzinfo=UTC)
    assert just_before == before
    assert mail.next_week_start(datetime(2027, 3, 27, tzinfo=UTC), zone) == after
    # and back in autumn (31 October 2027): 06:00 UTC before, 07:00 after
    assert mail.week_start(datetime(2027, 11, 1, 7, 0, tzinfo=UTC), zone) == datetime(
        2027, 11, 1, 7, 0, tzinfo=UTC
    )


def test_the_weekly_summary_goes_once_at_monday_0800_across_dst(
    creds, smtp, engine, x_account, fake_x
):
    clock = FakeClock(datetime(2027, 3, 24, 9, 0, tzinfo=UTC))  # a Wednesday, winter time
    engine.clock = clock
    settings.set_value("timezone", "Europe/Paris")
    _configure(creds, smtp, clock, events="weekly")
    _publish(engine, clock, x_account, text="Last week's post")
    post = posts.add_post("Next week's post", clock=clock)
    schedules.schedule(
        post.id,
        x_account,
        datetime(2027, 3, 30, 8, 0, tzinfo=UTC),
        timezone="Europe/Paris",
        clock=clock,
    )
    # this week's Monday passed before mail was set up: nothing until next Monday
    assert notify_mail.deliver_due(creds, clock=clock) == []
    clock.set(datetime(2027, 3, 29, 5, 59, tzinfo=UTC))  # 07:59 in Paris, summer time now
    assert notify_mail.deliver_due(creds, clock=clock) == []
    clock.set(datetime(2027, 3, 29, 6, 0, tzinfo=UTC))  # 08:00 in Paris
    (done,) = notify_mail.deliver_due(creds, clock=clock)
    assert done.event == "weekly" and done.status == "sent"
    for minutes in (1, 60, 24 * 60):
        clock.set(datetime(2027, 3, 29, 6, 0, tzinfo=UTC) + timedelta(minutes=minutes))
        assert notify_mail.deliver_due(creds, clock=clock) == []
    (message,) = smtp.messages
    assert message["Subject"] == ("Your week on Milton Desktop, 29 Mar: 1 published, 1 coming")
    body = message.get_content()
    assert "Times are in Europe/Paris." in body
    assert "published  X (hq): Last week's post" in body
    assert "Tue 30 Mar 10:00  pending    X (hq): Next week's post" in body
    # a week later, the next one (one per week, recorded)
    clock.set(datetime(2027, 4, 5, 6, 0, tzinfo=UTC))
    assert [d.event for d in notify_mail.deliver_due(creds, clock=clock)] == ["weekly"]
    assert [r.key for r in _outbox()] == ["weekly:2027-03-29", "weekly:2027-04-05"]
