"""Threads: Meta's Threads API (graph.threads.net).

Publishing works like Instagram's (NEXT_PLATFORMS.md section 3): a *container* is made
with ``POST /{user-id}/threads`` (text alone, an image or video Meta fetches from a
public URL, or a carousel of 2 to 20 such items), polled on its ``status`` (Instagram
calls the field ``status_code``) until ``FINISHED``, then published with
``threads_publish``. Only that last call makes a post exist, so only it is a *create*
for ``http.send``. There is no idempotency key: a lost or doubtful answer is resolved by
reading the container, which reads ``PUBLISHED`` once the post landed, and a container
publishes at most once, so retrying the publish on a ``FINISHED`` container cannot post
twice. A made container is kept in the checkpoint so a later attempt reuses it.

That life cycle, shared with Instagram, is ``containers.ContainerPublisher``; this
module says what is Threads' own: its names and fields, text posts, the length and
link rules, and its errors. Graph answers most errors with HTTP 400; they are
classified on ``error.code`` (and the message for the Threads-only errors), never on
the HTTP status alone.

Metrics (``metrics``): ``GET /{threads-media-id}/insights?metric=views,likes,replies,reposts,quotes``
(https://developers.facebook.com/documentation/threads/insights), one post a call, the
values in ``data[].values[0].value``. Needs ``threads_manage_insights``: without it
the account gets one note ("reconnect ... to see ...") and no figures, never an error
per post. ``views`` counts how often the post was shown (its impressions).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from milton_desktop.domain.content import Content, MediaItem, Published
from milton_desktop.domain.credential import AccountRef, Credential, Identity
from milton_desktop.domain.validation import MB, MediaRule, Rules
from milton_desktop.publishers.base import (
    ProgressCallback,
    PublishError,
    Rejected,
    Transient,
)
from milton_desktop.publishers.containers import ContainerPublisher
from milton_desktop.publishers.metagraph import LONG_LIVED_UPKEEP, Fault
from milton_desktop.publishers.platform import FollowUps, MetricsSpec, Platform, Preview

MAX_CHARS = 500
MAX_LINKS = 5

# Emoji count as their UTF-8 byte length [doc: threads/posts]. Which characters Meta
# calls emoji is not documented; these are the Unicode blocks of pictographs and the
# characters that join or modify them (ZWJ, variation selector 16, keycap, tags).
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, symbols, skin tones
    "\u2600-\u27bf"  # miscellaneous symbols and dingbats
    "\u2300-\u23ff"  # technical (watch, hourglass, ...)
    "\u2b00-\u2bff"  # arrows and stars
    "\u200d\ufe0f\u20e3"  # joiner, emoji presentation, keycap
    "\U000e0020-\U000e007f"  # tag characters (flags of subdivisions)
    "]"
)


def threads_length(text: str) -> int:
    """The text's length as Threads counts it: characters, emoji by UTF-8 bytes."""
    text = unicodedata.normalize("NFC", text)
    return len(text) + sum(len(ch.encode("utf-8")) - 1 for ch in _EMOJI.findall(text))


def links(text: str) -> list[str]:
    """The distinct links in ``text``, in order (what Threads' 5-link rule counts)."""
    # here, not at the top: the window imports every platform module at start-up for
    # labels and colours, and twittertext's patterns take ~20 ms to build
    from milton_desktop.domain.twittertext import url_spans

    seen: dict[str, None] = {}
    for start, end in url_spans(text):
        seen.setdefault(text[start:end].lower().rstrip("/"), None)
    return list(seen)


def _too_many_links(text: str) -> list[str]:
    found = links(text)
    if len(found) <= MAX_LINKS:
        return []
    return [
        f"{len(found)} different links: Threads allows at most {MAX_LINKS} in a post; "
        f"remove {len(found) - MAX_LINKS}"
    ]


