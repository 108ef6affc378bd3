"""Signing in through the system browser, as RFC 8252 asks of native apps.

The app opens the platform's consent page in the user's own browser and listens on
the loopback interface (``http://127.0.0.1:<port>/callback``) for the one redirect
that carries the authorization code back. PKCE (RFC 7636, S256) binds that code to
this run of the app, and a random ``state`` ties the redirect to the request we
made, so a page that merely knows the port cannot slip us someone else's code.

No Qt here: the UI runs :func:`connect_flow` on a worker thread and hands it a
callback that opens the browser on the GUI thread.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from milton_desktop.domain.credential import AppRegistration, Credential, Identity, basic_auth
from milton_desktop.domain.errors import UserError
from milton_desktop.publishers import registry
from milton_desktop.publishers.base import ClientUnknown, PublishError
from milton_desktop.publishers.http import scrub_error, scrub_identity
from milton_desktop.publishers.platform import OAuthSpec

log = logging.getLogger("milton.oauth")

CALLBACK_PATH = "/callback"
LOOPBACK_HOST = "127.0.0.1"
#: a port to suggest when the platform wants the exact redirect URI registered
DEFAULT_PORT = 8765


class OAuthError(RuntimeError):
    """The sign-in did not complete; the message says what happened and what to do."""


class OAuthCancelled(OAuthError):
    """The user stopped waiting for the browser."""


class Registrar(Protocol):
    """Where a platform that registers its app on each server (``OAuthSpec.registers_itself``)
    gets the registration for one sign-in: a kept one still known to the server, or a
    new one. The caller keeps them (the secret in the keyring): this module stores nothing."""

    def obtain(self, redirect_uri: str) -> AppRegistration:
        """A registration on the server for exactly ``redirect_uri`` (network)."""
        ...

    def forget(self, registration: AppRegistration) -> None:
        """Drop a registration the server no longer knows, so the next sign-in makes one."""
        ...


# ---------------------------------------------------------------- PKCE and state


def pkce_challenge(verifier: str) -> str:
    """``BASE64URL(SHA256(verifier))`` without padding: the S256 challenge (RFC 7636 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_pkce() -> tuple[str, str]:
    """A fresh ``(code_verifier, code_challenge)`` pair, S256 method (RFC 7636 4.1-4.2)."""
    verifier = secrets.token_urlsafe(64)  # 86 unreserved characters, within 43..128
    return verifier, pkce_challenge(verifier)


def random_state() -> str:
    """An unguessable ``state`` value for one authorization request."""
    return secrets.token_urlsafe(32)


# ---------------------------------------------------------------- the loopback receiver


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Milton Desktop</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f5f6f8; color: #1d2330;
       display: flex; align-items: center; justify-content: center; min-height: 90vh; }}
main {{ background: #fff; border-radius: 12px; padding: 32px 40px; max-width: 460px;
       box-shadow: 0 2px 12px rgba(0, 0, 0, .08); }}
