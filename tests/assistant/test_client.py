"""The model client against the fake OpenAI-compatible server, over real HTTP."""

from __future__ import annotations

import threading
import time

import pytest

from milton_desktop.assistant import prompts
from milton_desktop.assistant.client import (
    AssistantError,
    Cancel,
    Cancelled,
    Client,
    Endpoint,
    Truncated,
    is_loopback,
    normalize_base_url,
    parse_models,
)
from tests.fakes.llm import DEFAULT_ANSWER, FakeLLM

MODEL = "llama-3.2-3b-instruct"
KEY = "sk-local-test-key-0123456789"
CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]


@pytest.fixture
def fake():
    with FakeLLM(key=KEY, vision=("llava-7b",), models=(MODEL, "llava-7b")) as server:
        yield server


def client(fake, model=MODEL, key=KEY, **kw):
    return Client(Endpoint(fake.base_url, model, key, **kw))


def test_the_answer_streams_in_pieces_and_ends_at_done(fake):
    fake.delay = 0.05
    seen = []
    text = client(fake).chat(CHAT, on_piece=lambda p: seen.append((time.monotonic(), p)))
    assert text == DEFAULT_ANSWER
    assert len(seen) > 5  # word by word, not at the end
    assert seen[-1][0] - seen[0][0] > 0.2
    (body,) = fake.chats
    assert body["stream"] is True and body["model"] == MODEL
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert fake.requests[-1].header("authorization") == f"Bearer {KEY}"


def test_models_are_listed_with_what_they_read(fake):
    found = client(fake).models()
    assert [(m.id, m.vision) for m in found] == [(MODEL, False), ("llava-7b", True)]


def test_metadata_forms_of_image_support():
    assert parse_models({"data": [{"id": "a", "capabilities": ["vision"]}]})[0].vision is True
    assert parse_models({"data": [{"id": "a", "input_modalities": ["text"]}]})[0].vision is False
    assert parse_models({"data": [{"id": "a"}]})[0].vision is None
    with pytest.raises(AssistantError, match="not in the OpenAI form"):
        parse_models({"models": "x"})


def test_a_wrong_key_says_so_and_never_repeats_it(fake):
    with pytest.raises(AssistantError) as caught:
        client(fake, key="sk-wrong-key-9876543210").chat(CHAT)
    assert caught.value.kind == "auth"
    assert "refused the API key" in str(caught.value)
    assert "sk-wrong-key" not in str(caught.value)


def test_no_key_where_one_is_wanted(fake):
    with pytest.raises(AssistantError, match="wants an API key"):
        client(fake, key=None).models()


def test_a_missing_model_names_the_ones_there_are(fake):
    with pytest.raises(AssistantError) as caught:
        client(fake, model="gpt-5").chat(CHAT)
    assert caught.value.kind == "model"
    assert "there is no model 'gpt-5'" in str(caught.value)
    assert MODEL in str(caught.value) and "llava-7b" in str(caught.value)


def test_a_model_not_found_body_on_another_status_is_a_missing_model(fake):
    fake.inject(
        "POST /v1/chat/completions",
        status=400,
        body={"error": {"message": 'model "qwen3" not found, try pulling it first'}},
    )
    with pytest.raises(AssistantError) as caught:
        client(fake).chat(CHAT)
    assert caught.value.kind == "model"


def test_rate_limited_with_retry_after(fake):
    fake.inject_retry_after("POST /v1/chat/completions", 12)
    with pytest.raises(AssistantError) as caught:
        client(fake).chat(CHAT)
    assert caught.value.kind == "rate" and caught.value.retry_after == 12
    assert "try again in 12 s" in str(caught.value)


def test_a_server_error(fake):
    fake.inject("POST /v1/chat/completions", status=503, body={"error": {"message": "loading"}})
    with pytest.raises(AssistantError) as caught:
        client(fake).chat(CHAT)
    assert caught.value.kind == "server" and "HTTP 503" in str(caught.value)
    assert "loading" in str(caught.value)


def test_an_endpoint_that_is_down_asks_whether_the_server_runs():
    with pytest.raises(AssistantError) as caught:
        Client(Endpoint("http://127.0.0.1:9/v1", MODEL, connect_timeout=2)).chat(CHAT)
    assert caught.value.kind == "down"
    assert "Is llama.cpp's server or Ollama running at http://127.0.0.1:9/v1?" in str(caught.value)


def test_a_stream_without_done_is_incomplete_and_keeps_what_arrived(fake):
    fake.truncate = 3
    with pytest.raises(Truncated) as caught:
        client(fake).chat(CHAT)
    assert caught.value.partial == "Great session tonight. "
    assert "marked incomplete" in str(caught.value)


def test_a_connection_dropped_mid_stream_is_incomplete(fake):
    fake.cut = 2
    with pytest.raises(Truncated) as caught:
        client(fake).chat(CHAT)
    assert caught.value.partial == "Great session "


def test_a_stream_that_goes_silent_times_out_between_pieces(fake):
    fake.delay = 3
    started = time.monotonic()
    with pytest.raises(Truncated, match="went silent for 1 s"):
        client(fake, chunk_timeout=1).chat(CHAT)
    assert time.monotonic() - started < 2.5


def test_cancel_stops_a_read_that_waits(fake):
    fake.delay = 10
    cancel = Cancel()
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        client(fake).chat(CHAT, cancel=cancel)
    assert time.monotonic() - started < 3


def test_a_server_that_ignores_stream_still_answers(fake):
    from tests.fakes.server import Reply

    fake.inject(
        "POST /v1/chat/completions",
        status=200,
        body={"choices": [{"message": {"role": "assistant", "content": "All at once."}}]},
    )
    assert client(fake).chat(CHAT) == "All at once."
    assert isinstance(Reply(), Reply)


def test_base_urls():
    assert normalize_base_url(" http://127.0.0.1:8080/v1/ ") == "http://127.0.0.1:8080/v1"
    for bad in ("127.0.0.1:8080", "ftp://x/v1", "http://h/v1/chat/completions", "http://h/v1?x=1"):
        with pytest.raises(ValueError):
            normalize_base_url(bad)
    assert is_loopback("http://127.0.0.1:11434/v1") and is_loopback("http://localhost:8080/v1")
    assert is_loopback("http://[::1]:8080/v1")
    assert not is_loopback("https://api.openai.com/v1")
    assert not is_loopback("http://192.168.1.20:8080/v1")


def test_answers_are_cleaned_of_what_models_add():
    assert prompts.clean("<think>hmm, a recap</think>\n\n“We won.”") == "We won."
    assert prompts.clean("```\nA post.\n```") == "A post."
    assert prompts.clean('"Quote" he said "twice"') == '"Quote" he said "twice"'
    assert prompts.parts("One.\n---\nTwo.\n\n---\nThree.") == ["One.", "Two.", "Three."]
    assert prompts.tags("#Coaching #grassroots, #Coaching") == ["#Coaching", "#grassroots"]
