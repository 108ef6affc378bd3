"""Drafting, rewriting and splitting with the model: against the fake endpoint over real
HTTP, with a real database file and keyring store."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from milton_desktop.domain.errors import UserError
from milton_desktop.domain.voices import BUILTIN_GUIDES
from milton_desktop.operations import drafting, posts, schedules, voices
from milton_desktop.storage import settings
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Post, ScheduledPost
from milton_desktop.storage.queries import follow_up_texts
from tests.fakes.llm import FakeLLM, user_text

MODEL = "llama-3.2-3b-instruct"
KEY = "sk-drafting-secret-0123456789"
COACH = BUILTIN_GUIDES["coach"].strip()


@pytest.fixture
def store(db, memory_keyring):
    return CredentialStore(settings.install_id())


@pytest.fixture
def fake(store):
    with FakeLLM(key=KEY) as server:
        drafting.configure(server.base_url, MODEL, credentials=store, key=KEY)
        yield server


def long_text(n):
    words = ("practice", "effort", "team", "focus", "defence", "pressing", "Tuesday")
    out = []
    while len(" ".join(out)) < n:
        out.append(words[len(out) % len(words)])
    return " ".join(out) + "."


# ---------------------------------------------------------------- configuration


@pytest.mark.sqlite_only("reads the home's database file for the key")
def test_the_key_is_in_the_keyring_only(fake, store, milton_home, memory_keyring):
    config = drafting.current()
    assert config is not None and config.has_key and not config.remote
    assert KEY not in json.dumps(config.as_json())
    assert config.as_json()["key"] == "set"
    assert KEY in memory_keyring.store.values()
    raw = (milton_home / "milton.sqlite3").read_bytes()
    for extra in ("-wal", "-shm"):
        path = milton_home / f"milton.sqlite3{extra}"
        if path.exists():
            raw += path.read_bytes()
    assert KEY.encode() not in raw


def test_turning_it_off_deletes_the_key(fake, store, memory_keyring):
    assert drafting.turn_off(credentials=store)
    assert drafting.current() is None
    assert KEY not in memory_keyring.store.values()
    with pytest.raises(UserError, match="not set up"):
        drafting.Assistant(store)


def test_a_remote_endpoint_needs_one_confirmation_per_address(store):
    config, _ = drafting.configure("https://models.example.com/v1", "big", credentials=store)
    assert config.remote and not config.remote_confirmed
    assert drafting.confirm_remote().remote_confirmed
    again, _ = drafting.configure("https://models.example.com/v1", "bigger", credentials=store)
    assert again.remote_confirmed  # same address: agreed already
    other, _ = drafting.configure("https://other.example.com/v1", "big", credentials=store)
    assert not other.remote_confirmed


def test_the_check_lists_models_and_asks_one_word(fake, store):
    fake.answer("OK")
    result = drafting.check_endpoint(credentials=store)
    assert result.models == (MODEL,) and result.found and result.reply == "OK"


def test_the_check_names_the_models_when_ours_is_missing(fake, store):
    drafting.configure(fake.base_url, "mistral-7b", credentials=store)
    with pytest.raises(drafting.AssistantError, match=f"it offers {MODEL}"):
        drafting.check_endpoint(credentials=store)


def test_image_support_follows_the_model_list_unless_set(store):
    with FakeLLM(models=("llava-7b",), vision=("llava-7b",)) as server:
        drafting.configure(server.base_url, "llava-7b", credentials=store)
        assert not drafting.current().reads_images
        drafting.list_models(credentials=store)
        assert drafting.current().reads_images
        drafting.configure(server.base_url, "llava-7b", credentials=store, images="no")
        assert not drafting.current().reads_images


# ---------------------------------------------------------------- drafts


def test_three_coach_drafts_that_fit_x(fake, store):
    fake.expected_system = COACH
    fake.answer(
        "Tuesday: we lost 2-1 and I have never been prouder. Thursday we work on finishing.",
        "What a fight on Tuesday. Down to ten, still pressing. That is our standard.",
        "Tuesday's lesson: keep talking when it gets hard. We did. Proud of you all.",
    )
    result = drafting.draft("coach", "Tuesday's game recap", "x", 3, credentials=store)
    assert len(result.saved) == 3 and not result.refused
    assert len(fake.chats) == 3  # one completion per draft
    for post_id, text in result.saved:
        post = Post.get_by_id(post_id)
        assert (post.body, post.voice) == (text, "coach")
    asked = user_text(fake.chats[0])
    assert "Tuesday's game recap" in asked and "280" in asked and "X" in asked


def test_a_draft_over_the_limit_is_asked_for_again_with_its_length(fake, store):
    fake.answer(long_text(400), "Short and fitting.")
    result = drafting.draft("coach", "the season", "x", 1, credentials=store)
    assert [t for _, t in result.saved] == ["Short and fitting."]
    assert len(fake.chats) == 2
    again = fake.chats[1]["messages"]
    assert again[-2]["role"] == "assistant" and again[-2]["content"] == long_text(400)
    assert "over the limit of 280" in again[-1]["content"]
    assert (
        "401 characters" in again[-1]["content"] or "characters as X counts" in again[-1]["content"]
    )


def test_x_weighting_is_what_counts(fake, store):
    # 200 CJK characters are 400 as X weighs them: over, though only 200 long
    fake.answer("試" * 200, "試" * 100)
    result = drafting.draft("personal", "tea", "x", 1, credentials=store)
    assert [t for _, t in result.saved] == ["試" * 100]
    assert "400" in fake.chats[1]["messages"][-1]["content"]


def test_still_over_after_two_retries_is_not_saved_and_said(fake, store):
    fake.answer(long_text(500), long_text(450), long_text(420))
    result = drafting.draft("pr", "our new hours", "x", 1, credentials=store)
    assert result.saved == ()
    (refused,) = result.refused
    assert not refused.fits and refused.attempts == 3 and "over the limit of 280" in refused.problem
    assert refused.text == long_text(420)  # reported whole, never truncated
    assert len(fake.chats) == 3
    assert Post.select().count() == 0


def test_an_incomplete_stream_is_never_a_draft(fake, store):
    fake.truncate = 3
    result = drafting.draft("coach", "training", "x", 2, credentials=store)
    assert result.saved == ()
    assert all(not s.complete and "incomplete" in s.problem for s in result.refused)
    assert Post.select().count() == 0


def test_the_endpoint_failing_stores_nothing(fake, store):
    fake.inject("POST /v1/chat/completions", status=500, body={"error": {"message": "oom"}})
    with pytest.raises(drafting.AssistantError, match="HTTP 500"):
        drafting.draft("coach", "training", "x", 3, credentials=store)
    assert Post.select().count() == 0


def test_a_voice_of_ones_own_is_the_system_message(fake, store):
    voices.set_voice("club-news", "You write for the Riverside Juniors club. Plain and warm.")
    fake.expected_system = "You write for the Riverside Juniors club. Plain and warm."
    result = drafting.draft("club-news", "the summer camp", None, 1, credentials=store)
    ((post_id, _),) = result.saved
    assert Post.get_by_id(post_id).voice == "club-news"


def test_bad_input_is_refused_before_the_model_is_asked(fake, store):
    with pytest.raises(UserError, match="unknown voice 'poet'"):
        drafting.draft("poet", "x", "x", credentials=store)
    with pytest.raises(UserError, match="unknown platform"):
        drafting.draft("coach", "x", "myspace", credentials=store)
    with pytest.raises(UserError, match="1 to 10"):
        drafting.draft("coach", "x", "x", 0, credentials=store)
    with pytest.raises(UserError, match="say what the post is about"):
        drafting.draft("coach", "  ", "x", credentials=store)
    assert fake.chats == []


def test_the_key_never_reaches_a_log(fake, store, caplog):
    caplog.set_level(logging.DEBUG)
    fake.inject_echo("POST /v1/chat/completions", {"error": {"message": "bad {authorization}"}})
    with pytest.raises(drafting.AssistantError) as caught:
        drafting.draft("coach", "x", "x", 1, credentials=store)
    assert KEY not in str(caught.value)
    drafting.draft("coach", "x", "x", 1, credentials=store)
    assert KEY not in caplog.text


# ---------------------------------------------------------------- rewrite and split


def test_a_rewrite_is_the_posts_text_on_that_platform(fake, store, accounts, clock):
    post = posts.add_post(long_text(900), "pr")
    later = clock.now() + timedelta(days=2)
    waiting = schedules.schedule(post.id, accounts["x"], later, text="old X text", clock=clock)
    fake.answer("Our hours change on 3 March: open until 20:00 on weekdays.")
    result = drafting.rewrite(post.id, "x", credentials=store)
    assert result.text == "Our hours change on 3 March: open until 20:00 on weekdays."
    assert posts.variants_of(post.id) == {"x": result.text}
    assert result.schedules == (waiting.id,)
    assert ScheduledPost.get_by_id(waiting.id).text_override == result.text
    # a schedule made to X from now on starts with it
    fresh = schedules.schedule(post.id, accounts["x"], later, clock=clock)
    assert fresh.text_override == result.text
    assert (
        schedules.schedule(post.id, accounts["linkedin"], later, clock=clock).text_override is None
    )
    assert Post.get_by_id(post.id).body == long_text(900)  # the post's own text stays
    assert fake.chats[0]["messages"][0]["content"] == BUILTIN_GUIDES["pr"].strip()


def test_a_rewrite_that_never_fits_stores_nothing(fake, store):
    post = posts.add_post(long_text(900), "coach")
    fake.answer(long_text(600), long_text(500), long_text(400))
    with pytest.raises(UserError, match="still does not fit X after 3 tries"):
        drafting.rewrite(post.id, "x", credentials=store)
    assert posts.variants_of(post.id) == {}


def test_split_makes_a_thread_whose_parts_fit(fake, store):
    post = posts.add_post(long_text(700), "coach")
    fake.answer(
        f"{long_text(330)}\n---\nPart two.\n---\nPart three.",  # part 1 over: ask again
        "Part one, short.\n---\nPart two.\n---\nPart three.",
    )
    parts = drafting.split(post.id, "x", credentials=store)
    assert parts == ["Part one, short.", "Part two.", "Part three."]
    kept = Post.get_by_id(post.id)
    assert kept.body == "Part one, short."
    assert follow_up_texts(kept) == ("Part two.", "Part three.")
    assert "part 1:" in fake.chats[1]["messages"][-1]["content"]


def test_split_refuses_what_needs_no_split_or_cannot_thread(fake, store):
    short = posts.add_post("Fits already.", "coach")
    with pytest.raises(UserError, match="fits one X post already"):
        drafting.split(short.id, "x", credentials=store)
    long = posts.add_post(long_text(4000), "coach")
    with pytest.raises(UserError, match="LinkedIn takes no threads"):
        drafting.split(long.id, "linkedin", credentials=store)
    assert fake.chats == []


def test_split_that_never_fits_changes_nothing(fake, store):
    post = posts.add_post(long_text(700), "coach")
    fake.answer(*[f"{long_text(400)}\n---\nTwo."] * 3)
    with pytest.raises(UserError, match="could not split the text"):
        drafting.split(post.id, "x", credentials=store)
    assert Post.get_by_id(post.id).body == long_text(700)


# ---------------------------------------------------------------- voices


def test_built_in_voices_are_seeded_editable_and_resettable(db):
    assert [v.name for v in voices.list_voices()] == ["personal", "coach", "pr"]
    voices.set_voice("coach", "Kind, short, specific.")
    assert voices.get_voice("coach").guide == "Kind, short, specific."
    assert not voices.get_voice("coach").shipped
    assert voices.reset_voice("coach").shipped
    with pytest.raises(UserError, match="built-in voice and cannot be removed"):
        voices.remove_voice("pr")


def test_a_voice_in_use_is_not_removed(db):
    voices.set_voice("club", "Club news, plainly.")
    post = posts.add_post("Camp is on!", "club")
    with pytest.raises(UserError, match="1 post"):
        voices.remove_voice("club")
    posts.update_post(post.id, voice="personal")
    voices.remove_voice("club")
    with pytest.raises(UserError, match="unknown voice 'club'"):
        posts.add_post("again", "club")


def test_voice_names_and_guides_are_checked(db):
    for bad in ("", "Has Space", "-dash", "x" * 40):
        with pytest.raises(UserError, match="cannot be a voice's name"):
            voices.set_voice(bad, "guide")
    with pytest.raises(UserError, match="the guide is empty"):
        voices.set_voice("ok", "   ")
