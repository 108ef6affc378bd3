"""What a request waits for and reads, against hostile servers over real HTTP.

A server may trickle its answer (a byte every few seconds, which no per-read timeout
catches), send a body without end, or a small gzip answer that inflates to a
gigabyte. Every request has a total deadline and every answer a size limit, and
running into either is classified like any network failure: a create that went out
has an unknown outcome, anything else is retried.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest
import requests

from milton_desktop.publishers import deadline
from milton_desktop.publishers.base import OutcomeUnknown, Transient
from milton_desktop.publishers.http import MAX_ANSWER, download, send
from tests.fakes.server import FakeServer, Reply, Request, self_signed_certificate

# the per-read timeout, longer than the gap between trickled bytes: only the total
# deadline can end such an answer
READ_TIMEOUT = (5.0, 5.0)
DEADLINE = 1.5


class Api(FakeServer):
    """An API that answers every call with a small JSON object, and a media file."""

    created = 0

    def handle(self, req: Request) -> Reply:
        if req.path == "/video.mp4":
            return Reply(200, bytes(640 * 1024), content_type="video/mp4")
        if req.method == "POST":
            self.created += 1
            return Reply(201, {"id": str(self.created)})
        return Reply(200, {"ok": True, "size": len(req.body)})


@pytest.fixture
def api(monkeypatch) -> Iterator[Api]:
    monkeypatch.setenv(deadline.DEADLINE_ENV, str(DEADLINE))
    with Api() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def _get(session: requests.Session, url: str) -> requests.Response:
    return send(session, "GET", url, what="reading the profile", timeout=READ_TIMEOUT)


def _create(session: requests.Session, url: str, **kw) -> requests.Response:
    return send(
        session, "POST", url, what="creating the post", create=True, timeout=READ_TIMEOUT, **kw
    )


def _ended_within(started: float, seconds: float = 30.0) -> None:
    # generous: the point is that it ended at all, not how fast
    assert time.monotonic() - started < seconds


# ---------------------------------------------------------------- trickling answers


def test_a_trickled_answer_to_a_lookup_is_retried_after_the_deadline(api, session) -> None:
    api.inject("GET /me", mode="trickle", delay=0.3)
    started = time.monotonic()
    with pytest.raises(Transient, match=r"no complete answer within \d+ s while reading"):
        _get(session, f"{api.url}/me")
    _ended_within(started)
    # and the session is still good for the next call
    assert _get(session, f"{api.url}/me").json()["ok"] is True


def test_a_trickled_answer_to_a_create_that_went_out_is_an_unknown_outcome(api, session) -> None:
    api.inject("POST /posts", mode="trickle", when="after", delay=0.3)
    with pytest.raises(OutcomeUnknown, match="may or may not have been published"):
        _create(session, f"{api.url}/posts", json={"text": "hello"})
    assert api.created == 1  # it did post: retrying blindly would post twice


def test_trickled_headers_are_cut_too(api, session) -> None:
    api.inject("GET /me", mode="trickle_headers", delay=0.3)
    started = time.monotonic()
    with pytest.raises(Transient, match="no complete answer within"):
        _get(session, f"{api.url}/me")
    _ended_within(started)
    api.inject("POST /posts", mode="trickle_headers", delay=0.3)
    with pytest.raises(OutcomeUnknown):
        _create(session, f"{api.url}/posts", json={"text": "hello"})


def test_a_trickle_over_tls_is_cut_the_same_way(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(deadline.DEADLINE_ENV, str(DEADLINE))
    cert, key = self_signed_certificate(str(tmp_path))
    # the environment's CA bundle would win over ``session.verify``
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)
    with Api(tls=(cert, key)) as api, requests.Session() as session:
        assert _get(session, f"{api.url}/me").json()["ok"] is True
        api.inject("GET /me", mode="trickle", delay=0.3)
        with pytest.raises(Transient, match="no complete answer within"):
            _get(session, f"{api.url}/me")
        api.inject("POST /posts", mode="trickle", when="after", delay=0.3)
        with pytest.raises(OutcomeUnknown):
            _create(session, f"{api.url}/posts", json={})
        assert _get(session, f"{api.url}/me").json()["ok"] is True


def test_an_answer_within_its_time_is_untouched(api, session) -> None:
    api.inject("GET /me", mode="slow", delay=0.5)
    assert _get(session, f"{api.url}/me").json() == {"ok": True, "size": 0}


def test_a_large_upload_gets_the_time_its_bytes_need(api, session) -> None:
    # the server takes longer than the bare deadline to answer; a request carrying
    # 256 KiB has DEADLINE + 8 s at the slowest rate allowed, one carrying nothing has not
    api.inject("POST /upload", mode="slow", delay=DEADLINE + 1.5, times=2)
    resp = send(
        session,
        "POST",
        f"{api.url}/upload",
        what="uploading the video",
        timeout=READ_TIMEOUT,
        data=bytes(256 * 1024),
    )
    assert resp.status_code == 201
    with pytest.raises(Transient, match="no complete answer within"):
        send(session, "POST", f"{api.url}/upload", what="uploading", timeout=READ_TIMEOUT)


def test_the_upload_budget_counts_files_and_streams() -> None:
    import io

    assert deadline.body_size({"data": b"x" * 1000}) == 1000
    stream = io.BytesIO(b"y" * 5000)
    stream.seek(1000)
    assert deadline.body_size({"data": stream}) == 4000
    assert deadline.body_size({"files": {"media": ("a.jpg", b"z" * 300, "image/jpeg")}}) == 300
    assert deadline.budget(MAX_ANSWER) > deadline.budget(0)


def test_a_nonsense_deadline_setting_keeps_the_default(monkeypatch) -> None:
    for value in ("", "soon", "-1", "0", "1e99", "nan"):
        monkeypatch.setenv(deadline.DEADLINE_ENV, value)
        assert deadline.deadline() == deadline.DEADLINE


# ---------------------------------------------------------------- answers without end


def test_an_endless_answer_stops_at_the_limit(api, session) -> None:
    api.inject("GET /me", mode="endless")
    with pytest.raises(Transient, match="answer was over 8 MB, larger than any real answer"):
        _get(session, f"{api.url}/me")
    api.inject("POST /posts", mode="endless", when="after")
    with pytest.raises(OutcomeUnknown, match="over 8 MB"):
        _create(session, f"{api.url}/posts", json={})


def test_a_gzip_bomb_is_stopped_after_decompression(api, session) -> None:
    api.inject("GET /me", mode="bomb")
    with pytest.raises(Transient, match="over 8 MB"):
        _get(session, f"{api.url}/me")


def test_a_declared_length_over_the_limit_is_refused_unread(api, session) -> None:
    api.inject("GET /me", status=200, body=bytes(MAX_ANSWER + 1))
    with pytest.raises(Transient, match="over 8 MB"):
        _get(session, f"{api.url}/me")


# ---------------------------------------------------------------- media downloads


def _download(session: requests.Session, url: str) -> int:
    with contextlib.ExitStack() as stack:
        got = download(
            session,
            url,
            what="downloading media 1",
            label="media 1",
            cap=0,
            timeout=READ_TIMEOUT,
            stack=stack,
            platform="Example",
        )
        return got.size


def test_a_trickled_download_is_retried_after_the_deadline(api, session) -> None:
    api.inject("GET /video.mp4", mode="trickle", delay=0.3)
    started = time.monotonic()
    with pytest.raises(Transient, match="no complete answer within"):
        _download(session, f"{api.url}/video.mp4")
    _ended_within(started)


def test_a_slow_but_steady_download_may_take_longer_than_the_deadline(api, session) -> None:
    # 640 KiB in ten pieces 0.3 s apart: about 3 s, twice the bare deadline, at a
    # rate well above the slowest allowed
    api.inject("GET /video.mp4", mode="paced", delay=0.3)
    assert _download(session, f"{api.url}/video.mp4") == 640 * 1024