RULES = Rules(
    platform="threads",
    label="Threads",
    max_chars=MAX_CHARS,
    count=threads_length,
    media={
        "image": MediaRule(frozenset({"image/jpeg", "image/png"}), 8 * MB),
        "video": MediaRule(frozenset({"video/mp4", "video/quicktime"}), 1024 * MB),
    },
    # a carousel holds 2 to 20 images and videos, mixed
    max_media=20,
    alone=frozenset(),
    requires_url=True,
    image_aspect=(0.1, 10.0),
    text_checks=(_too_many_links,),
)

#: the Threads API's only version so far; token endpoints have no version
GRAPH_VERSION = "v1.0"
SCOPES = ("threads_basic", "threads_content_publish")
AUTHORIZE_BASE = "https://threads.net"
PROFILE_URL = "https://www.threads.com/@{username}"

_NOT_READY = "not ready"
# a container ERROR whose remedy is a new container (nothing was published)
_RETRYABLE_PROCESSING = frozenset({"FAILED_DOWNLOADING_VIDEO"})


def authorize_url(client_id: str, redirect_uri: str, state: str, base: str | None = None) -> str:
    """The Threads consent page to open in the system browser."""
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": ",".join(SCOPES),
            "response_type": "code",
            "state": state,
        },
        quote_via=quote,
        safe=",",
    )
    return f"{(base or AUTHORIZE_BASE).rstrip('/')}/oauth/authorize?{query}"


def _media_fields(item: MediaItem) -> dict[str, Any]:
    params: dict[str, Any]
    if item.kind == "video":
        params = {"media_type": "VIDEO", "video_url": item.url}
    else:
        params = {"media_type": "IMAGE", "image_url": item.url}
    if item.alt_text:
        params["alt_text"] = item.alt_text
    return params


class ThreadsPublisher(ContainerPublisher):
    """Publishes text, images, videos and carousels to a Threads profile."""

    platform: ClassVar[str] = "threads"
    rules: ClassVar[Rules] = RULES
    default_bases: ClassVar[Mapping[str, str]] = {"api": "https://graph.threads.net"}
    brand = "Threads"
    brand_possessive = "Threads'"
    noun = "post"
    status_noun = "container status"
    container_edge = "threads"
    publish_edge = "threads_publish"
    quota_edge = "threads_publishing_limit"
    state_field = "status"
    detail_field = "error_message"
    text_field = "text"
    grant_prefix = "th"
    publish_permission = "threads_content_publish"
    insight_metrics: ClassVar[Mapping[str, str]] = {
        "views": "views",
        "likes": "likes",
        "replies": "replies",
        "reposts": "reposts",
        "quotes": "quotes",
    }
    insights_permission = "threads_manage_insights"
    version = GRAPH_VERSION

    def identify(self, credential: Credential) -> Identity:
        data = self._graph(
            "GET",
            "me",
            credential,
            what="identifying the Threads account",
            params={"fields": "id,username,name"},
        )
        user_id = data.get("id")
        if not user_id:
            raise Rejected("Threads did not return the account id: connect the account again")
        username = str(data.get("username") or "")
        return Identity(
            remote_id=str(user_id),
            username=username,
            display_name=str(data.get("name") or username),
        )

    def follow_up(
        self,
        content: Content,
        credential: Credential,
        account: AccountRef,
        *,
        root: Published,
        parent: Published,
        progress: ProgressCallback | None = None,
    ) -> Published:
        """A reply to the part before it (``reply_to_id``): a container like a post's,
        published once, and settled by its status after a lost answer."""
        problems = self.validate(content)
        if problems:
            raise Rejected("; ".join(p.message for p in problems))
        if not parent.remote_id:
            raise Rejected(
                "the part before this one has no known Threads id, so nothing can reply "
                "to it: post the rest yourself"
            )
        self.lookup_edge = "replies"
        try:
            return self.post_container(
                content,
                credential,
                account,
                fields={"reply_to_id": parent.remote_id},
                progress=progress,
            )
        finally:
            self.lookup_edge = None

    # ------------------------------------------------------------ what is Threads'

    def _text_params(self, text: str) -> dict[str, Any]:
        return {"media_type": "TEXT", "text": text}

    def _single_params(self, item: MediaItem, text: str) -> dict[str, Any]:
        params = _media_fields(item)
        if text:
            params["text"] = text
        return params

    def _item_params(self, item: MediaItem) -> dict[str, Any]:
        # the text goes on the parent
        return {**_media_fields(item), "is_carousel_item": True}

    def _processing_error(self, state: str, detail: str, label: str) -> PublishError:
        if state == "EXPIRED":
            return Transient(
                f"the Threads container for {label} expired before publishing; will retry"
            )
        if detail in _RETRYABLE_PROCESSING:
            return Transient(
                f"Threads could not process {label} ({detail}); nothing was published, will retry"
            )
        return Rejected(f"Threads could not process {label}: {detail or 'ERROR'}")

    def _profile_url(self, media_id: str, username: str) -> str:
        return post_url(media_id, username)

    def _platform_refusal(self, fault: Fault) -> PublishError | None:
        # the Threads-only errors are told apart by their message
        if "LINK_LIMIT_EXCEEDED" in fault.said:
            return Rejected(
                f"Threads refused the post: more than {MAX_LINKS} links ({fault.ref})",
                http_status=fault.status,
            )
        if fault.code == 9 or "publishing limit" in fault.said.lower():
            return self._quota_refusal(fault)
        if fault.code == 9007 or _NOT_READY in fault.said.lower():
            return self._not_ready(fault)
        return None


