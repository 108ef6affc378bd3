"""Instagram: the Graph API with Instagram Login (graph.instagram.com).

Publishing is three steps (CONTRACTS.md section 3): create a media *container* that
Instagram fills by fetching the media from a public URL, poll the container until it
is ``FINISHED``, then ``media_publish`` it. Only the last step makes a post exist, so
only it is a *create* call in the sense of ``http.send``: a lost answer there is
resolved by reading the container, whose ``status_code`` turns ``PUBLISHED`` once the
post landed (CONTRACTS.md 0.2). Meta's *answers* to media_publish are not to be trusted
either: it has sent errors (4/2207051 among them) for posts that went live, so every
refusal is checked against the container before it is believed. A container can be
published once only, which is why retrying media_publish on the same container, while
it is still ``FINISHED``, cannot post twice; a new container could.

That life cycle, shared with Threads, is ``containers.ContainerPublisher``; this module
says what is Instagram's own: its names and fields, Reels, and the error subcodes.
Graph answers most errors with HTTP 400; errors are classified on ``error.code`` and
``error.error_subcode`` (CONTRACTS.md 3.8), never on the HTTP status alone.

Metrics (``metrics``): ``GET /{ig-media-id}/insights?metric=reach,likes,comments,saved,shares``
(Instagram API with Instagram Login, permission ``instagram_business_manage_insights``;
https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights),
one post a call. Graph answers a post too young to have figures with code 10 "Not
enough viewers": no figures yet, not an error. Without the permission (code 10 or
200-299) the account gets one note and the media's own ``like_count`` and
``comments_count`` fields are read instead (``GET /{ig-media-id}?fields=…``). ``reach``
(accounts that saw the post) is the denominator of its engagement: Instagram dropped
``impressions`` for new media in 2025.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from milton_desktop.domain.content import Content, MediaItem, Published
from milton_desktop.domain.credential import AccountRef, Credential, Identity
from milton_desktop.domain.validation import MB, MediaRule, Rules
from milton_desktop.publishers.base import (
    OutcomeUnknown,
    ProgressCallback,
    PublishError,
    Rejected,
    Transient,
)
from milton_desktop.publishers.containers import (
    CONTAINER_LIFETIME as CONTAINER_LIFETIME,
)
from milton_desktop.publishers.containers import (
    PUBLISH_RETRIES as PUBLISH_RETRIES,
)
from milton_desktop.publishers.containers import (
    PUBLISH_RETRY_WAIT as PUBLISH_RETRY_WAIT,
)
from milton_desktop.publishers.containers import ContainerPublisher
from milton_desktop.publishers.http import scrub
from milton_desktop.publishers.metagraph import LONG_LIVED_UPKEEP, Fault
from milton_desktop.publishers.platform import (
    FollowUps,
    MetricsSpec,
    OAuthSpec,
    Platform,
    Preview,
)

RULES = Rules(
    platform="instagram",
    label="Instagram",
    max_chars=2200,
    media={
        "image": MediaRule(frozenset({"image/jpeg"}), 8 * MB),
        "video": MediaRule(frozenset({"video/mp4", "video/quicktime"}), 300 * MB),
    },
    max_media=10,
    # a carousel mixes images and videos freely
    alone=frozenset(),
    requires_media=True,
    requires_url=True,
    image_aspect=(0.8, 1.91),
    max_hashtags=30,
    max_mentions=20,
)

#: the Graph API version pinned in every path; Meta keeps a version about two years
GRAPH_VERSION = "v25.0"
GRAPH_VERSION_ENV = "MILTON_INSTAGRAM_GRAPH_VERSION"

#: Instagram Login scopes (the old ``business_*`` names were retired in January 2025)
SCOPES = (
    "instagram_business_basic",
    "instagram_business_content_publish",
    # first comments: a post's follow-ups are comments on it
    "instagram_business_manage_comments",
)
COMMENT_PERMISSION = "instagram_business_manage_comments"
#: what a comment may hold (Instagram's caption limits; no media)
COMMENT_RULES = Rules(
    platform="instagram",
    label="Instagram",
    max_chars=2200,
    media={},
    max_media=0,
    max_hashtags=30,
)
AUTHORIZE_BASE = "https://www.instagram.com"
PROFILE_URL = "https://www.instagram.com/{username}/"

# Subcodes that settle the matter whatever the code says (4/2207051 is a spam
# restriction, not a call limit; 1/2207057 is a bad thumbnail offset, not a hiccup).
_PERMANENT_SUBCODES = frozenset(
    {
        2207004,  # image too large
        2207005,  # image format not supported
        2207009,  # aspect ratio
        2207010,  # caption too long
        2207023,  # unknown media type
        2207026,  # video format
        2207028,  # carousel needs 2-10 items
        2207035,  # product tags
        2207036,
        2207037,
        2207040,  # too many @ tags / hashtags
        2207050,  # account restricted
        2207051,  # activity restricted (spam)
        2207057,  # thumbnail offset out of range
    }
)
# Subcodes whose remedy is a fresh container: nothing was published, a new attempt
# (which creates new containers) may well succeed.
_TRANSIENT_SUBCODES = frozenset(
    {2207001, 2207003, 2207006, 2207008, 2207020, 2207032, 2207053, 2207082}
)
_SUBCODE_IN_TEXT = re.compile(r"\b(22070\d\d)\b")


def graph_version() -> str:
    """The pinned Graph version, or the one named by ``MILTON_INSTAGRAM_GRAPH_VERSION``."""
    value = (os.environ.get(GRAPH_VERSION_ENV) or GRAPH_VERSION).strip().strip("/")
    return value if value.startswith("v") else f"v{value}"


def authorize_url(client_id: str, redirect_uri: str, state: str, base: str | None = None) -> str:
    """The Instagram Login page to open in the system browser (Business Login)."""
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": ",".join(SCOPES),
            "state": state,
        },
        quote_via=quote,
        safe=",",
    )
    return f"{(base or AUTHORIZE_BASE).rstrip('/')}/oauth/authorize?{query}"


class InstagramPublisher(ContainerPublisher):
    """Publishes images, Reels and carousels to an Instagram professional account."""

    platform: ClassVar[str] = "instagram"
    rules: ClassVar[Rules] = RULES
    default_bases: ClassVar[Mapping[str, str]] = {
        "api": "https://graph.instagram.com",
        "oauth": "https://api.instagram.com",
    }
    brand = "Instagram"
    brand_possessive = "Instagram's"
    noun = "media"
    status_noun = "media status"
    container_edge = "media"
    publish_edge = "media_publish"
    quota_edge = "content_publishing_limit"
    state_field = "status_code"
    detail_field = "status"
    text_field = "caption"
    grant_prefix = "ig"
    code_exchange_role = "oauth"
    publish_permission = "content publishing"
    insight_metrics: ClassVar[Mapping[str, str]] = {
        "reach": "reach",
        "likes": "likes",
        "comments": "comments",
        "saved": "saves",
        "shares": "shares",
    }
    insights_permission = "instagram_business_manage_insights"
    fallback_fields: ClassVar[Mapping[str, str]] = {
        "like_count": "likes",
        "comments_count": "comments",
    }
    version = GRAPH_VERSION
    transient_codes = frozenset({-2, -1, 1, 2, 24})
    transient_subcodes = _TRANSIENT_SUBCODES
    permanent_codes = frozenset({25, 100, 352, 506, 36000, 36001, 36003, 36004})
    token_reasons: ClassVar[Mapping[int, str]] = {
        458: "the app was removed from the account",
        459: "Instagram wants the user to log in on instagram.com first",
        460: "the password was changed",
        463: "the token has expired",
        464: "the Instagram user is not confirmed",
        467: "the token is invalid",
    }

    def pinned_version(self) -> str:
        return graph_version()

    def identify(self, credential: Credential) -> Identity:
        data = self._graph(
            "GET",
            "me",
            credential,
            what="identifying the Instagram account",
            params={"fields": "user_id,username"},
        )
        user_id = data.get("user_id")
        if not user_id:
            # ``id`` is app-scoped and useless for publishing: only ``user_id`` will do
            raise Rejected(
                "Instagram did not return the professional account id: make sure the "
                "account is a Business or Creator account and connect it again"
            )
        username = str(data.get("username") or "")
        return Identity(remote_id=str(user_id), username=username, display_name=username)

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
        """A comment on the post (``POST /{ig-media-id}/comments``): the "first
        comment". Not idempotent: a lost answer is an unknown outcome."""
        if content.media:
            raise Rejected("an Instagram comment carries text only: remove its media")
        if not root.remote_id:
            raise Rejected(
                "the Instagram post's id is unknown, so nothing can comment on it: post "
                "the comments yourself"
            )
        try:
            data = self._graph(
                "POST",
                f"{root.remote_id}/comments",
                credential,
                what="commenting on the Instagram post",
                body={"message": content.text},
                create=True,
            )
        except Rejected as exc:
            if "lacks a permission" not in exc.message:
                raise
            # connected before comments were asked for: say which permission is missing
            raise Rejected(
                "the Instagram connection may not comment on posts: reconnect the account "
                f"and grant {COMMENT_PERMISSION} ({exc.message})",
                http_status=exc.http_status,
            ) from None
        comment_id = str(data.get("id") or "")
        if not comment_id:
            raise OutcomeUnknown(
                "Instagram answered the comment without its id: it was probably posted; "
                "check the post before publishing again"
            )
        self.log.info("commented %s on Instagram media %s", comment_id, root.remote_id)
        return Published(remote_id=comment_id, url=root.url)

    # ------------------------------------------------------------ what is Instagram's

    def _single_params(self, item: MediaItem, text: str) -> dict[str, Any]:
        params: dict[str, Any]
        if item.kind == "video":
            # single feed videos are Reels since July 2023; alt text is not for Reels
            params = {"media_type": "REELS", "video_url": item.url}
        else:
            params = {"image_url": item.url}
            if item.alt_text:
                params["alt_text"] = item.alt_text
        if text:
            params["caption"] = text
        return params

    def _item_params(self, item: MediaItem) -> dict[str, Any]:
        # carousel items take no caption: the caption goes on the parent
        if item.kind == "video":
            return {"media_type": "VIDEO", "video_url": item.url, "is_carousel_item": True}
        params: dict[str, Any] = {"image_url": item.url, "is_carousel_item": True}
        if item.alt_text:
            params["alt_text"] = item.alt_text
        return params

    def _processing_error(self, state: str, detail: str, label: str) -> PublishError:
        detail = detail or state.lower()
        found = _SUBCODE_IN_TEXT.search(detail)
        if found and int(found.group(1)) in _TRANSIENT_SUBCODES:
            # e.g. a download that took too long: a new container may succeed
            return Transient(
                f"Instagram could not process {label} ({detail}); nothing was published, will retry"
            )
        if state == "EXPIRED":
            return Transient(
                f"the Instagram container for {label} expired before publishing; will retry"
            )
        return Rejected(f"Instagram could not process {label}: {detail}")

    def _profile_url(self, media_id: str, username: str) -> str:
        return post_url(media_id, username)

    def _texts(self, err: Mapping[str, Any], secrets: Iterable[str | None]) -> tuple[str, str]:
        # the developer's message for a hiccup, the user's for a refusal
        said = scrub(str(err.get("message") or "no details"), secrets)
        told = scrub(str(err.get("error_user_msg") or err.get("message") or ""), secrets)
        return said, told

    def _platform_refusal(self, fault: Fault) -> PublishError | None:
        code, subcode = fault.code, fault.subcode
        if code == 9 or subcode == 2207042:
            return self._quota_refusal(fault)
        if code == 9007 or subcode == 2207027:
            return self._not_ready(fault)
        if code == 9004 or subcode == 2207052:
            return Rejected(
                "Instagram could not fetch the media from its URL: the link must be a public "
                "https address that opens without logging in (no localhost, no private "
                f"share pages). Instagram said: {fault.told} ({fault.ref})",
                http_status=fault.status,
            )
        if subcode in _PERMANENT_SUBCODES:
            return self._refused(fault)
        return None

    def _code_answer(self, data: Mapping[str, Any]) -> Mapping[str, Any]:
        # current shape: {"data": [{...}]}; older: the same fields at the top level
        entries = data.get("data")
        entry = entries[0] if isinstance(entries, list) and entries else data
        return entry if isinstance(entry, dict) else {}

    def _code_extra(self, answer: Mapping[str, Any]) -> dict[str, str]:
        extra = super()._code_extra(answer)
        permissions = answer.get("permissions")
        if isinstance(permissions, list):
            permissions = ",".join(str(p) for p in permissions)
        if permissions:
            extra["permissions"] = str(permissions)
        return extra


