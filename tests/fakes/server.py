"""A small threaded HTTP server base for the fake platforms, with fault injection.

A fake subclasses :class:`FakeServer` and implements :meth:`FakeServer.handle`,
returning a :class:`Reply`. Tests inject faults by route::

    fake.inject("POST /rest/posts", status=500)                 # one 500
    fake.inject("POST /rest/posts", mode="drop", when="after")  # create, then hang up
    fake.inject("POST /2/tweets", mode="timeout", when="after", delay=2)
    fake.inject("POST /2/tweets", status=429, headers={"x-rate-limit-reset": "..."})
    fake.inject_retry_after("POST /rest/posts", 120)                 # Retry-After: 120
    fake.inject_retry_after("POST /rest/posts", when, form="asctime")  # an HTTP-date
    fake.inject_echo("POST /2/tweets", {"detail": "bad token {secret}"})  # token echo
    fake.inject("POST /2/tweets", status=500, skip=1)  # the second create fails

``when="before"`` means the platform never processed the request (nothing was
created); ``when="after"`` means it did, and only the answer was lost.

Hostile answers, for the limits on what a client waits for and reads::

    fake.inject("POST /2/tweets", mode="trickle", when="after", delay=20)  # a byte per 20 s
    fake.inject("GET /2/users/me", mode="trickle_headers", delay=20)  # even the headers
    fake.inject("GET /v1/me", mode="endless")  # a chunked body that never ends
    fake.inject("GET /v1/me", mode="bomb")     # 1 MB of gzip that inflates to 1 GiB
    fake.inject("GET /big.mp4", mode="paced", delay=0.2)  # the real answer, 64 KiB a step
"""

from __future__ import annotations

import base64
import functools
import html
import json
import re
import socket
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    received_at: float

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON, bytes/str -> as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    #: an answer sent as it is made (server-sent events): each bytes item goes out as
    #: one chunk at once, a float waits that many seconds first, and ``None`` hangs up
    #: there without ending the body (a stream cut off). Chunked transfer encoding.
    stream: Iterable[bytes | float | None] | None = None

    def encode(self) -> tuple[bytes, str]:
        if self.body is None:
            return b"", self.content_type or "application/json"
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), self.content_type or "text/html; charset=utf-8"
        return json.dumps(self.body).encode("utf-8"), self.content_type or "application/json"


class _Server(ThreadingHTTPServer):
    #: Python's default backlog of 5 drops a SYN when ten accounts connect at once, and
    #: the client then waits a second to retry: a burst would measure that, not us
    request_queue_size = 128


@dataclass
class Fault:
    pattern: re.Pattern[str]
    mode: (
        str  # respond | drop | timeout | slow | paced | trickle | trickle_headers | endless | bomb
    )
    when: str  # before | after
    times: int
    status: int
    body: Any
    headers: dict[str, str]
    delay: float
    content_type: str | None
    #: matching requests to let through before the fault applies (part 2 of a thread)
    skip: int = 0


_MODES = (
    "respond",
    "drop",
    "timeout",
    "slow",
    "paced",
    "trickle",
    "trickle_headers",
    "endless",
    "bomb",
)
_HOSTILE = frozenset({"trickle", "trickle_headers", "endless", "bomb"})


