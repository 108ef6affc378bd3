"""Handing one message to an SMTP server, and saying exactly how far it got.

A mail must never go out twice, so the one question that matters after a failure is
whether the server may have accepted the message. It can only have done so after it
received the whole message, ending with the lone ``.`` line; from then until its reply
is read, the answer is unknown. Everything that fails before that point sent nothing
and is safe to try again (:class:`MailTransient`), a 5xx refusal is final
(:class:`MailRefused`), and a connection lost while waiting for the reply to the
message is :class:`MailUnknown`.

Every socket operation has a timeout. TLS is verified against the system's
certificates; ``MILTON_SMTP_CA_FILE`` names a CA bundle to trust instead (and only
that one), which the tests use for their own certificate authority.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

from milton_desktop.domain.mail import MailSettings
from milton_desktop.domain.redaction import register_secrets, scrub

log = logging.getLogger("milton.mail")

#: seconds any one SMTP step (connect, a command, the message) may take
TIMEOUT_S = 30.0
#: a CA bundle to trust instead of the system's (tests only)
CA_FILE_ENV = "MILTON_SMTP_CA_FILE"


@dataclass(frozen=True)
class Answer:
    """A server's reply: ``250`` and ``2.0.0 Ok: queued as 4F2C``."""

    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


class MailError(Exception):
    """Why a message was not (or may not have been) accepted, in words for the user."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class MailTransient(MailError):
    """Nothing was accepted (no connection, a timeout before the message, a 4xx): retry."""


class MailRefused(MailError):
    """The server refused for good (5xx), or the settings cannot work: do not retry."""


class MailUnknown(MailError):
    """The whole message reached the server, then no reply came: it may be delivered."""


def tls_context() -> ssl.SSLContext:
    """The system's verified context, or one trusting only ``MILTON_SMTP_CA_FILE``."""
    bundle = os.environ.get(CA_FILE_ENV)
    if bundle:
        return ssl.create_default_context(cafile=bundle)
    return ssl.create_default_context()


def _text(reply: bytes | str) -> str:
    value = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(value.split())


def _by_code(code: int, reply: bytes | str, step: str) -> MailError:
    said = f"{code} {_text(reply)}".strip()
    if 400 <= code < 500:
        return MailTransient(f"the server said to try again later at {step} ({said})", code)
    if 500 <= code < 600:
        return MailRefused(f"the server refused {step} ({said})", code)
    return MailTransient(f"the server gave an unexpected answer at {step} ({said})", code)


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the server's certificate is not trusted ({exc.verify_message or exc.reason})"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused (no mail server listens there)"
    if isinstance(exc, socket.gaierror):
        return "the server's name cannot be found"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    return f"{type(exc).__name__}: {exc}"


def _payload(message: EmailMessage) -> bytes:
    """The message as it travels after DATA: CRLF lines, leading dots doubled, the end."""
    data = message.as_bytes(policy=policy.SMTP)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def send(
    message: EmailMessage,
    settings: MailSettings,
    password: str | None,
    *,
    timeout: float = TIMEOUT_S,
    before_data: Callable[[], None] | None = None,
) -> Answer:
    """Hand ``message`` to the server of ``settings``; the server's acceptance.

    ``before_data`` is called once the server is ready for the message, just before
    its bytes go: the caller records there that the outcome may soon be unknown (if
    it raises, nothing is sent).

    Raises:
        MailTransient, MailRefused, MailUnknown: see the module's docstring.
    """
    secrets = _secrets(settings.user, password)
    try:
        return _send(message, settings, password, timeout, before_data)
    except MailError as exc:
        clean = scrub(exc.message, secrets)
        exc.message = clean
        exc.args = (clean,)
        raise


def _secrets(user: str, password: str | None) -> tuple[str, ...]:
    if not password:
        return ()
    plain = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
    values = (password, plain, base64.b64encode(password.encode()).decode("ascii"))
    register_secrets(values)
    return values


