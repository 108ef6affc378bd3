"""Threads and Instagram insights over real HTTP against the Graph fakes: the values,
a missing permission said once (with Instagram's fallback to the media's counters),
"not enough viewers", a deleted post and the call limit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from milton_desktop.domain.credential import AccountRef, Credential
from milton_desktop.publishers.base import RateLimited
from milton_desktop.publishers.instagram import InstagramPublisher
from milton_desktop.publishers.threads import ThreadsPublisher
from tests.fakes.instagram import FakeInstagram, graph_error
from tests.fakes.threads import FakeThreads

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TH_USER, IG_USER = "25811240958523117", "17841400008460056"
TOKEN = "GRAPHmetricsTOKEN0123456789"


@pytest.fixture
def threads():
    server = FakeThreads().start()
    server.add_token(TOKEN, user_id=TH_USER)
    yield server
    server.stop()


@pytest.fixture
def instagram():
    server = FakeInstagram().start()
    server.add_token(TOKEN, user_id=IG_USER)
    yield server
    server.stop()


def th_pub(fake: FakeThreads) -> ThreadsPublisher:
    return ThreadsPublisher(api_base=fake.url, timeout=(2, 2), now=lambda: NOW)


def ig_pub(fake: FakeInstagram) -> InstagramPublisher:
    return InstagramPublisher(api_base=fake.url, timeout=(2, 2), now=lambda: NOW)


def test_threads_insights_are_read_per_post(threads):
    post = threads.add_thread("hello")
    threads.set_insights(post.id, views=900, likes=12, replies=3, reposts=2, quotes=1)
    batch = th_pub(threads).metrics([post.id], Credential(TOKEN), AccountRef(TH_USER))
    assert batch.counters == {
        post.id: {"views": 900, "likes": 12, "replies": 3, "reposts": 2, "quotes": 1}
    }
    (call,) = threads.calls(r"GET /v1\.0/\d+/insights")
    assert call.query["metric"] == ["views,likes,replies,reposts,quotes"]
    assert not batch.notes


def test_threads_without_the_insights_permission_is_one_note_not_an_error_per_post(threads):
    posts = [threads.add_thread(f"post {n}") for n in range(3)]
    threads.tokens_without_insights.add(TOKEN)
    batch = th_pub(threads).metrics([p.id for p in posts], Credential(TOKEN), AccountRef(TH_USER))
    assert batch.counters == {}
    (note,) = batch.notes
    assert "threads_manage_insights" in note and "reconnect" in note
    # one refusal is enough: the same token is not asked again for every post
    assert len(threads.calls(r"GET /v1\.0/\d+/insights")) == 1


def test_a_deleted_threads_post_is_gone(threads):
    batch = th_pub(threads).metrics(["999"], Credential(TOKEN), AccountRef(TH_USER))
    assert batch.gone == {"999"}


def test_instagram_insights_use_the_shared_names(instagram):
    media = instagram.add_media("a photo")
    instagram.set_insights(media.id, reach=400, likes=30, comments=4, saved=6, shares=2)
    batch = ig_pub(instagram).metrics([media.id], Credential(TOKEN), AccountRef(IG_USER))
    assert batch.counters[media.id] == {
        "reach": 400,
        "likes": 30,
        "comments": 4,
        "saves": 6,
        "shares": 2,
    }


def test_instagram_not_enough_viewers_is_no_figures_yet(instagram):
    media = instagram.add_media("just posted")
    instagram.too_few_viewers.add(media.id)
    batch = ig_pub(instagram).metrics([media.id], Credential(TOKEN), AccountRef(IG_USER))
    assert batch.pending == {media.id}
    assert batch.counters == {} and not batch.notes


def test_instagram_without_the_permission_reads_the_media_counters_with_a_note(instagram):
    first, second = instagram.add_media("one"), instagram.add_media("two")
    instagram.set_insights(first.id, likes=8, comments=2, reach=100)
    instagram.set_insights(second.id, likes=1)
    instagram.tokens_without_insights.add(TOKEN)
    batch = ig_pub(instagram).metrics([first.id, second.id], Credential(TOKEN), AccountRef(IG_USER))
    assert batch.counters == {
        first.id: {"likes": 8, "comments": 2},
        second.id: {"likes": 1, "comments": 0},
    }
    (note,) = batch.notes
    assert "instagram_business_manage_insights" in note and "reach" in note
    fields = [c.query.get("fields") for c in instagram.calls(r"GET /v\d+\.\d+/\d+")]
    assert fields == [["like_count,comments_count"]] * 2


def test_the_call_limit_is_a_rate_limit(instagram):
    media = instagram.add_media("one")
    instagram.inject(
        r"GET /v\d+\.\d+/\d+/insights",
        body=graph_error(4, "(#4) Application request limit reached").body,
        status=400,
    )
    with pytest.raises(RateLimited):
        ig_pub(instagram).metrics([media.id], Credential(TOKEN), AccountRef(IG_USER))
