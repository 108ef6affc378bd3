"""Drafting with a language model: the endpoint's configuration, and the commands that
draft, rewrite and split posts in a voice. The command line and the editor both call
these.

The endpoint (base URL, model) is a setting; its key lives only in the keyring. Every
draft is measured by our own counters (the registry's rules, X's weighting included):
one that is over the platform's limit is sent back to the model with its measured
length, at most twice, and one still over is reported, never cut short. Nothing is
stored unless it fits. Model calls run before any transaction, never inside one.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from milton_desktop.assistant import prompts
from milton_desktop.assistant.client import (
    AssistantError,
    Cancel,
    Client,
    Endpoint,
    ModelInfo,
    Truncated,
    is_loopback,
    normalize_base_url,
)
from milton_desktop.assistant.prompts import Limit, Message
from milton_desktop.domain.content import Content, MediaItem
from milton_desktop.domain.errors import Hint, UserError
from milton_desktop.domain.status import Status
from milton_desktop.domain.thread import MAX_FOLLOW_UPS, live_parts, load_parts
from milton_desktop.domain.validation import validate
from milton_desktop.operations import posts, schedules, voices
from milton_desktop.publishers import registry
from milton_desktop.storage import settings
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Account, ScheduledPost, database
from milton_desktop.storage.queries import follow_up_texts, get_post

log = logging.getLogger("milton.assistant")

#: the ``settings`` row the endpoint is kept in (internal: not a plain preference)
SETTING = "assistant"
#: the keyring entry of the endpoint's key
KEY_NAME = "assistant-key"
#: asking again when a draft is over the limit: at most this many times
MAX_RETRIES = 2
MAX_DRAFTS = 10
MAX_TOPIC_CHARS = 2000
#: the largest image sent for alt text (it goes as base64 in the request)
MAX_IMAGE_BYTES = 8 * 1024 * 1024
#: whether the model reads images: from its metadata, or as the user says
IMAGES = ("auto", "yes", "no")


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class AssistantConfig:
    base_url: str
    model: str
    has_key: bool
    #: "auto" (the model's metadata decides), "yes" or "no"
    images: str = "auto"
    #: the user agreed that post text goes to this (remote) endpoint
    remote_confirmed: bool = False
    #: what the endpoint's model list said about images, by model (None: nothing)
    vision: dict[str, bool | None] = field(default_factory=dict)

    @property
    def remote(self) -> bool:
        return not is_loopback(self.base_url)

    @property
    def reads_images(self) -> bool:
        if self.images != "auto":
            return self.images == "yes"
        return bool(self.vision.get(self.model))

    def as_json(self) -> dict[str, Any]:
        """What ``ai show --json`` prints: never the key, only whether there is one."""
        return {
            "enabled": True,
            "base_url": self.base_url,
            "model": self.model,
            "key": "set" if self.has_key else "none",
            "remote": self.remote,
            "remote_confirmed": self.remote_confirmed,
            "images": self.images,
            "reads_images": self.reads_images,
        }


def current() -> AssistantConfig | None:
    """The endpoint as configured, or None when the assistant is off."""
    raw = settings.get_internal(SETTING)
    if not isinstance(raw, dict) or not raw.get("base_url") or not raw.get("model"):
        return None
    seen = raw.get("vision")
    vision: dict[Any, Any] = seen if isinstance(seen, dict) else {}
    images = str(raw.get("images")) if raw.get("images") in IMAGES else "auto"
    return AssistantConfig(
        base_url=str(raw["base_url"]),
        model=str(raw["model"]),
        has_key=bool(raw.get("has_key")),
        images=images,
        remote_confirmed=raw.get("remote_confirmed") == raw["base_url"],
        vision={str(k): v if isinstance(v, bool) else None for k, v in vision.items()},
    )


def _write(config: AssistantConfig) -> None:
    with database.atomic():
        settings.set_internal(
            SETTING,
            {
                "base_url": config.base_url,
                "model": config.model,
                "has_key": config.has_key,
                "images": config.images,
                # the address agreed to: a change of address asks again
                "remote_confirmed": config.base_url if config.remote_confirmed else None,
                "vision": config.vision,
            },
        )


_stores: dict[str, CredentialStore] = {}
_stores_lock = threading.Lock()


def window_store() -> CredentialStore:
    """The keyring store the window's assistant uses: one per data folder and process,
    so a key kept in memory (no keyring) is seen by the settings page and the editor."""
    install = settings.install_id()
    with _stores_lock:
        if install not in _stores:
            _stores[install] = CredentialStore(install, allow_memory_fallback=True)
        return _stores[install]


def check_model_name(model: str) -> str:
    name = model.strip()
    if not name:
        raise UserError("name the model to use (the endpoint's list of models has its names)")
    if len(name) > 200 or any(c in name for c in "\x00\n\r"):
        raise UserError(f"{model[:60]!r} is not a model's name")
    return name


def check_key(key: str) -> str:
    value = key.strip()
    if not value:
        raise UserError("the API key is empty")
    if not (value.isascii() and value.isprintable()) or any(c.isspace() for c in value):
        raise UserError("the API key has spaces or characters outside plain ASCII: copy it again")
    if len(value) > 4096:
        raise UserError("the API key is far too long to be one: copy it again")
    return value


def configure(
    base_url: str,
    model: str,
    *,
    credentials: CredentialStore | None = None,
    key: str | None = None,
    clear_key: bool = False,
    images: str | None = None,
) -> tuple[AssistantConfig, str | None]:
    """Set the endpoint; ``key`` (None: keep the one stored) goes to the keyring only.

    Returns the configuration and where the key went (``"keyring"``, ``"memory"`` for
    this session only, or None when no key was given).
    """
    url = normalize_base_url(base_url)
    name = check_model_name(model)
    if images is not None and images not in IMAGES:
        raise UserError(f"images must be one of {', '.join(IMAGES)}, not {images!r}")
    store = credentials or window_store()
    before = current()
    stored = None
    if key is not None:
        secret = check_key(key)
        stored = store.save_secret(KEY_NAME, secret, secrets=(secret,))
        has_key = True
    elif clear_key:
        store.delete_secret(KEY_NAME)
        has_key = False
    else:
        has_key = bool(before and before.has_key)
    config = AssistantConfig(
        base_url=url,
        model=name,
        has_key=has_key,
        images=images or (before.images if before else "auto"),
        remote_confirmed=bool(before and before.remote_confirmed and before.base_url == url),
        vision=before.vision if before and before.base_url == url else {},
    )
    _write(config)
    log.info("writing assistant set to %s, model %s", url, name)
    return config, stored


def turn_off(*, credentials: CredentialStore | None = None) -> bool:
    """Forget the endpoint and delete its key; False when it was off already."""
    was = current()
    (credentials or window_store()).delete_secret(KEY_NAME)
    with database.atomic():
        settings.set_internal(SETTING, None)
    return was is not None


def confirm_remote() -> AssistantConfig:
    """Record that the user agreed to send post text to the (remote) endpoint."""
    config = _required()
    confirmed = AssistantConfig(
        config.base_url, config.model, config.has_key, config.images, True, config.vision
    )
    _write(confirmed)
    return confirmed


def _required() -> AssistantConfig:
    config = current()
    if config is None:
        raise UserError(
            "the writing assistant is not set up: give it the address of a model server "
            "(llama.cpp, Ollama, LM Studio or any OpenAI-compatible endpoint) and a model",
            Hint.SET_UP_ASSISTANT,
        )
    return config


def _key(store: CredentialStore, config: AssistantConfig) -> str | None:
    if not config.has_key:
        return None
    value = store.load_secret(KEY_NAME)
    if not value:
        raise UserError(
            "the writing assistant's API key is no longer in the keyring: set it again",
            Hint.SET_UP_ASSISTANT,
        )
    return value


def client(
    credentials: CredentialStore | None = None, *, timeouts: dict[str, float] | None = None
) -> Client:
    """A client for the configured endpoint (reads the keyring: call it off the GUI thread)."""
    config = _required()
    store = credentials or window_store()
    return Client(Endpoint(config.base_url, config.model, _key(store, config), **(timeouts or {})))


def list_models(
    base_url: str | None = None,
    key: str | None = None,
    *,
    credentials: CredentialStore | None = None,
) -> list[ModelInfo]:
    """The models an endpoint offers: the configured one, or ``base_url`` with ``key``
    (the settings page asks before anything is saved). Remembers what the list says
    about images for the configured endpoint."""
    config = current()
    if base_url is None:
        config = _required()
        url, secret = config.base_url, _key(credentials or window_store(), config)
    else:
        url = normalize_base_url(base_url)
        secret = key
        if secret is None and config is not None and config.base_url == url:
            secret = _key(credentials or window_store(), config)
    found = Client(Endpoint(url, "-", secret)).models()
    if config is not None and config.base_url == url:
        seen = {m.id: m.vision for m in found}
        if seen != config.vision:
            _write(
                AssistantConfig(
                    config.base_url,
                    config.model,
                    config.has_key,
                    config.images,
                    config.remote_confirmed,
                    seen,
                )
            )
    return found


@dataclass(frozen=True)
class EndpointCheck:
    config: AssistantConfig
    models: tuple[str, ...]
    #: the configured model is in the list (False: the endpoint does not offer it)
    found: bool
    #: the model's answer to a one-word question
    reply: str


def check_endpoint(
    *, credentials: CredentialStore | None = None, cancel: Cancel | None = None
) -> EndpointCheck:
    """List the configured endpoint's models and ask its model a tiny question.

    Raises:
        AssistantError: the endpoint is down, refuses the key, lacks the model, ...
    """
    config = _required()
    key = _key(credentials or window_store(), config)
    names, reply = probe(config.base_url, config.model, key, cancel=cancel)
    list_models(credentials=credentials)  # remembers what the list says of images
    return EndpointCheck(_required(), names, True, reply)


def probe(
    base_url: str, model: str, key: str | None = None, *, cancel: Cancel | None = None
) -> tuple[tuple[str, ...], str]:
    """(the models at ``base_url``, the model's answer to "Say OK"), before anything is
    saved: what the settings page's Test button shows.

    Raises:
        AssistantError: as :meth:`Client.chat`; the model is missing from the list.
    """
    url = normalize_base_url(base_url)
    name = check_model_name(model)
    if key is not None:
        key = check_key(key)
    helper = Client(Endpoint(url, name, key))
    names = tuple(m.id for m in helper.models())
    if names and name not in names:
        raise AssistantError(
            f"there is no model {name!r} at {url}: it offers {', '.join(names[:12])}; "
            "choose one of those",
            "model",
        )
    reply = helper.chat(
        [
            {"role": "system", "content": "Answer with one word."},
            {"role": "user", "content": "Say OK."},
        ],
        cancel=cancel,
        max_tokens=16,
    )
    return names, prompts.clean(reply)


# ---------------------------------------------------------------- measuring


def limit_for(platform: str | None, tier: str | None = None) -> Limit | None:
    """The platform's text limit as the model is told it (None: no platform)."""
    if platform is None:
        return None
    found = registry.platform(platform)
    rules = found.rules_for(tier)
    note = (
        "links count 23 each, most emoji and CJK characters 2"
        if rules.unit.startswith("weighted")
        else ""
    )
    return Limit(found.label, rules.max_chars, rules.unit.removeprefix("weighted "), note)


def text_problems(platform: str | None, text: str, tier: str | None = None) -> list[str]:
    """What ``platform`` would refuse in ``text`` alone (its media aside), as our
    counters measure it."""
    if not text.strip():
        return ["the model's answer is empty"]
    if platform is None:
        return []
    rules = registry.platform(platform).rules_for(tier)
    return [p.message for p in validate(rules, Content(text=text)) if p.field == "text"]


def measure(platform: str, text: str, tier: str | None = None) -> tuple[int, int]:
    """(length as the platform counts it, its limit)."""
    return registry.platform(platform).length(text, tier)


# ---------------------------------------------------------------- suggestions


@dataclass(frozen=True)
class Suggestion:
    """One text the model wrote, as measured."""

    text: str
    #: it fits the platform (or there was no platform to fit)
    fits: bool
    #: the stream ended before its end: incomplete, never to be taken as a draft
    complete: bool = True
    #: why it does not fit, or why it is incomplete
    problem: str = ""
    #: how many times the model was asked
    attempts: int = 1
    #: (length, limit) on the platform, when there is one
    measured: tuple[int, int] | None = None

    @property
    def usable(self) -> bool:
        return self.fits and self.complete

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "fits": self.fits, "complete": self.complete}
        if self.problem:
            out["problem"] = self.problem
        if self.measured is not None:
            out["length"], out["limit"] = self.measured
        out["attempts"] = self.attempts
        return out