def post_url(_media_id: str, username: str) -> str:
    """Without a permalink from the platform, the profile is the best address there is."""
    return PROFILE_URL.format(username=username) if username else "https://www.threads.com/"


METRICS = MetricsSpec(
    batch=1,
    counters=("views", "likes", "replies", "reposts", "quotes"),
    interactions=("likes", "replies", "reposts", "quotes"),
    impressions="views",
    scoped={"threads_manage_insights": ("views", "likes", "replies", "reposts", "quotes")},
)


PLATFORM = Platform(
    name="threads",
    label=RULES.label,
    short="@",
    colour="#101010",
    order=60,
    rules=RULES,
    publisher=ThreadsPublisher,
    token_help=(
        "In Meta's app dashboard (developers.facebook.com/apps), open your app's use case "
        "“Access the Threads API”: under Settings add your Threads profile as a Threads "
        "tester (accept the invitation in Threads → Settings → Account → Website "
        "permissions), then generate a user token with threads_basic and "
        "threads_content_publish and paste it here. Paste a long-lived token (60 days): a "
        "token that lasts one hour must first be exchanged for one with your app's secret "
        "(GET graph.threads.net/access_token?grant_type=th_exchange_token). Milton renews "
        "it while it is still valid."
    ),
    post_url=post_url,
    # No browser sign-in: Meta's app dashboard accepts only https:// Redirect Callback
    # URLs for the Threads use case, so the http://127.0.0.1 loopback redirect a
    # desktop app listens on cannot be registered (fbsamples/threads_api#32, Dec 2024:
    # "not able to add http://127.0.0.1:8080/... since all url require HTTPS"; Auth.js's
    # Threads provider notes "Facebook required you to use https even for localhost").
    # An https redirect would need a certificate for 127.0.0.1 or a relay on the web,
    # which a local-first app has neither of. ``authorize_url`` and
    # ``ThreadsPublisher.exchange_code`` stay for the day Meta allows one.
    oauth=None,
    no_browser_note=(
        "Threads has no browser sign-in in Milton: Meta accepts only https:// redirect "
        "addresses for Threads apps, never the http://127.0.0.1 address Milton listens on "
        "while you sign in. Paste a long-lived Threads token instead."
    ),
    token_upkeep=LONG_LIVED_UPKEEP,
    preview=Preview(
        fold_chars=None,
        link_card=True,
        image_ratio=(0.75, 1.91),
        note="With no media, the first link shows as a preview card. Images and videos "
        "come from public links, which Meta fetches when the post is prepared.",
    ),
    # a thread: each part replies to the one before (reply_to_id)
    follow_ups=FollowUps(style="reply"),
    metrics=METRICS,
)
