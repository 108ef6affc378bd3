"""The picture the editor shows for a linked image, fetched over real HTTP from a
fake media host: kept once, private, and every failure said in words."""

from __future__ import annotations

import os
import stat

import pytest
from PySide6.QtGui import QImage

from milton_desktop.domain.errors import UserError
from milton_desktop.operations import link_previews
from milton_desktop.publishers import deadline
from tests.fakes.server import FakeServer, Reply, Request


def _jpeg() -> bytes:
    # built without Qt: the fake serves from its own thread, and the first Qt object
    # made off the main thread would make Qt think that thread is the main one
    from tests.publishers.test_instagram import make_jpeg

    return make_jpeg(64, 48)


class Cdn(FakeServer):
    def handle(self, req: Request) -> Reply:
        if req.path == "/photo.jpg":
            return Reply(200, _jpeg(), content_type="image/jpeg")
        if req.path == "/page.jpg":
            return Reply(200, "<html>a login page</html>")
        return Reply(404, "<html>gone</html>")


@pytest.fixture
def cdn(monkeypatch):
    monkeypatch.setenv(deadline.DEADLINE_ENV, "2")
    with Cdn() as server:
        yield server


def test_a_linked_image_is_fetched_once_and_kept_private(cdn, tmp_path):
    url = f"{cdn.url}/photo.jpg?sig=abc"
    path = link_previews.fetch_preview(url, tmp_path)
    assert QImage(str(path)).size().width() == 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert link_previews.fetch_preview(url, tmp_path) == path
    assert len(cdn.calls("GET /photo.jpg")) == 1  # the second time from the folder


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/missing.jpg", "answered 404"),
        ("/page.jpg", "serves text/html, not an image"),
    ],
)
def test_a_link_that_does_not_give_an_image_says_why(cdn, tmp_path, path, said):
    with pytest.raises(UserError, match=said):
        link_previews.fetch_preview(f"{cdn.url}{path}", tmp_path)
    assert not link_previews.preview_path(f"{cdn.url}{path}", tmp_path).exists()


def test_a_trickling_host_costs_the_deadline_not_the_editor(cdn, tmp_path):
    cdn.inject("GET /photo.jpg", mode="trickle", delay=0.3)
    with pytest.raises(UserError, match="no complete answer within"):
        link_previews.fetch_preview(f"{cdn.url}/photo.jpg", tmp_path)


def test_only_image_links_get_a_preview(tmp_path):
    with pytest.raises(UserError, match="only images get a preview"):
        link_previews.fetch_preview("https://cdn.example/clip.mp4", tmp_path)
    with pytest.raises(UserError):
        link_previews.fetch_preview("ftp://cdn.example/a.jpg", tmp_path)
