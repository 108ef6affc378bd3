"""The plumbing the publishers share: media downloads, secret scrubbing, safe URLs."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from milton_desktop.domain.credential import Credential
from milton_desktop.domain.redaction import RedactingFilter, redact_urllib3_logs
from milton_desktop.publishers.base import Rejected, Transient
from milton_desktop.publishers.http import (
    MAX_REDIRECTS,
    credential_secrets,
    download,
    safe_url,
    scrub,
)
from tests.fakes.server import FakeServer, Reply, Request

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8


class MediaHost(FakeServer):
    """A media host with the answers a download meets in the wild."""

    def handle(self, req: Request) -> Reply:
        if req.path == "/photo.jpg":
            return Reply(200, JPEG, content_type="Image/JPEG; charset=binary")
        if req.path == "/moved":
            return Reply(302, b"", {"Location": "/photo.jpg"})
        if req.path == "/loop":
            return Reply(302, b"", {"Location": "/loop"})
        if req.path == "/elsewhere":
            return Reply(302, b"", {"Location": "ftp://example.com/photo.jpg"})
        if req.path == "/empty.jpg":
            return Reply(200, b"", content_type="image/jpeg")
        return Reply(404, "<html>not here</html>")


@pytest.fixture(scope="module")
def media_server() -> Iterator[MediaHost]:
    server = MediaHost()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def host(media_server: MediaHost) -> MediaHost:
    media_server.requests.clear()
    media_server.clear_faults()
    return media_server


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def fetch(session: requests.Session, url: str, *, cap: int = 0, **kw: Any) -> bytes:
    with contextlib.ExitStack() as stack:
        got = download(
            session,
            url,
            what="downloading media 1",
            label="media 1",
            cap=cap,
            timeout=(2, 2),
            stack=stack,
            platform="Example",
            **kw,
        )
        assert got.file.tell() == 0  # rewound, ready for the upload
        data = got.file.read()
        assert len(data) == got.size
        return data


# ---------------------------------------------------------------- download


def test_download_follows_a_redirect_without_platform_headers(
    host: MediaHost, session: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    # a header set on a shared session must not travel to somebody else's server
    session.headers["Authorization"] = "Bearer platform-token-123"
    log = logging.getLogger("milton.test.download")
    caplog.set_level(logging.INFO, logger=log.name)
    with contextlib.ExitStack() as stack:
        got = download(
            session,
            f"{host.url}/moved?sig=s3cr3t-signature",
            what="downloading media 1",
            label="media 1",
            cap=0,
            timeout=(2, 2),
            stack=stack,
            platform="Example",
            log=log,
        )
        assert got.file.read() == JPEG
        assert got.size == len(JPEG)
        assert got.content_type == "image/jpeg"
    assert [r.path for r in host.requests] == ["/moved", "/photo.jpg"]
    assert all(r.header("authorization") is None for r in host.requests)
    assert f"GET {host.url}/moved -> 302" in caplog.text
    assert "s3cr3t-signature" not in caplog.text


def test_download_refuses_other_schemes_before_sending(session: requests.Session) -> None:
    with pytest.raises(Rejected, match="only http and https"):
        fetch(session, "file:///etc/passwd")


def test_download_refuses_a_redirect_to_another_scheme(
    host: MediaHost, session: requests.Session
) -> None:
    with pytest.raises(Rejected, match="only http and https"):
        fetch(session, f"{host.url}/elsewhere")


def test_download_gives_up_on_a_redirect_loop(host: MediaHost, session: requests.Session) -> None:
    with pytest.raises(Rejected, match="redirects too many times") as err:
        fetch(session, f"{host.url}/loop?token=abc")
    assert "token=abc" not in str(err.value)
    assert len(host.requests) == MAX_REDIRECTS + 1


def test_download_of_a_missing_file_is_rejected_without_the_query(
    host: MediaHost, session: requests.Session
) -> None:
    with pytest.raises(Rejected) as err:
        fetch(session, f"{host.url}/missing.jpg?token=abc")
    assert "404" in str(err.value) and err.value.http_status == 404
    assert "token=abc" not in str(err.value)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_download_busy_host_is_transient(
    host: MediaHost, session: requests.Session, status: int
) -> None:
    host.inject("GET /photo.jpg", status=status)
    with pytest.raises(Transient) as err:
        fetch(session, f"{host.url}/photo.jpg")
    assert err.value.http_status == status


def test_download_over_the_declared_size_is_rejected(
    host: MediaHost, session: requests.Session
) -> None:
    with pytest.raises(Rejected, match="over Example's 100 bytes limit: use a smaller file"):
        fetch(session, f"{host.url}/photo.jpg", cap=100)


def test_download_of_an_empty_file_is_rejected(host: MediaHost, session: requests.Session) -> None:
    with pytest.raises(Rejected, match="returned no bytes"):
        fetch(session, f"{host.url}/empty.jpg")


class _StubSession(requests.Session):
    """Answers every request with one prepared response (no Content-Length)."""

    def __init__(self, body: io.BytesIO) -> None:
        super().__init__()
        self.body = body

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        resp = requests.Response()
        resp.status_code = 200
        resp.raw = self.body
        resp.url = str(url)
        return resp


def test_download_stops_at_the_cap_without_a_content_length() -> None:
    with pytest.raises(Rejected, match="is over Example's 1 MB limit"):
        fetch(_StubSession(io.BytesIO(bytes(1024 * 1024 + 1))), "https://cdn.test/a", cap=1 << 20)


class _BrokenBody(io.BytesIO):
    def read(self, size: int | None = -1) -> bytes:
        raise requests.exceptions.ChunkedEncodingError("peer went away")


def test_download_that_breaks_off_is_transient() -> None:
    with pytest.raises(Transient, match="broke off"):
        fetch(_StubSession(_BrokenBody()), "https://cdn.test/a")


# ---------------------------------------------------------------- secrets


def test_scrub_removes_secrets_and_query_credentials() -> None:
    text = "bad tok-123456 near access_token=AAA&x=1, client_secret=BBB and code=CCC"
    clean = scrub(text, ("tok-123456", None, ""))
    for secret in ("tok-123456", "AAA", "BBB", "CCC"):
        assert secret not in clean
    assert clean.count("[redacted]") == 4
    assert "&x=1" in clean


def test_scrub_uses_the_given_mask() -> None:
    assert scrub("Bearer tok-123456", ["tok-123456"], mask="***") == "Bearer ***"


def test_credential_secrets_lists_every_secret() -> None:
    cred = Credential(
        "at-1",
        refresh_token="rt-2",
        client_id="id",
        client_secret="cs-3",
        extra={"scope": "w_member_social", "page_token": "pt-4", "token_expires_at": "2030"},
    )
    basic = "aWQ6Y3MtMw=="  # base64 of "id:cs-3": the Authorization: Basic value
    assert set(credential_secrets(cred)) == {"at-1", "rt-2", "cs-3", basic, "pt-4"}


def test_safe_url_drops_query_fragment_and_user_info() -> None:
    assert (
        safe_url("https://user:pw@cdn.example.com:8443/a/b.jpg?sig=s3cr3t#frag")
        == "https://cdn.example.com:8443/a/b.jpg"
    )


# ---------------------------------------------------------------- urllib3's log lines


@pytest.mark.parametrize("name", ["urllib3.connectionpool", "urllib3.util.retry"])
def test_urllib3_loggers_are_redacted_without_setup_logging(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger(name)
    assert any(isinstance(f, RedactingFilter) for f in logger.filters)
    caplog.set_level(logging.DEBUG, logger=name)
    logger.debug('%s "GET %s HTTP/1.1" 200', "https://x", "/t?access_token=IGAAsecret42")
    assert "IGAAsecret42" not in caplog.text
    assert "access_token=[redacted]" in caplog.text


def test_installing_the_urllib3_redaction_again_adds_no_second_filter() -> None:
    redact_urllib3_logs()
    redact_urllib3_logs()
    logger = logging.getLogger("urllib3.connectionpool")
    assert sum(isinstance(f, RedactingFilter) for f in logger.filters) == 1


@pytest.fixture
def not_tls():
    """A server on loopback that answers an https client in plain text, as a
    misconfigured proxy or a wrong port does: the TLS handshake cannot succeed."""
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    worker = threading.Thread(target=serve, daemon=True)
    worker.start()
    yield f"https://127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    worker.join(5)
    srv.close()


@pytest.mark.parametrize("create", [False, True])
def test_a_failed_tls_handshake_sent_nothing_and_says_so(not_tls, create):
    import requests

    from milton_desktop.publishers.base import Transient
    from milton_desktop.publishers.http import send

    with pytest.raises(Transient, match=r"secure connection \(TLS\) could not be set up"):
        send(
            requests.Session(),
            "POST",
            f"{not_tls}/2/tweets",
            what="creating the post",
            create=create,
            timeout=(2, 2),
            json={},
        )