def post_url(_media_id: str, username: str) -> str:
    """Without a permalink from the platform, the profile is the best address there is."""
    return PROFILE_URL.format(username=username) if username else "https://www.instagram.com/"


METRICS = MetricsSpec(
    batch=1,
    counters=("reach", "likes", "comments", "saves", "shares"),
    interactions=("likes", "comments", "saves", "shares"),
    impressions="reach",
    scoped={"instagram_business_manage_insights": ("reach", "saves", "shares")},
)


PLATFORM = Platform(
    name="instagram",
    label=RULES.label,
    short="IG",
    colour="#c13584",
    order=30,
    rules=RULES,
    publisher=InstagramPublisher,
    token_help=(
        "In Meta's app dashboard, open your app's Instagram API setup (Instagram login), "
        "generate a token for your professional account and paste it here. It lasts 60 "
        "days, and Milton renews it while it is still valid."
    ),
    post_url=post_url,
    oauth=OAuthSpec(
        needs_client_secret=True,
        # Instagram Login documents no PKCE
        uses_pkce=False,
        developer_portal="https://developers.facebook.com/apps",
        authorize_url=authorize_url,
    ),
    token_upkeep=LONG_LIVED_UPKEEP,
    preview=Preview(
        fold_chars=125,
        fold_lines=2,
        more_label="… more",
        links_clickable=False,
        image_ratio=(0.8, 1.91),
        image_note="Images show from 4:5 (portrait) through 1:1 (square) to 1.91:1 "
        "(landscape); a carousel takes the first image's shape.",
        note="Links in a caption cannot be clicked on Instagram.",
    ),
    # first comments: each follow-up is a comment on the post, in order
    follow_ups=FollowUps(style="comment", rules=COMMENT_RULES, media=False),
    metrics=METRICS,
)
