"""Several machines (homes with their own install id and keyring entries) on one team
database: claims that never wait for each other, only for the accounts a machine
holds, each row once; heartbeats; a stale or offline machine's claims become
uncertain; who can publish what, and the warning when nobody can."""

from __future__ import annotations

import json
import random
import threading
from datetime import timedelta

import psycopg
import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.credential import Credential
from milton_desktop.engine.machine import Engine, EngineConfig
from milton_desktop.operations import posts, schedules, team
from milton_desktop.storage.backend import WRITE_LOCK_KEY
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Account, Machine, PublishingResult, ScheduledPost

pytestmark = pytest.mark.parametrize("db", ["postgresql"], indirect=True)


def _machine(install, clock, scripted):
    return Engine(
        CredentialStore(install),
        clock=clock,
        config=EngineConfig(grace=timedelta(hours=2), max_attempts=3),
        publisher_factory=lambda platform, api_base=None: scripted(),
        rng=random.Random(7),
    )


@pytest.fixture
def alice(db, memory_keyring, clock, scripted):
    return _machine("alice-home", clock, scripted)


@pytest.fixture
def bob(db, memory_keyring, clock, scripted):
    return _machine("bob-home", clock, scripted)


def _account(name, *holders):
    acc = Account.create(platform="linkedin", display_name=name, username=name, remote_id=name)
    for engine in holders:
        engine.credentials.save("linkedin", acc.id, Credential(f"tok-{name}"))
    return acc


def _due(clock, account, text="hello", minutes=1):
    post = posts.add_post(text)
    return schedules.schedule(
        post.id, account, clock.now() + timedelta(minutes=minutes), clock=clock
    ).id


def _row(sid):
    return ScheduledPost.get_by_id(sid)


def _other_client(db):
    """Another client of the database: its own connection, its own transactions."""
    conn = db.obj.connection()
    info = conn.info
    return psycopg.connect(
        host=info.host,
        port=info.port,
        dbname=info.dbname,
        user=info.user,
        password=info.password,
        autocommit=True,
    )


def test_a_claim_never_waits_for_another_clients_write_transaction(db, alice, clock, scripted):
    acc = _account("brand", alice)
    sid = _due(clock, acc)
    clock.advance(timedelta(minutes=1))
    alice.heartbeat()
    other = _other_client(db)
    try:
        other.execute("BEGIN")
        other.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        won = []
        worker = threading.Thread(
            target=lambda: won.append(_claim_on_own_connection(db, alice, sid))
        )
        worker.start()
        worker.join(timeout=5)
        assert not worker.is_alive(), "the claim waited for the write lock"
        assert won == [True]
    finally:
        other.rollback()
        other.close()
    assert (_row(sid).status, _row(sid).claimed_machine) == ("publishing", "alice-home")


def _claim_on_own_connection(db, engine, sid):
    with db.connection_context():
        return engine.claim(sid)


def test_claims_skip_the_rows_another_scheduler_is_claiming_instead_of_waiting(db, alice, clock):
    acc = _account("brand", alice)
    first, second, third = (_due(clock, acc, f"post {n}") for n in range(3))
    clock.advance(timedelta(minutes=1))
    other = _other_client(db)
    try:
        other.execute("BEGIN")
        other.execute("SELECT id FROM scheduled_posts WHERE id = %s FOR UPDATE", (first,))
        assert alice.claim_due(acc.id, limit=2) == [second, third]
    finally:
        other.rollback()
        other.close()
    assert alice.claim_due(acc.id, limit=5) == [first]
    assert alice.claim_due(acc.id, limit=5) == []
    assert [_row(s).attempts for s in (first, second, third)] == [1, 1, 1]


