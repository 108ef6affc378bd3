"""Accounts: see what is connected, connect (browser sign-in or a pasted token),
reconnect and remove.

Keyring and network calls never run on the GUI thread: they go through
:func:`~milton_desktop.ui.tasks.run_in_background` and report back here, where a busy
line shows while waiting and any error is shown inline, in words.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QGuiApplication,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QCommandLinkButton,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.credential import Credential, Identity
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.redaction import redact_known
from milton_desktop.domain.status import AccountStatus
from milton_desktop.domain.timeutil import TimeInputError, get_zone, human_delta
from milton_desktop.operations import accounts, approvals, browser_sign_in
from milton_desktop.publishers import oauth, registry
from milton_desktop.publishers.base import PublishError, RateLimited, Transient
from milton_desktop.storage import queries, settings
from milton_desktop.storage.credentials import KEYRING_HELP, CredentialStore, backend_is_secure
from milton_desktop.storage.queries import AccountView
from milton_desktop.ui import tones
from milton_desktop.ui.accounts.queue_page import QueueDialog
from milton_desktop.ui.style import platform_dot
from milton_desktop.ui.tasks import run_in_background
from milton_desktop.ui.wording import sentence

log = logging.getLogger("milton.ui.accounts")

BASE = QPalette.ColorRole.Base

#: the light theme's colours; each widget takes its own from its palette (ui/tones.py)
ERROR_COLOUR = "#b3261e"
OK_COLOUR = "#1b7f3b"


def describe_error(exc: BaseException) -> str:
    """What to show the user for a failed background task, without any token the
    process knows (the platform may have echoed the one just pasted)."""
    if isinstance(exc, UserError | oauth.OAuthError | PublishError | TimeInputError):
        return sentence(redact_known(str(exc)))
    log.error("unexpected error in the accounts dialog", exc_info=exc)
    return sentence(
        redact_known(
            f"something unexpected went wrong ({type(exc).__name__}: {exc}); "
            "try again, and see the log file if it keeps happening"
        )
    )


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) says the platform could not be
    reached: nothing was connected, and the same step may simply be tried again."""
    seen: BaseException | None = exc
    for _ in range(8):  # a chain of causes, never a cycle
        if seen is None:
            return False
        if isinstance(seen, Transient | RateLimited):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def offline_message(exc: BaseException, label: str) -> str:
    """What to say when ``label`` could not be reached: no promise of a retry that
    does not happen, but what failed and the button that tries again."""
    detail = str(exc).split(": ", 1)[-1] if ": " in str(exc) else str(exc)
    detail = re.sub(r";?\s*will retry.*$", "", detail).strip()
    return sentence(
        f"Milton could not reach {label}, so nothing was connected"
        + (f" ({detail})" if detail else "")
        + ". Check your internet connection, then press Try again"
    )


def _coloured(label: QLabel, colour: str | QColor) -> QLabel:
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(colour))
    label.setPalette(palette)
    return label


def _hint(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    palette = label.palette()
    palette.setColor(
        QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText)
    )
    label.setPalette(palette)
    return label


class BusyLine(QWidget):
    """An indeterminate progress bar and a line saying what we are waiting for."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # no known end: the bar just moves
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(90)
        self.bar.setMaximumHeight(12)
        self.label = QLabel()
        self.label.setWordWrap(True)
        row.addWidget(self.bar)
        row.addWidget(self.label, 1)
        self.hide()

    def start(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    def stop(self) -> None:
        self.hide()


class _BrowserOpener(QObject):
    """Carries the consent URL from the sign-in worker to the GUI thread."""

    requested = Signal(str)


@dataclass(frozen=True)
class TokenHealth:
    """How an account's token is doing, as the accounts table shows it."""

    text: str
    tooltip: str
    #: the user has to act soon (reconnect)
    urgent: bool


def _when(value: datetime, zone: Any) -> str:
    return value.astimezone(zone).strftime("%d %b %Y, %H:%M %Z").lstrip("0")


def token_health(acc: AccountView, now: datetime, zone: Any) -> TokenHealth:
    """Expiry countdown, last renewal, and whether Milton renews it or the user must."""
    renews = accounts.renewed_by_milton(acc)
    renewed = (
        f"Last renewed {_when(acc.token_refreshed_at, zone)}."
        if acc.token_refreshed_at
        else "Not renewed yet."
    )
    how = (
        "Milton renews it before it expires."
        if renews
        else "It cannot be renewed from here: reconnect before it expires."
    )
    expires = acc.token_expires_at
    if expires is None:
        label = registry.label(acc.platform)
        if renews:
            return TokenHealth(
                "Renewed by Milton",
                f"{label} did not say when this token expires: Milton renews it regularly. "
                f"{renewed}",
                urgent=False,
            )
        return TokenHealth(
            "No expiry given: Milton warns if it stops",
            f"{label} did not say when this token expires. If {label} stops accepting it, "
            "Milton marks the account “needs reconnecting” and tells you, and its posts "
            f"wait until you reconnect. {renewed}",
            urgent=False,
        )
    left = expires - now
    exact = f"Expires {_when(expires, zone)}. {how} {renewed}"
    if left <= timedelta(0):
        return TokenHealth("Expired: reconnect", exact, urgent=True)
    text = f"Expires in {human_delta(left)}"
    urgent = accounts.must_reconnect_soon(acc, now)
    if urgent:
        text += ": reconnect"
    elif renews:
        text += " (renewed by Milton)"
    return TokenHealth(text, exact, urgent=urgent)


def _open_with_desktop(url: QUrl) -> bool:
    return QDesktopServices.openUrl(url)


def _error_label(name: str) -> QLabel:
    """A hidden, selectable red line where a dialog explains what went wrong."""
    label = QLabel()
    _coloured(label, tones.tone(label.palette(), "error"))
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


def _who(acc: AccountView) -> str:
    """Who the account is on its platform: the name it gives, and the handle if any."""
    handle = (
        f"@{acc.username.lstrip('@')}" if acc.username and acc.username != acc.remote_id else ""
    )
    name = acc.profile_name.strip()
    if name and handle and name.lstrip("@") != handle.lstrip("@"):
        return f"{name} ({handle})"
    if name or handle:
        return name or handle
    if acc.remote_id.startswith("urn:"):
        return acc.remote_id  # a page without a handle: its URN says what it is
    # connected before Milton kept names: a reconnect fills it in
    return "Name not known yet (reconnect to show it)" if acc.remote_id else "—"


