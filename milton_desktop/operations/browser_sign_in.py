"""Signing in through the browser, for the window (and any caller): the platform's
consent page, the loopback redirect, and for platforms that register Milton on each of
their servers (Mastodon), the registrations kept from one sign-in to the next.

A registration is kept per server and redirect URI, because the server compares the
redirect exactly; all of it, client id included, is one keyring entry
(``<platform>-app:<server> <redirect>``), so the secret never reaches the database or
a log. Before it is used again it is checked with the server (an app token by client
credentials); one the server forgot is made again.

All of this is network and keyring work: call it from a worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from milton_desktop.domain.credential import AppRegistration, Credential, Identity
from milton_desktop.domain.errors import OperationFailed, UserError
from milton_desktop.domain.redaction import register_secrets
from milton_desktop.publishers import oauth, registry
from milton_desktop.publishers.base import PublishError
from milton_desktop.storage.credentials import CredentialStore, KeyringUnavailable

log = logging.getLogger("milton.accounts")


def registration_name(platform: str, server: str, redirect_uri: str) -> str:
    """The keyring name of Milton's registration on ``server`` for ``redirect_uri``."""
    return f"{platform}-app:{server.rstrip('/')} {redirect_uri}"


class StoredRegistrations:
    """Milton's app registrations on one server, kept in the keyring
    (an :class:`~milton_desktop.publishers.oauth.Registrar`)."""

    def __init__(self, credentials: CredentialStore, platform: str, server: str) -> None:
        self.credentials = credentials
        self.platform = platform
        self.server = server.rstrip("/")

    def _name(self, redirect_uri: str) -> str:
        return registration_name(self.platform, self.server, redirect_uri)

    def kept(self, redirect_uri: str) -> AppRegistration | None:
        """The registration kept for ``redirect_uri``, unchecked; None if there is none."""
        try:
            text = self.credentials.load_secret(self._name(redirect_uri))
        except KeyringUnavailable as exc:
            log.warning("no kept %s registration could be read: %s", self.platform, exc)
            return None
        if text is None:
            return None
        try:
            found = AppRegistration.from_json(text)
        except (ValueError, TypeError, KeyError):
            # not what Milton stored: as good as none, and its text is never repeated
            log.warning("the kept %s registration cannot be read: registering anew", self.platform)
            return None
        register_secrets(found.secrets())
        if found.server != self.server or found.redirect_uri != redirect_uri:
            return None
        return found

    def obtain(self, redirect_uri: str) -> AppRegistration:
        # the registration hooks of a platform whose OAuthSpec.registers_itself
        publisher: Any = registry.make_publisher(self.platform, api_base=self.server)
        kept = self.kept(redirect_uri)
        if kept is not None:
            if publisher.app_is_known(kept):
                log.info("reusing Milton's registration on %s", self.server)
                return kept
            log.info("%s no longer knows Milton's registration: registering anew", self.server)
            self.forget(kept)
        made: AppRegistration = publisher.register_app(redirect_uri)
        register_secrets(made.secrets())
        try:
            self.credentials.save_secret(
                self._name(redirect_uri), made.to_json(), secrets=made.secrets()
            )
        except KeyringUnavailable as exc:
            raise OperationFailed(f"Milton's registration could not be kept: {exc}") from None
        # an app token right away: servers before 4.3 vacuum apps that never got one
        try:
            publisher.app_is_known(made)
        except PublishError as exc:  # the sign-in itself does not need it
            log.warning("no app token for the new registration on %s: %s", self.server, exc)
        return made

    def forget(self, registration: AppRegistration) -> None:
        try:
            self.credentials.delete_secret(self._name(registration.redirect_uri))
        except KeyringUnavailable as exc:
            log.warning("a forgotten registration was not deleted: %s", exc)


def sign_in(
    credentials: CredentialStore,
    platform: str,
    open_browser: Callable[[str], None],
    *,
    client_id: str = "",
    client_secret: str | None = None,
    server: str | None = None,
    port: int | None = None,
    timeout: float = 300,
    cancel: threading.Event | None = None,
    scope: str | None = None,
    new_account: bool = True,
) -> tuple[Credential, Identity]:
    """Sign in to ``platform`` in the browser; the credential and whose it is.

    Args:
        client_id / client_secret: of the user's developer app, where the platform
            has developer apps; not asked for where Milton registers itself.
        server: the account's server, for a platform of many (``needs_instance``).
        port: the loopback port (the redirect registered for it); None: a free one.
        new_account: connecting a new account, not reconnecting one: a server's login
            form is asked for even in a signed-in browser, to pick which account.

    Raises:
        UserError: no server given where one is needed, or it cannot take a token.
        OperationFailed: the keyring cannot keep Milton's registration.
        OAuthError: the sign-in did not complete (the message says why).
        PublishError: the platform refused the code or the identity lookup.
    """
    from milton_desktop.operations.accounts import instance_base

    found = registry.platform(platform)
    if found.oauth is None:
        raise UserError(found.no_browser_note or f"{found.label} has no browser sign-in")
    base = instance_base(platform, server)
    registrar = None
    if found.oauth.registers_itself:
        if not base:
            raise UserError(f"give the address of your {found.label} server")
        registrar = StoredRegistrations(credentials, platform, base)
    return oauth.connect_flow(
        platform,
        client_id,
        client_secret,
        open_browser,
        port=port,
        timeout=timeout,
        api_base=base,
        cancel=cancel,
        scope=scope,
        registrar=registrar,
        force_login=new_account,
    )
