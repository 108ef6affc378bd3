"""The accounts dialog against the fake platforms: paste a token, sign in, reconnect, remove."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import keyring
import keyring.backends.fail
import pytest
import requests
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QLabel

from milton_desktop.storage import queries, settings
from milton_desktop.storage.credentials import CredentialMissing, CredentialStore
from milton_desktop.storage.models import Account, ScheduledPost
from milton_desktop.ui.accounts.dialog import ERROR_COLOUR, AccountsDialog, ConnectDialog
from tests.fakes.linkedin import PAGE_SCOPES, FakeLinkedIn
from tests.fakes.x import FakeX


@pytest.fixture
def fake_x(monkeypatch):
    fake = FakeX()
    fake.add_user("2244994945", "XDevelopers", "X Developers", token="good-token")
    with fake:
        monkeypatch.setenv("MILTON_X_API_BASE", fake.url)
        yield fake


def _dialog(qtbot, creds, **kwargs) -> AccountsDialog:
    dlg = AccountsDialog(creds, **kwargs)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def _open_connect(qtbot, dlg: AccountsDialog) -> ConnectDialog:
    dlg.connect_button.click()
    return _wizard(dlg)


def _wizard(dlg: AccountsDialog) -> ConnectDialog:
    # a finished wizard lingers until its deferred delete: take the one on screen
    shown = [w for w in dlg.findChildren(ConnectDialog) if w.isVisible()]
    assert len(shown) == 1
    return shown[0]


def _select(dlg: AccountsDialog, name: str) -> None:
    for row in range(dlg.table.rowCount()):
        if dlg.table.item(row, 0).text() == name:
            dlg.table.selectRow(row)
            return
    raise AssertionError(f"no row {name!r}")


def _rows(dlg: AccountsDialog) -> list[list[str]]:
    return [
        [dlg.table.item(r, c).text() for c in range(dlg.table.columnCount())]
        for r in range(dlg.table.rowCount())
    ]


def test_lists_accounts_with_state_and_token_health(qtbot, accounts, creds):
    acc = accounts["x"]
    acc.token_expires_at = datetime(2031, 7, 1, 8, 0, tzinfo=UTC)
    acc.save()
    accounts["linkedin"].status = "needs_reconnect"
    accounts["linkedin"].save()
    dlg = _dialog(qtbot, creds)
    rows = {r[0]: r for r in _rows(dlg)}
    assert rows["My X"][1:4] == ["X", "@x", "Connected"]
    assert rows["My X"][4].startswith("Expires in ") and "(renewed by Milton)" in rows["My X"][4]
    x_row = next(r for r in range(dlg.table.rowCount()) if dlg.table.item(r, 0).text() == "My X")
    tip = dlg.table.item(x_row, 4).toolTip()
    assert "Expires 1 Jul 2031, 10:00 CEST" in tip  # Europe/Paris, summer time
    assert "Milton renews it before it expires" in tip
    assert rows["Work LinkedIn"][3] == "Needs reconnecting"
    assert rows["Studio IG"][4] == "Renewed by Milton"  # expiry unknown, renewed weekly
    assert not dlg.reconnect_button.isEnabled()
    _select(dlg, "My X")
    assert dlg.reconnect_button.isEnabled() and dlg.remove_button.isEnabled()


def test_empty_state_says_what_to_do(qtbot, db, creds):
    dlg = _dialog(qtbot, creds)
    assert dlg.stack.currentWidget() is dlg.empty_label
    assert "Connect…" in dlg.empty_label.text()


def test_paste_token_connects_through_a_worker(qtbot, db, creds, fake_x):
    dlg = _dialog(qtbot, creds)
    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["x"].setChecked(True)
    wizard.name_edit.setText("Brand X")
    wizard.token_choice.click()
    assert "2 hours" in wizard.token_hint.text()  # says what a pasted X token is worth
    wizard.token_edit.setText("  good-token ")
    with qtbot.waitSignal(wizard.connected, timeout=10000) as blocker:
        wizard.connect_token_button.click()
        assert wizard.busy.isVisible()  # the check runs off the GUI thread
        assert "Checking the token with X" in wizard.busy.label.text()
    acc = Account.get_by_id(blocker.args[0])
    assert (acc.display_name, acc.platform, acc.username, acc.remote_id, acc.status) == (
        "Brand X",
        "x",
        "XDevelopers",
        "2244994945",
        "connected",
    )
    assert creds.load("x", acc.id).access_token == "good-token"
    assert fake_x.calls("GET /2/users/me")
    assert [r[0] for r in _rows(dlg)] == ["Brand X"]
    assert dlg.table.selectedItems()[0].text() == "Brand X"


def test_pasted_token_without_a_name_gets_one(qtbot, db, creds, fake_x):
    dlg = _dialog(qtbot, creds)
    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["x"].setChecked(True)
    wizard.token_choice.click()
    wizard.token_edit.setText("good-token")
    with qtbot.waitSignal(wizard.connected, timeout=10000):
        wizard.connect_token_button.click()
    assert Account.get().display_name == "X @XDevelopers"


def test_refused_token_is_explained_inline(qtbot, db, creds, fake_x):
    dlg = _dialog(qtbot, creds)
    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["x"].setChecked(True)
    wizard.token_choice.click()
    wizard.token_edit.setText("wrong-token")
    wizard.connect_token_button.click()
    qtbot.waitUntil(lambda: wizard.error_label.isVisible(), timeout=10000)
    assert "refused the token" in wizard.error_label.text()
    assert wizard.error_label.text()[0].isupper()
    assert not wizard.busy.isVisible()
    assert wizard.connect_token_button.isEnabled()
    assert Account.select().count() == 0


def test_taken_name_is_refused_before_any_network_call(qtbot, accounts, creds, fake_x):
    dlg = _dialog(qtbot, creds)
    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["x"].setChecked(True)
    wizard.name_edit.setText("My X")
    wizard.token_choice.click()
    wizard.token_edit.setText("good-token")
    wizard.connect_token_button.click()
    assert "already exists" in wizard.error_label.text()
    assert wizard.page == ConnectDialog.PAGE_CHOOSE
    assert fake_x.calls("GET /2/users/me") == []


def test_same_platform_account_twice_points_to_reconnect(qtbot, db, creds, fake_x):
    dlg = _dialog(qtbot, creds)
    for attempt in range(2):
        wizard = _open_connect(qtbot, dlg)
        wizard.platform_buttons["x"].setChecked(True)
        wizard.token_choice.click()
        wizard.token_edit.setText("good-token")
        if attempt == 0:
            with qtbot.waitSignal(wizard.connected, timeout=10000):
                wizard.connect_token_button.click()
        else:
            wizard.connect_token_button.click()
            qtbot.waitUntil(lambda w=wizard: w.error_label.isVisible(), timeout=10000)
    assert "already connected as “X @XDevelopers”" in wizard.error_label.text()
    assert "reconnect that one instead" in wizard.error_label.text()
    assert Account.select().count() == 1


def test_reconnect_with_a_token_marks_the_account_connected(qtbot, accounts, creds, fake_x):
    fake_x.add_user("42", "x", "Same user", token="fresh-token")
    acc = accounts["x"]
    acc.status = "needs_reconnect"
    acc.save()
    dlg = _dialog(qtbot, creds)
    _select(dlg, "My X")
    dlg.reconnect_button.click()
    wizard = _wizard(dlg)
    assert not wizard.platform_buttons["linkedin"].isEnabled()  # the platform is fixed
    wizard.token_choice.click()
    wizard.token_edit.setText("fresh-token")
    with qtbot.waitSignal(wizard.connected, timeout=10000):
        wizard.connect_token_button.click()
    assert Account.get_by_id(acc.id).status == "connected"
    assert creds.load("x", acc.id).access_token == "fresh-token"
    assert dict((r[0], r[3]) for r in _rows(dlg))["My X"] == "Connected"


def test_reconnect_as_another_user_is_refused(qtbot, accounts, creds, fake_x):
    dlg = _dialog(qtbot, creds)
    _select(dlg, "My X")
    dlg.reconnect_button.click()
    wizard = _wizard(dlg)
    wizard.token_choice.click()
    wizard.token_edit.setText("good-token")  # belongs to @XDevelopers, not user 42
    wizard.connect_token_button.click()
    qtbot.waitUntil(lambda: wizard.error_label.isVisible(), timeout=10000)
    assert "You signed in as @XDevelopers" in wizard.error_label.text()
    assert creds.load("x", accounts["x"].id).access_token == "token-x"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_browser_sign_in_connects(qtbot, db, creds, fake_x):
    fake_x.add_client("native-app")
    opened: list[str] = []

    def browser(url: QUrl) -> bool:
        # runs on the GUI thread, as QDesktopServices.openUrl would; the "browser"
        # then follows the consent page's redirect on its own thread
        opened.append(url.toString())

        def follow(target: str = url.toString()) -> None:
            with requests.Session() as session:
                session.trust_env = False
                session.get(target, timeout=10)

        threading.Thread(target=follow, daemon=True).start()
        return True

    dlg = _dialog(qtbot, creds, open_url=browser)
    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["x"].setChecked(True)
    wizard.browser_choice.click()
    port = _free_port()
    wizard.port_spin.setValue(port)
    assert wizard.redirect_edit.text() == f"http://127.0.0.1:{port}/callback"
    assert "optional" in wizard.secret_label.text()
    wizard.client_id_edit.setText("native-app")
    with qtbot.waitSignal(wizard.connected, timeout=15000) as blocker:
        wizard.sign_in_button.click()
        assert "allow access in your browser" in wizard.busy.label.text()
    assert opened and opened[0].startswith(fake_x.url + "/i/oauth2/authorize?")
    acc = Account.get_by_id(blocker.args[0])
    assert acc.username == "XDevelopers"
    cred = creds.load("x", acc.id)
    assert cred.refresh_token and cred.client_id == "native-app"
    assert acc.token_expires_at is not None
    # the client id and port are remembered for next time; the secret is not
    assert settings.get_internal("oauth_app_x") == {"client_id": "native-app", "port": port}


def test_stop_waiting_for_the_browser(qtbot, db, creds, fake_x):
    fake_x.add_client("native-app")
    dlg = _dialog(qtbot, creds, open_url=lambda url: True)  # the user never approves
    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["x"].setChecked(True)
    wizard.browser_choice.click()
    wizard.port_spin.setValue(_free_port())
    wizard.client_id_edit.setText("native-app")
    wizard.sign_in_button.click()
    qtbot.waitUntil(lambda: wizard.fallback_label.isVisible(), timeout=5000)
    assert "open the sign-in page" in wizard.fallback_label.text()
    assert wizard.cancel_button.text() == "Stop waiting"
    wizard.cancel_button.click()
    qtbot.waitUntil(lambda: wizard.error_label.isVisible(), timeout=5000)
    assert "Sign-in stopped" in wizard.error_label.text()
    assert wizard.sign_in_button.isEnabled()
    assert Account.select().count() == 0


def test_linkedin_browser_sign_in_needs_the_secret(qtbot, db, creds):
    dlg = _dialog(qtbot, creds)
    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["linkedin"].setChecked(True)
    wizard.browser_choice.click()
    assert wizard.secret_label.text() == "Client secret:"
    wizard.client_id_edit.setText("abc")
    wizard.sign_in_button.click()
    assert "client secret" in wizard.error_label.text()
    assert not wizard.busy.isVisible()


def test_remove_deletes_token_and_retires_account(qtbot, accounts, creds):
    dlg = _dialog(qtbot, creds)
    asked: list[str] = []
    dlg.confirm = lambda title, text, ok: asked.append(text) or True
    _select(dlg, "My X")
    dlg.remove_button.click()
    qtbot.waitUntil(lambda: Account.get_by_id(accounts["x"].id).status == "removed")
    qtbot.waitUntil(lambda: not dlg.busy.isVisible())
    assert Account.get_by_id(accounts["x"].id).display_name == "My X (removed)"
    assert "My X" in asked[0] and "scheduled" not in asked[0]
    with pytest.raises(CredentialMissing):
        creds.load("x", accounts["x"].id)
    assert sorted(r[0] for r in _rows(dlg)) == ["Studio IG", "Work LinkedIn"]


def test_remove_warns_about_waiting_posts(qtbot, accounts, creds, make_schedule, later):
    row = make_schedule("hello", later, platform="x")
    dlg = _dialog(qtbot, creds)
    asked: list[str] = []
    dlg.confirm = lambda title, text, ok: asked.append(text) or False  # the user says no
    _select(dlg, "My X")
    dlg.remove_button.click()
    assert (
        "1 scheduled post that is still live: the waiting and missed ones will be cancelled"
        in asked[0]
    )
    assert Account.get_or_none(Account.id == accounts["x"].id) is not None

    dlg.confirm = lambda *a: True
    dlg.remove_button.click()
    # confirmed: the waiting post is cancelled with the reason, and stays visible
    qtbot.waitUntil(lambda: ScheduledPost.get_by_id(row.id).status == "cancelled")
    assert ScheduledPost.get_by_id(row.id).error_message == (
        "cancelled: the account “My X” was removed"
    )
    assert [r.id for r in queries.list_schedules("cancelled")] == [row.id]


@pytest.fixture
def no_keyring(db):
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_no_keyring_banner_and_session_only_tokens(qtbot, no_keyring, fake_x):
    creds = CredentialStore(settings.install_id(), allow_memory_fallback=True)
    dlg = _dialog(qtbot, creds)
    qtbot.waitUntil(lambda: dlg.keyring_banner.isVisible(), timeout=5000)
    text = dlg.keyring_label.text()
    assert "tokens are kept for this session only" in text
    assert "No working system keyring was found" in text  # KEYRING_HELP, as a sentence
    assert "gnome-keyring" in text

    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["x"].setChecked(True)
    wizard.token_choice.click()
    wizard.token_edit.setText("good-token")
    with qtbot.waitSignal(wizard.connected, timeout=10000) as blocker:
        wizard.connect_token_button.click()
    assert creds.memory_only
    assert creds.load("x", blocker.args[0]).access_token == "good-token"

    dlg.confirm = lambda *a: True
    _select(dlg, "X @XDevelopers")
    dlg.remove_button.click()  # nothing in a keyring to delete: still removable
    qtbot.waitUntil(lambda: Account.select().where(Account.status != "removed").count() == 0)
    assert not dlg.error_label.isVisible()


def test_secure_keyring_shows_no_banner(qtbot, accounts, creds):
    dlg = _dialog(qtbot, creds)
    with qtbot.waitSignal(dlg.accounts_changed, timeout=500, raising=False):
        pass  # give the keyring check time to come back
    assert not dlg.keyring_banner.isVisible()


def test_expired_expiry_is_marked(qtbot, accounts, creds):
    acc = accounts["linkedin"]
    acc.token_expires_at = datetime.now(UTC) - timedelta(days=2)
    acc.save()
    dlg = _dialog(qtbot, creds)
    assert dict((r[0], r[4]) for r in _rows(dlg))["Work LinkedIn"] == "Expired: reconnect"


def test_keyring_that_refuses_a_token_brings_the_banner(qtbot, db, fake_x):
    import keyring.backend
    import keyring.errors

    class Locked(keyring.backend.KeyringBackend):
        priority = 1  # looks like a real keyring, but is locked

        def get_password(self, service, username):
            return None

        def set_password(self, service, username, password):
            raise keyring.errors.KeyringLocked("locked")

        def delete_password(self, service, username):
            raise keyring.errors.PasswordDeleteError(username)

    previous = keyring.get_keyring()
    keyring.set_keyring(Locked())
    try:
        creds = CredentialStore(settings.install_id(), allow_memory_fallback=True)
        dlg = _dialog(qtbot, creds)
        wizard = _open_connect(qtbot, dlg)
        wizard.platform_buttons["x"].setChecked(True)
        wizard.token_choice.click()
        wizard.token_edit.setText("good-token")
        with qtbot.waitSignal(wizard.connected, timeout=10000):
            wizard.connect_token_button.click()
        assert dlg.keyring_banner.isVisible()
        assert "session only" in dlg.keyring_label.text()
    finally:
        keyring.set_keyring(previous)


def test_confirmed_removal_ends_as_the_command_line_does(
    qtbot, accounts, creds, make_schedule, later, memory_keyring
):
    """Remove… then Remove in the confirmation is `account remove NAME --force`
    (tests/test_cli.py): the same end state, row by row."""
    acc = accounts["x"]
    waiting = make_schedule("waiting", later, platform="x")
    done = make_schedule("already out", later + timedelta(days=1), platform="x")
    ScheduledPost.update(status="published", remote_url="https://x.example/1").where(
        ScheduledPost.id == done.id
    ).execute()
    dlg = _dialog(qtbot, creds)
    asked: list[str] = []
    dlg.confirm = lambda title, text, ok: asked.append(text) or True
    _select(dlg, "My X")
    with qtbot.waitSignal(dlg.accounts_changed, timeout=10000):
        dlg.remove_button.click()

    # the confirmation is where the window asks what --force says on the command line
    assert "1 scheduled post that is still live" in asked[0] and "will be cancelled" in asked[0]
    assert not dlg.error_label.isVisible()
    row = ScheduledPost.get_by_id(waiting.id)
    assert (row.status, row.error_message) == (
        "cancelled",
        "cancelled: the account “My X” was removed",
    )
    row = ScheduledPost.get_by_id(done.id)
    assert (row.status, row.remote_url) == ("published", "https://x.example/1")
    retired = Account.get_by_id(acc.id)
    assert (retired.status, retired.display_name) == ("removed", "My X (removed)")
    assert [a.display_name for a in queries.list_accounts()] == ["Studio IG", "Work LinkedIn"]
    assert creds.key("x", acc.id) not in {user for _service, user in memory_keyring.store}
    with pytest.raises(CredentialMissing):
        creds.load("x", acc.id)
    assert "My X" not in [r[0] for r in _rows(dlg)]


def test_a_token_that_cannot_be_renewed_is_flagged_a_week_before_it_expires(qtbot, accounts, creds):
    soon = datetime.now(UTC) + timedelta(days=3, hours=1)
    accounts["linkedin"].token_expires_at = soon
    accounts["linkedin"].save()
    dlg = _dialog(qtbot, creds)
    rows = {r[0]: r for r in _rows(dlg)}
    assert rows["Work LinkedIn"][4] == "Expires in 3 days: reconnect"
    row = [r for r in range(dlg.table.rowCount()) if dlg.table.item(r, 0).text() == "Work LinkedIn"]
    item = dlg.table.item(row[0], 4)
    assert "cannot be renewed from here: reconnect before it expires" in item.toolTip()
    assert item.foreground().color().name() == ERROR_COLOUR


# ---------------------------------------------------------------- LinkedIn pages


@pytest.fixture
def fake_linkedin(monkeypatch):
    fake = FakeLinkedIn()
    with fake:
        monkeypatch.setenv("MILTON_LINKEDIN_API_BASE", fake.url)
        yield fake


def _paste_for_pages(qtbot, dlg: AccountsDialog, token: str) -> ConnectDialog:
    """Connect… → LinkedIn, post as pages, paste ``token``: up to the page step."""
    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["linkedin"].setChecked(True)
    assert wizard.post_as_row.isVisible()
    wizard.post_as_pages.setChecked(True)
    assert not wizard.name_edit.isEnabled()  # each page is named after itself
    wizard.token_choice.click()
    assert "w_organization_social" in wizard.token_hint.text()
    wizard.token_edit.setText(token)
    wizard.connect_token_button.click()
    qtbot.waitUntil(lambda: wizard.page == ConnectDialog.PAGE_PAGES, timeout=10000)
    return wizard


def test_post_as_is_offered_only_where_there_are_pages(qtbot, db, creds):
    dlg = _dialog(qtbot, creds)
    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["x"].setChecked(True)
    assert not wizard.post_as_row.isVisible() and not wizard.wants_pages()
    wizard.platform_buttons["linkedin"].setChecked(True)
    assert wizard.post_as_row.isVisible() and wizard.post_as_self.isChecked()


def test_a_member_connects_two_pages_as_two_accounts(qtbot, db, creds, fake_linkedin):
    token = fake_linkedin.add_member("782bbtaQ", "Jo Writer", scopes=PAGE_SCOPES)
    fake_linkedin.add_organization(123, "Milton Studio", "milton-studio", admins=["782bbtaQ"])
    fake_linkedin.add_organization(456, "Milton Press", admins=["782bbtaQ"])
    fake_linkedin.add_organization(789, "Not Mine", admins=["someone-else"])
    dlg = _dialog(qtbot, creds)
    wizard = _paste_for_pages(qtbot, dlg, token)
    assert "signed in to LinkedIn as Jo Writer" in wizard.pages_intro.text()
    checks = [check for check, _page in wizard.page_checks]
    assert [c.text() for c in checks] == ["Milton Studio", "Milton Press"]
    assert not wizard.connect_pages_button.isEnabled()  # nothing chosen yet
    for check in checks:
        check.setChecked(True)
    assert wizard.connect_pages_button.text() == "Connect 2 pages"
    with qtbot.waitSignals([wizard.connected, wizard.connected], timeout=10000):
        wizard.connect_pages_button.click()
    made = list(Account.select().order_by(Account.id))
    assert [(a.display_name, a.remote_id, a.status) for a in made] == [
        ("LinkedIn Milton Studio", "urn:li:organization:123", "connected"),
        ("LinkedIn Milton Press", "urn:li:organization:456", "connected"),
    ]
    assert [creds.load("linkedin", a.id).access_token for a in made] == [token, token]
    assert sorted((r[0], r[2]) for r in _rows(dlg)) == [
        # the page's name as LinkedIn gives it, with its vanity name where it has one
        ("LinkedIn Milton Press", "Milton Press"),
        ("LinkedIn Milton Studio", "Milton Studio (@milton-studio)"),
    ]
    assert not wizard.isVisible()


def test_a_member_without_pages_is_told_and_can_connect_as_themselves(
    qtbot, db, creds, fake_linkedin
):
    token = fake_linkedin.add_member("782bbtaQ", "Jo Writer", scopes=PAGE_SCOPES)
    dlg = _dialog(qtbot, creds)
    wizard = _paste_for_pages(qtbot, dlg, token)
    assert "you administer no LinkedIn page" in wizard.pages_intro.text()
    assert wizard.page_checks == [] and not wizard.connect_pages_button.isVisible()
    assert wizard.as_myself_button.isVisible() and wizard.as_myself_button.hasFocus()
    assert Account.select().count() == 0  # nothing until the user says so
    with qtbot.waitSignal(wizard.connected, timeout=10000) as blocker:
        wizard.as_myself_button.click()
    acc = Account.get_by_id(blocker.args[0])
    assert (acc.remote_id, acc.display_name) == ("782bbtaQ", "LinkedIn Jo Writer")


def test_cancel_at_the_page_step_stores_nothing(qtbot, db, creds, fake_linkedin, memory_keyring):
    token = fake_linkedin.add_member("782bbtaQ", "Jo Writer", scopes=PAGE_SCOPES)
    fake_linkedin.add_organization(123, "Milton Studio", admins=["782bbtaQ"])
    dlg = _dialog(qtbot, creds)
    wizard = _paste_for_pages(qtbot, dlg, token)
    wizard.page_checks[0][0].setChecked(True)
    wizard.cancel_button.click()
    assert not wizard.isVisible()
    assert Account.select().count() == 0
    assert memory_keyring.store == {}
    assert _rows(dlg) == []


def test_a_token_without_page_permissions_is_explained(qtbot, db, creds, fake_linkedin):
    token = fake_linkedin.add_member("782bbtaQ", "Jo Writer")  # member scopes only
    dlg = _dialog(qtbot, creds)
    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["linkedin"].setChecked(True)
    wizard.post_as_pages.setChecked(True)
    wizard.token_choice.click()
    wizard.token_edit.setText(token)
    wizard.connect_token_button.click()
    qtbot.waitUntil(lambda: wizard.error_label.isVisible(), timeout=10000)
    assert "Could not list your LinkedIn pages" in wizard.error_label.text()
    assert "connect again and allow them" in wizard.error_label.text()
    assert wizard.page == ConnectDialog.PAGE_TOKEN
    assert Account.select().count() == 0


def test_browser_sign_in_for_pages_asks_for_the_page_permissions(qtbot, db, creds, fake_linkedin):
    fake_linkedin.add_member("782bbtaQ", "Jo Writer")
    fake_linkedin.add_organization(123, "Milton Studio", admins=["782bbtaQ"])
    opened: list[str] = []

    def browser(url: QUrl) -> bool:
        opened.append(url.toString())

        def follow(target: str = url.toString()) -> None:
            with requests.Session() as session:
                session.trust_env = False
                session.get(target, timeout=10)

        threading.Thread(target=follow, daemon=True).start()
        return True

    dlg = _dialog(qtbot, creds, open_url=browser)
    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["linkedin"].setChecked(True)
    wizard.post_as_pages.setChecked(True)
    wizard.browser_choice.click()
    wizard.port_spin.setValue(_free_port())
    wizard.client_id_edit.setText(FakeLinkedIn.CLIENT_ID)
    wizard.client_secret_edit.setText(FakeLinkedIn.CLIENT_SECRET)
    wizard.sign_in_button.click()
    qtbot.waitUntil(lambda: wizard.page == ConnectDialog.PAGE_PAGES, timeout=15000)
    scope = parse_qs(urlsplit(opened[0]).query)["scope"][0].split()
    assert set(scope) == set(PAGE_SCOPES)
    assert Account.select().count() == 0  # signed in, nothing stored yet
    wizard.page_checks[0][0].setChecked(True)
    with qtbot.waitSignal(wizard.connected, timeout=10000) as blocker:
        wizard.connect_pages_button.click()
    acc = Account.get_by_id(blocker.args[0])
    assert acc.remote_id == "urn:li:organization:123"
    granted = creds.load("linkedin", acc.id).extra["scope"]
    assert "w_organization_social" in granted


def test_reconnecting_a_page_account_takes_a_token_of_its_admin(qtbot, db, creds, fake_linkedin):
    token = fake_linkedin.add_member("782bbtaQ", "Jo Writer", scopes=PAGE_SCOPES)
    fake_linkedin.add_organization(123, "Milton Studio", "milton-studio", admins=["782bbtaQ"])
    dlg = _dialog(qtbot, creds)
    wizard = _paste_for_pages(qtbot, dlg, token)
    wizard.page_checks[0][0].setChecked(True)
    with qtbot.waitSignal(wizard.connected, timeout=10000) as blocker:
        wizard.connect_pages_button.click()
    page_id = blocker.args[0]
    Account.update(status="needs_reconnect").where(Account.id == page_id).execute()
    dlg.refresh()

    fresh = fake_linkedin.issue_token("782bbtaQ", PAGE_SCOPES)
    _select(dlg, "LinkedIn Milton Studio")
    dlg.reconnect_button.click()
    wizard = _wizard(dlg)
    assert not wizard.post_as_row.isVisible()  # a page account stays a page account
    wizard.token_choice.click()
    assert "w_organization_social" in wizard.token_hint.text()
    wizard.token_edit.setText(fresh)
    with qtbot.waitSignal(wizard.connected, timeout=10000):
        wizard.connect_token_button.click()
    acc = Account.get_by_id(page_id)
    assert (acc.status, acc.remote_id) == ("connected", "urn:li:organization:123")
    assert creds.load("linkedin", page_id).access_token == fresh


# ---------------------------------------------------------------- names, expiry, offline, size


def test_a_linkedin_member_is_shown_by_name_not_by_member_id(qtbot, db, creds, fake_linkedin):
    token = fake_linkedin.add_member("mK3x9QpL2a", "Ada Lovelace")
    dlg = _dialog(qtbot, creds)
    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["linkedin"].setChecked(True)
    wizard.name_edit.setText("Work")
    wizard.token_choice.click()
    wizard.token_edit.setText(token)
    with qtbot.waitSignal(wizard.connected, timeout=10000):
        wizard.connect_token_button.click()
    assert Account.get().profile_name == "Ada Lovelace"
    [row] = _rows(dlg)
    assert row[:3] == ["Work", "LinkedIn", "Ada Lovelace"]
    assert "mK3x9QpL2a" not in " ".join(row)
    # a pasted LinkedIn token comes with no expiry date: say what happens instead
    assert row[4] == "No expiry given: Milton warns if it stops"
    tip = dlg.table.item(0, 4).toolTip()
    assert "LinkedIn did not say when this token expires" in tip
    assert "needs reconnecting" in tip


def test_an_account_from_before_names_were_kept_asks_for_a_reconnect(qtbot, accounts, creds):
    accounts["linkedin"].username = accounts["linkedin"].remote_id  # as LinkedIn stored it
    accounts["linkedin"].save()
    dlg = _dialog(qtbot, creds)
    rows = {r[0]: r for r in _rows(dlg)}
    assert rows["Work LinkedIn"][2] == "Name not known yet (reconnect to show it)"
    _select(dlg, "Work LinkedIn")
    dlg.reconnect_button.click()
    assert (
        "the same LinkedIn member as before"
        in _wizard(dlg).findChild(QLabel, "reconnectIntro").text()
    )


def test_the_token_page_is_tall_enough_for_its_text(qtbot, db, creds):
    dlg = _dialog(qtbot, creds)
    wizard = _open_connect(qtbot, dlg)
    for platform in ("linkedin", "x", "instagram"):
        wizard._on_back_clicked()
        wizard.platform_buttons[platform].setChecked(True)
        wizard.token_choice.click()
        hint = wizard.token_hint
        assert hint.height() >= hint.heightForWidth(hint.width()), platform
        assert wizard.height() > 145
        # nothing below the hint is pushed out of the dialog either
        bottom = wizard.cancel_button.mapTo(wizard, wizard.cancel_button.rect().bottomLeft())
        assert bottom.y() <= wizard.height()


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_offline_says_nothing_was_connected_and_try_again_works(
    qtbot, db, creds, fake_x, monkeypatch
):
    monkeypatch.setenv("MILTON_X_API_BASE", _closed_port())  # nothing listens there
    dlg = _dialog(qtbot, creds)
    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["x"].setChecked(True)
    wizard.token_choice.click()
    wizard.token_edit.setText("good-token")
    wizard.connect_token_button.click()
    qtbot.waitUntil(lambda: wizard.error_label.isVisible(), timeout=10000)
    text = wizard.error_label.text()
    assert "could not reach X, so nothing was connected" in text
    assert "Try again" in text and "will retry" not in text
    assert wizard.retry_button.isVisible()
    assert Account.select().count() == 0
    monkeypatch.setenv("MILTON_X_API_BASE", fake_x.url)  # back online
    with qtbot.waitSignal(wizard.connected, timeout=10000):
        wizard.retry_button.click()
    assert Account.get().username == "XDevelopers"


@pytest.fixture
def fake_bluesky(monkeypatch):
    from tests.fakes.bluesky import FakeBluesky

    fake = FakeBluesky()
    fake.add_account("alice.test", "abcd-efgh-ijkl-mnop", did="did:plc:u5cwb2mwiv2bfq53cjufe6yn")
    with fake:
        monkeypatch.setenv("MILTON_BLUESKY_API_BASE", fake.url)
        yield fake


def test_bluesky_asks_for_the_handle_with_the_app_password(qtbot, db, creds, fake_bluesky):
    dlg = _dialog(qtbot, creds)
    wizard = _open_connect(qtbot, dlg)
    wizard.platform_buttons["bluesky"].setChecked(True)
    assert not wizard.browser_choice.isVisible()  # no browser sign-in here
    assert wizard.token_choice.text() == "Paste an app password"
    wizard.token_choice.click()
    assert wizard.login_edit.isVisible()
    assert wizard.token_form.labelForField(wizard.login_edit).text() == "Handle:"
    wizard.token_edit.setText("abcd-efgh-ijkl-mnop")
    wizard.connect_token_button.click()
    assert "handle" in wizard.error_label.text()  # asked for before any network call
    assert not fake_bluesky.requests
    wizard.login_edit.setText("alice.test")
    with qtbot.waitSignal(wizard.connected, timeout=10000) as blocker:
        wizard.connect_token_button.click()
    acc = Account.get_by_id(blocker.args[0])
    assert (acc.platform, acc.username, acc.remote_id) == (
        "bluesky",
        "alice.test",
        "did:plc:u5cwb2mwiv2bfq53cjufe6yn",
    )
    kept = creds.load("bluesky", acc.id)
    assert kept.extra["app_password"] == "abcd-efgh-ijkl-mnop" and kept.refresh_token
    # and the row is hidden again for a platform that takes the token alone
    wizard2 = _open_connect(qtbot, dlg)
    wizard2.platform_buttons["x"].setChecked(True)
    wizard2.token_choice.click()
    assert not wizard2.login_edit.isVisible() and not wizard2.browser_choice.isHidden()