h1 {{ font-size: 1.3em; margin: 0 0 .6em; color: {colour}; }}
p {{ line-height: 1.5; margin: .4em 0; }}
</style></head>
<body><main><h1>{title}</h1><p>{message}</p></main></body></html>
"""


def _page(title: str, message: str, *, ok: bool) -> bytes:
    colour = "#1b7f3b" if ok else "#b3261e"
    return _PAGE.format(
        colour=colour, title=html.escape(title), message=html.escape(message)
    ).encode("utf-8")


@dataclass(frozen=True)
class _Answer:
    code: str | None = None
    error: str | None = None


class _Server(ThreadingHTTPServer):
    # On Windows SO_REUSEADDR lets a second program bind the same port and steal the
    # redirect; elsewhere it only allows a quick restart after TIME_WAIT.
    allow_reuse_address = sys.platform != "win32"
    daemon_threads = True


class LoopbackReceiver:
    """Waits for the one browser redirect that ends an authorization request.

    Listens on ``127.0.0.1`` only: on a random free port by default, or on ``port``
    when the platform insists on an exactly registered redirect URI (LinkedIn, X).
    The first request to ``/callback`` that carries ``code`` or ``error`` is the
    answer; anything else (a favicon, a request without parameters) gets a 404 or
    400 and is otherwise ignored.

    Use as a context manager, or call :meth:`start` and :meth:`close`::

        with LoopbackReceiver() as rx:
            open_browser(authorize_url(..., redirect_uri=rx.redirect_uri, state=state))
            code = rx.wait(state, timeout=300)
    """

    #: seconds a connected browser may take to send its request line; browsers open
    #: speculative connections they never use, which must not tie up a thread forever
    request_timeout = 10.0

    def __init__(self, port: int | None = None, *, path: str = CALLBACK_PATH) -> None:
        if port is not None and not 0 < port < 65536:
            raise OAuthError(f"{port} is not a valid port: choose one between 1024 and 65535")
        self._port = port or 0
        self.path = path
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._answer: _Answer | None = None
        self._expected_state: str | None = None
        self._state_mismatch = False

    # ------------------------------------------------------------ lifecycle

    def start(self) -> LoopbackReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = receiver.request_timeout
            server_version = "MiltonDesktop"

            def log_message(self, *args: Any) -> None:
                # the query string holds the code: never let it reach a log
                pass

            def do_GET(self) -> None:
                status, body = receiver._on_request(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                self.wfile.write(body)

        try:
            server = _Server((LOOPBACK_HOST, self._port), Handler)
        except OSError as exc:
            if self._port:
                raise OAuthError(
                    f"port {self._port} on this computer is in use by another program "
                    f"({exc.strerror}): close that program, or choose another port (and, "
                    "where you registered a developer app, register the matching redirect "
                    "URL in it)"
                ) from None
            raise OAuthError(
                f"cannot listen on {LOOPBACK_HOST} for the browser's answer ({exc.strerror})"
            ) from None
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="oauth-loopback",
            daemon=True,
        )
        self._thread.start()
        log.info("waiting for the sign-in redirect on %s", self.redirect_uri)
        return self

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LoopbackReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            return self._port
        return int(self._server.server_address[1])

    @property
    def redirect_uri(self) -> str:
        """The URI to send as ``redirect_uri`` (and to register in the developer app)."""
        return redirect_uri_for(self.port, self.path)

    # ------------------------------------------------------------ waiting

    def expect(self, state: str) -> None:
        """Set the ``state`` the redirect must carry (before opening the browser)."""
        with self._lock:
            self._expected_state = state

    def wait(self, state: str, timeout: float = 300, cancel: threading.Event | None = None) -> str:
        """Block until the browser comes back; return the authorization code.

        Raises:
            OAuthError: the platform said no, the state did not match, or no answer
                came within ``timeout`` seconds.
            OAuthCancelled: ``cancel`` was set while waiting.
        """
        self.expect(state)
        deadline = time.monotonic() + timeout
        while not self._done.is_set():
            if cancel is not None and cancel.is_set():
                raise OAuthCancelled("sign-in cancelled")
            left = deadline - time.monotonic()
            if left <= 0:
                raise OAuthError(
                    f"no answer from the browser within {_minutes(timeout)}: the sign-in "
                    "page was not completed. Start again and approve the access in the browser"
                )
            self._done.wait(min(left, 0.1))
        with self._lock:
            answer, mismatch = self._answer, self._state_mismatch
        if mismatch:
            raise OAuthError(
                "the browser came back with an answer that does not belong to this sign-in "
                "(its state did not match), so it was refused for your safety: start the "
                "sign-in again"
            )
        assert answer is not None
        if answer.error is not None:
            raise OAuthError(answer.error)
        assert answer.code is not None
        return answer.code

    # ------------------------------------------------------------ one request

    def _on_request(self, raw_path: str) -> tuple[int, bytes]:
        parts = urlsplit(raw_path)
        if parts.path != self.path:
            return 404, _page("Not found", "This address is not part of the sign-in.", ok=False)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        code, error = query.get("code"), query.get("error")
        if not code and not error:
            return 400, _page(
                "Nothing to do here",
                "This page only receives the answer of a sign-in started from Milton Desktop.",
                ok=False,
            )
        with self._lock:
            if self._done.is_set():
                # exactly one answer per sign-in; a reload must not replace it
                return 409, _page(
                    "Already done",
                    "This sign-in has already finished. You can close this tab and return "
                    "to Milton Desktop.",
                    ok=True,
                )
            expected = self._expected_state
            if expected is None or not secrets.compare_digest(
                (query.get("state") or "").encode(), expected.encode()
            ):
                self._state_mismatch = True
                self._done.set()
                return 400, _page(
                    "Sign-in refused",
                    "This answer does not match the sign-in Milton Desktop started, so it "
                    "was refused. Return to Milton Desktop and start again.",
                    ok=False,
                )
            if error:
                reason = query.get("error_description") or error
                self._answer = _Answer(error=_denied_message(error, reason))
                self._done.set()
                return 200, _page(
                    "Access not granted",
                    f"The platform answered: {reason}. Return to Milton Desktop to try again.",
                    ok=False,
                )
            # Instagram appends "#_" to the code; browsers keep fragments to themselves,
            # but a pasted URL may still carry it
            self._answer = _Answer(code=(code or "").removesuffix("#_"))
            self._done.set()
        return 200, _page(
            "You're signed in",
            "You can close this tab and return to Milton Desktop.",
            ok=True,
        )


def redirect_uri_for(port: int, path: str = CALLBACK_PATH) -> str:
    """The loopback redirect URI for ``port``, as the user registers it."""
    return f"http://{LOOPBACK_HOST}:{port}{path}"


def _minutes(seconds: float) -> str:
    if seconds >= 90:
        return f"{round(seconds / 60)} minutes"
    return f"{seconds:g} seconds"


def _denied_message(error: str, reason: str) -> str:
    if error in ("access_denied", "user_cancelled_authorize", "user_cancelled_login"):
        return (
            "access was not granted in the browser (the consent page was cancelled): "
            "start again and choose Allow"
        )
    return f"the platform refused the sign-in ({reason}): check the developer app's settings and start again"


# ---------------------------------------------------------------- the whole flow


def spec(platform: str) -> OAuthSpec:
    """How ``platform`` signs in through the browser; :class:`OAuthError` if it cannot."""
    try:
        found = registry.platform(platform).oauth
    except UserError as exc:
        raise OAuthError(str(exc)) from None
    if found is None:
        raise OAuthError(
            f"{registry.label(platform)} has no browser sign-in: paste a token instead"
        )
    return found


def needs_client_secret(platform: str) -> bool:
    """Whether the developer app's client secret is needed to connect ``platform``."""
    return spec(platform).needs_client_secret