def _send(
    message: EmailMessage,
    settings: MailSettings,
    password: str | None,
    timeout: float,
    before_data: Callable[[], None] | None,
) -> Answer:
    where = f"{settings.host}:{settings.port}"
    try:
        if settings.security == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=timeout, context=tls_context()
            )
        else:
            conn = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    except ssl.SSLCertVerificationError as exc:
        raise MailRefused(f"cannot connect to {where}: {_os_reason(exc)}") from None
    except smtplib.SMTPResponseException as exc:  # a greeting that refuses (421, 554)
        raise _by_code(exc.smtp_code, exc.smtp_error, "the greeting") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise MailTransient(f"cannot connect to {where}: {_os_reason(exc)}") from None
    try:
        return _converse(conn, message, settings, password, before_data)
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()


def _converse(
    conn: smtplib.SMTP,
    message: EmailMessage,
    settings: MailSettings,
    password: str | None,
    before_data: Callable[[], None] | None,
) -> Answer:
    step = "the greeting"
    try:
        step = "EHLO"
        code, reply = conn.ehlo()
        if code != 250:
            raise _by_code(code, reply, step)
        if settings.security == "starttls":
            if not conn.has_extn("starttls"):
                raise MailRefused(
                    f"{settings.host} does not offer STARTTLS: use --security ssl (port 465) "
                    "if it takes TLS from the start"
                )
            step = "STARTTLS"
            code, reply = conn.starttls(context=tls_context())
            if code != 220:
                raise _by_code(code, reply, step)
            code, reply = conn.ehlo()
            if code != 250:
                raise _by_code(code, reply, "EHLO")
        if settings.user:
            if not password:
                raise MailRefused(
                    "no SMTP password is stored for this user: give it again with "
                    "`milton-desktop notify email ... --password-stdin`"
                )
            step = "sign-in (AUTH)"
            try:
                conn.login(settings.user, password)
            except smtplib.SMTPNotSupportedError:
                raise MailRefused(
                    f"{settings.host} offers no sign-in (AUTH) on this connection: check "
                    "the security setting, or leave the user empty"
                ) from None
            except smtplib.SMTPAuthenticationError as exc:
                if 400 <= exc.smtp_code < 500:
                    raise _by_code(exc.smtp_code, exc.smtp_error, step) from None
                raise MailRefused(
                    f"the server did not accept the user name and password "
                    f"({exc.smtp_code} {_text(exc.smtp_error)})",
                    exc.smtp_code,
                ) from None
            except smtplib.SMTPException as exc:  # no mechanism both sides know
                raise MailRefused(f"sign-in failed: {exc}") from None
        step = "the sender (MAIL FROM)"
        code, reply = conn.mail(settings.sender)
        if code != 250:
            raise _by_code(code, reply, step)
        step = "the recipient (RCPT TO)"
        code, reply = conn.rcpt(settings.to)
        if code not in (250, 251):
            raise _by_code(code, reply, step)
        step = "DATA"
        code, reply = conn.docmd("DATA")
        if code != 354:
            raise _by_code(code, reply, step)
        data = _payload(message)
        step = "the message"
    except MailError:
        raise
    except ssl.SSLCertVerificationError as exc:  # trying again would meet the same certificate
        raise MailRefused(f"{step} failed: {_os_reason(exc)}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise MailTransient(f"{step} failed: {_os_reason(exc)}") from None
    if before_data is not None:
        before_data()
    try:
        conn.send(data)
    except (OSError, smtplib.SMTPException) as exc:
        # the end-of-message line is the last thing sent: the server cannot have taken it
        raise MailTransient(f"sending the message failed: {_os_reason(exc)}") from None
    try:
        code, reply = conn.getreply()
    except (OSError, smtplib.SMTPException) as exc:
        raise MailUnknown(
            f"the whole message reached the server, then {_os_reason(exc).lower()}: it may "
            "have been delivered, so it is not sent again on its own"
        ) from None
    if code != 250:
        raise _by_code(code, reply, "the message")
    answer = Answer(code, _text(reply))
    log.info("mail accepted by %s:%s: %s", settings.host, settings.port, answer)
    return answer