class FakeServer:
    """Base class: start on a free loopback port, record requests, inject faults."""

    def __init__(self, *, tls: tuple[str, str] | None = None) -> None:
        #: (certificate file, key file): serve https instead of http
        self.tls = tls
        self.requests: list[Request] = []
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._release = threading.Event()

    # ------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def start(self) -> FakeServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without this each answer
            # waits ~40 ms for the client's delayed ACK.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def handle(self) -> None:
                # A client hanging up mid-request (on purpose, in some tests) is not an error.
                try:
                    super().handle()
                except (ConnectionResetError, BrokenPipeError):
                    pass

            def _serve(self) -> None:
                server._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        if self.tls:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=lambda: self._httpd.serve_forever(poll_interval=0.05),
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ faults
    def inject(
        self,
        route: str,
        *,
        status: int = 500,
        body: Any = None,
        headers: dict[str, str] | None = None,
        mode: str = "respond",
        when: str = "before",
        times: int = 1,
        delay: float = 0.0,
        content_type: str | None = None,
        skip: int = 0,
    ) -> None:
        """Make the next ``times`` requests whose ``"METHOD /path"`` matches ``route`` (a
        regex) fail, after letting ``skip`` of them through."""
        assert mode in _MODES, mode
        assert when in ("before", "after"), when
        with self._lock:
            self._faults.append(
                Fault(
                    re.compile(route),
                    mode,
                    when,
                    times,
                    status,
                    body,
                    dict(headers or {}),
                    delay,
                    content_type,
                    skip,
                )
            )

    def inject_retry_after(
        self,
        route: str,
        after: float | datetime | str,
        *,
        form: str = "imf",
        status: int = 429,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> str:
        """Answer ``status`` with a ``Retry-After`` header; return the header's value.

        ``after`` is delta-seconds (a number), an instant (a datetime, written in
        ``form``: ``"imf"`` is the IMF-fixdate servers must send, ``"rfc850"`` and
        ``"asctime"`` the obsolete forms clients must still read, RFC 9110 section
        5.6.7), or a string sent as it is, for malformed values.
        """
        if isinstance(after, datetime):
            value = http_date(after, form)
        elif isinstance(after, str):
            value = after
        else:
            value = str(after)
        self.inject(
            route,
            status=status,
            body=body,
            headers={**(headers or {}), "Retry-After": value},
            times=times,
        )
        return value

    def inject_echo(
        self,
        route: str,
        template: Any,
        *,
        status: int = 400,
        encoding: str = "raw",
        secret: str = "any",
        when: str = "before",
        times: int = 1,
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> None:
        """Answer with ``template`` in which ``{secret}`` is the credential the request
        carried and ``{authorization}`` its whole Authorization header, as a careless
        platform echoes them in an error, a name or an id.

        Args:
            template: a JSON-able body (or a string) holding the placeholders anywhere.
            encoding: how the secret comes back, one of :data:`ECHO_ENCODINGS`.
            secret: which credential: ``bearer``, a form or query field's name
                (``access_token``, ``refresh_token``, ``client_secret``, ``code``), or
                ``any`` for the first of those the request carried.
            when: ``after`` lets the platform act first (a post is created, then the
                answer echoes the token); ``status=200`` then makes it a success.
        """
        assert encoding in ECHO_ENCODINGS, encoding

        def body(req: Request) -> Any:
            value = ECHO_ENCODINGS[encoding](sent_secret(req, secret))
            auth = ECHO_ENCODINGS[encoding](req.header("authorization") or "")
            return _fill(template, {"{secret}": value, "{authorization}": auth})

        self.inject(
            route,
            status=status,
            body=body,
            headers=headers,
            when=when,
            times=times,
            content_type=content_type,
        )

    def answer_held(self) -> None:
        """Let the requests a ``slow`` or ``timeout`` fault holds go on now (for the rest
        of the test), so a test decides when a held publish gets its answer."""
        self._release.set()

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, req: Request) -> Fault | None:
        with self._lock:
            for f in self._faults:
                if f.times != 0 and f.pattern.fullmatch(req.route):
                    if f.skip:
                        f.skip -= 1
                        continue
                    f.times -= 1
                    return f
        return None

    # ------------------------------------------------------------ serving
    def handle(self, req: Request) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    def calls(self, route: str) -> list[Request]:
        pat = re.compile(route)
        with self._lock:
            return [r for r in self.requests if pat.fullmatch(r.route)]

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        req = Request(
            method=h.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in h.headers.items()},
            body=body,
            received_at=time.time(),
        )
        with self._lock:
            self.requests.append(req)
        fault = self._take_fault(req)
        reply: Reply | None = None
        if fault is not None and fault.mode in _HOSTILE and fault.when == "before":
            self._misbehave(h, fault)
            return
        if fault is None or fault.when == "after" or fault.mode in ("slow", "paced"):
            try:
                with self._lock:
                    reply = self.handle(req)
            except Exception as exc:  # a bug in the fake must not look like a platform answer
                reply = Reply(599, {"fake_error": repr(exc)})
        if fault is not None:
            if fault.mode == "respond":
                body = fault.body(req) if callable(fault.body) else fault.body
                reply = Reply(fault.status, body, fault.headers, fault.content_type)
            elif fault.mode == "drop":
                self._hang_up(h)
                return
            elif fault.mode == "timeout":
                self._release.wait(fault.delay or 30)
                self._hang_up(h)
                return
            elif fault.mode == "slow":
                self._release.wait(fault.delay)
            elif fault.mode in _HOSTILE:
                self._misbehave(h, fault)
                return
        assert reply is not None
        if reply.stream is not None:
            self._stream(h, reply)
            return
        payload, ctype = reply.encode()
        try:
            h.send_response(reply.status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(payload)))
            for k, v in reply.headers.items():
                h.send_header(k, v)
            h.end_headers()
            if fault is not None and fault.mode == "paced":
                # a slow but steady line: the whole answer, one piece per ``delay``
                for start in range(0, len(payload), 65536):
                    h.wfile.write(payload[start : start + 65536])
                    h.wfile.flush()
                    if self._release.wait(fault.delay):
                        return
            else:
                h.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _stream(self, h: BaseHTTPRequestHandler, reply: Reply) -> None:
        assert reply.stream is not None
        try:
            h.send_response(reply.status)
            h.send_header("Content-Type", reply.content_type or "text/event-stream")
            h.send_header("Transfer-Encoding", "chunked")
            h.send_header("Cache-Control", "no-cache")
            for k, v in reply.headers.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.flush()
            for item in reply.stream:
                if item is None:
                    self._hang_up(h)
                    return
                if isinstance(item, float | int):
                    if self._release.wait(float(item)):
                        self._hang_up(h)
                        return
                    continue
                h.wfile.write(b"%x\r\n%s\r\n" % (len(item), item))
                h.wfile.flush()
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the client hung up (cancelled)

    def _misbehave(self, h: BaseHTTPRequestHandler, fault: Fault) -> None:
        """Answer in one of the hostile ways, until the client gives up or the fake stops."""
        h.close_connection = True
        out = h.wfile
        gap = fault.delay or 20
        try:
            if fault.mode == "trickle_headers":
                out.write(b"HTTP/1.1 200 OK\r\n")
                out.flush()
                for byte in b"X-Slow: " + b"a" * 10_000:
                    if self._release.wait(gap):
                        return
                    out.write(bytes([byte]))
                    out.flush()
                return
            if fault.mode == "trickle":
                out.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 100000\r\n\r\n{"
                )
                out.flush()
                while not self._release.wait(gap):
                    out.write(b" ")
                    out.flush()
                return
            if fault.mode == "endless":
                out.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n"
                )
                chunk = b" " * 65536
                frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
                while not self._release.is_set():
                    out.write(frame)
                return
            body = gzip_bomb()
            out.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
            )
            out.write(body)
            out.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the client hung up: what a careful client does

    @staticmethod
    def _hang_up(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


@functools.cache
def gzip_bomb(inflated: int = 1 << 30) -> bytes:
    """A gzip stream of ``inflated`` zero bytes (about a thousandth of that on the wire).

    Made of 16 MiB members one after the other, which gzip readers must join
    (RFC 1952 section 2.2), so it is quick to build.
    """
    member = 16 << 20
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    one = packer.compress(bytes(member)) + packer.flush()
    return one * max(1, inflated // member)


def self_signed_certificate(folder: str) -> tuple[str, str]:
    """A certificate and key for 127.0.0.1, made with the ``openssl`` command."""
    import subprocess
    from pathlib import Path

    cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


def http_date(when: datetime, form: str = "imf") -> str:
    """``when`` as an HTTP-date in one of RFC 9110's three forms (all of them GMT)."""
    when = when.astimezone(UTC)
    if form == "imf":  # Sun, 06 Nov 1994 08:49:37 GMT
        return format_datetime(when, usegmt=True)
    if form == "rfc850":  # Sunday, 06-Nov-94 08:49:37 GMT
        return when.strftime("%A, %d-%b-%y %H:%M:%S GMT")
    if form == "asctime":  # Sun Nov  6 08:49:37 1994: no zone, yet GMT
        return f"{when:%a %b} {when.day:2d} {when:%H:%M:%S %Y}"
    raise ValueError(f"unknown HTTP-date form {form!r}")


def _json_escaped(value: str) -> str:
    # what a platform that puts a JSON document inside its message string sends: the
    # slashes escaped (as PHP and many encoders do) and non-ASCII as \u escapes
    return json.dumps(value)[1:-1].replace("/", "\\/")


#: how an echoed secret may come back
ECHO_ENCODINGS: dict[str, Any] = {
    "raw": lambda v: v,
    "percent": lambda v: quote(v, safe=""),
    "percent-lower": lambda v: re.sub(
        r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(v, safe="")
    ),
    "percent-twice": lambda v: quote(quote(v, safe=""), safe=""),
    "form": lambda v: quote_plus(v),
    "json-escaped": _json_escaped,
    "html": lambda v: html.escape(v).replace("/", "&#x2F;").replace("+", "&#43;"),
}


def sent_secret(req: Request, which: str = "any") -> str:
    """The credential ``req`` carried: its bearer token or a query or form field."""
    form = {}
    if req.body and "x-www-form-urlencoded" in (req.header("content-type") or ""):
        form = req.form()
    fields = {**{k: v[-1] for k, v in req.query.items()}, **{k: v[-1] for k, v in form.items()}}
    auth = req.header("authorization") or ""
    if auth.startswith("Basic "):
        decoded = base64.b64decode(auth[6:]).decode("utf-8", "replace")
        fields.setdefault("client_secret", decoded.partition(":")[2])
    found = {"bearer": bearer(req), **fields}
    if which != "any":
        value = found.get(which)
        assert value, f"the request carried no {which}"
        return value
    for name in ("bearer", "access_token", "refresh_token", "client_secret", "code"):
        if found.get(name):
            return str(found[name])
    raise AssertionError(f"{req.route} carried no credential to echo")


def _fill(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, str):
        for placeholder, value in values.items():
            template = template.replace(placeholder, value)
        return template
    if isinstance(template, dict):
        return {_fill(k, values): _fill(v, values) for k, v in template.items()}
    if isinstance(template, list | tuple):
        return [_fill(v, values) for v in template]
    return template


def bearer(req: Request) -> str | None:
    auth = req.header("authorization") or ""
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return None