def authorize_url(
    platform: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    code_challenge: str | None,
    base: str | None = None,
    scope: str | None = None,
    force_login: bool = False,
) -> str:
    """The consent page for ``platform``, from the platform module's ``authorize_url``.

    ``scope`` replaces the platform's default permissions (LinkedIn's page scopes);
    None keeps the default, which is all that platforms without a choice accept.
    ``force_login`` (platforms that register themselves only) asks the server for its
    login form even when the browser is signed in, to connect another of its accounts.
    """
    build = spec(platform).authorize_url
    extra: dict[str, Any] = {"base": base}
    if scope is not None:
        extra["scope"] = scope
    if spec(platform).uses_pkce and code_challenge:
        extra["code_challenge"] = code_challenge
    if force_login:
        extra["force_login"] = True
    return build(client_id, redirect_uri, state, **extra)


def exchange_code(
    platform: str,
    code: str,
    *,
    redirect_uri: str,
    client_id: str,
    client_secret: str | None,
    code_verifier: str | None,
    api_base: str | None = None,
) -> Credential:
    """Trade an authorization code for a credential through the platform's publisher."""
    publisher: Any = registry.make_publisher(platform, api_base=api_base)
    kwargs: dict[str, Any] = {
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    if spec(platform).uses_pkce:
        kwargs["code_verifier"] = code_verifier
    return publisher.exchange_code(**kwargs)


def connect_flow(
    platform: str,
    client_id: str,
    client_secret: str | None,
    open_browser: Callable[[str], None],
    port: int | None = None,
    timeout: float = 300,
    api_base: str | None = None,
    *,
    cancel: threading.Event | None = None,
    on_listening: Callable[[str], None] | None = None,
    scope: str | None = None,
    registrar: Registrar | None = None,
    force_login: bool = False,
) -> tuple[Credential, Identity]:
    """Sign in to ``platform`` in the browser and return the new credential and whose it is.

    Args:
        client_id / client_secret: of the user's own developer app on the platform;
            ignored where the app registers itself (give ``registrar`` instead).
        open_browser: called once with the consent page URL; it must not block.
        port: a fixed loopback port (the one registered in the developer app), or
            None for a random free port.
        timeout: seconds to wait for the browser to come back.
        api_base: send the authorize page, token and identity calls to this server
            (tests, staging); else the account default or ``MILTON_<P>_API_BASE``.
        cancel: set it from another thread to stop waiting.
        on_listening: called with the redirect URI once the receiver listens.
        scope: the permissions to ask for instead of the platform's default (LinkedIn's
            ``PAGE_SCOPES`` to post as pages); None asks for the default.
        registrar: for a platform whose ``OAuthSpec.registers_itself``, where the app's
            registration for this sign-in's redirect comes from.
        force_login: ask the server for its login form (see :func:`authorize_url`).

    Raises:
        OAuthError: the sign-in did not complete (the message says why and what to do).
        OAuthCancelled: ``cancel`` was set.
        milton_desktop.publishers.base.PublishError: the platform refused the code
            or the identity lookup.
    """
    from milton_desktop.domain.redaction import register_secret, register_secrets

    label = registry.label(platform)
    registers_itself = spec(platform).registers_itself
    client_id = (client_id or "").strip()
    client_secret = (client_secret or "").strip() or None
    if registers_itself and registrar is None:
        raise OAuthError(f"{label} sign-in needs a place to keep Milton's registration")
    if not registers_itself and not client_id:
        raise OAuthError(f"enter the client ID of your {label} developer app")
    if needs_client_secret(platform) and not client_secret:
        raise OAuthError(f"{label} also needs the client secret of your developer app: enter it")
    register_secret(client_secret)
    base = api_base or registry.env_api_base(platform)
    verifier, challenge = make_pkce() if spec(platform).uses_pkce else (None, None)
    state = random_state()
    registration: AppRegistration | None = None
    with LoopbackReceiver(port) as receiver:
        redirect = receiver.redirect_uri
        receiver.expect(state)
        if registrar is not None and registers_itself:
            # the server checks the redirect exactly: register this one (or reuse it)
            registration = registrar.obtain(redirect)
            register_secrets(registration.secrets())
            client_id, client_secret = registration.client_id, registration.client_secret
            scope = registration.scopes
        if on_listening is not None:
            on_listening(redirect)
        url = authorize_url(
            platform,
            client_id,
            redirect,
            state,
            challenge,
            base=base,
            scope=scope,
            force_login=force_login and registers_itself,
        )
        open_browser(url)
        code = receiver.wait(state, timeout=timeout, cancel=cancel)
    # what the platform answers may echo what is sent: never show it back
    sent = (code, verifier, client_secret, basic_auth(client_id, client_secret))
    register_secrets(sent)
    if cancel is not None and cancel.is_set():
        raise OAuthCancelled("sign-in cancelled")
    try:
        credential = exchange_code(
            platform,
            code,
            redirect_uri=redirect,
            client_id=client_id,
            client_secret=client_secret,
            code_verifier=verifier,
            api_base=base,
        )
    except ClientUnknown:
        if registrar is None or registration is None:
            raise
        # forgotten between the check and the exchange: the code belongs to the old
        # registration, so the sign-in itself must start over
        registrar.forget(registration)
        raise OAuthError(
            f"your {label} server no longer knows Milton's registration, so the sign-in "
            "could not finish: start it again (Milton registers itself anew)"
        ) from None
    except PublishError as exc:
        scrub_error(exc, sent)
        raise
    register_secrets(credential.secrets())
    known = (*sent, *credential.secrets())
    try:
        identity = registry.make_publisher(platform, api_base=base).identify(credential)
    except PublishError as exc:
        scrub_error(exc, known)
        raise
    identity = scrub_identity(identity, known)
    log.info("signed in to %s as %s", label, identity.username or identity.remote_id)
    return credential, identity