def test_many_schedulers_racing_claim_each_row_exactly_once(db, memory_keyring, clock, scripted):
    engines = [_machine(f"home-{n}", clock, scripted) for n in range(4)]
    accounts = [_account(f"brand-{n}", *engines) for n in range(3)]
    rows = [_due(clock, acc, f"{acc.display_name} {n}") for acc in accounts for n in range(10)]
    clock.advance(timedelta(minutes=1))
    for engine in engines:
        engine.heartbeat()
    claimed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(engines))

    def go(engine):
        with db.connection_context():
            barrier.wait()
            while True:
                got = engine.claim_due(limit=3)
                if not got:
                    # the accounts left may be in flight on another machine: look again
                    # until nothing is pending
                    if not ScheduledPost.select().where(ScheduledPost.status == "pending").exists():
                        return
                    continue
                with lock:
                    claimed.extend(got)
                ScheduledPost.update(status="published").where(ScheduledPost.id.in_(got)).execute()

    threads = [threading.Thread(target=go, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(claimed) == sorted(rows)  # every row, none twice
    assert {_row(s).attempts for s in rows} == {1}


def test_a_machine_claims_only_the_accounts_whose_token_it_holds(db, alice, bob, clock):
    alices = _account("alice-only", alice)
    shared = _account("shared", alice, bob)
    a_row = _due(clock, alices)
    s_row = _due(clock, shared, minutes=2)
    clock.advance(timedelta(minutes=2))
    assert bob.due_accounts() == [shared.id]
    assert bob.next_wakeup() == _row(s_row).next_attempt_at
    assert bob.claim(a_row) is False
    assert _row(a_row).status == "pending"
    assert bob.claim_next(shared.id) == s_row
    assert alice.claim_next(alices.id) == a_row


def test_a_token_connected_later_counts_at_once_and_the_heartbeat_says_so(db, alice, bob, clock):
    acc = _account("brand", alice)
    _due(clock, acc)
    clock.advance(timedelta(minutes=1))
    bob.heartbeat()
    assert bob.due_accounts() == []
    assert json.loads(Machine.get(Machine.install_id == "bob-home").accounts) == []
    bob.credentials.save("linkedin", acc.id, Credential("tok-bob"))
    assert bob.due_accounts() == [acc.id]
    bob.heartbeat()
    assert json.loads(Machine.get(Machine.install_id == "bob-home").accounts) == [acc.id]
    bob.credentials.delete("linkedin", acc.id)
    bob.heartbeat()
    assert json.loads(Machine.get(Machine.install_id == "bob-home").accounts) == []


def test_one_accounts_posts_go_out_one_at_a_time_across_machines(db, alice, bob, clock, scripted):
    acc = _account("shared", alice, bob)
    first = _due(clock, acc, "first")
    second = _due(clock, acc, "second")
    clock.advance(timedelta(minutes=1))
    alice.heartbeat()
    assert alice.claim_next(acc.id) == first
    # alice's publish of this account is in flight: bob leaves the account alone
    assert bob.due_accounts() == []
    assert bob.claim_next(acc.id) is None
    assert bob.next_wakeup() is None  # and his timer does not spin on it
    assert alice.execute(first).status == "published"
    assert bob.claim_next(acc.id) == second
    assert bob.execute(second).status == "published"
    assert [c[0] for c in scripted.calls] == ["first", "second"]


def _stale(install, beats=team.STALE_AFTER_BEATS + 1):
    machine = Machine.get(Machine.install_id == install)
    machine.last_seen_at = team.server_now() - timedelta(seconds=beats * machine.interval_s)
    machine.save()


def test_a_live_machines_claim_is_left_alone_and_a_stale_ones_becomes_uncertain(
    db, alice, bob, clock, scripted
):
    acc = _account("shared", alice, bob)
    sid = _due(clock, acc)
    clock.advance(timedelta(minutes=1))
    alice.heartbeat()
    bob.heartbeat()
    assert alice.claim(sid)
    assert bob.recover_interrupted() == []  # alive: it beat a moment ago
    _stale("alice-home", beats=2)
    assert bob.recover_interrupted() == []  # two missed beats: not yet
    assert _row(sid).status == "publishing"
    _stale("alice-home")
    (o,) = bob.recover_interrupted()
    assert o.status == "uncertain"
    row = _row(sid)
    assert row.status == "uncertain" and "interrupted" in row.error_message
    (result,) = PublishingResult.select().where(PublishingResult.schedule == sid)
    assert result.error_kind == "interrupted"
    assert bob.publish_due() == []  # never published again
    assert scripted.calls == []


def test_a_clean_exit_lets_the_others_recover_at_once(db, alice, bob, clock):
    acc = _account("shared", alice, bob)
    sid = _due(clock, acc)
    clock.advance(timedelta(minutes=1))
    alice.heartbeat()
    assert alice.claim(sid)
    alice.sign_off()
    (o,) = bob.recover_interrupted()
    assert o.status == "uncertain"


def test_a_machine_recovers_its_own_dead_processes_claims_by_their_locks(
    db, alice, clock, memory_keyring, scripted
):
    acc = _account("brand", alice)
    sid = _due(clock, acc)
    clock.advance(timedelta(minutes=1))
    assert alice.claim(sid)
    alice.release()  # the process ended; the machine itself still beats
    later = _machine("alice-home", clock, scripted)
    later.heartbeat()
    (o,) = later.recover_interrupted()
    assert o.status == "uncertain"


def test_who_can_publish_and_the_warning_when_nobody_can(db, alice, bob, clock):
    brand = _account("brand-x", alice)
    both = _account("both", alice, bob)
    _account("idle", bob)
    orphan = _account("orphan")
    now = team.server_now()
    alice.heartbeat()
    bob.heartbeat()
    Machine.update(label="Alice's computer").where(Machine.install_id == "alice-home").execute()
    Machine.update(label="Bob's computer").where(Machine.install_id == "bob-home").execute()
    for acc in (brand, both, orphan):
        post = posts.add_post(f"for {acc.display_name}")
        # due in three hours (the warning looks 24 h ahead)
        schedules.schedule(post.id, acc, now + timedelta(hours=3), clock=FakeClock(now))
    views = {v.account: v for v in team.publishers()}
    assert views["brand-x"].live == ("Alice's computer",)
    assert views["both"].live == ("Alice's computer", "Bob's computer")
    assert views["orphan"].live == () and views["orphan"].gone == ()
    warned = {w.account: w.message for w in team.warnings()}
    assert list(warned) == ["orphan"]
    assert "no machine holds its token" in warned["orphan"]

    _stale("alice-home", beats=3 * 60)  # three hours of missed beats at 60 s
    warned = {w.account: w.message for w in team.warnings()}
    assert warned["brand-x"] == (
        "nobody can publish for 'brand-x' right now: Alice's computer, which holds its "
        "token, was last seen 3 h ago"
    )
    assert "both" not in warned  # bob holds it too
    assert team.publishers()[0].as_json()["other_machines"][0]["machine"] == "Alice's computer"
    # a post due later than a day ahead is no reason to warn yet
    ScheduledPost.update(next_attempt_at=now + timedelta(days=2)).where(
        ScheduledPost.account == brand.id
    ).execute()
    assert "brand-x" not in {w.account for w in team.warnings()}


def test_a_paused_machine_is_alive_but_publishes_nothing_and_the_team_is_told(
    qtbot, db, alice, bob, clock, scripted, monkeypatch
):
    from milton_desktop.engine.runner import Runner

    brand = _account("brand-x", alice)
    both = _account("both", alice, bob)
    now = team.server_now()
    bob.heartbeat()
    monkeypatch.setenv(team.LABEL_ENV, "Alice's computer")  # every beat of hers says so
    runner = Runner(alice, interval_s=60, clock=clock, auto_backup=False)
    runner.start()
    try:
        qtbot.waitUntil(lambda: Machine.select().count() == 2, timeout=5000)
        for acc in (brand, both):
            post = posts.add_post(f"for {acc.display_name}")
            schedules.schedule(post.id, acc, now + timedelta(hours=3), clock=FakeClock(now))
        assert team.warnings() == []

        runner.set_paused(True)
        qtbot.waitUntil(
            lambda: Machine.get(Machine.install_id == "alice-home").paused, timeout=5000
        )
        warned = {w.account: w.message for w in team.warnings()}
        assert list(warned) == ["brand-x"]  # bob still publishes "both"
        assert warned["brand-x"].startswith(
            "nobody can publish for 'brand-x' right now: publishing is paused on "
            "Alice's computer, which holds its token"
        )
        views = {v.account: v for v in team.publishers()}
        assert views["brand-x"].as_json()["paused_machines"] == ["Alice's computer"]
        assert len(views["both"].live) == 1  # bob, not the paused alice
        # paused is alive: its claims are not anybody else's to settle
        assert "alice-home" not in team.stale_machines()

        runner.set_paused(False)
        qtbot.waitUntil(
            lambda: not Machine.get(Machine.install_id == "alice-home").paused, timeout=5000
        )
        assert team.warnings() == []
    finally:
        runner.stop(5)


def test_a_running_scheduler_beats_and_a_clean_stop_is_offline_at_once(qtbot, db, alice, clock):
    from milton_desktop.engine.runner import Runner

    acc = _account("brand", alice)

    def row():
        return Machine.get_or_none(Machine.install_id == "alice-home")

    runner = Runner(alice, interval_s=1, clock=clock, auto_backup=False)
    runner.start()
    try:
        qtbot.waitUntil(lambda: row() is not None, timeout=10_000)
        first = row().last_seen_at
        assert row().online and row().interval_s == 1
        assert json.loads(row().accounts) == [acc.id]
        qtbot.waitUntil(lambda: row().last_seen_at > first, timeout=10_000)  # the next beat
    finally:
        runner.stop(5)
    assert not row().online


def test_a_stale_machines_answer_that_comes_after_all_is_recorded_as_published(
    db, alice, bob, clock, scripted
):
    """Alice's laptop slept mid-publish: Bob took her claim for abandoned (uncertain);
    then her answer came. The platform's answer wins, and says what it corrects."""
    from milton_desktop.domain.content import Published

    acc = _account("shared", alice, bob)
    sid = _due(clock, acc)
    clock.advance(timedelta(minutes=1))
    alice.heartbeat()
    bob.heartbeat()
    told = []

    def meanwhile_bob_gives_up_on_her():
        _stale("alice-home")
        told.extend(bob.recover_interrupted())

    scripted.script = [meanwhile_bob_gives_up_on_her, Published("77", "https://x.com/s/77")]
    assert alice.claim(sid)
    outcome = alice.execute(sid)
    assert [o.status for o in told] == ["uncertain"]
    assert (outcome.status, outcome.earlier) == ("published", "uncertain")
    assert "marked uncertain earlier, but it did publish" in outcome.warning
    row = _row(sid)
    assert (row.status, row.remote_url) == ("published", "https://x.com/s/77")
    assert bob.publish_due() == []  # and nobody sends it again
    assert len(scripted.calls) == 1
