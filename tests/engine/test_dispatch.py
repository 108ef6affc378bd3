"""The dispatcher over a real SQLite file and the real Engine: accounts publish side by
side, one account never has two publishes in flight, a stop lets the publish in flight
finish and claims nothing more, and every result is reported once.

The publisher is a small in-test one whose publish waits until the test lets it go,
so "in flight" is a state the test holds, not a moment it tries to catch with sleeps.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.content import Published
from milton_desktop.domain.credential import Credential, Identity
from milton_desktop.engine.dispatch import Dispatcher
from milton_desktop.engine.machine import Engine, EngineConfig, Outcome
from milton_desktop.operations import posts, schedules
from milton_desktop.publishers import registry
from milton_desktop.publishers.base import Publisher
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Account, PublishingResult, ScheduledPost

#: how long a test waits for a worker thread to get somewhere; generous, because a
#: busy machine may take seconds to schedule a thread, and a pass never waits this long
WAIT = 30.0


class Gate:
    """Holds every publish until the test releases its text; records who was in flight."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._released: set[str] = set()
        self._open = False
        self.events: list[tuple[str, str]] = []  # ("start" | "end", text), in order
        self._active: Counter[str] = Counter()  # publishes in flight, by account
        self.max_per_account: Counter[str] = Counter()
        self.max_total = 0

    def publish(self, account: str, text: str) -> None:
        with self._cond:
            self.events.append(("start", text))
            self._active[account] += 1
            self.max_per_account[account] = max(
                self.max_per_account[account], self._active[account]
            )
            self.max_total = max(self.max_total, sum(self._active.values()))
            self._cond.notify_all()
            let_go = self._cond.wait_for(lambda: self._open or text in self._released, WAIT)
            self._active[account] -= 1
            self.events.append(("end", text))
            self._cond.notify_all()
        if not let_go:  # the test failed elsewhere; end the worker instead of hanging
            raise RuntimeError(f"publish of {text!r} was never released")

    def release(self, *texts: str) -> None:
        with self._cond:
            self._released.update(texts)
            self._cond.notify_all()

    def open(self) -> None:
        """Let every publish, present and future, through at once."""
        with self._cond:
            self._open = True
            self._cond.notify_all()

    def wait_started(self, text: str) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: ("start", text) in self.events, WAIT), (
                f"{text!r} was never published; events: {self.events}"
            )

    @property
    def started(self) -> list[str]:
        with self._cond:
            return [text for what, text in self.events if what == "start"]


class GatedPublisher(Publisher):
    """A LinkedIn-shaped publisher whose publish is held by the test's :class:`Gate`."""

    platform = "linkedin"
    default_bases = {"api": "http://127.0.0.1:9"}  # never called

    def __init__(self, gate: Gate, **kwargs) -> None:
        super().__init__(**kwargs)
        self.gate = gate

    def validate(self, content):
        return registry.validate("linkedin", content)

    def identify(self, credential):
        return Identity("1", "someone")

    def publish(self, content, credential, account, progress=None):
        self.gate.publish(account.remote_id, content.text)
        return Published(f"urn:{content.text}", f"https://linkedin.example/{content.text}")


class Outcomes:
    """An on_outcome callback that lets the test wait for results from worker threads."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.items: list[Outcome] = []

    def __call__(self, outcome: Outcome) -> None:
        with self._cond:
            self.items.append(outcome)
            self._cond.notify_all()

    def wait_for(self, *schedule_ids: int) -> None:
        def arrived() -> bool:
            return set(schedule_ids) <= {o.schedule_id for o in self.items}

        with self._cond:
            assert self._cond.wait_for(arrived, WAIT), f"outcomes so far: {self.items}"


def _wait_until(condition: Callable[[], bool]) -> None:
    """Poll a condition another thread makes true (no timing is asserted)."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def creds(db, memory_keyring) -> CredentialStore:
    return CredentialStore("test")


@pytest.fixture
def engine(db, creds, clock, gate) -> Engine:
    return Engine(
        creds,
        clock=clock,
        config=EngineConfig(grace=timedelta(hours=2)),
        publisher_factory=lambda platform, api_base=None: GatedPublisher(gate),
        rng=random.Random(7),
    )


