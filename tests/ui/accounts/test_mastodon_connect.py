"""Connecting a Mastodon account in the window: the server's address, then a pasted token."""

from __future__ import annotations

import pytest

from milton_desktop.storage.models import Account
from milton_desktop.ui.accounts.dialog import AccountsDialog, ConnectDialog
from tests.fakes.mastodon import FakeMastodon


@pytest.fixture
def fake_mastodon():
    with FakeMastodon() as fake:
        fake.add_user("109876", "milton", "Milton HQ", token="good-token")
        yield fake


def _wizard(qtbot, creds) -> ConnectDialog:
    dlg = AccountsDialog(creds)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.connect_button.click()
    (wizard,) = [w for w in dlg.findChildren(ConnectDialog) if w.isVisible()]
    wizard.platform_buttons["mastodon"].setChecked(True)
    return wizard


def test_mastodon_offers_the_token_with_its_server(qtbot, db, creds, fake_mastodon):
    wizard = _wizard(qtbot, creds)
    assert not wizard.browser_choice.isVisible()  # no browser sign-in for Mastodon yet
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
    assert not wizard.browser_choice.isVisible()
    wizard.platform_buttons["x"].setChecked(True)
    assert wizard.browser_choice.isVisible()  # X signs in with the browser
    wizard.token_choice.click()
    assert not wizard.instance_edit.isVisible()