def _whom(acc: AccountView) -> str:
    """:func:`_who` for a sentence: the same member, when the name is not known."""
    if acc.profile_name or (acc.username and acc.username != acc.remote_id):
        return _who(acc)
    if acc.remote_id.startswith("urn:"):
        return acc.remote_id
    return f"the same {registry.label(acc.platform)} member as before"


# ---------------------------------------------------------------- the connect wizard


class ConnectDialog(QDialog):
    """Connect a new account, or reconnect ``account``: browser sign-in or a pasted token.

    Signals:
        connected(int): the account id, after its row and token are stored.
    """

    connected = Signal(int)

    PAGE_CHOOSE, PAGE_BROWSER, PAGE_TOKEN, PAGE_PAGES = range(4)

    def __init__(
        self,
        credentials: CredentialStore,
        account: AccountView | None = None,
        parent: QWidget | None = None,
        *,
        open_url: Callable[[QUrl], bool] | None = None,
        sign_in_timeout: float = 600,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("connectDialog")
        self.credentials = credentials
        self.account = account
        self.open_url = open_url or _open_with_desktop
        self.sign_in_timeout = sign_in_timeout
        self._cancel: threading.Event | None = None
        self._busy = False
        self._opener = _BrowserOpener(self)
        self._opener.requested.connect(self._on_opener_requested)
        #: the checked sign-in while the user picks pages: credential, member, server
        self._signed_in: tuple[Credential, Identity, str | None] | None = None
        self.page_checks: list[tuple[QCheckBox, Identity]] = []

        title = (
            f"Reconnect “{account.display_name}”" if account is not None else "Connect an account"
        )
        self.setWindowTitle(title)
        self.setMinimumWidth(560)

        layout = QVBoxLayout(self)
        # Pages are shown and hidden in one layout rather than stacked: a stack does not
        # pass on the height its wrapped text needs, which then gets clipped.
        self._pages = [
            self._build_choose_page(),
            self._build_browser_page(),
            self._build_token_page(),
            self._build_pages_page(),
        ]
        for page in self._pages:
            layout.addWidget(page)
        self._page = self.PAGE_CHOOSE

        self.busy = BusyLine()
        layout.addWidget(self.busy)
        self.error_label = _error_label("connectError")
        layout.addWidget(self.error_label)

        buttons = QHBoxLayout()
        self.back_button = QPushButton("Back")
        self.back_button.clicked.connect(self._on_back_clicked)
        self.retry_button = QPushButton("Try again")
        self.retry_button.setObjectName("tryAgain")
        self.retry_button.setToolTip("Repeat the step that could not reach the platform")
        self.retry_button.clicked.connect(self._on_retry_clicked)
        self.retry_button.hide()
        #: the step to repeat after the platform could not be reached
        self._retry: Callable[[], None] | None = None
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)

        if account is not None:
            self._select_platform(account.platform)
        self._update_post_as()
        self._update_choices()
        self._show_page(self.PAGE_CHOOSE)

    # ------------------------------------------------------------ pages

    def _build_choose_page(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        if self.account is not None:
            acc = self.account
            whom = (
                f"an administrator of the page {_whom(acc)}"
                if accounts.posts_as_page(acc)
                else _whom(acc)
            )
            intro = QLabel(
                f"Sign in again to {registry.label(acc.platform)} as {whom} to give "
                f"“{acc.display_name}” a new token. Its scheduled posts stay as they are."
            )
            intro.setObjectName("reconnectIntro")
            intro.setWordWrap(True)
            box.addWidget(intro)
        form = QFormLayout()
        platform_row = QHBoxLayout()
        self.platform_group = QButtonGroup(self)
        self.platform_buttons: dict[str, QRadioButton] = {}
        for platform in registry.names():
            radio = QRadioButton(registry.label(platform))
            radio.setObjectName(f"platform_{platform}")
            self.platform_group.addButton(radio)
            self.platform_buttons[platform] = radio
            platform_row.addWidget(radio)
            radio.setEnabled(self.account is None)
        platform_row.addStretch(1)
        self.platform_buttons[registry.names()[0]].setChecked(True)
        self.platform_group.buttonToggled.connect(self._on_platform_group_toggled)
        form.addRow("Platform:", platform_row)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("accountName")
        self.name_edit.setPlaceholderText("Optional, e.g. Work LinkedIn (filled in for you)")
        self.name_edit.setMaxLength(100)
        if self.account is None:
            form.addRow("Name in Milton:", self.name_edit)
        self.post_as_row = QWidget()
        post_as = QHBoxLayout(self.post_as_row)
        post_as.setContentsMargins(0, 0, 0, 0)
        self.post_as_group = QButtonGroup(self)
        self.post_as_self = QRadioButton("&Myself")
        self.post_as_self.setObjectName("postAsSelf")
        self.post_as_self.setChecked(True)
        self.post_as_pages = QRadioButton("&Pages I administer")
        self.post_as_pages.setObjectName("postAsPages")
        for radio in (self.post_as_self, self.post_as_pages):
            self.post_as_group.addButton(radio)
            post_as.addWidget(radio)
        post_as.addStretch(1)
        self.post_as_pages.toggled.connect(self._on_post_as_pages_toggled)
        self.post_as_label = QLabel("Post as:")
        form.addRow(self.post_as_label, self.post_as_row)
        box.addLayout(form)

        box.addWidget(QLabel("How do you want to connect?"))
        self.browser_choice = QCommandLinkButton(
            "Sign in with the browser",
            "Uses a developer app you own on the platform. Recommended: tokens can be renewed.",
        )
        self.browser_choice.setObjectName("chooseBrowser")
        self.browser_choice.clicked.connect(self._on_browser_choice_clicked)
        self.token_choice = QCommandLinkButton(
            "Paste an access token",
            "If you already have a token from the platform's developer portal.",
        )
        self.token_choice.setObjectName("chooseToken")
        self.token_choice.clicked.connect(self._on_token_choice_clicked)
        # where a platform cannot sign in through the browser, it says why here
        self.no_browser_label = _hint()
        self.no_browser_label.setObjectName("noBrowserNote")
        box.addWidget(self.browser_choice)
        box.addWidget(self.no_browser_label)
        box.addWidget(self.token_choice)
        box.addStretch(1)
        return page

    def _build_browser_page(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        self.browser_intro = QLabel()
        self.browser_intro.setWordWrap(True)
        self.browser_intro.setOpenExternalLinks(True)
        self.browser_intro.setTextFormat(Qt.TextFormat.RichText)
        box.addWidget(self.browser_intro)

        redirect_row = QHBoxLayout()
        self.redirect_edit = QLineEdit()
        self.redirect_edit.setObjectName("redirectUri")
        self.redirect_edit.setReadOnly(True)
        copy = QPushButton("Copy")
        copy.clicked.connect(self._on_copy_clicked)
        redirect_row.addWidget(self.redirect_edit, 1)
        redirect_row.addWidget(copy)

        form = QFormLayout()
        self.browser_form = form
        # a platform of many servers (Mastodon) signs in on the user's own
        self.browser_instance_edit = QLineEdit()
        self.browser_instance_edit.setObjectName("browserInstance")
        self.browser_instance_edit.setPlaceholderText("mastodon.social")
        form.addRow("Server:", self.browser_instance_edit)
        self.redirect_row = QWidget()
        self.redirect_row.setLayout(redirect_row)
        redirect_row.setContentsMargins(0, 0, 0, 0)
        form.addRow("Redirect URL:", self.redirect_row)
        self.port_spin = QSpinBox()
        self.port_spin.setObjectName("port")
        self.port_spin.setRange(1024, 65535)
        self.port_spin.setValue(oauth.DEFAULT_PORT)
        self.port_spin.setMinimumWidth(100)
        self.port_spin.valueChanged.connect(self._on_port_spin_value_changed)
        port_row = QHBoxLayout()
        port_row.addWidget(self.port_spin)
        port_row.addWidget(_hint("change it only if another program uses this port"), 1)
        form.addRow("Port:", port_row)
        self.client_id_edit = QLineEdit()
        self.client_id_edit.setObjectName("clientId")
        self.client_id_edit.setPlaceholderText("From your app's settings in the developer portal")
        form.addRow("Client ID:", self.client_id_edit)
        self.client_secret_edit = QLineEdit()
        self.client_secret_edit.setObjectName("clientSecret")
        self.client_secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_label = QLabel("Client secret:")
        form.addRow(self.secret_label, self.client_secret_edit)
        box.addLayout(form)

        self.sign_in_button = QPushButton("Sign in with the browser")
        self.sign_in_button.setObjectName("signIn")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self._on_sign_in_clicked)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.sign_in_button)
        box.addLayout(row)

        self.fallback_label = QLabel()
        self.fallback_label.setObjectName("browserFallback")
        self.fallback_label.setWordWrap(True)
        self.fallback_label.setOpenExternalLinks(True)
        self.fallback_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.fallback_label.hide()
        box.addWidget(self.fallback_label)
        box.addStretch(1)
        return page

    def _build_token_page(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        self.token_hint = QLabel()
        self.token_hint.setWordWrap(True)
        box.addWidget(self.token_hint)
        form = QFormLayout()
        self.instance_edit = QLineEdit()
        self.instance_edit.setObjectName("instance")
        self.instance_edit.setPlaceholderText("https://mastodon.social")
        self.instance_label = QLabel("Server:")
        form.addRow(self.instance_label, self.instance_edit)
        self.token_form = form
        # the login name some platforms take with the secret (Platform.login_name)
        self.login_edit = QLineEdit()
        self.login_edit.setObjectName("login")
        self.login_edit.returnPressed.connect(self._on_connect_token_clicked)
        form.addRow("Login:", self.login_edit)
        self.token_edit = QLineEdit()
        self.token_edit.setObjectName("token")
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("Paste the access token")
        self.token_edit.returnPressed.connect(self._on_connect_token_clicked)
        form.addRow("Access token:", self.token_edit)
        self.show_token = QCheckBox("Show the token")
        self.show_token.toggled.connect(self._on_show_token_toggled)
        form.addRow("", self.show_token)
        box.addLayout(form)
        self.connect_token_button = QPushButton(
            "Reconnect" if self.account is not None else "Connect"
        )
        self.connect_token_button.setObjectName("connectToken")
        self.connect_token_button.clicked.connect(self._on_connect_token_clicked)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.connect_token_button)
        box.addLayout(row)
        box.addStretch(1)
        return page

    def _build_pages_page(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        self.pages_intro = QLabel()
        self.pages_intro.setObjectName("pagesIntro")
        self.pages_intro.setWordWrap(True)
        box.addWidget(self.pages_intro)
        self.pages_list = QVBoxLayout()
        box.addLayout(self.pages_list)
        row = QHBoxLayout()
        self.as_myself_button = QPushButton("Connect as myself instead")
        self.as_myself_button.setObjectName("connectAsMyself")
        self.as_myself_button.clicked.connect(self._on_as_myself_clicked)
        self.connect_pages_button = QPushButton()
        self.connect_pages_button.setObjectName("connectPages")
        self.connect_pages_button.clicked.connect(self._on_connect_pages_clicked)
        row.addWidget(self.as_myself_button)
        row.addStretch(1)
        row.addWidget(self.connect_pages_button)
        box.addLayout(row)
        box.addStretch(1)
        return page

    # ------------------------------------------------------------ state

    @property
    def platform(self) -> str:
        for platform, radio in self.platform_buttons.items():
            if radio.isChecked():
                return platform
        return registry.names()[0]

    def _select_platform(self, platform: str) -> None:
        self.platform_buttons[platform].setChecked(True)

    @property
    def page(self) -> int:
        """The page on show: ``PAGE_CHOOSE``, ``PAGE_BROWSER``, ``PAGE_TOKEN`` or
        ``PAGE_PAGES``."""
        return self._page

    def wants_pages(self) -> bool:
        """Whether the new account is to post as pages the member administers."""
        return (
            self.account is None
            and registry.platform(self.platform).has_pages
            and self.post_as_pages.isChecked()
        )

    def _update_post_as(self) -> None:
        found = registry.platform(self.platform)
        # (which sign-in choices are offered is _update_choices' business)
        # a platform of many servers asks which one, for a new account
        needs_instance = self.account is None and found.needs_instance
        self.instance_label.setVisible(needs_instance)
        self.instance_edit.setVisible(needs_instance)
        # a reconnect keeps whoever the account posts as; only a new one may choose
        offered = self.account is None and found.has_pages
        self.post_as_label.setVisible(offered)
        self.post_as_row.setVisible(offered)
        if not offered:
            self.post_as_self.setChecked(True)
        self._on_post_as_pages_toggled(self.post_as_pages.isChecked())

    def _show_page(self, index: int) -> None:
        self._page = index
        for n, page in enumerate(self._pages):
            page.setVisible(n == index)
        self.back_button.setVisible(index != self.PAGE_CHOOSE)
        self.error_label.hide()
        self.retry_button.hide()
        if index == self.PAGE_BROWSER:
            self._fill_browser_page()
            if self.browser_instance_edit.isVisible() and not self.browser_instance_edit.text():
                self.browser_instance_edit.setFocus()
            elif self.client_id_edit.isVisible() and not self.client_id_edit.text():
                self.client_id_edit.setFocus()
            else:
                self.sign_in_button.setFocus()
        elif index == self.PAGE_TOKEN:
            hint = registry.platform(self.platform).token_help
            if self.wants_pages() or (
                self.account is not None and accounts.posts_as_page(self.account)
            ):
                hint += (
                    " To post as your pages, the token also needs the w_organization_social "
                    "and rw_organization_admin permissions."
                )
            self.token_hint.setText(hint)
            self._fill_login_row()
            (
                self.login_edit
                if self.login_edit.isVisible() and not self.login_edit.text()
                else self.token_edit
            ).setFocus()
        if index != self.PAGE_PAGES:
            self._signed_in = None  # leaving the page step drops the unused sign-in
        self._fit()

    def _fill_login_row(self) -> None:
        """Show the login-name row for a platform that takes one with its secret."""
        wanted = registry.platform(self.platform).login_name
        self.token_form.setRowVisible(self.login_edit, bool(wanted))
        if wanted:
            label = self.token_form.labelForField(self.login_edit)
            if isinstance(label, QLabel):
                label.setText(f"{wanted.capitalize()}:")
            self.login_edit.setPlaceholderText(f"The account's {wanted}")
            if self.account is not None and not self.login_edit.text():
                self.login_edit.setText(self.account.username)
        self.token_edit.setPlaceholderText(
            "Paste the app password" if wanted else "Paste the access token"
        )

    def _fit(self) -> None:
        """Grow or shrink to what the page on show needs, wrapped text included.

        ``adjustSize`` alone asks the layout for its size hint, which ignores how tall
        wrapped labels become at the dialog's width (Qt does not apply height-for-width
        to top-level windows), so a page of long hints came out clipped.
        """
        # the page just shown still has the sizes it had while hidden: let its
        # layouts take in the new text first
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        for widget in (*self._pages, self.busy):
            inner = widget.layout()
            if widget.isVisible() and inner is not None:
                inner.activate()
        layout = self.layout()
        assert layout is not None
        layout.activate()
        width = max(self.width(), self.minimumWidth(), layout.totalMinimumSize().width())
        height = (
            layout.totalHeightForWidth(width)
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        screen = self.screen()
        if screen is not None:
            # never taller than the screen; the pages' text still wraps to fit
            height = min(height, screen.availableGeometry().height() - 60)
        self.setMinimumHeight(max(height, 0))
        self.resize(width, height)

    def _fill_browser_page(self) -> None:
        platform = self.platform
        label = registry.label(platform)
        registers_itself = oauth.spec(platform).registers_itself
        form = self.browser_form
        form.setRowVisible(
            self.browser_instance_edit,
            self.account is None and registry.platform(platform).needs_instance,
        )
        # nothing to register and nothing to paste where Milton registers itself
        for widget in (self.redirect_row, self.client_id_edit, self.client_secret_edit):
            form.setRowVisible(widget, not registers_itself)
        saved = settings.get_internal(f"oauth_app_{platform}", {}) or {}
        port = saved.get("port")
        if isinstance(port, int) and 1024 <= port <= 65535:
            self.port_spin.setValue(port)
        if registers_itself:
            where = (
                f"your {label} server"
                if self.account is None
                else html.escape(self.account.api_base or f"the {label} server")
            )
            self.browser_intro.setText(
                f"Milton signs in on {where} in your browser. The first time, it "
                "registers itself there as an app named “Milton Desktop”: there is no "
                "developer app to create and nothing to copy. Your token goes only "
                "between your computer and your server."
            )
            self._on_port_spin_value_changed(self.port_spin.value())
            return
        portal = oauth.spec(platform).developer_portal
        needs_secret = oauth.needs_client_secret(platform)
        what = "client ID and client secret" if needs_secret else "client ID"
        self.browser_intro.setText(
            f"Milton signs in to {label} through a developer app that <b>you</b> own, so "
            "your tokens go only between your computer and the platform."
            "<ol style='margin-left: 0'>"
            f"<li>Open your app in the <a href='{portal}'>{label} developer portal</a> "
            "(or create one).</li>"
            "<li>Add the redirect URL below to the app, exactly as shown.</li>"
            f"<li>Enter the app's {what} and sign in: your browser opens so you can "
            "allow access.</li></ol>"
        )
        self.secret_label.setText("Client secret:" if needs_secret else "Client secret (optional):")
        self.client_secret_edit.setPlaceholderText(
            "Required by " + label if needs_secret else "Only for confidential (web) apps"
        )
        if saved.get("client_id") and not self.client_id_edit.text():
            self.client_id_edit.setText(str(saved["client_id"]))
        self._on_port_spin_value_changed(self.port_spin.value())

    def _set_busy(self, text: str | None) -> None:
        self._busy = text is not None
        if text is None:
            self.busy.stop()
        else:
            self.busy.start(text)
            self.error_label.hide()
            self.retry_button.hide()
        self._fit()
        for widget in (
            self.sign_in_button,
            self.connect_token_button,
            self.back_button,
            self.client_id_edit,
            self.client_secret_edit,
            self.browser_instance_edit,
            self.port_spin,
            self.login_edit,
            self.token_edit,
            self.as_myself_button,
            *(check for check, _page in self.page_checks),
        ):
            widget.setEnabled(not self._busy)
        self._update_connect_pages_button()
        self.cancel_button.setText(
            "Stop waiting" if self._cancel is not None and self._busy else "Cancel"
        )

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        self._fit()

    # ------------------------------------------------------------ slots

    def _on_platform_group_toggled(self, _button: QRadioButton, checked: bool) -> None:
        if checked:
            self.client_id_edit.clear()
            self.client_secret_edit.clear()
            self._update_post_as()
            self._update_choices()

    def _update_choices(self) -> None:
        """Offer the browser only where the platform has a browser sign-in, and name
        what is pasted (an app password, with a login name, on Bluesky)."""
        found = registry.platform(self.platform)
        self.browser_choice.setVisible(found.oauth is not None)
        if found.oauth is not None and found.oauth.registers_itself:
            self.browser_choice.setDescription(
                "On your own server: Milton registers itself there, nothing to set up. Recommended."
            )
        else:
            self.browser_choice.setDescription(
                "Uses a developer app you own on the platform. Recommended: tokens can be renewed."
            )
        self.no_browser_label.setText(found.no_browser_note)
        self.no_browser_label.setVisible(found.oauth is None and bool(found.no_browser_note))
        if found.login_name:
            self.token_choice.setText("Paste an app password")
            self.token_choice.setDescription(
                f"With the account's {found.login_name} and an app password made in its settings."
            )
        else:
            self.token_choice.setText("Paste an access token")
            self.token_choice.setDescription(
                "If you already have a token from the platform's developer portal."
            )

    def _on_post_as_pages_toggled(self, pages: bool) -> None:
        # each page account is named after its page: one name cannot fit several
        pages = pages and self.wants_pages()
        self.name_edit.setEnabled(not pages)
        self.name_edit.setPlaceholderText(
            "Each page gets its own account, named after the page"
            if pages
            else "Optional, e.g. Work LinkedIn (filled in for you)"
        )

    def _on_browser_choice_clicked(self) -> None:
        self._show_page(self.PAGE_BROWSER)

    def _on_token_choice_clicked(self) -> None:
        self._show_page(self.PAGE_TOKEN)

    def _on_back_clicked(self) -> None:
        if not self._busy:
            self._show_page(self.PAGE_CHOOSE)

    def _on_cancel_clicked(self) -> None:
        if self._busy and self._cancel is not None:
            self._cancel.set()  # the worker notices within a tenth of a second
            return
        self.reject()

    def _on_port_spin_value_changed(self, port: int) -> None:
        self.redirect_edit.setText(oauth.redirect_uri_for(port))

    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.redirect_edit.text())

    def _on_show_token_toggled(self, shown: bool) -> None:
        self.token_edit.setEchoMode(
            QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        )

    def _on_opener_requested(self, url: str) -> None:
        opened = self.open_url(QUrl(url))
        link = f"<a href='{url}'>open the sign-in page</a>"
        if opened:
            self.fallback_label.setText(f"No browser window? You can also {link} yourself.")
        else:
            self.fallback_label.setText(
                f"Milton could not start your browser: {link} yourself, or copy it from here."
            )
        self.fallback_label.show()
        self._fit()

    def _name(self) -> str:
        return self.name_edit.text().strip()

    def _check_name_first(self) -> bool:
        """A taken name is refused before the user spends time in the browser."""
        if self.account is None and self._name() and not self.wants_pages():
            try:
                accounts.check_name(self._name())
            except UserError as exc:
                self._show_page(self.PAGE_CHOOSE)
                self.show_error(sentence(str(exc)))
                self.name_edit.setFocus()
                return False
        return True

    def _on_sign_in_clicked(self) -> None:
        if self._busy or not self._check_name_first():
            return
        self._retry = self._on_sign_in_clicked
        platform = self.platform
        registers_itself = oauth.spec(platform).registers_itself
        client_id = "" if registers_itself else self.client_id_edit.text().strip()
        secret = None if registers_itself else self.client_secret_edit.text().strip() or None
        label = registry.label(platform)
        if not registers_itself and not client_id:
            self.show_error(f"Enter the client ID of your {label} developer app.")
            self.client_id_edit.setFocus()
            return
        if not registers_itself and oauth.needs_client_secret(platform) and not secret:
            self.show_error(f"{label} also needs the app's client secret: enter it.")
            self.client_secret_edit.setFocus()
            return
        credentials, account, name = self.credentials, self.account, self._name()
        api_base = account.api_base if account is not None else None
        if account is None and registry.platform(platform).needs_instance:
            server = self.browser_instance_edit.text().strip()
            if not server:
                self.show_error(f"Enter the address of your {label} server first.")
                self.browser_instance_edit.setFocus()
                return
            api_base = server if "://" in server else "https://" + server
        port = self.port_spin.value()
        # the client id and port are not secret: remember them for next time
        remembered: dict[str, Any] = {"port": port}
        if client_id:
            remembered["client_id"] = client_id
        settings.set_internal(f"oauth_app_{platform}", remembered)
        cancel = self._cancel = threading.Event()
        timeout = self.sign_in_timeout
        opener = self._opener
        pages = self.wants_pages()
        # a page account's new token must again allow posting as the page
        as_page = pages or (account is not None and accounts.posts_as_page(account))
        scope = oauth.spec(platform).page_scope if as_page else None

        def sign_in() -> tuple[Credential, Identity]:
            return browser_sign_in.sign_in(
                credentials,
                platform,
                opener.requested.emit,  # queued to the GUI thread, which opens the browser
                client_id=client_id,
                client_secret=secret,
                server=api_base,
                port=port,
                timeout=timeout,
                cancel=cancel,
                scope=scope,
                new_account=account is None,
            )

        self.fallback_label.hide()
        self._set_busy(f"Waiting for you to allow access in your browser ({label})…")
        if pages:

            def find_pages() -> tuple[Credential, Identity, list[Identity]]:
                credential, identity = sign_in()
                return credential, identity, accounts.list_pages(platform, credential, api_base)

            # nothing is stored yet: the user picks the pages first
            run_in_background(
                find_pages,
                parent=self,
                on_success=self._on_pages_found,
                on_failure=self._on_work_failed,
            )
            return

        def work() -> AccountView:
            credential, identity = sign_in()
            if account is not None:
                return accounts.reconnect_account(credentials, account.id, credential, identity)
            base = accounts.instance_base(platform, api_base)
            return accounts.connect_account(credentials, platform, name, credential, identity, base)

        run_in_background(
            work,
            parent=self,
            on_success=self._on_work_done,
            on_failure=self._on_work_failed,
            writes=True,
        )

    def _on_connect_token_clicked(self) -> None:
        if self._busy or not self._check_name_first():
            return
        self._retry = self._on_connect_token_clicked
        token = self.token_edit.text().strip()
        platform = self.platform
        label = registry.label(platform)
        wanted = registry.platform(platform).login_name
        login = self.login_edit.text().strip() if wanted else None
        if wanted and not login:
            self.show_error(f"Give the {label} {wanted} first.")
            self.login_edit.setFocus()
            return
        if not token:
            self.show_error(f"Paste the {label} access token first.")
            self.token_edit.setFocus()
            return
        instance: str | None = None
        if self.account is None and registry.platform(platform).needs_instance:
            instance = self.instance_edit.text().strip()
            if not instance:
                self.show_error(f"Enter the address of your {label} server first.")
                self.instance_edit.setFocus()
                return
            if "://" not in instance:
                instance = "https://" + instance
        self._cancel = None
        credentials, account, name = self.credentials, self.account, self._name()
        self._set_busy(f"Checking the token with {label}…")
        if self.wants_pages():

            def find_pages() -> tuple[Credential, Identity, list[Identity]]:
                identity = accounts.identify_token(platform, token)
                credential = Credential(token)
                return credential, identity, accounts.list_pages(platform, credential)

            run_in_background(
                find_pages,
                parent=self,
                on_success=self._on_pages_found,
                on_failure=self._on_work_failed,
            )
            return

        def work() -> AccountView:
            if account is not None:
                return accounts.reconnect_with_token(credentials, account.id, token, login=login)
            return accounts.connect_with_token(
                credentials, platform, name, token, instance, login=login
            )

        run_in_background(
            work,
            parent=self,
            on_success=self._on_work_done,
            on_failure=self._on_work_failed,
            writes=True,
        )

    def _on_pages_found(self, result: tuple[Credential, Identity, list[Identity]]) -> None:
        credential, identity, pages = result
        self._cancel = None
        self._set_busy(None)
        self.token_edit.clear()
        for check, _page in self.page_checks:
            self.pages_list.removeWidget(check)
            check.deleteLater()
        self.page_checks = []
        label = registry.label(self.platform)
        member = accounts.who(identity)
        if pages:
            self.pages_intro.setText(
                f"You are signed in to {label} as {member}. Choose the pages Milton posts "
                "as: each becomes an account of its own."
            )
        else:
            self.pages_intro.setText(
                f"You are signed in to {label} as {member}, but you administer no {label} "
                "page. You can connect the account to post as yourself."
            )
        for page in pages:
            check = QCheckBox(page.display_name or page.remote_id)
            check.setObjectName("pageCheck")
            check.setToolTip(page.remote_id)
            check.toggled.connect(self._update_connect_pages_button)
            self.pages_list.addWidget(check)
            self.page_checks.append((check, page))
        self.connect_pages_button.setVisible(bool(pages))
        self._update_connect_pages_button()
        self._show_page(self.PAGE_PAGES)
        # set after _show_page, which drops any earlier sign-in
        self._signed_in = (credential, identity, self.account_api_base())
        (self.page_checks[0][0] if self.page_checks else self.as_myself_button).setFocus()
        self.as_myself_button.setDefault(not pages)

    def account_api_base(self) -> str | None:
        return self.account.api_base if self.account is not None else None

    def chosen_pages(self) -> list[Identity]:
        return [page for check, page in self.page_checks if check.isChecked()]

    def _update_connect_pages_button(self, _checked: bool = False) -> None:
        n = len(self.chosen_pages())
        self.connect_pages_button.setText(
            "Choose pages to connect"
            if n == 0
            else ("Connect 1 page" if n == 1 else f"Connect {n} pages")
        )
        self.connect_pages_button.setEnabled(n > 0 and not self._busy)
        self.connect_pages_button.setDefault(n > 0)

    def _on_connect_pages_clicked(self) -> None:
        chosen = self.chosen_pages()
        if self._busy or self._signed_in is None or not chosen:
            return
        self._retry = self._on_connect_pages_clicked
        credential, _identity, api_base = self._signed_in
        credentials, platform = self.credentials, self.platform

        def work() -> list[AccountView]:
            return accounts.connect_pages(credentials, platform, credential, chosen, api_base)

        pages = "1 page" if len(chosen) == 1 else f"{len(chosen)} pages"
        self._set_busy(f"Connecting {pages}…")
        run_in_background(
            work,
            parent=self,
            on_success=self._on_pages_connected,
            on_failure=self._on_work_failed,
            writes=True,
        )

    def _on_as_myself_clicked(self) -> None:
        if self._busy or self._signed_in is None:
            return
        credential, identity, api_base = self._signed_in
        credentials, platform, name = self.credentials, self.platform, self._name()

        def work() -> AccountView:
            return accounts.connect_account(
                credentials, platform, name, credential, identity, api_base
            )

        self._set_busy(f"Connecting {accounts.who(identity)}…")
        run_in_background(
            work,
            parent=self,
            on_success=self._on_work_done,
            on_failure=self._on_work_failed,
            writes=True,
        )

    def _on_pages_connected(self, views: list[AccountView]) -> None:
        self._set_busy(None)
        self._signed_in = None
        for view in views:
            self.connected.emit(int(view.id))
        self.accept()

    def _on_work_done(self, account: Any) -> None:
        self._cancel = None
        self._set_busy(None)
        self.token_edit.clear()
        self.connected.emit(int(account.id))
        self.accept()

    def _on_work_failed(self, exc: Exception) -> None:
        cancelled = isinstance(exc, oauth.OAuthCancelled)
        self._cancel = None
        self._set_busy(None)
        if cancelled:
            self.show_error("Sign-in stopped. Start it again when you are ready.")
        elif unreachable(exc) and self._retry is not None:
            self.show_error(offline_message(exc, registry.label(self.platform)))
            self.retry_button.show()
            self.retry_button.setFocus()
            self._fit()
        else:
            self.show_error(describe_error(exc))

    def _on_retry_clicked(self) -> None:
        step = self._retry
        self.retry_button.hide()
        if step is not None and not self._busy:
            step()

    def done(self, result: int) -> None:
        # closing while a sign-in waits: stop the worker, and ignore what it reports
        if self._cancel is not None:
            self._cancel.set()
        super().done(result)


# ---------------------------------------------------------------- the accounts list


class AccountsDialog(QDialog):
    """The connected accounts, with Connect…, Reconnect… and Remove….

    Signals:
        accounts_changed: an account was connected, reconnected or removed.
    """

    accounts_changed = Signal()

    COLUMNS = ("Name", "Platform", "User", "State", "Token")

    def __init__(
        self,
        credentials: CredentialStore,
        parent: QWidget | None = None,
        *,
        open_url: Callable[[QUrl], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("accountsDialog")
        self.setWindowTitle("Accounts")
        self.credentials = credentials
        self.open_url = open_url
        self._busy = False
        #: asks the user to confirm; replaced in tests (a modal box would block them)
        self.confirm: Callable[[str, str, str], bool] = self._ask

        layout = QVBoxLayout(self)
        self.keyring_banner = QFrame()
        self.keyring_banner.setObjectName("keyringBanner")
        self.keyring_banner.setFrameShape(QFrame.Shape.StyledPanel)
        window = self.palette().color(QPalette.ColorRole.Window)
        warning = tones.tone(self.palette(), "warning")
        self.keyring_banner.setStyleSheet(
            f"#keyringBanner {{ background: {tones.mix(window, warning, 0.14).name()}; "
            f"border: 1px solid {warning.name()}; border-radius: 4px; }}"
        )
        banner_box = QVBoxLayout(self.keyring_banner)
        self.keyring_label = QLabel()
        self.keyring_label.setObjectName("keyringText")
        self.keyring_label.setWordWrap(True)
        self.keyring_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        banner_box.addWidget(self.keyring_label)
        self.keyring_banner.hide()
        layout.addWidget(self.keyring_banner)

        self.stack = QStackedWidget()
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("accountsTable")
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setStyleSheet("QTableView::item { padding: 0 10px; }")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.table.itemDoubleClicked.connect(self._on_table_double_clicked)
        self.empty_label = QLabel(
            f"No accounts yet.\nClick Connect… to add your {registry.labels('or')} account."
        )
        self.empty_label.setObjectName("accountsEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty_label)
        layout.addWidget(self.stack, 1)

        self.busy = BusyLine()
        layout.addWidget(self.busy)
        self.error_label = _error_label("accountsError")
        layout.addWidget(self.error_label)
        self.approval_check = QCheckBox("Posts to this account wait for a member's approval")
        self.approval_check.setObjectName("requireApproval")
        self.approval_check.setToolTip(
            "A post scheduled to it goes out only after a member approves it (right-click "
            "it ▸ Approve); one nobody approved by its time is missed"
        )
        self.approval_check.toggled.connect(self._on_approval_check_toggled)
        layout.addWidget(self.approval_check)

        buttons = QHBoxLayout()
        self.connect_button = QPushButton("Connect…")
        self.connect_button.setObjectName("connectButton")
        self.connect_button.clicked.connect(self._on_connect_clicked)
        self.reconnect_button = QPushButton("Reconnect…")
        self.reconnect_button.setObjectName("reconnectButton")
        self.reconnect_button.clicked.connect(self._on_reconnect_clicked)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setObjectName("removeButton")
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.queue_button = QPushButton("Queue…")
        self.queue_button.setObjectName("queueButton")
        self.queue_button.setToolTip("The account's weekly posting times and time zone")
        self.queue_button.clicked.connect(self._on_queue_clicked)
        self.queue_dialog: QueueDialog | None = None
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        for button in (
            self.connect_button,
            self.reconnect_button,
            self.queue_button,
            self.remove_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)

        self.resize(760, 380)
        self.refresh()
        run_in_background(
            backend_is_secure,
            parent=self,
            on_success=self._on_keyring_checked,
            on_failure=self._on_keyring_failed,
            # a banner set while the dialog is closed is still right when it reopens
            until_finished=False,
        )

    # ------------------------------------------------------------ the table

    def refresh(self, select_id: int | None = None) -> None:
        """Reload the accounts from the database."""
        rows = sorted(accounts.list_accounts(), key=lambda a: (a.platform, a.display_name))
        zone = self._zone()
        self.table.setRowCount(len(rows))
        for r, acc in enumerate(rows):
            needs = acc.status != AccountStatus.CONNECTED
            cells = [
                acc.display_name,
                registry.label(acc.platform),
                _who(acc),
                "Needs reconnecting" if needs else "Connected",
            ]
            health = token_health(acc, datetime.now(UTC), zone)
            cells.append(health.text)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, acc.id)
                if c == 1:
                    item.setIcon(platform_dot(acc.platform))
                if c == 3:
                    item.setForeground(
                        tones.tone(self.table.palette(), "error" if needs else "ok", BASE)
                    )
                    if needs:
                        item.setToolTip(
                            "The platform no longer accepts its token: click Reconnect…"
                        )
                if c == 4:
                    item.setToolTip(health.tooltip)
                    if health.urgent:
                        item.setForeground(tones.tone(self.table.palette(), "error", BASE))
                self.table.setItem(r, c, item)
            if acc.id == select_id:
                self.table.selectRow(r)
        self.stack.setCurrentWidget(self.table if rows else self.empty_label)
        self._on_table_selection_changed()

    @staticmethod
    def _zone() -> Any:
        try:
            return get_zone(settings.get("timezone") or "UTC")
        except TimeInputError:
            return UTC

    def selected_account(self) -> AccountView | None:
        items = self.table.selectedItems()
        if not items:
            return None
        return accounts.find_account(int(items[0].data(Qt.ItemDataRole.UserRole)))

    def _on_table_selection_changed(self) -> None:
        chosen = bool(self.table.selectedItems())
        account = self.selected_account() if chosen else None
        self.approval_check.blockSignals(True)
        self.approval_check.setChecked(bool(account and account.require_approval))
        self.approval_check.blockSignals(False)
        self.approval_check.setEnabled(account is not None and not self._busy)
        self.reconnect_button.setEnabled(chosen and not self._busy)
        self.queue_button.setEnabled(chosen and not self._busy)
        self.remove_button.setEnabled(chosen and not self._busy)

    def _on_table_double_clicked(self, _item: QTableWidgetItem) -> None:
        self._on_reconnect_clicked()

    # ------------------------------------------------------------ keyring banner

    def _on_keyring_checked(self, result: tuple[bool, str]) -> None:
        secure, name = result
        if not secure:
            self._show_keyring_warning(name)

    def _on_keyring_failed(self, exc: Exception) -> None:
        self._show_keyring_warning(type(exc).__name__)

    def _show_keyring_warning(self, backend: str) -> None:
        # KEYRING_HELP marks commands with backticks, as in a terminal; show them as code
        help_html = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(sentence(KEYRING_HELP)))
        self.keyring_label.setText(
            "<b>No system keyring: tokens are kept for this session only.</b><br>"
            f"{help_html} Until then, accounts you connect work until Milton quits, and "
            "you will have to reconnect them next time."
            + (f" (Keyring backend in use: {html.escape(backend)}.)" if backend else "")
        )
        self.keyring_banner.show()

    # ------------------------------------------------------------ actions

    def _set_busy(self, text: str | None) -> None:
        self._busy = text is not None
        if text is None:
            self.busy.stop()
        else:
            self.busy.start(text)
            self.error_label.hide()
        self.connect_button.setEnabled(not self._busy)
        self._on_table_selection_changed()

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def _connect_dialog(self, account: AccountView | None) -> ConnectDialog:
        dlg = ConnectDialog(self.credentials, account, self, open_url=self.open_url)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.connected.connect(self._on_connect_dialog_connected)
        return dlg

    def _on_connect_clicked(self) -> None:
        self.error_label.hide()
        self._connect_dialog(None).open()

    def _on_reconnect_clicked(self) -> None:
        acc = self.selected_account()
        if acc is None:
            return
        self.error_label.hide()
        self._connect_dialog(acc).open()

    def _on_connect_dialog_connected(self, account_id: int) -> None:
        self.refresh(select_id=account_id)
        if self.credentials.memory_only and self.keyring_banner.isHidden():
            # the backend looked usable but refused the token (e.g. a locked keyring)
            self._show_keyring_warning("")
        self.accounts_changed.emit()

    def open_queue(self, account: AccountView) -> QueueDialog:
        """The Queue page of ``account``, opened (window-modal)."""
        dialog = QueueDialog(account, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._on_queue_saved)
        self.queue_dialog = dialog
        dialog.open()
        return dialog

    def set_require_approval(self, required: bool) -> bool:
        """Switch the selected account's approval requirement; False when not done
        (nothing selected, busy, or the user kept it as it was)."""
        acc = self.selected_account()
        if acc is None or self._busy or acc.require_approval == required:
            return False
        waiting = queries.awaiting_approval_count(acc.id)
        if not required and waiting:
            posts = "post that waits" if waiting == 1 else "posts that wait"
            text = (
                f"Posts to “{acc.display_name}” will no longer need approval.\n\n"
                f"Its {waiting} {posts} for approval will go out at their times, "
                "unapproved."
            )
            if not self.confirm("Stop requiring approval", text, "Release them"):
                self._on_table_selection_changed()  # the box shows what still holds
                return False
        account_id, name = acc.id, acc.display_name
        self._set_busy(f"Changing “{name}”…")
        run_in_background(
            lambda: approvals.set_require_approval(account_id, required),
            parent=self,
            on_success=self._on_approval_done,
            on_failure=self._on_task_failed,
            writes=True,
            until_finished=False,
        )
        return True

    def _on_approval_check_toggled(self, checked: bool) -> None:
        self.set_require_approval(checked)

    def _on_approval_done(self, change: approvals.ApprovalChange) -> None:
        self._set_busy(None)
        self.refresh(select_id=change.account.id)
        self.accounts_changed.emit()

    def _on_queue_clicked(self) -> None:
        account = self.selected_account()
        if account is not None:
            self.open_queue(account)

    def _on_queue_saved(self, account_id: int) -> None:
        self.refresh(select_id=account_id)
        self.accounts_changed.emit()

    def _on_remove_clicked(self) -> None:
        acc = self.selected_account()
        if acc is None or self._busy:
            return
        waiting = accounts.live_count(acc.id)
        text = (
            f"Remove “{acc.display_name}” ({registry.label(acc.platform)}: {_whom(acc)})?\n\n"
            "Its token is deleted from this computer and Milton stops publishing to it. "
            "The account itself on the platform is not affected."
        )
        if waiting:
            posts = "post that is" if waiting == 1 else "posts that are"
            text += (
                f"\n\nIts {waiting} scheduled {posts} still live: the waiting and missed "
                "ones will be cancelled (they stay in the calendar as cancelled), and any "
                "whose publish is uncertain stays for you to check."
            )
        if not self.confirm("Remove account", text, "Remove"):
            return
        credentials, account_id, name = self.credentials, acc.id, acc.display_name

        def work() -> None:
            accounts.remove_account(credentials, account_id, force=True)

        self._set_busy(f"Removing “{name}”…")
        run_in_background(
            work,
            parent=self,
            on_success=self._on_remove_done,
            on_failure=self._on_task_failed,
            writes=True,
            # a refusal must reach the user even if the dialog was closed meanwhile
            until_finished=False,
        )

    def _on_remove_done(self, _result: object) -> None:
        self._set_busy(None)
        self.refresh()
        self.accounts_changed.emit()

    def _on_task_failed(self, exc: Exception) -> None:
        self._set_busy(None)
        self.refresh()
        self.show_error(describe_error(exc))

    def _ask(self, title: str, text: str, ok_label: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=self)
        ok = box.addButton(ok_label, QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is ok
