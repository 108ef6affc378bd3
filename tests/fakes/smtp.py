"""A real SMTP server on 127.0.0.1 (aiosmtpd), with the faults a mail client must survive.

    with FakeSmtp(security="starttls", users={"me": "pw"}) as smtp:
        smtp.plan("451 4.3.0 try later", "accept")   # what each DATA gets, in order
        ...
        smtp.messages          # the accepted messages, parsed
        smtp.received          # every message whose bytes arrived (accepted or not)

TLS uses a test certificate authority (trustme); ``smtp.ca_file`` is the bundle a
client must trust (``MILTON_SMTP_CA_FILE``), and nothing else is trusted.

Plans for DATA: ``"accept"`` (250), a reply such as ``"451 ..."`` or ``"554 ..."``, or
``"drop"``: the whole message is read, then the connection is cut before any reply
(the client cannot know whether it was taken). Once the plan is used up, every message
is accepted. ``rcpt_reply`` answers every RCPT TO with that reply instead.
"""

from __future__ import annotations

import asyncio
import base64
import email
import socket
import ssl
import tempfile
import threading
from collections import deque
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller


class _Controller(Controller):
    """aiosmtpd's controller on a port the system picks (it wants a fixed one)."""

    def _create_server(self) -> Any:
        async def create() -> asyncio.AbstractServer:
            server = await self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=0, ssl=self.ssl_context
            )
            self.port = server.sockets[0].getsockname()[1]
            return server

        return create()


class _Handler:
    def __init__(self, fake: FakeSmtp) -> None:
        self.fake = fake

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.fake.users and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_AUTH(self, server, session, envelope, args):
        # PLAIN with its initial response, as smtplib sends it; checked here rather than
        # by aiosmtpd's authenticator, whose success path sets a deprecated attribute
        if len(args) != 2 or args[0].upper() != "PLAIN":
            return "504 5.5.4 Unrecognized authentication type"
        try:
            _zid, user, password = base64.b64decode(args[1]).decode().split("\0")
        except ValueError:
            return "501 5.5.2 Cannot decode the credentials"
        ok = self.fake.users.get(user) == password
        with self.fake._lock:
            self.fake.logins.append((user, ok))
        if not ok:
            return "535 5.7.8 Authentication credentials invalid"
        session.authenticated = True
        return "235 2.7.0 Authentication successful"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.fake.rcpt_reply:
            return self.fake.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        action = self.fake._next_action()
        parsed = email.message_from_bytes(envelope.original_content, policy=policy.default)
        with self.fake._lock:
            self.fake.received.append(parsed)
            self.fake.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        if action == "drop":
            server.transport.abort()  # the message is in, the answer never leaves
            return "250 OK (never sent)"
        if action == "accept":
            with self.fake._lock:
                self.fake.messages.append(parsed)
            return "250 2.0.0 Ok: queued as FAKE" + str(len(self.fake.messages))
        return action


class FakeSmtp:
    """An SMTP server for one test: plain, STARTTLS or implicit TLS, optional AUTH."""

    HOST = "127.0.0.1"

    def __init__(
        self,
        *,
        security: str = "none",
        users: dict[str, str] | None = None,
        tmp: Path | None = None,
    ) -> None:
        self.security = security
        self.users = dict(users or {})
        self.messages: list[EmailMessage] = []
        self.received: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[tuple[str, bool]] = []
        self.rcpt_reply: str | None = None
        self._plan: deque[str] = deque()
        self._lock = threading.Lock()
        self.ca = trustme.CA()
        self._tmp = tmp
        self.ca_file: str | None = None
        self._controller: _Controller | None = None

    # ------------------------------------------------------------ the script
    def plan(self, *actions: str) -> None:
        with self._lock:
            self._plan.extend(actions)

    def _next_action(self) -> str:
        with self._lock:
            return self._plan.popleft() if self._plan else "accept"

    # ------------------------------------------------------------ life
    @property
    def port(self) -> int:
        assert self._controller is not None
        return int(self._controller.port)

    def __enter__(self) -> FakeSmtp:
        context: ssl.SSLContext | None = None
        if self.security in ("starttls", "ssl"):
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
            folder = self._tmp or Path(tempfile.mkdtemp(prefix="fake-smtp-"))
            self.ca_file = str(folder / "fake-smtp-ca.pem")
            self.ca.cert_pem.write_to_path(self.ca_file)
        kwargs: dict[str, Any] = {
            "server_hostname": "fake-smtp.test",
            "ready_timeout": 10.0,
            # implicit TLS is TLS too, though aiosmtpd counts only STARTTLS as such
            "auth_require_tls": self.security == "starttls",
            "auth_exclude_mechanism": ["LOGIN"],
        }
        if self.security == "starttls":
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = True
        elif self.security == "ssl":
            kwargs["ssl_context"] = context
        self._controller = _Controller(_Handler(self), hostname=self.HOST, **kwargs)
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._controller is not None:
            self._controller.stop()

    def env(self) -> dict[str, str]:
        """The environment a client process needs to trust this server's certificate."""
        return {"MILTON_SMTP_CA_FILE": self.ca_file} if self.ca_file else {}


def dead_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
