"""A fake OpenAI-compatible model server (llama.cpp's server, Ollama, LM Studio, vLLM all
speak this API) on 127.0.0.1.

It enforces the request shape the way those servers do:

- ``GET /v1/models``: ``{"object": "list", "data": [{"id": ...}, ...]}``.
- ``POST /v1/chat/completions``: a JSON body with ``model`` (one it offers, else 404
  ``model_not_found``, as OpenAI and Ollama answer), ``messages`` (a list of
  ``{"role", "content"}``; the first is the system message, which must be the guide
  the test expects when it set one), and ``stream`` (a boolean). With ``stream`` the
  answer is server-sent events: ``data: {chunk}`` with ``choices[0].delta.content``,
  ended by ``data: [DONE]``; without it, one ``chat.completion`` object.
- ``Authorization: Bearer KEY`` on every call when the fake has a key (else 401).

Answers come from ``answers`` (strings, or functions of the request), in order; with
none left, a short default post. Faults: ``inject()`` from the base (401, 429 with
Retry-After, 500, ...), and for the stream itself ``delay`` between pieces (slow),
``truncate`` (the body ends without ``[DONE]``) and ``cut`` (the connection drops
mid-answer).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request, bearer

DEFAULT_ANSWER = "Great session tonight. Proud of the effort, and Thursday we go again."

Answer = str | Callable[[Request], str]


class FakeLLM(FakeServer):
    def __init__(
        self,
        *,
        models: tuple[str, ...] = ("llama-3.2-3b-instruct",),
        key: str | None = None,
        vision: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.models = list(models)
        self.key = key
        #: models whose metadata says they read images (llama.cpp's "capabilities")
        self.vision = set(vision)
        self.answers: list[Answer] = []
        #: the system message every chat must carry (a voice's guide); None: any
        self.expected_system: str | None = None
        #: seconds between two pieces of a stream
        self.delay = 0.0
        #: pieces sent before the stream ends without [DONE] / the connection drops
        self.truncate: int | None = None
        self.cut: int | None = None
        #: chats whose stream began (a test waits on it)
        self.streaming = threading.Event()
        self.chats: list[dict[str, Any]] = []

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def answer(self, *texts: Answer) -> None:
        """Queue the next answers, in order."""
        with self._lock:
            self.answers.extend(texts)

    # ------------------------------------------------------------ serving

    def _auth(self, req: Request) -> Reply | None:
        if self.key is None:
            return None
        if bearer(req) != self.key:
            return Reply(
                401,
                {
                    "error": {
                        "message": "Incorrect API key provided.",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                    }
                },
            )
        return None

    def handle(self, req: Request) -> Reply:
        if req.route == "GET /v1/models":
            return self._auth(req) or self._models()
        if req.route == "POST /v1/chat/completions":
            return self._auth(req) or self._chat(req)
        return Reply(404, {"error": {"message": f"no route {req.route}", "type": "not_found"}})

    def _models(self) -> Reply:
        return Reply(
            200,
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"}
                    for m in self.models
                ],
                # llama.cpp's server says what each model can do
                "models": [
                    {
                        "model": m,
                        "name": m,
                        "capabilities": [
                            "completion",
                            *(["multimodal"] if m in self.vision else []),
                        ],
                    }
                    for m in self.models
                ],
            },
        )

    def _chat(self, req: Request) -> Reply:
        if "application/json" not in (req.header("content-type") or ""):
            return _bad("the body must be JSON (Content-Type: application/json)")
        try:
            body = req.json()
        except ValueError:
            return _bad("the body is not JSON")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return _bad("'model' is required")
        if model not in self.models:
            return Reply(
                404,
                {
                    "error": {
                        "message": f"The model `{model}` does not exist or you do not have access to it.",
                        "type": "invalid_request_error",
                        "code": "model_not_found",
                    }
                },
            )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _bad("'messages' must be a non-empty list")
        for m in messages:
            if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
                return _bad(f"bad message {m!r}")
            if not isinstance(m.get("content"), str | list):
                return _bad("every message needs a 'content'")
        first = messages[0]
        if first["role"] != "system" or not first["content"]:
            return _bad("the first message must be the system message")
        if self.expected_system is not None and first["content"] != self.expected_system:
            return _bad("the system message is not the voice's guide")
        if messages[-1]["role"] != "user":
            return _bad("the last message must be the user's")
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            return _bad("'stream' must be a boolean")
        self.chats.append(body)
        text = self._next_answer(req)
        if not stream:
            return Reply(200, _completion(model, text))
        return Reply(200, stream=self._events(model, text))

    def _next_answer(self, req: Request) -> str:
        if not self.answers:
            return DEFAULT_ANSWER
        answer = self.answers.pop(0)
        return answer(req) if callable(answer) else answer

    def _events(self, model: str, text: str) -> Iterator[bytes | float | None]:
        self.streaming.set()
        pieces = re.findall(r"\S+\s*|\s+", text) or [""]
        yield _event(_chunk(model, {"role": "assistant", "content": ""}))
        for index, piece in enumerate(pieces):
            if self.cut is not None and index >= self.cut:
                yield None
                return
            if self.truncate is not None and index >= self.truncate:
                return
            if self.delay:
                yield float(self.delay)
            yield _event(_chunk(model, {"content": piece}))
        yield _event(_chunk(model, {}, finish="stop"))
        yield b"data: [DONE]\n\n"


def _bad(message: str) -> Reply:
    return Reply(400, {"error": {"message": message, "type": "invalid_request_error"}})


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _event(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data).encode("utf-8") + b"\n\n"


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
    }


def user_text(req_body: dict[str, Any]) -> str:
    """The last user message of a chat body, as text."""
    content = req_body["messages"][-1]["content"]
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)