@pytest.fixture
def two_accounts(db, creds) -> tuple[Account, Account]:
    made = []
    for name in ("A", "B"):
        acc = Account.create(
            platform="linkedin", display_name=f"Account {name}", username=name, remote_id=name
        )
        creds.save("linkedin", acc.id, Credential(f"token-{name}"))
        made.append(acc)
    return made[0], made[1]


@pytest.fixture
def make_dispatcher(engine, gate) -> Iterator[Callable[..., Dispatcher]]:
    made: list[Dispatcher] = []

    def make(on_outcome: Callable[[Outcome], None], **kwargs) -> Dispatcher:
        dispatcher = Dispatcher(engine, on_outcome, **kwargs)
        made.append(dispatcher)
        return dispatcher

    yield make
    # Whatever a failing test left held goes through, so no worker outlives the database.
    gate.open()
    for dispatcher in made:
        dispatcher.shutdown(timeout=WAIT)
        _wait_until(lambda d=dispatcher: d.in_flight() == 0)


def _schedule(clock: FakeClock, account: Account, text: str, minutes: int = 10) -> int:
    post = posts.add_post(text)
    return schedules.schedule(
        post.id, account, clock.now() + timedelta(minutes=minutes), clock=clock
    ).id


def _row(sid: int) -> ScheduledPost:
    return ScheduledPost.get_by_id(sid)


def test_accounts_publish_side_by_side_but_one_account_one_post_at_a_time(
    clock, gate, two_accounts, make_dispatcher
):
    a, b = two_accounts
    a1 = _schedule(clock, a, "a1", minutes=10)
    a2 = _schedule(clock, a, "a2", minutes=11)
    b1 = _schedule(clock, b, "b1", minutes=10)
    clock.advance(timedelta(minutes=12))
    outcomes = Outcomes()
    dispatcher = make_dispatcher(outcomes)

    assert dispatcher.dispatch_due() == 2  # one worker per account with due work
    # B's post goes out while A's first one is still in flight: the accounts run in parallel
    gate.wait_started("a1")
    gate.wait_started("b1")
    assert dispatcher.busy_accounts() == {a.id, b.id}

    # Another tick while A is busy starts nothing for A, and A's next post stays unclaimed.
    assert dispatcher.dispatch_due() == 0
    assert (_row(a2).status, _row(a2).attempts) == ("pending", 0)

    gate.release("b1")
    outcomes.wait_for(b1)
    # B's worker is free now, but A's second post still waits for A's first
    assert (_row(a2).status, _row(a2).attempts) == ("pending", 0)
    assert "a2" not in gate.started

    gate.release("a1")
    gate.wait_started("a2")  # A's own worker takes its next due post by itself
    gate.release("a2")
    outcomes.wait_for(a1, a2, b1)
    _wait_until(lambda: dispatcher.in_flight() == 0)

    assert gate.max_per_account == {"A": 1, "B": 1}
    assert gate.max_total == 2
    events = gate.events
    assert events.index(("end", "a1")) < events.index(("start", "a2"))
    # each post reported once, published once, with one attempt on record
    assert sorted(o.schedule_id for o in outcomes.items) == sorted([a1, a2, b1])
    assert {o.schedule_id: o.status for o in outcomes.items} == {
        a1: "published",
        a2: "published",
        b1: "published",
    }
    for sid in (a1, a2, b1):
        assert (_row(sid).status, _row(sid).attempts) == ("published", 1)
        assert PublishingResult.select().where(PublishingResult.schedule == sid).count() == 1