#: ``on_piece(option, piece)``: a piece of option ``option``'s text as it streams in
PieceCallback = Callable[[int, str], None]
#: ``on_retry(option, why)``: option ``option`` is being asked again (its text restarts)
RetryCallback = Callable[[int, str], None]


class Assistant:
    """The configured model, ready to write: one object per task in the window (its
    keyring read happens here, so build it on a worker)."""

    def __init__(
        self,
        credentials: CredentialStore | None = None,
        *,
        timeouts: dict[str, float] | None = None,
        cancel: Cancel | None = None,
    ) -> None:
        self.config = _required()
        self.client = client(credentials, timeouts=timeouts)
        #: shared with whoever may stop the work (the window's Cancel button)
        self.cancel = cancel or Cancel()

    def stop(self) -> None:
        """Cancel what is running (from any thread)."""
        self.cancel.cancel()

    # ------------------------------------------------------------ the loop

    def fitting(
        self,
        messages: list[Message],
        platform: str | None,
        *,
        index: int = 0,
        tier: str | None = None,
        on_piece: PieceCallback | None = None,
        on_retry: RetryCallback | None = None,
    ) -> Suggestion:
        """Ask until the answer fits ``platform`` (at most :data:`MAX_RETRIES` more times)."""
        limit = limit_for(platform, tier)
        attempt = 0
        while True:
            attempt += 1
            try:
                raw = self.client.chat(
                    messages,
                    on_piece=(lambda piece: on_piece(index, piece)) if on_piece else None,
                    cancel=self.cancel,
                )
            except Truncated as exc:
                return Suggestion(prompts.clean(exc.partial), False, False, str(exc), attempt, None)
            text = prompts.clean(raw)
            problems = text_problems(platform, text, tier)
            measured = measure(platform, text, tier) if platform else None
            if not problems:
                return Suggestion(text, True, True, "", attempt, measured)
            if attempt > MAX_RETRIES or limit is None or not text.strip():
                return Suggestion(text, False, True, "; ".join(problems), attempt, measured)
            length, most = measured if measured else (0, 0)
            if on_retry is not None:
                on_retry(index, "; ".join(problems))
            if length > most:
                messages = prompts.too_long(messages, raw, length, limit)
            else:
                messages = [
                    *messages,
                    {"role": "assistant", "content": raw},
                    {
                        "role": "user",
                        "content": f"{limit.platform} would refuse that: "
                        + "; ".join(problems)
                        + ". Write it again so it fits. Reply with the post's text only.",
                    },
                ]

    # ------------------------------------------------------------ tasks

    def options(
        self,
        voice: str,
        topic: str,
        platform: str | None = None,
        n: int = 3,
        *,
        on_piece: PieceCallback | None = None,
        on_retry: RetryCallback | None = None,
        on_done: Callable[[int, Suggestion], None] | None = None,
    ) -> list[Suggestion]:
        """``n`` drafts about ``topic`` in ``voice``, one completion each."""
        about = check_topic(topic)
        count = check_count(n)
        guide = voices.get_voice(voices.check_voice(voice)).guide
        limit = limit_for(platform)
        found = []
        for index in range(count):
            made = self.fitting(
                prompts.draft(guide, about, limit, option=index, of=count),
                platform,
                index=index,
                on_piece=on_piece,
                on_retry=on_retry,
            )
            if on_done is not None:
                on_done(index, made)
            found.append(made)
        return found

    def rewrite(
        self,
        text: str,
        platform: str,
        voice: str,
        *,
        on_piece: PieceCallback | None = None,
        on_retry: RetryCallback | None = None,
    ) -> Suggestion:
        guide = voices.get_voice(voices.check_voice(voice)).guide
        source = _source(text)
        return self.fitting(
            prompts.rewrite(guide, source, limit_for(platform)),
            platform,
            on_piece=on_piece,
            on_retry=on_retry,
        )

    def shorter(
        self,
        text: str,
        voice: str,
        platform: str | None = None,
        *,
        on_piece: PieceCallback | None = None,
        on_retry: RetryCallback | None = None,
    ) -> Suggestion:
        guide = voices.get_voice(voices.check_voice(voice)).guide
        return self.fitting(
            prompts.shorter(guide, _source(text), limit_for(platform)),
            platform,
            on_piece=on_piece,
            on_retry=on_retry,
        )

    def thread(
        self,
        text: str,
        platform: str,
        voice: str,
        *,
        on_piece: PieceCallback | None = None,
        on_retry: RetryCallback | None = None,
    ) -> list[str]:
        """``text`` as a thread for ``platform`` whose every part fits; asks again (at
        most twice) while a part does not.

        Raises:
            UserError: the platform takes no thread, the text fits one post already,
                or the model's parts still do not fit (nothing is returned then).
        """
        found = registry.platform(platform)
        if found.follow_ups is None or found.follow_ups.style != "reply":
            raise UserError(
                f"{found.label} takes no threads (replies to one's own post); split it for "
                f"a platform that does: {', '.join(_thread_platforms())}"
            )
        source = _source(text)
        if not text_problems(platform, source):
            length, most = measure(platform, source)
            raise UserError(
                f"the text fits one {found.label} post already ({length} of {most}): "
                "there is nothing to split"
            )
        guide = voices.get_voice(voices.check_voice(voice)).guide
        limit = limit_for(platform)
        assert limit is not None
        messages = prompts.split(guide, source, limit, MAX_FOLLOW_UPS + 1)
        attempt = 0
        while True:
            attempt += 1
            try:
                raw = self.client.chat(
                    messages,
                    on_piece=(lambda piece: on_piece(0, piece)) if on_piece else None,
                    cancel=self.cancel,
                )
            except Truncated as exc:
                raise AssistantError(
                    f"{exc} (the thread was not kept: an incomplete split would lose text)",
                    "truncated",
                ) from None
            parts = prompts.parts(raw)
            problems = thread_problems(platform, parts)
            if not problems:
                return parts
            if attempt > MAX_RETRIES:
                raise UserError(
                    f"the model could not split the text into parts that fit {found.label} "
                    f"after {attempt} tries ({'; '.join(problems)}); nothing was changed: "
                    "try again, or split it by hand"
                )
            if on_retry is not None:
                on_retry(0, "; ".join(problems))
            messages = prompts.split_again(messages, raw, problems, limit)

    def hashtags(self, text: str, voice: str, platform: str | None = None) -> list[str]:
        guide = voices.get_voice(voices.check_voice(voice)).guide
        label = registry.label(platform) if platform else None
        raw = self.client.chat(prompts.hashtags(guide, _source(text), label), cancel=self.cancel)
        found = prompts.tags(raw)
        if not found:
            raise AssistantError("the model suggested no hashtags: try again", "bad")
        have = {t.lower() for t in prompts.tags(text)}
        return [t for t in found if t.lower() not in have] or found

    def alt_text(self, image: MediaItem, text: str = "") -> Suggestion:
        """A description of ``image`` for screen readers (only for a model that reads
        images: see :attr:`AssistantConfig.reads_images`)."""
        if not self.config.reads_images:
            raise UserError(
                f"the model {self.config.model!r} is not known to read images: turn on "
                "“the model reads images” for it if it does"
            )
        if image.kind != "image":
            raise UserError("alt text can be suggested for an image only")
        raw = self.client.chat(prompts.alt_text(_image_url(image), text), cancel=self.cancel)
        written = prompts.clean(raw)
        if not written:
            raise AssistantError("the model wrote no alt text: try again", "bad")
        return Suggestion(written, True)


