"""A client for an OpenAI-compatible endpoint: ``GET {base}/models`` and a streamed
``POST {base}/chat/completions``.

The answer streams as server-sent events (``data: {...}`` lines, each with
``choices[0].delta.content``, ended by ``data: [DONE]``); every piece is handed to
the caller as it arrives. Connecting has its own timeout, and so has the wait between
two pieces: a local model may think for a while before its first word, but a stream
that goes silent is given up. A stream that ends without ``[DONE]`` is
:class:`Truncated`: what arrived is kept, marked incomplete, and never passed off as
a finished draft.

Every failure is an :class:`AssistantError` whose message says what happened and
what to do, and never contains the key.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from milton_desktop.domain.errors import OperationFailed, UserError
from milton_desktop.domain.redaction import register_secret, scrub

if TYPE_CHECKING:  # imported on the first request: the window starts faster
    import requests

log = logging.getLogger("milton.assistant")

#: what the help and the settings page suggest: llama.cpp's server and Ollama, locally
LLAMA_CPP_URL = "http://127.0.0.1:8080/v1"
OLLAMA_URL = "http://127.0.0.1:11434/v1"

CONNECT_TIMEOUT_S = 5.0
#: the longest silence between two pieces of a stream (or before the first: a small
#: machine takes a while to read a long prompt)
CHUNK_TIMEOUT_S = 90.0
#: the longest a whole answer may take
TOTAL_TIMEOUT_S = 600.0
#: the most bytes of one answer kept: a post is a few hundred
MAX_ANSWER_BYTES = 1024 * 1024

_READ = 16 * 1024


class AssistantError(OperationFailed):
    """The model endpoint could not give an answer; the message says why and what to do.

    ``kind`` is one of ``down``, ``auth``, ``model``, ``rate``, ``server``, ``bad``,
    ``timeout``, ``truncated``, ``stopped``.
    """

    def __init__(
        self,
        message: str,
        kind: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        #: seconds to wait before asking again (a 429's Retry-After), when known
        self.retry_after = retry_after


class Truncated(AssistantError):
    """The answer stopped before its end; ``partial`` is what arrived (incomplete)."""

    def __init__(self, message: str, partial: str) -> None:
        super().__init__(message, "truncated")
        self.partial = partial


class Cancelled(AssistantError):
    """The caller stopped the request; ``partial`` is what had arrived."""

    def __init__(self, partial: str = "") -> None:
        super().__init__("stopped: the request was cancelled", "stopped")
        self.partial = partial


def normalize_base_url(url: str) -> str:
    """``url`` as the endpoint's base (no trailing slash), or :class:`UserError`."""
    text = url.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(
            f"{url!r} is not an endpoint address: give its base URL, e.g. {LLAMA_CPP_URL} "
            f"(llama.cpp) or {OLLAMA_URL} (Ollama)"
        )
    if parts.query or parts.fragment:
        raise UserError(f"{url!r}: the base URL takes no query or fragment (?…, #…)")
    if text.endswith("/chat/completions"):
        raise UserError(
            f"{url!r} is the chat address itself: give its base, "
            f"{text.removesuffix('/chat/completions')!r}"
        )
    return text


def is_loopback(url: str) -> bool:
    """Whether ``url`` is on this computer (localhost, 127.0.0.0/8, ::1): anything else
    is remote, and post text sent there leaves the machine."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Endpoint:
    """Where the model is and how long to wait for it."""

    base_url: str
    model: str
    key: str | None = field(default=None, repr=False)
    connect_timeout: float = CONNECT_TIMEOUT_S
    chunk_timeout: float = CHUNK_TIMEOUT_S
    total_timeout: float = TOTAL_TIMEOUT_S

    @property
    def remote(self) -> bool:
        return not is_loopback(self.base_url)


@dataclass(frozen=True)
class ModelInfo:
    """One model the endpoint offers; ``vision`` is whether its metadata says it reads
    images (None: the metadata does not say)."""

    id: str
    vision: bool | None = None


class Cancel:
    """Lets another thread stop a request: between pieces, and by closing the
    connection while a read waits."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._response: requests.Response | None = None

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()
        with self._lock:
            resp = self._response
        if resp is not None:
            _shut(resp)

    def _watch(self, resp: requests.Response | None) -> None:
        with self._lock:
            self._response = resp
        if resp is not None and self.cancelled:
            _shut(resp)


