"""A fake Threads API (graph.threads.net) enforcing NEXT_PLATFORMS.md section 3.

Built on the Instagram fake's machinery (parameters in every place Graph takes them,
tokens, the crawler that really fetches ``image_url``/``video_url`` from a separate
:class:`MediaHost`, the fake clock, fault injection), with what Threads does
differently: containers on ``/{user}/threads`` with a required ``media_type`` (TEXT,
IMAGE, VIDEO, CAROUSEL of 2 to 20), their state in ``status`` (not ``status_code``)
with ``error_message``, 500 characters with emoji counted by their UTF-8 bytes, at
most 5 links, ``threads_publish`` with a 250-post rolling quota,
``threads_publishing_limit``, and ``th_exchange_token`` / ``th_refresh_token``.

``published`` lists every post that exists, for "published exactly once" assertions.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from tests.fakes.instagram import (
    LONG_LIVED,
    MIB,
    SHORT_LIVED,
    Container,
    FakeInstagram,
    Media,
    MediaHost,
    Token,
    _select,
    error_body,
    graph_error,
    jpeg_size,
)
from tests.fakes.server import Reply, Request

__all__ = ["FakeThreads", "MediaHost", "error_body", "threads_count"]

_VERSION_PREFIX = re.compile(r"^/v1\.0(?=/|$)")
# the documented rule is "emoji count as their UTF-8 byte length"; the fake's notion of
# an emoji is the pictograph blocks (the publisher must agree on these texts)
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\u200d\ufe0f]")
_LINK = re.compile(r"(?i)\b(?:https?://)?(?:[a-z0-9-]+\.)+[a-z]{2,}(?:/[^\s]*)?")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def threads_count(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    return sum(len(ch.encode()) if _EMOJI.match(ch) else 1 for ch in text)


def link_count(text: str) -> int:
    return len({m.group(0).lower().rstrip("/.,") for m in _LINK.finditer(text)})


class FakeThreads(FakeInstagram):
    """Graph API for Threads: /me, containers, threads_publish, quota, tokens, OAuth.

    Knobs besides the Instagram fake's (``image_polls``, ``video_polls``,
    ``carousel_polls``, ``quota_total``, ``quota_usage``, ``quota_duration``,
    ``min_refresh_age``, ``listing_delay``): ``text_polls`` (status reads before a
    TEXT container is FINISHED) and ``processing_errors`` (media URL ->
    ``error_message``; that container ends in ``ERROR``).
    """

    def __init__(self, *, quota_total: int = 250, **kwargs: Any) -> None:
        super().__init__(quota_total=quota_total, **kwargs)
        self.text_polls = 0
        #: container id -> the media id it replies to (``reply_to_id``)
        self.reply_targets: dict[str, str] = {}
        #: media ids that are replies: the user's ``replies`` edge, not ``threads``
        self.reply_ids: set[str] = set()

    #: the Threads media insights metrics
    insight_metrics = frozenset({"views", "likes", "replies", "reposts", "quotes", "shares"})
    #: a Threads media node counts nothing itself
    counter_fields = ()

    def add_token(  # type: ignore[override]
        self,
        token: str,
        *,
        user_id: str = "25811240958523117",
        username: str = "milton.studio",
        **kwargs: Any,
    ) -> Token:
        return super().add_token(token, user_id=user_id, username=username, **kwargs)

    def publish_then_fail(self, *args: Any, **kwargs: Any) -> None:
        """Make the next threads_publish post for real, then answer an error."""
        code = kwargs.pop("code", 1)
        message = kwargs.pop("message", "An unknown error occurred")
        times = kwargs.pop("times", 1)
        status = kwargs.pop("status", 500)
        self.inject(
            r"POST (/v1\.0)?/[^/]+/threads_publish",
            status=status,
            body=error_body(code, message, subcode=None, **kwargs),
            when="after",
            times=times,
        )

    # ------------------------------------------------------------ dispatch

    def handle(self, req: Request) -> Reply:
        path = _VERSION_PREFIX.sub("", req.path, count=1)
        segs = [s for s in path.split("/") if s]
        try:
            params = self._params(req)
        except ValueError:
            return graph_error(100, "Invalid parameter: the request body could not be parsed")
        method = req.method
        if method == "POST" and segs == ["oauth", "access_token"]:
            return self._oauth_access_token(params)
        if method == "GET" and segs == ["access_token"]:
            return self._exchange_token(params, self._token_of(req, params))
        if method == "GET" and segs == ["refresh_access_token"]:
            return self._refresh_token(params, self._token_of(req, params))
        tok = self._authenticate(req, params)
        if isinstance(tok, Reply):
            return tok
        if method == "GET" and segs == ["me"]:
            node = {
                "id": tok.user_id,
                "username": tok.username,
                "name": tok.username.replace(".", " ").title(),
                "threads_profile_picture_url": "https://scontent.example/p.jpg",
            }
            return Reply(200, _select(node, params.get("fields") or "id"))
        if len(segs) == 2 and segs[1] in (
            "threads",
            "threads_publish",
            "threads_publishing_limit",
            "replies",
        ):
            if segs[0] not in (tok.user_id, "me"):
                return self._no_object(segs[0], method)
            if method == "POST" and segs[1] == "threads":
                return self._create_reply_or_container(tok, params)
            if method == "POST" and segs[1] == "threads_publish":
                return self._publish_and_thread(tok, params)
            if method == "GET" and segs[1] == "threads":
                return self._list_threads(tok, params)
            if method == "GET" and segs[1] == "replies":
                return self._list_threads(tok, params, replies=True)
            if method == "GET" and segs[1] == "threads_publishing_limit":
                return self._publishing_limit(tok, params)
        if method == "GET" and len(segs) == 2 and segs[1] == "insights":
            return self._insights(tok, segs[0], params)
        if method == "GET" and len(segs) == 1:
            return self._node(tok, segs[0], params)
        return graph_error(100, f"Unsupported {method.lower()} request.", subcode=33)

    # ------------------------------------------------------------ tokens

    def _oauth_access_token(self, params: dict[str, str]) -> Reply:
        client_id = params.get("client_id", "")
        if client_id not in self.apps or params.get("client_secret") != self.apps[client_id]:
            return graph_error(101, "Error validating client secret.")
        if params.get("grant_type") != "authorization_code":
            return graph_error(100, "Invalid parameter: grant_type")
        found = self.codes.get(params.get("code", ""))
        if found is None or found[0] != client_id:
            return graph_error(100, "Invalid authorization code", subcode=36007)
        if found[1] != params.get("redirect_uri"):
            return graph_error(
                100, "Error validating verification code: redirect_uri mismatch", subcode=36008
            )
        del self.codes[params["code"]]
        user_id = found[2]
        token = f"THQVshort{next(self._token_ids):08d}"
        self.tokens[token] = Token(
            token, user_id, self.users.get(user_id, ""), self.clock + SHORT_LIVED, self.clock, False
        )
        return Reply(200, {"access_token": token, "user_id": int(user_id)})

    def _exchange_token(self, params: dict[str, str], token: str | None) -> Reply:
        if params.get("grant_type") != "th_exchange_token":
            return graph_error(100, "Invalid parameter: grant_type must be th_exchange_token")
        if params.get("client_secret") not in self.apps.values():
            return graph_error(101, "Error validating client secret.")
        tok = self._check_token(token)
        if isinstance(tok, Reply):
            return tok
        if tok.long_lived:
            return graph_error(100, "Invalid parameter: the token is already long-lived")
        return self._long_lived_reply(tok)

    def _refresh_token(self, params: dict[str, str], token: str | None) -> Reply:
        if params.get("grant_type") != "th_refresh_token":
            return graph_error(100, "Invalid parameter: grant_type must be th_refresh_token")
        tok = self._check_token(token)
        if isinstance(tok, Reply):
            return tok
        if not tok.long_lived:
            return graph_error(100, "Invalid parameter: only long-lived tokens can be refreshed")
        if self.clock - tok.issued_at < self.min_refresh_age:
            return graph_error(100, "Invalid parameter: the token must be at least 24 hours old")
        return self._long_lived_reply(tok)

    def _long_lived_reply(self, tok: Token) -> Reply:
        token = f"THQVlong{next(self._token_ids):08d}"
        self.tokens[token] = Token(
            token, tok.user_id, tok.username, self.clock + LONG_LIVED, self.clock
        )
        return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED})

    # ------------------------------------------------------------ reading

    def _node(self, tok: Token, node_id: str, params: dict[str, str]) -> Reply:
        fields = params.get("fields") or "id"
        if node_id in self.containers:
            cont = self.containers[node_id]
            if cont.user != tok.user_id:
                return self._no_object(node_id, "GET")
            wanted = {f.strip() for f in fields.split(",")}
            unknown = wanted - {"id", "status", "error_message"}
            if unknown:
                return graph_error(
                    100,
                    f"(#100) Tried accessing nonexisting field ({sorted(unknown)[0]}) on node "
                    "type (ThreadsMediaBuilder)",
                )
            self._advance_container(cont, count_poll="status" in wanted)
            node: dict[str, Any] = {"id": cont.id, "status": cont.status_code}
            if cont.status_code == "ERROR":
                node["error_message"] = cont.error_status or "UNKNOWN"
            return Reply(200, _select(node, fields))
        if node_id in self.media:
            m = self.media[node_id]
            if m.user != tok.user_id:
                return self._no_object(node_id, "GET")
            return Reply(200, _select(self._thread_node(m), fields))
        return self._no_object(node_id, "GET")

    def _create_reply_or_container(self, tok: Token, params: dict[str, str]) -> Reply:
        """A container; with ``reply_to_id``, one that answers that published post."""
        target = params.get("reply_to_id")
        if target is not None and target not in self.media:
            return graph_error(
                100, f"Invalid parameter: reply_to_id {target} is not a published post"
            )
        reply = self._create_container(tok, params)
        if target is not None and reply.status == 200:
            self.reply_targets[str(reply.body["id"])] = target
        return reply

    def _publish_and_thread(self, tok: Token, params: dict[str, str]) -> Reply:
        reply = self._media_publish(tok, params)
        target = self.reply_targets.get(params.get("creation_id", ""))
        if reply.status == 200 and target is not None:
            self.reply_ids.add(str(reply.body["id"]))
            self.published[-1]["reply_to"] = target
        return reply

    def chain(self, user_id: str) -> list[tuple[str, str | None]]:
        """(media id, the id it replies to) of the user's published posts, in order."""
        return [(p["id"], p.get("reply_to")) for p in self.published if p["user"] == user_id]

    def _list_threads(self, tok: Token, params: dict[str, str], *, replies: bool = False) -> Reply:
        try:
            limit = max(1, min(100, int(params.get("limit") or 25)))
        except ValueError:
            return graph_error(100, "Invalid parameter: limit")
        mine = [
            m
            for m in self.media.values()
            if m.user == tok.user_id
            and (m.id in self.reply_ids) == replies
            and not (m.container and self.clock - m.timestamp < self.listing_delay)
        ]
        mine.sort(key=lambda m: (m.timestamp, m.id), reverse=True)
        fields = params.get("fields") or "id"
        return Reply(200, {"data": [_select(self._thread_node(m), fields) for m in mine[:limit]]})

    @staticmethod
    def _thread_node(m: Media) -> dict[str, Any]:
        return {
            "id": m.id,
            "text": m.caption,
            "media_type": m.media_type,
            "permalink": m.permalink,
            "timestamp": datetime.fromtimestamp(m.timestamp, UTC).strftime(
                "%Y-%m-%dT%H:%M:%S+0000"
            ),
        }

    # ------------------------------------------------------------ containers

    def _create_container(self, tok: Token, params: dict[str, str]) -> Reply:
        media_type = params.get("media_type", "").upper()
        if not media_type:
            return graph_error(100, "The parameter media_type is required")
        is_item = params.get("is_carousel_item", "false").lower() == "true"
        text = params.get("text", "")
        alt_text = params.get("alt_text", "")
        if text and (problem := self._text_problem(text)):
            return problem
        if is_item and text:
            return graph_error(100, "Invalid parameter: text is not supported on carousel items")
        if media_type == "CAROUSEL":
            return self._create_carousel(tok, params, text, alt_text)
        if media_type == "TEXT":
            if is_item:
                return graph_error(100, "Invalid parameter: a TEXT post cannot be a carousel item")
            if not text:
                return graph_error(100, "The parameter text is required for TEXT posts")
            if alt_text:
                return graph_error(
                    100, "Invalid parameter: alt_text is not supported on TEXT posts"
                )
            return self._new_container(tok, "TEXT", None, text, "", False, self.text_polls)
        if len(alt_text) > 1000:
            return graph_error(100, "Invalid parameter: alt_text is longer than 1000 characters")
        if media_type == "IMAGE":
            url = params.get("image_url")
            if not url:
                return graph_error(100, "The parameter image_url is required")
            problem = self._check_threads_image(url)
            polls = self.image_polls
        elif media_type == "VIDEO":
            url = params.get("video_url")
            if not url:
                return graph_error(100, "The parameter video_url is required")
            problem = self._check_video(url)
            polls = self.video_polls
        else:
            return graph_error(100, f"Invalid parameter: media_type {media_type} is unknown")
        if problem is not None:
            return problem
        return self._new_container(tok, media_type, url, text, alt_text, is_item, polls)

    def _new_container(
        self,
        tok: Token,
        media_type: str,
        url: str | None,
        text: str,
        alt_text: str,
        is_item: bool,
        polls: int,
        children: list[str] | None = None,
    ) -> Reply:
        cont = Container(
            id=str(next(self._container_ids)),
            user=tok.user_id,
            media_type=media_type,
            media_url=url,
            caption=text,
            alt_text=alt_text,
            is_carousel_item=is_item,
            children=children or [],
            created_at=self.clock,
            polls_needed=polls,
            error_status=self.processing_errors.get(url or ""),
        )
        self.containers[cont.id] = cont
        return Reply(200, {"id": cont.id})

    def _create_carousel(  # type: ignore[override]
        self, tok: Token, params: dict[str, str], text: str, alt_text: str
    ) -> Reply:
        if alt_text:
            return graph_error(100, "Invalid parameter: alt_text is not supported on a carousel")
        children = [c.strip() for c in params.get("children", "").split(",") if c.strip()]
        if not 2 <= len(children) <= 20:
            return graph_error(100, "Invalid parameter: a carousel takes 2 to 20 children")
        for child_id in children:
            child = self.containers.get(child_id)
            if child is None or child.user != tok.user_id:
                return graph_error(100, f"Invalid parameter: child {child_id} does not exist")
            if not child.is_carousel_item:
                return graph_error(100, f"Invalid parameter: {child_id} is not a carousel item")
            self._advance_container(child, count_poll=False)
            if child.status_code != "FINISHED":
                return graph_error(
                    9007, "The media is not ready for publishing, please wait for a moment"
                )
        return self._new_container(
            tok, "CAROUSEL", None, text, "", False, self.carousel_polls, children
        )

    @staticmethod
    def _text_problem(text: str) -> Reply | None:
        if threads_count(text) > 500:
            return graph_error(100, "Param text must be at most 500 characters long.")
        if link_count(text) > 5:
            return graph_error(
                100,
                "THREADS_API__LINK_LIMIT_EXCEEDED",
                user_msg="THREADS_API__LINK_LIMIT_EXCEEDED: a post can contain at most 5 links",
            )
        return None

    def _check_threads_image(self, url: str) -> Reply | None:
        data = self._fetch(url, 8 * MIB)
        if isinstance(data, Reply):
            return data
        if len(data) > 8 * MIB:
            return graph_error(100, "Invalid parameter: the image is larger than 8 MB")
        if data.startswith(PNG_MAGIC):
            return None
        if jpeg_size(data) is None:
            return graph_error(100, "Invalid parameter: the image must be a JPEG or a PNG")
        return None

    # ------------------------------------------------------------ publishing

    def _media_publish(self, tok: Token, params: dict[str, str]) -> Reply:
        creation_id = params.get("creation_id", "")
        cont = self.containers.get(creation_id)
        if cont is None or cont.user != tok.user_id:
            return graph_error(100, f"Invalid parameter: creation_id {creation_id} does not exist")
        if cont.is_carousel_item:
            return graph_error(100, "Invalid parameter: publish the CAROUSEL container instead")
        self._advance_container(cont, count_poll=False)
        if cont.status_code == "PUBLISHED":
            return graph_error(100, "Invalid parameter: the container is already published")
        if cont.status_code == "EXPIRED":
            return graph_error(100, "Invalid parameter: the container has expired")
        if cont.status_code == "ERROR":
            return graph_error(
                100, f"Invalid parameter: the container failed ({cont.error_status})"
            )
        if cont.status_code != "FINISHED":
            return graph_error(
                9007, "The media is not ready for publishing, please wait for a moment"
            )
        if self._quota_usage(tok.user_id) >= self.quota_total:
            return graph_error(9, "Application request limit reached: publishing limit")
        self.clock += 1
        media_id = self._new_media(
            tok.user_id, cont.media_type, cont.caption, self.clock, container=cont.id
        ).id
        cont.status_code = "PUBLISHED"
        cont.media_id = media_id
        parts = [self.containers[c] for c in cont.children] or [cont]
        for child in parts:
            child.status_code = "PUBLISHED"
        self.published.append(
            {
                "id": media_id,
                "user": tok.user_id,
                "text": cont.caption,
                "media_type": cont.media_type,
                "container": cont.id,
                "children": list(cont.children),
                "media_urls": [c.media_url for c in parts if c.media_url],
                "alt_texts": [c.alt_text for c in parts if c.media_url],
            }
        )
        return Reply(200, {"id": media_id})

    def _new_media(
        self, user: str, container_type: str, caption: str, timestamp: float, *, container: str
    ) -> Media:
        media_id = str(next(self._media_ids))
        code = base64.urlsafe_b64encode(hashlib.sha1(media_id.encode()).digest()).decode()[:11]
        username = self.users.get(user, "someone")
        kind = {"CAROUSEL": "CAROUSEL_ALBUM", "TEXT": "TEXT_POST"}.get(
            container_type, container_type
        )
        media = Media(
            media_id,
            user,
            kind,
            caption,
            f"https://www.threads.com/@{username}/post/{code}",
            timestamp,
            container,
        )
        self.media[media_id] = media
        return media

    def add_thread(
        self, text: str, *, at: float | None = None, user_id: str = "25811240958523117"
    ) -> Media:
        """A post made elsewhere (another tool, the app), at fake-clock instant ``at``."""
        with self._lock:
            return self._new_media(
                user_id, "TEXT", text, self.clock if at is None else at, container=""
            )