def check_topic(topic: str) -> str:
    about = " ".join(topic.split())
    if not about:
        raise UserError('say what the post is about (e.g. "Tuesday\'s game recap")')
    if len(about) > MAX_TOPIC_CHARS:
        raise UserError(
            f"the topic is {len(about)} characters; keep it under {MAX_TOPIC_CHARS} (a "
            "sentence or two is plenty)"
        )
    return about


def check_count(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_DRAFTS:
        raise UserError(f"the number of drafts must be 1 to {MAX_DRAFTS}, not {n!r}")
    return n


def _source(text: str) -> str:
    if not text.strip():
        raise UserError("there is no text to work on: write something first")
    return text


def _thread_platforms() -> list[str]:
    return [p.label for p in registry.platforms() if p.follow_ups and p.follow_ups.style == "reply"]


def thread_problems(platform: str, parts: Sequence[str], tier: str | None = None) -> list[str]:
    """What ``platform`` would refuse in a thread of ``parts``."""
    if len(parts) < 2:
        return ["the answer was not split into parts (put a line with --- between parts)"]
    if len(parts) > MAX_FOLLOW_UPS + 1:
        return [f"{len(parts)} parts, more than the {MAX_FOLLOW_UPS + 1} a thread may have"]
    found = registry.platform(platform)
    problems = []
    for index, part in enumerate(parts):
        rules = found.rules_for(tier) if index == 0 else found.follow_up_rules(tier)
        for problem in validate(rules, Content(text=part)):
            if problem.field == "text":
                problems.append(f"part {index + 1}: {problem.message}")
    return problems


def _image_url(image: MediaItem) -> str:
    if image.path is None:
        if image.url:
            return image.url
        raise UserError("the image has no file or link to describe")
    path = Path(image.path)
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise UserError(
                f"the image is {size / 1024 / 1024:.1f} MB; alt text can be suggested for "
                f"images up to {MAX_IMAGE_BYTES // 1024 // 1024} MB"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read the image {path.name}: {exc.strerror}") from None
    mime = image.mime or "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class DraftResult:
    #: (post id, text) of each draft stored
    saved: tuple[tuple[int, str], ...]
    #: drafts not stored, with why (over the limit after the retries, or incomplete)
    refused: tuple[Suggestion, ...]


def draft(
    voice: str,
    about: str,
    platform: str | None = None,
    n: int = 3,
    *,
    credentials: CredentialStore | None = None,
    on_piece: PieceCallback | None = None,
    on_retry: RetryCallback | None = None,
    assistant: Assistant | None = None,
) -> DraftResult:
    """Write ``n`` drafts about ``about`` in ``voice`` and store those that fit
    ``platform`` as new posts (drafts: nothing is scheduled).

    Raises:
        UserError: bad input (voice, platform, count, topic).
        AssistantError: the endpoint failed (nothing was stored).
    """
    voices.check_voice(voice)
    if platform is not None:
        registry.platform(platform)
    check_topic(about)
    check_count(n)
    helper = assistant or Assistant(credentials)
    made = helper.options(voice, about, platform, n, on_piece=on_piece, on_retry=on_retry)
    usable = [s for s in made if s.usable]
    saved = []
    with database.atomic():
        for suggestion in usable:
            post = posts.add_post(suggestion.text, voice)
            saved.append((post.id, suggestion.text))
    return DraftResult(tuple(saved), tuple(s for s in made if not s.usable))


@dataclass(frozen=True)
class RewriteResult:
    post_id: int
    platform: str
    text: str
    #: the post's waiting schedules on that platform that now carry the new text
    schedules: tuple[int, ...] = ()
    #: waiting schedules left as they were, with why
    skipped: tuple[str, ...] = ()


def rewrite(
    post_id: int,
    platform: str,
    voice: str | None = None,
    *,
    credentials: CredentialStore | None = None,
    on_piece: PieceCallback | None = None,
    on_retry: RetryCallback | None = None,
    assistant: Assistant | None = None,
) -> RewriteResult:
    """Rewrite the post for ``platform`` and keep it as the post's own text there:
    schedules made to that platform take it, and so do the post's schedules there
    that wait to go out.

    Raises:
        UserError: no such post or platform, or the rewrite still does not fit (nothing
            is stored then).
        AssistantError: the endpoint failed.
    """
    registry.platform(platform)
    post = get_post(post_id)
    chosen = voices.check_voice(voice) if voice is not None else post.voice
    helper = assistant or Assistant(credentials)
    made = helper.rewrite(post.body, platform, chosen, on_piece=on_piece, on_retry=on_retry)
    if not made.usable:
        raise _not_kept(made, platform)
    posts.set_variant(post_id, platform, made.text)
    changed, skipped = [], []
    waiting = (
        ScheduledPost.select(ScheduledPost.id)
        .join(Account)
        .where(
            (ScheduledPost.post == post_id)
            & (Account.platform == platform)
            & (ScheduledPost.status.in_([Status.PENDING, Status.MISSED, Status.FAILED]))
        )
    )
    for row in waiting:
        try:
            schedules.update_schedule(row.id, text=made.text)
        except UserError as exc:
            skipped.append(f"schedule {row.id}: {exc}")
        else:
            changed.append(row.id)
    return RewriteResult(post_id, platform, made.text, tuple(changed), tuple(skipped))


def _not_kept(made: Suggestion, platform: str) -> UserError:
    label = registry.label(platform)
    if not made.complete:
        return UserError(f"the rewrite was not kept: {made.problem}")
    return UserError(
        f"the rewrite still does not fit {label} after {made.attempts} tries "
        f"({made.problem}); nothing was stored: try again, or shorten it by hand"
    )


def split(
    post_id: int,
    platform: str,
    voice: str | None = None,
    *,
    credentials: CredentialStore | None = None,
    on_piece: PieceCallback | None = None,
    on_retry: RetryCallback | None = None,
    assistant: Assistant | None = None,
) -> list[str]:
    """Turn the post's text (and any follow-ups) into a thread for ``platform``: the
    first part becomes its text, the others its follow-ups. Returns the parts.

    Raises:
        UserError: the post is being published or its thread has started, the
            platform takes no thread, or the parts do not fit (nothing changes then).
        AssistantError: the endpoint failed.
    """
    registry.platform(platform)
    post = get_post(post_id)
    _check_splittable(post_id)
    whole = "\n\n".join([post.body, *follow_up_texts(post)]).strip()
    chosen = voices.check_voice(voice) if voice is not None else post.voice
    helper = assistant or Assistant(credentials)
    parts = helper.thread(whole, platform, chosen, on_piece=on_piece, on_retry=on_retry)
    with database.atomic():
        _check_splittable(post_id)  # again, under the write lock
        posts.update_post(post_id, text=parts[0])
        posts.set_follow_ups(post_id, parts[1:])
    return parts


def _check_splittable(post_id: int) -> None:
    for row in ScheduledPost.select().where(ScheduledPost.post == post_id):
        if row.status == Status.PUBLISHING or (
            row.status in (Status.PENDING, Status.MISSED, Status.FAILED, Status.UNCERTAIN)
            and live_parts(load_parts(row.parts))
        ):
            raise UserError(
                f"post {post_id} is being published, or its thread has started (schedule "
                f"{row.id}): it cannot be split now"
            )