def _shut(resp: requests.Response) -> None:
    """Wake a read blocked on ``resp``'s socket: shut down, not closed, so the reading
    thread sees the end of the stream and closes the response itself (closing it from
    here races that thread's reads)."""
    import socket

    conn = getattr(resp.raw, "_connection", None)
    sock = getattr(conn, "sock", None)
    try:
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


#: one message of a chat: {"role": "system" | "user" | "assistant", "content": ...}
Message = dict[str, Any]


class Client:
    """Talks to one endpoint. Thread-safe enough for one request at a time per client."""

    def __init__(self, endpoint: Endpoint, session: requests.Session | None = None) -> None:
        self.endpoint = Endpoint(
            normalize_base_url(endpoint.base_url),
            endpoint.model,
            endpoint.key or None,
            endpoint.connect_timeout,
            endpoint.chunk_timeout,
            endpoint.total_timeout,
        )
        register_secret(self.endpoint.key)
        self._session = session

    # ------------------------------------------------------------ plumbing

    def _http(self) -> requests.Session:
        if self._session is None:
            import requests

            self._session = requests.Session()
            # a local model server is never behind the user's web proxy
            self._session.trust_env = self.endpoint.remote
        return self._session

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "milton-desktop"}
        if self.endpoint.key:
            headers["Authorization"] = f"Bearer {self.endpoint.key}"
        return headers

    def _clean(self, text: str) -> str:
        return scrub(text, [self.endpoint.key])

    def _where(self) -> str:
        return self.endpoint.base_url

    def _network_error(self, exc: Exception, *, during: str) -> AssistantError:
        import requests

        if isinstance(exc, requests.exceptions.SSLError):
            return AssistantError(
                f"cannot talk securely to {self._where()}: its certificate or TLS setup "
                "failed; check the address (http:// for a server on this computer)",
                "down",
            )
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return AssistantError(
                f"the model at {self._where()} sent nothing for "
                f"{self.endpoint.chunk_timeout:.0f} s while {during}: it may be overloaded "
                "or stuck; try again, or use a smaller model",
                "timeout",
            )
        if isinstance(exc, requests.exceptions.ConnectionError):  # refused, no route, DNS
            ask = (
                ""
                if self.endpoint.remote
                else f" Is llama.cpp's server or Ollama running at {self._where()}?"
            )
            return AssistantError(
                f"nothing answers at {self._where()} ({type(exc).__name__}).{ask} Start the "
                "model server, or change the endpoint's address",
                "down",
            )
        return AssistantError(
            f"the request to {self._where()} failed while {during} ({type(exc).__name__})",
            "down",
        )

    # ------------------------------------------------------------ models

    def models(self) -> list[ModelInfo]:
        """The models the endpoint offers (``GET {base}/models``)."""
        import requests

        url = f"{self._where()}/models"
        try:
            resp = self._http().get(
                url,
                headers=self._headers(),
                timeout=(self.endpoint.connect_timeout, self.endpoint.chunk_timeout),
            )
        except requests.exceptions.RequestException as exc:
            raise self._network_error(exc, during="listing its models") from None
        with resp:
            if resp.status_code != 200:
                raise self._status_error(resp, resp.content[:MAX_ANSWER_BYTES], listing=True)
            try:
                body = json.loads(resp.content[:MAX_ANSWER_BYTES].decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                raise AssistantError(
                    f"{url} did not answer with a model list: is this an OpenAI-compatible "
                    "API? (the base URL usually ends in /v1)",
                    "bad",
                ) from None
        return parse_models(body)

    # ------------------------------------------------------------ chat

    def chat(
        self,
        messages: Sequence[Message],
        *,
        on_piece: Callable[[str], None] | None = None,
        cancel: Cancel | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> str:
        """The model's whole answer to ``messages``, streamed: ``on_piece`` gets each
        piece of text as it arrives.

        Raises:
            Truncated: the stream ended before ``[DONE]`` (``partial`` holds the text).
            Cancelled: ``cancel`` was used.
            AssistantError: anything else, with what to do.
        """
        import requests

        body: dict[str, Any] = {
            "model": self.endpoint.model,
            "messages": list(messages),
            "stream": True,
        }
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if temperature is not None:
            body["temperature"] = temperature
        cancel = cancel or Cancel()
        if cancel.cancelled:
            raise Cancelled()
        started = time.monotonic()
        try:
            resp = self._http().post(
                f"{self._where()}/chat/completions",
                json=body,
                headers={**self._headers(), "Accept": "text/event-stream"},
                timeout=(self.endpoint.connect_timeout, self.endpoint.chunk_timeout),
                stream=True,
            )
        except requests.exceptions.RequestException as exc:
            if cancel.cancelled:
                raise Cancelled() from None
            raise self._network_error(exc, during="waiting for its answer") from None
        cancel._watch(resp)
        try:
            if resp.status_code != 200:
                raw = _read_some(resp, MAX_ANSWER_BYTES)
                raise self._status_error(resp, raw, listing=False)
            kind = resp.headers.get("Content-Type", "")
            if "text/event-stream" not in kind and "application/json" in kind:
                # a server that ignores "stream": the whole answer at once
                return self._whole_answer(resp, on_piece)
            return self._read_stream(resp, on_piece, cancel, started)
        finally:
            cancel._watch(None)
            resp.close()

    def _whole_answer(self, resp: requests.Response, on_piece: Callable[[str], None] | None) -> str:
        raw = _read_some(resp, MAX_ANSWER_BYTES)
        try:
            data = json.loads(raw.decode("utf-8"))
            text = data["choices"][0]["message"]["content"] or ""
        except (ValueError, UnicodeDecodeError, KeyError, IndexError, TypeError):
            raise AssistantError(
                f"{self._where()} answered in a form Milton does not read (not an "
                "OpenAI-compatible chat answer)",
                "bad",
            ) from None
        if on_piece is not None and text:
            on_piece(text)
        return str(text)

    def _read_stream(
        self,
        resp: requests.Response,
        on_piece: Callable[[str], None] | None,
        cancel: Cancel,
        started: float,
    ) -> str:
        import http.client

        import requests
        import urllib3

        pieces: list[str] = []
        stopped_for_length = False
        try:
            for event in _events(_chunks(resp)):
                if cancel.cancelled:
                    raise Cancelled("".join(pieces))
                if event == "[DONE]":
                    text = "".join(pieces)
                    if stopped_for_length:
                        raise Truncated(
                            "the model stopped at its length limit before the end: what it "
                            "wrote is kept, marked incomplete",
                            text,
                        )
                    return text
                piece, finish = self._piece(event)
                if finish == "length":
                    stopped_for_length = True
                if piece:
                    pieces.append(piece)
                    if on_piece is not None:
                        on_piece(piece)
                    if sum(len(p) for p in pieces) > MAX_ANSWER_BYTES:
                        raise Truncated(
                            "the answer went on far longer than a post: it was cut off and "
                            "is kept, marked incomplete",
                            "".join(pieces),
                        )
                if time.monotonic() - started > self.endpoint.total_timeout:
                    raise Truncated(
                        f"the answer took longer than {self.endpoint.total_timeout:.0f} s and "
                        "was stopped: what arrived is kept, marked incomplete",
                        "".join(pieces),
                    )
        except (
            requests.exceptions.RequestException,
            urllib3.exceptions.HTTPError,
            http.client.HTTPException,
            OSError,
            _BrokenStream,
        ) as exc:
            partial = "".join(pieces)
            if cancel.cancelled:
                raise Cancelled(partial) from None
            silent = isinstance(
                exc, requests.exceptions.ReadTimeout | urllib3.exceptions.ReadTimeoutError
            ) or "timed out" in str(exc)
            if silent:
                raise Truncated(
                    f"the model went silent for {self.endpoint.chunk_timeout:.0f} s in the "
                    "middle of its answer: what arrived is kept, marked incomplete; try again",
                    partial,
                ) from None
            raise Truncated(
                "the answer was cut off (the connection closed before the end): what "
                "arrived is kept, marked incomplete; try again",
                partial,
            ) from None
        if cancel.cancelled:
            raise Cancelled("".join(pieces))
        raise Truncated(
            "the answer ended without its end mark ([DONE]): it may be cut off, so it is "
            "kept, marked incomplete; try again",
            "".join(pieces),
        )

    def _piece(self, event: str) -> tuple[str, str | None]:
        try:
            data = json.loads(event)
        except ValueError:
            return "", None  # a comment or keep-alive some servers send
        if not isinstance(data, dict):
            return "", None
        if "error" in data:
            raise AssistantError(
                f"the model failed in the middle of its answer: {self._clean(_error_text(data))}",
                "server",
            )
        try:
            choice = data["choices"][0]
        except (KeyError, IndexError, TypeError):
            return "", None
        delta = choice.get("delta") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        return (content if isinstance(content, str) else ""), choice.get("finish_reason")

    # ------------------------------------------------------------ errors

    def _status_error(
        self, resp: requests.Response, raw: bytes, *, listing: bool
    ) -> AssistantError:
        status = resp.status_code
        said = self._clean(_error_text(_json_or_text(raw)))[:300]
        detail = f" ({said})" if said else ""
        if status in (401, 403):
            if not self.endpoint.key:
                return AssistantError(
                    f"{self._where()} wants an API key (HTTP {status}){detail}: set the key",
                    "auth",
                    status=status,
                )
            return AssistantError(
                f"{self._where()} refused the API key (HTTP {status}){detail}: check the "
                "key, or set a new one",
                "auth",
                status=status,
            )
        if status == 429:
            wait = _retry_after(resp.headers.get("Retry-After"))
            when = f"try again in {wait:.0f} s" if wait is not None else "try again in a minute"
            return AssistantError(
                f"{self._where()} is busy or over its rate limit (HTTP 429){detail}: {when}",
                "rate",
                status=status,
                retry_after=wait,
            )
        if not listing and (status == 404 or _says_model_missing(said)):
            return self._model_missing(status, detail)
        if status == 404:
            return AssistantError(
                f"{self._where()} has no OpenAI-compatible API (HTTP 404 on /models): check "
                "the address; it usually ends in /v1",
                "bad",
                status=status,
            )
        if status >= 500:
            return AssistantError(
                f"the model server at {self._where()} failed (HTTP {status}){detail}: try "
                "again; if it keeps failing, look at the server's own log",
                "server",
                status=status,
            )
        return AssistantError(
            f"{self._where()} refused the request (HTTP {status}){detail}",
            "bad",
            status=status,
        )

    def _model_missing(self, status: int, detail: str) -> AssistantError:
        try:
            offered = [m.id for m in self.models()]
        except AssistantError:
            offered = []
        if offered:
            return AssistantError(
                f"there is no model {self.endpoint.model!r} at {self._where()}: it offers "
                f"{', '.join(offered[:12])}{' …' if len(offered) > 12 else ''}; choose one "
                "of those",
                "model",
                status=status,
            )
        return AssistantError(
            f"there is no model {self.endpoint.model!r} at {self._where()} (HTTP {status})"
            f"{detail}: check the model's name and the address (it usually ends in /v1)",
            "model",
            status=status,
        )


# ---------------------------------------------------------------- reading


class _BrokenStream(Exception):
    """The stream's bytes cannot be read as text."""


def _read_some(resp: requests.Response, limit: int) -> bytes:
    got = bytearray()
    try:
        for chunk in resp.iter_content(_READ):
            got += chunk
            if len(got) >= limit:
                break
    except Exception:  # an error answer cut short: what arrived is enough to word it
        pass
    return bytes(got[:limit])


def _chunks(resp: requests.Response) -> Iterator[bytes]:
    """The body's bytes as they arrive: a piece is handed on as soon as it is read,
    chunked or not (``iter_content`` would wait to fill its buffer)."""
    raw = resp.raw
    while True:
        data = raw.read1(_READ, decode_content=True)
        if not data:
            return
        yield data


def _events(chunks: Iterator[bytes]) -> Iterator[str]:
    """The ``data`` of each server-sent event (lines joined), in order."""
    buffer = b""
    data: list[str] = []
    for chunk in chunks:
        buffer += chunk
        while True:
            cut = buffer.find(b"\n")
            if cut < 0:
                break
            line, buffer = buffer[:cut].rstrip(b"\r"), buffer[cut + 1 :]
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                raise _BrokenStream from None
            if not text:
                if data:
                    yield "\n".join(data)
                    data = []
                continue
            if text.startswith(":"):
                continue  # a comment (keep-alive)
            name, _, value = text.partition(":")
            if name == "data":
                data.append(value[1:] if value.startswith(" ") else value)
                if data[-1] == "[DONE]":  # some servers never send the blank line after it
                    yield "\n".join(data)
                    data = []
    if data:
        yield "\n".join(data)


def parse_models(body: Any) -> list[ModelInfo]:
    """The models in a ``/models`` answer, with what their metadata says of images."""
    entries = body.get("data") if isinstance(body, dict) else body
    if not isinstance(entries, list):
        raise AssistantError(
            "the endpoint's model list is not in the OpenAI form ({'data': [...]})", "bad"
        )
    # llama.cpp's server also lists its models with their capabilities under "models"
    extra: dict[str, Any] = {}
    if isinstance(body, dict) and isinstance(body.get("models"), list):
        for item in body["models"]:
            if isinstance(item, dict):
                name = item.get("model") or item.get("name")
                if isinstance(name, str):
                    extra[name] = item
    found = []
    for item in entries:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        found.append(ModelInfo(item["id"], _reads_images(item, extra.get(item["id"]))))
    return found


def _reads_images(*items: Any) -> bool | None:
    said: bool | None = None
    for item in items:
        if not isinstance(item, dict):
            continue
        for key in ("capabilities", "input_modalities", "modalities"):
            value = item.get(key)
            if isinstance(value, dict):  # {"vision": true} or {"input": [...]}
                if isinstance(value.get("vision"), bool):
                    return value["vision"]
                value = value.get("input")
            if isinstance(value, list):
                words = {str(v).lower() for v in value}
                if words & {"vision", "image", "images", "multimodal"}:
                    return True
                said = False
        meta = item.get("meta")
        if isinstance(meta, dict) and isinstance(meta.get("vision"), bool):
            return meta["vision"]
    return said


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace").strip()


def _error_text(data: Any) -> str:
    if isinstance(data, str):
        return " ".join(data.split())
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            return str(error.get("message") or error.get("detail") or "")
        if isinstance(error, str):
            return error
        for key in ("message", "detail"):
            if isinstance(data.get(key), str):
                return data[key]
    return ""


def _says_model_missing(text: str) -> bool:
    low = text.lower()
    return "model" in low and any(
        w in low for w in ("not found", "does not exist", "not exist", "unknown model", "no such")
    )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