def test_stop_lets_the_publish_in_flight_finish_and_claims_nothing_more(
    clock, gate, two_accounts, make_dispatcher
):
    a, _b = two_accounts
    a1 = _schedule(clock, a, "a1", minutes=10)
    a2 = _schedule(clock, a, "a2", minutes=11)
    clock.advance(timedelta(minutes=12))
    outcomes = Outcomes()
    dispatcher = make_dispatcher(outcomes)
    assert dispatcher.dispatch_due() == 1
    gate.wait_started("a1")

    stopped: list[bool] = []
    stopper = threading.Thread(target=lambda: stopped.append(dispatcher.shutdown(timeout=WAIT)))
    stopper.start()
    _wait_until(lambda: dispatcher.stopping)
    # The stop waits for the publish: it is not cut off mid-request.
    assert stopper.is_alive()
    assert _row(a1).status == "publishing"

    gate.open()  # a1 may finish; a2 would go straight through too, if it were claimed
    stopper.join(WAIT)
    assert stopped == [True]
    assert _row(a1).status == "published"
    outcomes.wait_for(a1)

    # The worker saw the stop before taking A's next post: it stays pending, untouched.
    assert (_row(a2).status, _row(a2).attempts) == ("pending", 0)
    assert gate.started == ["a1"]
    assert dispatcher.dispatch_due() == 0  # a stopped dispatcher starts nothing
    assert _row(a2).status == "pending"
    assert [o.schedule_id for o in outcomes.items] == [a1]


def test_a_stop_that_runs_out_of_time_says_so_and_the_result_is_still_recorded(
    clock, gate, two_accounts, make_dispatcher
):
    a, _b = two_accounts
    a1 = _schedule(clock, a, "a1", minutes=10)
    a2 = _schedule(clock, a, "a2", minutes=11)
    clock.advance(timedelta(minutes=12))
    outcomes = Outcomes()
    dispatcher = make_dispatcher(outcomes)
    dispatcher.dispatch_due()
    gate.wait_started("a1")

    # The gate holds the publish, so no wait, however long the machine takes, sees it end.
    assert dispatcher.shutdown(timeout=0.05) is False

    gate.open()
    outcomes.wait_for(a1)
    _wait_until(lambda: dispatcher.in_flight() == 0)
    # the late publish is recorded as published, not left "publishing" (which a restart
    # would turn into "uncertain"), and nothing more was claimed
    assert _row(a1).status == "published"
    assert (_row(a2).status, _row(a2).attempts) == ("pending", 0)
    assert gate.started == ["a1"]


def test_run_once_reports_every_result_once(clock, gate, two_accounts, make_dispatcher):
    a, b = two_accounts
    gate.open()
    late = _schedule(clock, b, "late", minutes=10)
    clock.advance(timedelta(hours=3))  # the computer was off: `late` is past the grace window
    a1 = _schedule(clock, a, "a1", minutes=1)
    a2 = _schedule(clock, a, "a2", minutes=2)
    b1 = _schedule(clock, b, "b1", minutes=1)
    clock.advance(timedelta(minutes=3))
    told: list[Outcome] = []
    dispatcher = make_dispatcher(told.append)

    returned = dispatcher.run_once()

    # run_once ticks until nothing is left, running housekeeping on every tick; the
    # missed post is still reported only once, and so is every publish
    expected = {a1: "published", a2: "published", b1: "published", late: "missed"}
    assert sorted(o.schedule_id for o in returned) == sorted(expected)
    assert {o.schedule_id: o.status for o in returned} == expected
    assert sorted(o.schedule_id for o in told) == sorted(expected)
    assert Counter(gate.started) == {"a1": 1, "a2": 1, "b1": 1}
    assert gate.max_per_account == {"A": 1, "B": 1}


def test_a_failing_outcome_handler_does_not_stop_the_account(
    clock, gate, two_accounts, make_dispatcher
):
    a, _b = two_accounts
    gate.open()
    a1 = _schedule(clock, a, "a1", minutes=10)
    a2 = _schedule(clock, a, "a2", minutes=11)
    clock.advance(timedelta(minutes=12))
    told: list[int] = []

    def notify(outcome: Outcome) -> None:
        told.append(outcome.schedule_id)
        raise RuntimeError("the notification could not be shown")

    returned = make_dispatcher(notify).run_once()

    # a broken notification is logged; the account's next post still goes out
    assert sorted(o.schedule_id for o in returned) == sorted([a1, a2])
    assert sorted(told) == sorted([a1, a2])
    assert _row(a1).status == _row(a2).status == "published"
