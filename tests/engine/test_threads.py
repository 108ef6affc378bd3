"""Threads and first comments through the real engine, the real publishers and fake
platforms over HTTP: every part goes out once, in a correct chain, whatever fails on
the way; what each part became is kept and shown."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.credential import Credential
from milton_desktop.engine.machine import Engine, EngineConfig
from milton_desktop.operations import posts, schedules
from milton_desktop.publishers import registry
from milton_desktop.storage import queries
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Account, PublishingResult, ScheduledPost
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.x import FakeX

X_TOKEN = "x-thread-token-0001"
X_USER = "2244994945"


@pytest.fixture
def clock():
    # the fakes read real time (rate-limit resets): the engine's clock starts there too
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def creds(db, memory_keyring):
    return CredentialStore("test")


@pytest.fixture
def engine(db, creds, clock, monkeypatch):
    monkeypatch.setenv("MILTON_TEST_NO_SLEEP", "1")
    return Engine(
        creds,
        clock=clock,
        config=EngineConfig(max_attempts=3),
        rng=random.Random(3),
    )


@pytest.fixture
def fake_x():
    with FakeX() as fake:
        fake.add_user(X_USER, "miltonhq", "Milton HQ", token=X_TOKEN)
        yield fake


@pytest.fixture
def x_account(db, creds, fake_x):
    acc = Account.create(
        platform="x",
        display_name="hq",
        username="miltonhq",
        remote_id=X_USER,
        api_base=fake_x.url,
    )
    creds.save("x", acc.id, Credential(X_TOKEN))
    return acc


def _thread(clock, account, *follow_ups, text="1. The main post", delay=0):
    post = posts.add_post(text, follow_ups=list(follow_ups), follow_up_delay=delay)
    return schedules.schedule(post.id, account.id, clock.now() + timedelta(minutes=5), clock=clock)


def _due(engine, clock, minutes=5):
    clock.advance(timedelta(minutes=minutes))
    return engine.publish_due()


def _row(schedule_id):
    (row,) = [r for r in queries.schedule_rows() if r["id"] == schedule_id]
    return row


def test_a_three_part_thread_goes_out_as_a_chain_of_replies(engine, clock, fake_x, x_account):
    sched = _thread(clock, x_account, "2. The first reply", "3. The last word")

    (outcome,) = _due(engine, clock)

    assert outcome.status == "published"
    chain = fake_x.reply_chain(X_USER)
    assert [t["text"] for t in fake_x.tweets] == [
        "1. The main post",
        "2. The first reply",
        "3. The last word",
    ]
    assert chain == [(chain[0][0], None), (chain[1][0], chain[0][0]), (chain[2][0], chain[1][0])]
    row = _row(sched.id)
    assert row["status"] == "published"
    assert row["url"] == f"https://x.com/miltonhq/status/{chain[0][0]}"
    assert [(p["index"], p["status"], p["remote_id"]) for p in row["parts"]] == [
        (0, "published", chain[0][0]),
        (1, "published", chain[1][0]),
        (2, "published", chain[2][0]),
    ]
    assert row["parts"][2]["url"] == f"https://x.com/miltonhq/status/{chain[2][0]}"
    # the history has a result per part, the last one with every part's state
    results = list(PublishingResult.select().order_by(PublishingResult.id))
    assert [(r.part, r.outcome) for r in results] == [
        (0, "part_published"),
        (1, "part_published"),
        (2, "published"),
    ]
    assert [p["status"] for p in json.loads(results[-1].parts)] == ["published"] * 3


def test_a_transient_failure_on_part_two_retries_from_part_two(engine, clock, fake_x, x_account):
    sched = _thread(clock, x_account, "2. The first reply", "3. The last word")
    reset = str(int(time.time()) + 120)
    fake_x.inject(  # part 2's create is refused for now: nothing was made
        "POST /2/tweets",
        status=429,
        body={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset},
        skip=1,
    )

    (outcome,) = _due(engine, clock)
    assert outcome.status == "pending"
    row = _row(sched.id)
    assert [p["status"] for p in row["parts"]] == ["published", "pending", "pending"]
    assert row["url"] and row["url"].endswith(row["parts"][0]["remote_id"])

    clock.advance(timedelta(minutes=5))  # past X's reset
    (outcome,) = engine.publish_due()

    assert outcome.status == "published"
    texts = [t["text"] for t in fake_x.tweets]
    assert texts == ["1. The main post", "2. The first reply", "3. The last word"]
    chain = fake_x.reply_chain(X_USER)
    assert chain[1][1] == chain[0][0] and chain[2][1] == chain[1][0]


def test_an_unknown_outcome_on_part_two_is_uncertain_and_says_which_part(
    engine, clock, fake_x, x_account
):
    sched = _thread(clock, x_account, "2. The first reply", "3. The last word")
    fake_x.inject("POST /2/tweets", mode="drop", when="after", skip=1)

    (outcome,) = _due(engine, clock)

    assert outcome.status == "uncertain"
    assert "part 2 of 3 may have been posted" in outcome.message
    assert "the first part is live" in outcome.message
    assert len(fake_x.tweets) == 2  # nothing was sent after the unknown
    row = _row(sched.id)
    assert [p["status"] for p in row["parts"]] == ["published", "uncertain", "pending"]

    # the user checks X: part 2 did go out; the thread ends there, and says so
    schedules.resolve_uncertain(sched.id, published=True)
    view = queries.schedule_view(sched.id)
    assert view.status == "published"
    assert view.remote_url.endswith(fake_x.tweets[0]["id"])
    assert "the 1 part after it was not sent" in view.warning
    assert len(fake_x.tweets) == 2


def test_a_refused_part_fails_the_row_and_publish_now_resumes_from_it(
    engine, clock, fake_x, x_account
):
    sched = _thread(clock, x_account, "2. The first reply", "3. The last word")
    fake_x.inject(
        "POST /2/tweets",
        status=403,
        body={"detail": "You are not permitted to perform this action.", "status": 403},
        skip=1,
    )

    (outcome,) = _due(engine, clock)

    assert outcome.status == "failed"
    assert "part 2 of 3 was not published" in outcome.message
    assert outcome.url.endswith(fake_x.tweets[0]["id"])  # the live part's link is kept
    row = _row(sched.id)
    assert [p["status"] for p in row["parts"]] == ["published", "failed", "pending"]

    schedules.publish_now(sched.id, clock=clock)
    (outcome,) = engine.publish_due()

    assert outcome.status == "published"
    assert [t["text"] for t in fake_x.tweets] == [
        "1. The main post",
        "2. The first reply",
        "3. The last word",
    ]
    chain = fake_x.reply_chain(X_USER)
    assert chain[1][1] == chain[0][0] and chain[2][1] == chain[1][0]


def test_a_reply_carries_its_own_image_and_alt_text(engine, clock, fake_x, x_account, tmp_path):
    from tests.e2e.test_crash import _png

    picture = tmp_path / "chart.png"
    picture.write_bytes(_png())
    post = posts.add_post(
        "1. The numbers",
        follow_ups=["2. The chart"],
        follow_up_media=[[posts.MediaInput(path=picture, alt_text="Bars rising")]],
        media_dir=tmp_path / "media",
    )
    schedules.schedule(post.id, x_account.id, clock.now() + timedelta(minutes=5), clock=clock)

    (outcome,) = _due(engine, clock)

    assert outcome.status == "published", outcome.message
    main, reply = fake_x.tweets
    assert main["media_ids"] == []
    (media_id,) = reply["media_ids"]
    assert reply["body"]["reply"]["in_reply_to_tweet_id"] == main["id"]
    assert fake_x.uploads[media_id].alt_text == "Bars rising"


def test_a_delay_between_parts_is_stored_not_slept_on(engine, clock, fake_x, x_account):
    sched = _thread(clock, x_account, "2. An hour later", delay=3600)

    (outcome,) = _due(engine, clock)

    assert outcome.status == "pending"
    assert len(fake_x.tweets) == 1
    row = ScheduledPost.get_by_id(sched.id)
    assert row.next_attempt_at == clock.now() + timedelta(hours=1)
    assert row.remote_url.endswith(fake_x.tweets[0]["id"])
    assert row.claimed_by is None  # nothing waits in memory: a restart carries on
    with pytest.raises(Exception, match="1 of its 2 parts are live"):
        schedules.reschedule(sched.id, clock.now() + timedelta(days=1), clock=clock)

    clock.advance(timedelta(minutes=59))
    assert engine.publish_due() == []
    clock.advance(timedelta(minutes=1))
    (outcome,) = engine.publish_due()

    assert outcome.status == "published"
    assert fake_x.reply_chain(X_USER)[1][1] == fake_x.tweets[0]["id"]


def test_the_rest_of_a_thread_that_missed_its_time_says_so_and_goes_out_when_asked(
    engine, clock, fake_x, x_account
):
    sched = _thread(clock, x_account, "2. later", "3. later still", delay=1800)
    _due(engine, clock)
    assert len(fake_x.tweets) == 1
    clock.advance(timedelta(hours=5))  # the app was closed past the grace window

    (outcome,) = engine.publish_due()

    assert outcome.status == "missed"
    assert "the rest of the thread, from part 2 on, was not published in time" in (outcome.message)
    assert "(the first part is live)" in outcome.message
    schedules.publish_now(sched.id, clock=clock)
    engine.publish_due()  # part 2 goes out, part 3 waits its half hour
    clock.advance(timedelta(minutes=30))
    (outcome,) = engine.publish_due()
    assert outcome.status == "published"
    chain = fake_x.reply_chain(X_USER)
    assert [t["text"] for t in fake_x.tweets] == ["1. The main post", "2. later", "3. later still"]
    assert chain[1][1] == chain[0][0] and chain[2][1] == chain[1][0]


def test_a_stop_between_parts_carries_on_and_a_stop_mid_send_is_uncertain(
    engine, creds, clock, fake_x, x_account
):
    between = _thread(clock, x_account, "2. reply", text="between parts")
    mid_send = _thread(clock, x_account, "2. reply", text="mid send")
    (first, second) = fake_x.tweets or (None, None)  # nothing yet
    assert first is None and second is None
    clock.advance(timedelta(minutes=5))
    # what a killed engine leaves: part 1 live; for the second, part 2 noted as sending
    for sched, parts in (
        (between, [{"index": 0, "status": "published", "remote_id": "111", "url": "u1"}]),
        (
            mid_send,
            [
                {"index": 0, "status": "published", "remote_id": "222", "url": "u2"},
                {"index": 1, "status": "sending"},
            ],
        ),
    ):
        ScheduledPost.update(
            status="publishing", claimed_by="host:999999:dead", parts=json.dumps(parts)
        ).where(ScheduledPost.id == sched.id).execute()

    outcomes = {o.schedule_id: o for o in engine.recover_interrupted()}

    assert outcomes[between.id].status == "pending"
    assert outcomes[mid_send.id].status == "uncertain"
    assert "part 2 of 2 may have been posted" in outcomes[mid_send.id].message
    assert [p["status"] for p in _row(mid_send.id)["parts"]] == ["published", "uncertain"]


def test_mastodon_replays_a_lost_reply_with_its_key_and_posts_it_once(db, creds, clock, engine):
    with FakeMastodon() as fake:
        token = "masto-thread-token-1"
        fake.add_user("109", "milton", "Milton", token=token)
        acc = Account.create(
            platform="mastodon",
            display_name="masto",
            username="milton@" + fake.domain,
            remote_id="109",
            api_base=fake.url,
        )
        creds.save("mastodon", acc.id, Credential(token))
        sched = _thread(clock, acc, "2. a reply", "3. another")
        fake.inject("POST /api/v1/statuses", mode="drop", when="after", skip=1)

        (outcome,) = _due(engine, clock)

        assert outcome.status == "published"
        statuses = fake.statuses_of("109")
        assert [s["status"] for s in statuses] == ["1. The main post", "2. a reply", "3. another"]
        assert statuses[0]["in_reply_to_id"] is None
        assert statuses[1]["in_reply_to_id"] == statuses[0]["id"]
        assert statuses[2]["in_reply_to_id"] == statuses[1]["id"]
        assert [p["status"] for p in _row(sched.id)["parts"]] == ["published"] * 3
        # the history says how part 2's lost answer was settled, and only for it
        settled = {r.part: r.resolution for r in PublishingResult.select()}
        assert "same Idempotency-Key" in settled[1]
        assert settled[0] is None and settled[2] is None


def test_linkedin_follow_ups_are_comments_on_the_post_by_its_author(db, creds, clock, engine):
    with FakeLinkedIn() as fake:
        token = fake.add_member("abc123")
        acc = Account.create(
            platform="linkedin",
            display_name="li",
            username="me",
            remote_id="urn:li:person:abc123",
            api_base=fake.url,
        )
        creds.save("linkedin", acc.id, Credential(token))
        sched = _thread(clock, acc, "The link: https://example.com/more", "And a second comment")

        (outcome,) = _due(engine, clock)

        assert outcome.status == "published"
        (post,) = fake.posts
        comments = fake.comments_on(post["urn"])
        assert [c["message"]["text"] for c in comments] == [
            "The link: https://example.com/more",
            "And a second comment",
        ]
        assert all(c["actor"] == "urn:li:person:abc123" for c in comments)
        assert all(c["object"] == post["urn"] for c in comments)
        row = _row(sched.id)
        assert row["url"] == f"https://www.linkedin.com/feed/update/{post['urn']}"
        assert "commentUrn=" in row["parts"][1]["url"]


def test_a_follow_up_over_the_comment_limit_is_refused_when_scheduling(db, creds, clock):
    acc = Account.create(platform="linkedin", display_name="li", remote_id="urn:li:person:1")
    post = posts.add_post("main", follow_ups=["x" * 1300])
    with pytest.raises(Exception, match=r"part 2: the text is 1300 characters, over the limit"):
        schedules.schedule(post.id, acc.id, clock.now() + timedelta(minutes=5), clock=clock)


@pytest.fixture
def fake_threads():
    from tests.fakes.threads import FakeThreads

    # the fake's clock on real time: a landed post is looked for from the publisher's now
    with FakeThreads(clock=time.time()) as fake:
        fake.add_token("THQV-thread-token-1", user_id="25811240958523117", username="milton")
        yield fake


def _threads_account(creds, fake):
    acc = Account.create(
        platform="threads",
        display_name="thr",
        username="milton",
        remote_id="25811240958523117",
        api_base=fake.url,
    )
    creds.save("threads", acc.id, Credential("THQV-thread-token-1"))
    return acc


def test_threads_replies_chain_and_a_lost_publish_is_settled_by_the_container(
    db, creds, clock, engine, fake_threads
):
    acc = _threads_account(creds, fake_threads)
    sched = _thread(clock, acc, "2. a reply", "3. another")
    fake_threads.inject(r"POST (/v1\.0)?/\d+/threads_publish", mode="drop", when="after", skip=1)

    (outcome,) = _due(engine, clock)

    assert outcome.status == "published"
    chain = fake_threads.chain("25811240958523117")
    assert [p["text"] for p in fake_threads.published] == [
        "1. The main post",
        "2. a reply",
        "3. another",
    ]
    assert chain == [(chain[0][0], None), (chain[1][0], chain[0][0]), (chain[2][0], chain[1][0])]
    settled = {r.part: r.resolution for r in PublishingResult.select()}
    assert "reads PUBLISHED" in settled[1]
    assert [p["remote_id"] for p in _row(sched.id)["parts"]] == [c[0] for c in chain]


IG_TOKEN = "IGAA-thread-token-1"


@pytest.fixture
def instagram(creds):
    """(fake Instagram, an account on it, the URL of a public picture)."""
    from tests.fakes.instagram import FakeInstagram, MediaHost
    from tests.publishers.test_instagram import make_jpeg

    with FakeInstagram(clock=time.time()) as fake, MediaHost() as cdn:
        fake.add_token(IG_TOKEN, user_id="17841400008460056", username="studio")
        acc = Account.create(
            platform="instagram",
            display_name="ig",
            username="studio",
            remote_id="17841400008460056",
            api_base=fake.url,
        )
        creds.save("instagram", acc.id, Credential(IG_TOKEN))
        yield fake, acc, cdn.add("/p.jpg", make_jpeg(1080, 1080))


def _picture_post(clock, acc, url, text, *follow_ups):
    post = posts.add_post(text, media=[posts.MediaInput(url=url)], follow_ups=list(follow_ups))
    return schedules.schedule(post.id, acc.id, clock.now() + timedelta(minutes=5), clock=clock)


def test_instagram_follow_ups_are_comments_on_the_published_media(clock, engine, instagram):
    fake, acc, url = instagram
    sched = _picture_post(clock, acc, url, "A new print", "Link in bio: https://example.com/shop")

    (outcome,) = _due(engine, clock)

    assert outcome.status == "published", outcome.message
    (published,) = fake.published
    (comment,) = fake.comments
    assert comment["media_id"] == published["id"]
    assert comment["message"] == "Link in bio: https://example.com/shop"
    row = _row(sched.id)
    assert [p["remote_id"] for p in row["parts"]] == [published["id"], comment["id"]]


def test_an_instagram_token_without_comments_fails_the_comment_and_keeps_the_post(
    clock, engine, instagram
):
    fake, acc, url = instagram
    fake.tokens_without_comments.add(IG_TOKEN)
    _picture_post(clock, acc, url, "Print", "comment")

    (outcome,) = _due(engine, clock)

    assert outcome.status == "failed"
    assert "part 2 of 2 was not published" in outcome.message
    assert "instagram_business_manage_comments" in outcome.message
    assert len(fake.published) == 1 and fake.comments == []
    assert outcome.url  # the post that went out keeps its link


def test_bluesky_replies_carry_root_and_parent_and_a_lost_create_is_found_by_its_key(
    db, creds, clock, engine
):
    from tests.fakes.bluesky import FakeBluesky

    with FakeBluesky() as fake:
        handle, password = "milton.test", "app-pass-word-1234"
        fake.add_account(handle, password, did="did:plc:milton")
        acc = Account.create(
            platform="bluesky",
            display_name="sky",
            username=handle,
            remote_id="did:plc:milton",
            api_base=fake.url,
        )
        publisher = registry.make_publisher("bluesky", api_base=fake.url)
        creds.save("bluesky", acc.id, publisher.sign_in(password, handle))
        sched = _thread(clock, acc, "2. a reply", "3. another")
        fake.inject(
            r"POST /xrpc/com\.atproto\.repo\.createRecord", mode="drop", when="after", skip=1
        )

        (outcome,) = _due(engine, clock)

        assert outcome.status == "published", outcome.message
        posts_ = fake.thread_of("did:plc:milton")
        assert len(posts_) == 3  # part 2 landed once although its answer was lost
        main, second, third = posts_
        assert main[1:] == (None, None)
        assert second[1:] == (main[0], main[0])
        assert third[1:] == (main[0], second[0])
        settled = {r.part: r.resolution for r in PublishingResult.select()}
        assert "getRecord found the post under its record key" in settled[1]
        assert [p["remote_id"] for p in _row(sched.id)["parts"]] == [p[0] for p in posts_]
