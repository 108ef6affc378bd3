"""Connecting, reconnecting and removing accounts over a real SQLite file and real
keyring backends (keyring's in-memory pattern, its fail backend, and small backends that
refuse or block): the account row and its token always move together."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.credential import Credential, Identity
from milton_desktop.domain.errors import Hint, OperationFailed, UserError
from milton_desktop.operations import accounts, posts, repeats, schedules
from milton_desktop.paths import resolve_paths
from milton_desktop.storage import settings
from milton_desktop.storage.credentials import (
    SERVICE,
    CredentialMissing,
    CredentialStore,
    KeyringUnavailable,
)
from milton_desktop.storage.models import (
    Account,
    PublishingResult,
    Recurrence,
    ScheduledPost,
    database,
)
from tests.fakes.linkedin import PAGE_SCOPES, FakeLinkedIn

#: how long to wait for another thread; a pass never waits this long
WAIT = 30.0

MILTON = Identity("42", "milton", "Milton HQ")


class StoreKeyring(keyring.backend.KeyringBackend):
    """A working keyring kept in a dict, whose calls can be made to refuse or to block.

    ``refuse``: an exception each call raises. ``hold``: each call first waits for
    ``proceed`` (an unlock prompt the user has not answered yet), after setting ``entered``.
    """

    priority = 1  # type: ignore[assignment]  # a real, secure keyring as far as Milton knows

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}
        self.refuse: BaseException | None = None
        self.hold = False
        self.entered = threading.Event()
        self.proceed = threading.Event()

    def _call(self) -> None:
        if self.hold:
            self.entered.set()
            assert self.proceed.wait(WAIT), "the test never let the keyring answer"
        if self.refuse is not None:
            raise self.refuse

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self._call()
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self._call()
        if (service, username) not in self.store:
            raise keyring.errors.PasswordDeleteError(username)
        del self.store[(service, username)]


@pytest.fixture
def backend(db) -> Iterator[StoreKeyring]:
    previous = keyring.get_keyring()
    kr = StoreKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


@pytest.fixture
def creds(backend) -> CredentialStore:
    return CredentialStore(settings.install_id())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def work(creds) -> Account:
    """A connected X account with a token, the way the window and the CLI add one."""
    return accounts.connect_account(creds, "x", "Work X", Credential("tok-work"), MILTON)


def _tokens(backend: StoreKeyring) -> list[str]:
    return sorted(user for service, user in backend.store if service == SERVICE)


def _schedule(clock: FakeClock, account: Account | str | int, text: str = "hello") -> int:
    post = posts.add_post(text)
    return schedules.schedule(post.id, account, clock.now() + timedelta(hours=1), clock=clock).id


def _set_status(sid: int, status: str) -> None:
    """Put a schedule where the scheduler (or a crash) would have left it."""
    extra = {"claimed_by": "elsewhere:1:abc"} if status == "publishing" else {}
    ScheduledPost.update(status=status, **extra).where(ScheduledPost.id == sid).execute()


def _row(sid: int) -> ScheduledPost:
    return ScheduledPost.get_by_id(sid)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["", "   ", "\t"])
def test_a_blank_name_is_refused(db, name):
    with pytest.raises(UserError, match="give the account a name"):
        accounts.check_name(name)


def test_a_name_is_stripped_and_at_most_100_characters(db):
    assert accounts.check_name("  Work LinkedIn  ") == "Work LinkedIn"
    assert accounts.check_name(" " + "x" * 100 + " ") == "x" * 100
    with pytest.raises(UserError, match="at most 100 printable characters"):
        accounts.check_name("x" * 101)


@pytest.mark.parametrize(
    "name",
    [
        "Work\nLinkedIn",
        "Work\tLinkedIn",
        "Work\rLinkedIn",
        "Nul\x00byte",
        "Red\x1b[31m",
        "Delete\x7f",  # DEL is a control character too
        "Next\x85line",  # NEL: a line break to anything that splits lines on Unicode breaks
        "Line\u2028separator",
    ],
)
def test_control_characters_are_refused(db, name):
    # a name is printed in one-line tables and messages: a control character would
    # break the line or colour the terminal
    with pytest.raises(UserError, match="printable characters"):
        accounts.check_name(name)


@pytest.mark.parametrize("name", ["Café ☕ Studio", "👩‍💻 Dev team", "Work\u00a0LinkedIn", "שלום"])
def test_printable_unicode_is_a_fine_name(db, name):
    assert accounts.check_name(name) == name


def test_a_taken_name_is_refused_except_for_the_account_itself(work):
    with pytest.raises(UserError, match="an account named “Work X” already exists"):
        accounts.check_name("Work X")
    with pytest.raises(UserError, match="already exists"):
        accounts.check_name("  Work X ")  # the same name once stripped
    assert accounts.check_name("Work X", exclude_id=work.id) == "Work X"  # renaming to itself


def test_a_removed_accounts_name_is_free_again(creds, work):
    accounts.remove_account(creds, work.id)
    assert Account.get_by_id(work.id).display_name == "Work X (removed)"
    assert accounts.check_name("Work X") == "Work X"
    again = accounts.connect_account(creds, "x", "Work X", Credential("tok-2"), MILTON)
    assert again.id != work.id and again.display_name == "Work X"
    # removed twice under one name: each retired row keeps a distinct name
    accounts.remove_account(creds, again.id)
    assert Account.get_by_id(again.id).display_name == "Work X (removed) 2"


# ---------------------------------------------------------------- connecting


def test_connect_stores_the_row_and_the_token(creds, backend):
    acc = accounts.connect_account(creds, "linkedin", "", Credential("tok-li"), MILTON)
    assert (acc.display_name, acc.platform, acc.remote_id, acc.status) == (
        "LinkedIn @milton",  # a name is suggested when none is given
        "linkedin",
        "42",
        "connected",
    )
    assert creds.load("linkedin", acc.id).access_token == "tok-li"
    assert _tokens(backend) == [creds.key("linkedin", acc.id)]


def test_the_same_platform_user_twice_is_refused_until_removed(creds, work):
    with pytest.raises(UserError, match="already connected as “Work X”: reconnect that one"):
        accounts.connect_account(creds, "x", "Other X", Credential("tok-2"), MILTON)
    assert Account.select().count() == 1
    accounts.remove_account(creds, work.id)
    accounts.connect_account(creds, "x", "Other X", Credential("tok-2"), MILTON)


def _locked_backend() -> keyring.backend.KeyringBackend:
    kr = StoreKeyring()
    kr.refuse = keyring.errors.KeyringLocked("the keyring is locked")
    return kr


def _broken_backend() -> keyring.backend.KeyringBackend:
    kr = StoreKeyring()
    kr.refuse = RuntimeError("D-Bus went away")
    return kr


@pytest.mark.parametrize(
    ("make_backend", "error", "message"),
    [
        (keyring.backends.fail.Keyring, OperationFailed, "the account was not added"),
        (_locked_backend, OperationFailed, "the account was not added"),
        (_broken_backend, RuntimeError, "D-Bus went away"),
    ],
    ids=["no keyring", "locked keyring", "keyring error"],
)
def test_connect_leaves_nothing_when_the_keyring_refuses(
    db, make_backend: Callable[[], keyring.backend.KeyringBackend], error, message
):
    refusing = make_backend()
    previous = keyring.get_keyring()
    keyring.set_keyring(refusing)
    try:
        creds = CredentialStore(settings.install_id())
        with pytest.raises(error, match=message):
            accounts.connect_account(creds, "x", "Work X", Credential("tok-work"), MILTON)
        assert Account.select().count() == 0
        assert getattr(refusing, "store", {}) == {}
    finally:
        keyring.set_keyring(previous)
    # Once the keyring works, the same name and the same user connect normally.
    working = StoreKeyring()
    keyring.set_keyring(working)
    try:
        acc = accounts.connect_account(
            CredentialStore(settings.install_id()), "x", "Work X", Credential("t"), MILTON
        )
        assert acc.display_name == "Work X"
    finally:
        keyring.set_keyring(previous)


@pytest.mark.sqlite_only("probes the home file's write lock with sqlite3")
@pytest.mark.parametrize("operation", ["connect", "reconnect", "remove"])
def test_no_write_lock_is_held_while_the_keyring_is_asked(creds, backend, operation):
    """The keyring may sit on an unlock prompt for minutes; the scheduler (another
    connection, maybe another process) must be able to commit meanwhile."""
    if operation != "connect":
        acc = accounts.connect_account(creds, "x", "Work X", Credential("tok-old"), MILTON)
    calls: dict[str, Callable[[], object]] = {
        "connect": lambda: accounts.connect_account(
            creds, "x", "Work X", Credential("tok-new"), MILTON
        ),
        "reconnect": lambda: accounts.reconnect_account(
            creds, acc.id, Credential("tok-new"), MILTON
        ),
        "remove": lambda: accounts.remove_account(creds, acc.id),
    }
    failures: list[BaseException] = []

    def run() -> None:
        with database.connection_context():
            try:
                calls[operation]()
            except BaseException as exc:
                failures.append(exc)

    backend.hold = True
    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert backend.entered.wait(WAIT), "the keyring was never asked"
        other = sqlite3.connect(resolve_paths().db_path, timeout=2)
        try:
            other.execute("INSERT INTO settings (key, value) VALUES ('_probe', '1')")
            other.commit()  # "database is locked" here means a transaction spans the keyring call
        finally:
            other.close()
    finally:
        backend.proceed.set()
        worker.join(WAIT)
    assert failures == []
    assert settings.get_internal("probe") == 1
    (acc,) = Account.select()
    if operation == "remove":
        assert acc.status == "removed" and _tokens(backend) == []
    else:
        assert acc.status == "connected"
        assert creds.load("x", acc.id).access_token == "tok-new"


# ---------------------------------------------------------------- reconnecting


def test_reconnect_replaces_the_token_and_clears_needs_reconnect(creds, work):
    Account.update(status="needs_reconnect").where(Account.id == work.id).execute()
    acc = accounts.reconnect_account(creds, work.id, Credential("tok-fresh"), MILTON)
    assert acc.status == "connected"
    assert creds.load("x", work.id).access_token == "tok-fresh"


def test_reconnect_refuses_a_token_of_another_platform_user(creds, work):
    Account.update(status="needs_reconnect").where(Account.id == work.id).execute()
    stranger = Identity("99", "someone_else")
    with pytest.raises(UserError) as refused:
        accounts.reconnect_account(creds, work.id, Credential("tok-stranger"), stranger)
    message = str(refused.value)
    assert "you signed in as @someone_else" in message and "“Work X” is @milton" in message
    # nothing changed: the old token stays, and the account still asks to be reconnected
    assert creds.load("x", work.id).access_token == "tok-work"
    acc = Account.get_by_id(work.id)
    assert (acc.status, acc.remote_id, acc.username) == ("needs_reconnect", "42", "milton")


def test_reconnect_with_a_refusing_keyring_leaves_the_account_as_it_was(creds, backend, work):
    Account.update(status="needs_reconnect").where(Account.id == work.id).execute()
    backend.refuse = keyring.errors.KeyringLocked("locked")
    with pytest.raises(OperationFailed, match="the account was not reconnected"):
        accounts.reconnect_account(creds, work.id, Credential("tok-fresh"), MILTON)
    assert Account.get_by_id(work.id).status == "needs_reconnect"
    backend.refuse = None
    assert creds.load("x", work.id).access_token == "tok-work"


def test_a_removed_account_cannot_be_reconnected(creds, work):
    accounts.remove_account(creds, work.id)
    with pytest.raises(UserError, match="no longer exists"):
        accounts.reconnect_account(creds, work.id, Credential("tok-fresh"), MILTON)
    with pytest.raises(CredentialMissing):
        creds.load("x", work.id)


# ---------------------------------------------------------------- removing


@pytest.mark.parametrize("status", ["pending", "missed", "uncertain", "publishing"])
def test_remove_refuses_while_a_post_is_live(creds, backend, clock, work, status):
    sid = _schedule(clock, work)
    _set_status(sid, status)
    with pytest.raises(UserError, match="1 scheduled post is still live on “Work X”") as refused:
        accounts.remove_account(creds, work.id, clock=clock)
    assert refused.value.hint is Hint.FORCE_REMOVE  # each front end words "force" its own way
    acc = Account.get_by_id(work.id)
    assert (acc.status, acc.display_name) == ("connected", "Work X")
    assert _row(sid).status == status
    assert creds.load("x", work.id).access_token == "tok-work"


def test_forced_removal_cancels_live_posts_and_keeps_history(creds, backend, clock, work):
    other = accounts.connect_account(
        creds, "linkedin", "Other", Credential("tok-other"), Identity("7", "other")
    )
    pending, missed, uncertain = (_schedule(clock, work, t) for t in ("p", "m", "u"))
    published, failed = _schedule(clock, work, "done"), _schedule(clock, work, "bad")
    elsewhere = _schedule(clock, other, "keeps going")
    _set_status(missed, "missed")
    _set_status(uncertain, "uncertain")
    ScheduledPost.update(
        status="published", remote_url="https://x.com/milton/status/1", published_at=clock.now()
    ).where(ScheduledPost.id == published).execute()
    PublishingResult.create(
        schedule=published, attempt=1, started_at=clock.now(), outcome="published"
    )
    _set_status(failed, "failed")
    repeat = repeats.schedule_repeating(
        posts.add_post("weekly").id,
        work,
        datetime(2026, 1, 13, 10, 0),
        "Europe/Paris",
        "FREQ=WEEKLY;BYDAY=TU",
        clock=clock,
    )
    occurrences = [r.id for r in repeat.schedules]
    assert occurrences  # the next weeks are already pending rows

    cancelled = accounts.remove_account(creds, work.id, force=True, clock=clock)

    assert cancelled == 2 + len(occurrences)
    note = "cancelled: the account “Work X” was removed"
    for sid in (pending, missed, *occurrences):
        assert (_row(sid).status, _row(sid).error_message) == ("cancelled", note)
    # it may be on the platform: it stays for the user to settle, and can be marked published
    assert _row(uncertain).status == "uncertain"
    schedules.resolve_uncertain(uncertain, published=True, clock=clock)
    assert _row(uncertain).status == "published"
    # history stays as it was
    assert (_row(published).status, _row(published).remote_url) == (
        "published",
        "https://x.com/milton/status/1",
    )
    assert PublishingResult.select().where(PublishingResult.schedule == published).count() == 1
    assert _row(failed).status == "failed"
    # the account is retired, its repeat stopped, its token gone; the other one untouched
    acc = Account.get_by_id(work.id)
    assert (acc.status, acc.display_name) == ("removed", "Work X (removed)")
    assert Recurrence.get_by_id(repeat.id).active is False
    assert repeats.materialize(clock.now() + timedelta(days=30)).created == ()
    with pytest.raises(CredentialMissing):
        creds.load("x", work.id)
    assert _tokens(backend) == [creds.key("linkedin", other.id)]
    assert _row(elsewhere).status == "pending"


def test_forced_removal_still_waits_for_a_post_being_published(creds, backend, clock, work):
    publishing, pending = _schedule(clock, work, "going out"), _schedule(clock, work, "later")
    _set_status(publishing, "publishing")
    with pytest.raises(UserError, match="is being published right now; try again in a moment"):
        accounts.remove_account(creds, work.id, force=True, clock=clock)
    # refused means nothing happened: the publish in flight and the posts after it
    # still have their account and its token
    acc = Account.get_by_id(work.id)
    assert (acc.status, acc.display_name) == ("connected", "Work X")
    assert (_row(publishing).status, _row(pending).status) == ("publishing", "pending")
    assert creds.load("x", work.id).access_token == "tok-work"

    _set_status(publishing, "published")  # the publish ended
    assert accounts.remove_account(creds, work.id, force=True, clock=clock) == 1


def test_a_removed_account_is_gone_from_lookups_and_scheduling(creds, clock, work):
    post = posts.add_post("hello")
    accounts.remove_account(creds, work.id)
    for name in ("Work X", "Work X (removed)", work.id, str(work.id)):
        with pytest.raises(UserError, match="no account named"):
            accounts.get_account(name)
        with pytest.raises(UserError, match="no account named"):
            schedules.schedule(post.id, name, clock.now() + timedelta(hours=1), clock=clock)
    assert accounts.find_account(work.id) is None
    assert accounts.list_accounts() == []
    with pytest.raises(UserError, match="no account named"):
        repeats.schedule_repeating(
            post.id, "Work X", datetime(2026, 1, 13, 10), "UTC", "FREQ=DAILY", clock=clock
        )
    with pytest.raises(UserError, match="no account named"):
        accounts.remove_account(creds, work.id)  # not twice
    assert ScheduledPost.select().count() == 0


def test_a_removed_accounts_posts_cannot_go_out_again(creds, clock, work):
    failed = _schedule(clock, work, "failed before")
    _set_status(failed, "failed")
    pending = _schedule(clock, work, "cancelled by removal")
    accounts.remove_account(creds, work.id, force=True, clock=clock)
    later = clock.now() + timedelta(hours=2)
    refusals: list[Callable[[], object]] = [
        lambda: schedules.publish_now(failed, clock=clock),
        lambda: schedules.reschedule(failed, later, clock=clock),
        lambda: schedules.update_schedule(failed, when=later, clock=clock),
        lambda: schedules.restore(pending, "pending"),  # an undo of the cancellation
    ]
    for refused in refusals:
        with pytest.raises(UserError, match="“Work X \\(removed\\)”, which was removed"):
            refused()
    assert (_row(failed).status, _row(pending).status) == ("failed", "cancelled")


# ---------------------------------------------------------------- crash windows


def test_an_account_is_not_connected_until_its_token_is_stored(creds, backend):
    """Killed between the row and the keyring (an unlock prompt left open, then the
    process ended), the account asks to be reconnected; it never fails at publish time."""
    seen: list[str] = []
    real = backend.set_password

    def set_password(service, username, password):
        seen.append(Account.get().status)  # what a crash at this instant would leave
        real(service, username, password)

    backend.set_password = set_password
    acc = accounts.connect_account(creds, "x", "Work X", Credential("tok-1"), MILTON)
    assert seen == ["needs_reconnect"]
    assert Account.get_by_id(acc.id).status == "connected"


def test_adding_again_after_such_a_crash_reconnects_the_same_account(creds, backend):
    Account.create(
        platform="x",
        display_name="Work X",
        username="milton",
        remote_id=MILTON.remote_id,
        status="needs_reconnect",
    )
    assert accounts.check_new_name("x", "Work X") == "Work X"  # the CLI's early check
    acc = accounts.connect_account(creds, "x", "Work X", Credential("tok-2"), MILTON)
    assert Account.select().count() == 1
    assert Account.get_by_id(acc.id).status == "connected"
    assert creds.load("x", acc.id).access_token == "tok-2"


def test_a_held_snapshot_of_a_removed_account_never_means_another_one(creds, clock, work):
    # an account named like a number, from before such names were refused
    Account.create(platform="linkedin", display_name=str(work.id), remote_id="9")
    accounts.remove_account(creds, work.id)
    with pytest.raises(UserError, match="no account named"):
        _schedule(clock, work)  # not the LinkedIn account that happens to be named "1"


@pytest.mark.sqlite_only("a plain thread's connection is left open by design here")
def test_reconnecting_cannot_bring_back_a_removed_account(creds, backend, work):
    backend.hold = True
    result: list[BaseException] = []

    def reconnect():
        try:
            accounts.reconnect_account(creds, work.id, Credential("tok-new"), MILTON)
        except BaseException as exc:
            result.append(exc)

    worker = threading.Thread(target=reconnect)
    worker.start()
    assert backend.entered.wait(WAIT)
    # the removal lands while the keyring prompt is open
    Account.update(status="removed", display_name="Work X (removed)").where(
        Account.id == work.id
    ).execute()
    backend.hold = False
    backend.proceed.set()
    worker.join(WAIT)
    assert result and "removed meanwhile" in str(result[0])
    assert Account.get_by_id(work.id).status == "removed"
    assert _tokens(backend) == []


# ---------------------------------------------------------------- LinkedIn pages


@pytest.fixture
def linkedin() -> Iterator[tuple[FakeLinkedIn, str]]:
    """A fake LinkedIn whose member administers two pages; yields it and their token."""
    with FakeLinkedIn() as fake:
        token = fake.add_member("782bbtaQ", "Jo Writer", scopes=PAGE_SCOPES)
        fake.add_organization(123, "Milton Studio", "milton-studio", admins=["782bbtaQ"])
        fake.add_organization(456, "Milton Press", admins=["782bbtaQ"])
        fake.add_organization(789, "Someone Else Co", admins=["other"])
        yield fake, token


def test_list_pages_gives_the_pages_the_member_administers(db, linkedin):
    fake, token = linkedin
    pages = accounts.list_pages("linkedin", Credential(token), fake.url)
    assert [(p.remote_id, p.display_name) for p in pages] == [
        ("urn:li:organization:123", "Milton Studio"),
        ("urn:li:organization:456", "Milton Press"),
    ]


def test_list_pages_refuses_a_platform_without_pages(db):
    with pytest.raises(UserError, match="cannot post as a page"):
        accounts.list_pages("x", Credential("tok"))


def test_list_pages_turns_a_platform_refusal_into_operation_failed(db, linkedin):
    fake, _ = linkedin
    member_only = fake.add_member("782bbtaQ", "Jo Writer")  # no page permissions
    with pytest.raises(OperationFailed, match="could not list your LinkedIn pages"):
        accounts.list_pages("linkedin", Credential(member_only), fake.url)


def test_connect_pages_adds_one_account_per_page_with_the_members_token(creds, backend, linkedin):
    fake, token = linkedin
    pages = accounts.list_pages("linkedin", Credential(token), fake.url)
    views = accounts.connect_pages(creds, "linkedin", Credential(token), pages, fake.url)
    assert [(v.display_name, v.remote_id, v.status) for v in views] == [
        ("LinkedIn Milton Studio", "urn:li:organization:123", "connected"),
        ("LinkedIn Milton Press", "urn:li:organization:456", "connected"),
    ]
    assert [creds.load("linkedin", v.id).access_token for v in views] == [token, token]
    assert {a.api_base for a in Account.select()} == {fake.url}


def test_connect_pages_takes_back_the_pages_before_one_that_fails(
    creds, backend, linkedin, monkeypatch
):
    fake, token = linkedin
    pages = accounts.list_pages("linkedin", Credential(token), fake.url)
    saved = creds.save

    def save_once(platform: str, account_id: int, credential: Credential) -> None:
        if backend.store:  # the second page: the keyring now refuses
            raise KeyringUnavailable("the keyring is locked")
        saved(platform, account_id, credential)

    monkeypatch.setattr(creds, "save", save_once)
    with pytest.raises(OperationFailed, match="was not added"):
        accounts.connect_pages(creds, "linkedin", Credential(token), pages, fake.url)
    assert Account.select().count() == 0
    assert _tokens(backend) == []


def test_connect_pages_refuses_an_already_connected_page_before_storing_any(
    creds, backend, linkedin
):
    fake, token = linkedin
    studio, press = accounts.list_pages("linkedin", Credential(token), fake.url)
    accounts.connect_pages(creds, "linkedin", Credential(token), [press], fake.url)
    with pytest.raises(UserError, match="Milton Press is already connected"):
        accounts.connect_pages(creds, "linkedin", Credential(token), [studio, press], fake.url)
    assert [a.remote_id for a in Account.select()] == ["urn:li:organization:456"]
    assert len(_tokens(backend)) == 1


def test_connect_pages_needs_a_page(creds):
    with pytest.raises(UserError, match="at least one page"):
        accounts.connect_pages(creds, "linkedin", Credential("tok"), [])


def test_a_page_account_is_reconnected_by_an_admin_of_the_page(creds, linkedin):
    fake, token = linkedin
    (studio,) = [
        p
        for p in accounts.list_pages("linkedin", Credential(token), fake.url)
        if p.display_name == "Milton Studio"
    ]
    (view,) = accounts.connect_pages(creds, "linkedin", Credential(token), [studio], fake.url)
    assert accounts.posts_as_page(view)
    fresh = fake.add_member("782bbtaQ", "Jo Writer", scopes=PAGE_SCOPES)
    member = Identity("782bbtaQ", "782bbtaQ", "Jo Writer")
    again = accounts.reconnect_account(creds, view.id, Credential(fresh), member)
    assert again.remote_id == "urn:li:organization:123"
    assert creds.load("linkedin", view.id).access_token == fresh

    outsider = fake.add_member("other", "Other Admin", scopes=PAGE_SCOPES)
    with pytest.raises(UserError, match="you do not administer the page"):
        accounts.reconnect_account(
            creds, view.id, Credential(outsider), Identity("other", "other", "Other Admin")
        )
    assert creds.load("linkedin", view.id).access_token == fresh


def test_a_member_account_is_not_a_page(creds, work):
    assert not accounts.posts_as_page(accounts.get_account(work.id))


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example.com/",
        "http://127.0.0.1:8080",
        "http://127.9.9.9",
        "http://[::1]:9",
        "http://localhost",
    ],
)
def test_a_token_may_go_over_https_or_to_this_computer(url):
    assert accounts.check_api_base(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://api.example.com",
        "http://10.0.0.5",
        "http://127.0.0.1.example.com",
        "ftp://127.0.0.1",
        "https://",
        "http://[::1",
        "nonsense",
    ],
)
def test_a_token_never_travels_unencrypted_to_another_host(url):
    with pytest.raises(UserError):
        accounts.check_api_base(url)


def test_a_number_never_names_an_account_and_an_old_one_is_never_confused(creds, clock, work):
    with pytest.raises(UserError, match="would read as an account id"):
        accounts.check_name("42")
    legacy = Account.create(platform="linkedin", display_name=str(work.id), remote_id="9")
    with pytest.raises(UserError, match="is both the id of “Work X” and the name of account"):
        accounts.get_account(str(work.id))
    assert accounts.get_account(str(legacy.id)).id == legacy.id  # its own id still works
    assert accounts.get_account("Work X").id == work.id
