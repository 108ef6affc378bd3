"""Connecting a Mastodon account in the window: the server's address, then a browser
sign-in (Milton registers itself on the instance) or a pasted token; and Threads,
which has no browser sign-in and says why."""

from __future__ import annotations

import json
import socket
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from PySide6.QtCore import QUrl

from milton_desktop.domain.credential import Credential
from milton_desktop.storage import settings
from milton_desktop.storage.credentials import SERVICE
from milton_desktop.storage.models import Account
from milton_desktop.ui.accounts.dialog import AccountsDialog, ConnectDialog
from tests.fakes.mastodon import FakeMastodon


@pytest.fixture
def fake_mastodon():
    with FakeMastodon() as fake:
        fake.add_user("109876", "milton", "Milton HQ", token="good-token")
        yield fake


def _wizard(qtbot, creds, **kwargs) -> ConnectDialog:
    dlg = AccountsDialog(creds, **kwargs)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.connect_button.click()
    (wizard,) = [w for w in dlg.findChildren(ConnectDialog) if w.isVisible()]
    wizard.platform_buttons["mastodon"].setChecked(True)
    return wizard


def test_mastodon_offers_the_token_with_its_server(qtbot, db, creds, fake_mastodon):
    wizard = _wizard(qtbot, creds)
    wizard.token_choice.click()
    assert wizard.instance_edit.isVisible()
    wizard.token_edit.setText("good-token")
    wizard.connect_token_button.click()
    assert "server" in wizard.error_label.text()  # no address: asked for it, nothing sent
    assert fake_mastodon.requests == []
    fake_mastodon.max_characters = 1000
    wizard.instance_edit.setText(fake_mastodon.url)
    with qtbot.waitSignal(wizard.connected, timeout=10000) as blocker:
        wizard.connect_token_button.click()
    acc = Account.get_by_id(blocker.args[0])
    assert (acc.platform, acc.username, acc.api_base) == (
        "mastodon",
        "milton@fake.social",
        fake_mastodon.url,
    )
    assert acc.tier and acc.tier.startswith("i1000.")


def test_other_platforms_do_not_ask_for_a_server(qtbot, db, creds):
    wizard = _wizard(qtbot, creds)
    wizard.platform_buttons["x"].setChecked(True)
    wizard.browser_choice.click()
    assert not wizard.browser_instance_edit.isVisible()
    assert wizard.client_id_edit.isVisible()  # X signs in with the user's developer app
    wizard.back_button.click()
    wizard.token_choice.click()
    assert not wizard.instance_edit.isVisible()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Browser:
    """Opens on the GUI thread, as QDesktopServices would; follows the consent page
    (the fake approves at once) to the loopback redirect on a thread of its own."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    def __call__(self, url: QUrl) -> bool:
        target = url.toString(QUrl.ComponentFormattingOption.FullyEncoded)
        self.opened.append(target)

        def follow() -> None:
            with requests.Session() as session:
                session.trust_env = False
                session.get(target, timeout=10)

        threading.Thread(target=follow, daemon=True).start()
        return True


def test_mastodon_signs_in_with_the_browser_without_a_client_id(
    qtbot, db, creds, memory_keyring, fake_mastodon
):
    fake_mastodon.max_characters = 3000
    browser = _Browser()
    wizard = _wizard(qtbot, creds, open_url=browser)
    assert wizard.browser_choice.isVisible()
    assert "registers itself" in wizard.browser_choice.description()
    wizard.browser_choice.click()
    # the user is never asked for a client id, a secret or a redirect to register
    assert wizard.browser_instance_edit.isVisible()
    for widget in (wizard.client_id_edit, wizard.client_secret_edit, wizard.redirect_edit):
        assert not widget.isVisible()
    assert "registers itself" in wizard.browser_intro.text()
    wizard.sign_in_button.click()
    assert "server" in wizard.error_label.text()  # no address: asked for it, nothing sent
    assert fake_mastodon.requests == []
    port = _free_port()
    wizard.port_spin.setValue(port)
    wizard.browser_instance_edit.setText(fake_mastodon.url)
    with qtbot.waitSignal(wizard.connected, timeout=15000) as blocker:
        wizard.sign_in_button.click()
        assert "allow access in your browser" in wizard.busy.label.text()
    acc = Account.get_by_id(blocker.args[0])
    assert (acc.platform, acc.username, acc.api_base) == (
        "mastodon",
        "milton@fake.social",
        fake_mastodon.url,
    )
    assert acc.tier and acc.tier.startswith("i3000.")  # the instance's limits, as pasted
    (app,) = fake_mastodon.apps.values()
    assert app.redirect_uris == [f"http://127.0.0.1:{port}/callback"]
    page = {k: v[-1] for k, v in parse_qs(urlsplit(browser.opened[0]).query).items()}
    assert page["client_id"] == app.client_id and page["code_challenge_method"] == "S256"
    token = creds.load("mastodon", acc.id)
    assert token.expires_at is None and token.client_id == app.client_id
    # the port is remembered, the registration's secret only in the keyring
    assert settings.get_internal("oauth_app_mastodon") == {"port": port}
    kept = [
        json.loads(v)
        for (service, user), v in memory_keyring.store.items()
        if service == SERVICE and user.startswith("mastodon-app:")
    ]
    assert [k["client_secret"] for k in kept] == [app.secret]


def test_reconnecting_a_mastodon_account_reuses_the_registration(
    qtbot, db, creds, memory_keyring, fake_mastodon
):
    port = _free_port()
    settings.set_internal("oauth_app_mastodon", {"port": port})
    acc = Account.create(
        platform="mastodon", display_name="Toots", username="milton@fake.social",
        remote_id="109876", api_base=fake_mastodon.url, status="needs_reconnect",
    )  # fmt: skip
    creds.save("mastodon", acc.id, Credential("revoked-token"))
    from milton_desktop.storage.queries import AccountView

    for round_ in range(2):
        dlg = ConnectDialog(creds, account=AccountView.of(acc), open_url=_Browser())
        qtbot.addWidget(dlg)
        dlg.show()
        dlg.browser_choice.click()
        assert not dlg.browser_instance_edit.isVisible()  # the account's server is known
        assert fake_mastodon.url in dlg.browser_intro.text()
        with qtbot.waitSignal(dlg.connected, timeout=15000):
            dlg.sign_in_button.click()
        assert Account.get_by_id(acc.id).status == "connected", round_
    assert len(fake_mastodon.calls("POST /api/v1/apps")) == 1
    assert fake_mastodon.force_logins == [False, False]  # the signed-in user is the one


def test_threads_says_why_there_is_no_browser_sign_in(qtbot, db, creds):
    wizard = _wizard(qtbot, creds)
    wizard.platform_buttons["threads"].setChecked(True)
    assert not wizard.browser_choice.isVisible()
    note = wizard.no_browser_label
    assert note.isVisible()
    assert "https://" in note.text() and "127.0.0.1" in note.text()
    assert "Paste a long-lived Threads token" in note.text()
    wizard.token_choice.click()
    assert "th_exchange_token" in wizard.token_hint.text()  # how to get a 60-day token
    wizard.back_button.click()
    wizard.platform_buttons["instagram"].setChecked(True)
    assert wizard.browser_choice.isVisible() and not wizard.no_browser_label.isVisible()
