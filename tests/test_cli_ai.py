"""`ai`, `draft`, `rewrite` and `split` in-process, against the fake model server."""

from __future__ import annotations

import io
import json

import pytest

from milton_desktop.cli import main
from tests.fakes.llm import FakeLLM

MODEL = "llama-3.2-3b-instruct"
KEY = "sk-cli-secret-key-0123456789"


def run(capsys, *argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def fake(milton_home, memory_keyring):
    with FakeLLM(key=KEY) as server:
        yield server


@pytest.fixture
def ready(fake, capsys, monkeypatch):
    code, _, err = run(
        capsys,
        "ai",
        "set",
        "--base-url",
        fake.base_url,
        "--model",
        MODEL,
        "--key-stdin",
        stdin=KEY + "\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0, err
    return fake


def everything_written(home):
    found = b""
    for path in home.rglob("*"):
        if path.is_file():
            found += path.read_bytes()
    return found


def test_set_show_test_off(ready, capsys, milton_home, monkeypatch):
    code, out, _ = run(capsys, "ai", "show", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["base_url"] == ready.base_url and shown["key"] == "set"
    assert shown["remote"] is False
    assert KEY not in out
    ready.answer("OK")
    code, out, err = run(capsys, "ai", "test", "--json")
    assert code == 0, err
    assert json.loads(out)["models"] == [MODEL] and KEY not in out
    code, out, _ = run(capsys, "ai", "off")
    assert code == 0 and "off" in out
    code, out, _ = run(capsys, "ai", "show", "--json")
    assert json.loads(out) == {"enabled": False}
    # the key is in no file Milton wrote: database, its journal, the log
    assert KEY.encode() not in everything_written(milton_home)


def test_a_remote_endpoint_is_said_to_be_remote(milton_home, memory_keyring, capsys):
    code, out, _ = run(
        capsys, "ai", "set", "--base-url", "https://llm.example.com/v1", "--model", "m"
    )
    assert code == 0
    assert "is not on this computer: the text of the posts" in out


def test_help_suggests_a_local_server(capsys):
    with pytest.raises(SystemExit):
        main(["ai", "set", "--help"])
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8080/v1" in out and "http://127.0.0.1:11434/v1" in out


def test_draft_prints_the_new_ids_and_json(ready, capsys, milton_home):
    ready.answer("One for X.", "Two for X.", "Three for X.")
    code, out, err = run(
        capsys, "draft", "--voice", "coach", "--about", "Tuesday's game recap", "--platform", "x"
    )
    assert code == 0, err
    ids = [int(line) for line in out.split()]
    assert len(ids) == 3
    ready.answer("Four.", "Five.")
    code, out, _ = run(
        capsys, "draft", "--voice", "coach", "--about", "recap", "--n", "2", "--json"
    )
    data = json.loads(out)
    assert [p["text"] for p in data["posts"]] == ["Four.", "Five."]
    assert all(isinstance(p["id"], int) for p in data["posts"])
    assert KEY not in out
    code, out, _ = run(capsys, "post", "list", "--json")
    assert {p["voice"] for p in json.loads(out)} == {"coach"}
    assert KEY.encode() not in everything_written(milton_home)


def test_a_draft_that_never_fits_is_reported_not_saved(ready, capsys):
    over = "word " * 80
    ready.answer(over, over, over)
    code, out, err = run(
        capsys, "draft", "--voice", "pr", "--about", "x", "--platform", "x", "--n", "1"
    )
    assert code == 1 and out == ""
    assert "not kept (over the limit" in err


def test_rewrite_and_split(ready, capsys):
    code, out, _ = run(capsys, "post", "add", "--text", "word " * 120, "--voice", "coach")
    post_id = int(out)
    ready.answer("Short for X.")
    code, out, err = run(capsys, "rewrite", str(post_id), "--for", "x", "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "id": post_id,
        "platform": "x",
        "text": "Short for X.",
        "schedules": [],
    }
    ready.answer("First part.\n---\nSecond part.\n---\nThird part.")
    code, out, err = run(capsys, "split", str(post_id), "--for", "x", "--json")
    assert code == 0, err
    assert json.loads(out)["parts"] == ["First part.", "Second part.", "Third part."]


def test_errors_are_one_clear_line(fake, capsys, monkeypatch):
    code, _, err = run(capsys, "draft", "--voice", "coach", "--about", "x")
    assert code == 2 and "not set up" in err and "ai set --base-url" in err
    run(capsys, "ai", "set", "--base-url", fake.base_url, "--model", MODEL)  # no key
    code, _, err = run(capsys, "draft", "--voice", "coach", "--about", "x")
    assert code == 1 and "wants an API key" in err
    code, _, err = run(capsys, "ai", "set", "--base-url", "localhost:8080", "--model", MODEL)
    assert code == 2 and "not an endpoint address" in err
    code, _, err = run(capsys, "ai", "set", "--base-url", "http://127.0.0.1:9/v1", "--model", MODEL)
    code, _, err = run(capsys, "draft", "--voice", "coach", "--about", "x")
    assert code == 1 and "Is llama.cpp's server or Ollama running" in err


def test_voices_on_the_command_line(milton_home, capsys, tmp_path):
    code, out, _ = run(capsys, "ai", "voice", "list", "--json")
    assert [v["name"] for v in json.loads(out)] == ["personal", "coach", "pr"]
    guide = tmp_path / "guide.txt"
    guide.write_text("Club news: plain, warm, one call to action.", encoding="utf-8")
    code, out, _ = run(capsys, "ai", "voice", "set", "club-news", "--guide-file", str(guide))
    assert code == 0
    code, out, _ = run(capsys, "ai", "voice", "show", "club-news")
    assert out.strip() == "Club news: plain, warm, one call to action."
    code, out, err = run(capsys, "post", "add", "--text", "Camp!", "--voice", "club-news")
    assert code == 0, err
    code, _, err = run(capsys, "ai", "voice", "remove", "club-news")
    assert code == 2 and "written in the voice" in err
    code, _, err = run(capsys, "ai", "voice", "remove", "coach")
    assert code == 2 and "built-in" in err
    code, _, err = run(capsys, "post", "add", "--text", "x", "--voice", "poet")
    assert code == 2 and "unknown voice 'poet'" in err
    code, out, _ = run(capsys, "ai", "voice", "set", "coach", "--reset")
    assert code == 0 and "shipped" in out
