"""LinkedIn adapter: member and page posts through the versioned Posts API (CONTRACTS.md section 1).

A publish is: upload each image or the PDF document (initialize, one PUT) or the
video (initialize, one PUT per byte range, finalize, poll until AVAILABLE), then one
``POST /rest/posts``.
Only that last call can make a post exist, so only it is sent with ``create=True``;
everything before it is safe to retry, and any doubt after it becomes
``OutcomeUnknown`` because LinkedIn has no idempotency key (section 0.2).

Metrics (``metrics``), in the order the token's permissions allow:

- ``GET /rest/memberCreatorPostAnalytics?q=entity&entity=(share:URN)|(ugc:URN)
  &queryType=T&aggregation=TOTAL``, one call per post and query type (IMPRESSION,
  MEMBERS_REACHED, REACTION, COMMENT, RESHARE), the count in ``elements[].count``;
  permission ``r_member_postAnalytics``; member posts only
  (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/members/post-statistics).
  The entity is a Rest.li 2.0 union with the URN percent-encoded inside the parentheses.
- else ``GET /rest/socialActions/{encoded URN}``: ``likesSummary.totalLikes`` and
  ``commentsSummary.aggregatedTotalComments``
  (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/network-update-social-actions),
  for tokens with ``r_member_social`` or, for a page, ``r_organization_social``;
- else nothing, with one note to reconnect with ``r_member_postAnalytics``.

Every call carries ``LinkedIn-Version`` and ``X-Restli-Protocol-Version: 2.0.0`` as
the posting calls do.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, unquote, urlencode, urlsplit

from milton_desktop.domain.content import Content, MediaItem, Published
from milton_desktop.domain.credential import AccountRef, Credential, Identity
from milton_desktop.domain.metrics import MetricsBatch
from milton_desktop.domain.validation import MB, MediaRule, Rules
from milton_desktop.publishers.base import (
    AuthExpired,
    OutcomeUnknown,
    ProgressCallback,
    Publisher,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from milton_desktop.publishers.http import (
    credential_secrets,
    download,
    json_body,
    next_utc_midnight,
    retry_after,
    safe_url,
    scrub,
    send,
    server_error,
)
from milton_desktop.publishers.platform import (
    FollowUps,
    MetricsSpec,
    OAuthSpec,
    Platform,
    Preview,
)

if TYPE_CHECKING:  # requests is imported on the first call: the window starts faster
    import requests

RULES = Rules(
    platform="linkedin",
    label="LinkedIn",
    max_chars=3000,
    media={
        # LinkedIn limits an image's pixels, not its bytes (section 1.4); this byte cap
        # is ours, because an image is held in memory for its one PUT, and it leaves
        # room for a JPEG photo near the pixel limit
        "image": MediaRule(frozenset({"image/jpeg", "image/png", "image/gif"}), 36 * MB),
        "video": MediaRule(frozenset({"video/mp4"}), 500 * MB),
        # a document post shows the PDF as a swipeable carousel; the contract gives no
        # cap, so this is the 100 MB of LinkedIn's Documents API page
        "document": MediaRule(frozenset({"application/pdf"}), 100 * MB),
    },
    max_media=20,
    alone=frozenset({"video", "document"}),
    max_image_pixels=36_152_320,
)

#: the ``LinkedIn-Version`` we were built and tested against: the newest one whose
#: documentation the contract and the fake follow (the Images, Videos and little-format
#: pages as of li-lms-2026-05). LinkedIn sunsets a version about twelve months after
#: its release, so a publisher that gets 426 NONEXISTENT_VERSION finds one LinkedIn
#: still accepts (see ``LinkedInPublisher._negotiate``) and remembers it in ``learned``
LINKEDIN_VERSION = "202605"
#: a version to start from instead of the learned or pinned one, for emergencies and
#: tests; a 426 still moves on from it
VERSION_ENV = "MILTON_LINKEDIN_VERSION"
#: how many monthly versions, last month's included, LinkedIn keeps alive
VERSION_LIFETIME_MONTHS = 12

SCOPES = "openid profile w_member_social"
#: what a sign-in asks for when the member wants to post as a page they administer:
#: w_organization_social to post as it, rw_organization_admin to find which pages
#: those are (section 1.2); both come only with the Community Management product
PAGE_SCOPES = f"{SCOPES} w_organization_social rw_organization_admin"
PERSON = "urn:li:person:"
ORGANIZATION = "urn:li:organization:"
#: organizationAcls rows per request; LinkedIn pages its finders with start/count
ACL_PAGE_SIZE = 100
POST_URL = "https://www.linkedin.com/feed/update/{urn}"

#: a comment is longer than this is refused (LinkedIn's comment box takes 1 250)
MAX_COMMENT_CHARS = 1250

#: what a follow-up (a comment on the post) may hold: text only
COMMENT_RULES = Rules(
    platform="linkedin",
    label="LinkedIn",
    max_chars=MAX_COMMENT_CHARS,
    media={},
    max_media=0,
)

#: the little-format characters that LinkedIn parses as markup (section 1.7)
RESERVED = frozenset("\\|{}@[]()<>#*_~")

#: how LinkedIn's refusal of a post reads when an image uploaded moments ago is not
#: processed yet (section 1.5 [observed]); the wording is undocumented, so this is
#: matched loosely against the message of a 4xx to the create, and a failed processing
#: (which waiting cannot fix) never matches
MEDIA_NOT_READY = re.compile(
    r"^(?!.*fail).*\b(?:image|media|asset|video|document)s?\b.*\bnot\s+(?:yet\s+)?(?:been\s+)?"
    r"(?:ready|processed|available)\b",
    re.IGNORECASE | re.DOTALL,
)

#: body texts postiz treats as retryable whatever the status (section 1.8, [observed]),
#: except on a 403: "resource is forbidden" is LinkedIn refusing a permission, which no
#: retry grants (the one exception, a video just uploaded, is in ``_wait_for_video``)
RETRY_TEXTS = ("unable to obtain activity", "service unavailable")

# ---------------------------------------------------------------- commentary

# A mention the user wrote on purpose, in LinkedIn's own syntax.
_MENTION = r"@\[[^\[\]\n]+\]\(urn:li:(?:person|organization):[A-Za-z0-9_-]+\)"
# A URL runs until whitespace or a character that cannot appear unencoded in a URL;
# a backslash ends it too, so nothing we escape can ever sit inside a URL we keep.
_URL = r"https?://[^\s\\<>{}|^\"`]+"
# ``#`` opens a hashtag only at the start of a word and before a letter or digit.
# The underscore is left out of the tag word on purpose: whether LinkedIn's hashtag
# element includes it is not documented, and an escaped ``_`` is always safe.
_HASHTAG = r"(?<!\w)#[^\W_]+"
_TOKEN = re.compile(f"(?P<mention>{_MENTION})|(?P<url>{_URL})|(?P<hashtag>{_HASHTAG})")
_URL_TRAILING = ".,;:!?'"
_CLOSERS = {")": "(", "]": "["}


def _trim_url(url: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets from a URL's end.

    ``(see https://example.com/a)`` links ``https://example.com/a``, while
    ``https://en.wikipedia.org/wiki/Foo_(bar)`` keeps its balanced parenthesis.
    """
    while url:
        last = url[-1]
        unbalanced = last in _CLOSERS and url.count(last) > url.count(_CLOSERS[last])
        if last not in _URL_TRAILING and not unbalanced:
            break
        url = url[:-1]
    return url


def _escape_plain(text: str) -> str:
    # one pass per character, so the backslashes we add are never escaped again
    return "".join("\\" + ch if ch in RESERVED else ch for ch in text)


def escape_commentary(text: str) -> str:
    """The user's text in LinkedIn's "little" format, so it shows exactly as written.

    LinkedIn silently truncates a post at the first reserved character that does not
    form a valid element, while still answering 201 (section 1.7). So every reserved
    character (``\\ | { } @ [ ] ( ) < > # * _ ~``) is escaped with a backslash,
    except where keeping it is the point:

    - mention tokens ``@[Name](urn:li:person:...)`` or ``urn:li:organization:...``
      are passed through untouched, so they stay mentions;
    - ``http(s)://`` URLs are passed through untouched, because LinkedIn links them
      itself and a backslash inside would break the link (trailing punctuation and
      unbalanced closing brackets are not part of the URL and are escaped);
    - ``#word`` at the start of a word stays a clickable hashtag (crossposter's
      choice, not postiz's); a lone ``#``, or one inside a word as in ``C#``, is
      escaped.
    """
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        start, end = m.span()
        token = m.group()
        if m.lastgroup == "url":
            # the trimmed tail holds only punctuation and closers, which cannot start
            # another token, so it is escaped with the plain text that follows
            token = _trim_url(token)
            end = start + len(token)
        out.append(_escape_plain(text[pos:start]))
        out.append(token)
        pos = end
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


# ---------------------------------------------------------------- OAuth helper


def authorize_url(
    client_id: str,
    redirect_uri: str,
    state: str,
    code_challenge: str | None = None,
    base: str | None = None,
    scope: str = SCOPES,
) -> str:
    """The URL to open in the system browser to connect a LinkedIn account.

    Args:
        code_challenge: the S256 PKCE challenge, when the app uses PKCE (RFC 8252).
        base: the OAuth host, for tests; LinkedIn's own when None.
        scope: :data:`PAGE_SCOPES` to connect a page. The member grants all the
            scopes asked for or none (section 1.2), so ask for page scopes only when
            the app has the Community Management product.
    """
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": scope,
    }
    if code_challenge:
        params["code_challenge"] = code_challenge
        params["code_challenge_method"] = "S256"
    root = (base or LinkedInPublisher.default_bases["oauth"]).rstrip("/")
    # quote, not quote_plus: LinkedIn documents the scope separator as %20
    return f"{root}/oauth/v2/authorization?{urlencode(params, quote_via=quote)}"


# ---------------------------------------------------------------- media bytes


@dataclass
class _Blob:
    """A media file's bytes, read by range so a 500 MB video never sits in memory."""

    file: IO[bytes]
    size: int
    label: str

    def read(self, first: int = 0, last: int | None = None) -> bytes:
        last = self.size - 1 if last is None else last
        self.file.seek(first)
        return self.file.read(last - first + 1)


def author_urn(remote_id: str) -> str:
    """The post author for an account's ``remote_id``.

    A page account stores its full ``urn:li:organization:{id}``; member accounts
    stored the bare ``sub`` before pages existed, and still do.
    """
    if remote_id.startswith((PERSON, ORGANIZATION)):
        return remote_id
    return PERSON + remote_id


def granted_scopes(credential: Credential) -> frozenset[str] | None:
    """The scopes LinkedIn said it granted, None when it never said (a pasted token).

    The token endpoint lists them comma-separated (section 1.2); spaces are accepted
    too, as a scope string copied from an authorize URL would have them.
    """
    scope = credential.extra.get("scope")
    if not isinstance(scope, str):
        return None
    return frozenset(s for s in re.split(r"[,\s]+", scope) if s)


def _file_name(item: MediaItem) -> str:
    if item.name:
        return item.name
    if item.path:
        return item.path.name
    return unquote(urlsplit(item.url).path.rsplit("/", 1)[-1]) if item.url else ""


def _media_label(n: int, item: MediaItem) -> str:
    name = _file_name(item)
    return f"{item.kind} {n}" + (f" ({name})" if name else "")


def document_title(item: MediaItem) -> str:
    """The title a document post shows on its carousel: the item's own, else the
    file's name without its extension, since LinkedIn refuses a document untitled."""
    title = item.alt_text.strip()
    if title:
        return title
    stem = os.path.splitext(_file_name(item))[0].strip()
    return stem or "Document"


# ---------------------------------------------------------------- the publisher


class LinkedInPublisher(Publisher):
    """Posts as a LinkedIn member (``urn:li:person:{sub}``) with ``w_member_social``,
    or as a page the member administers (``urn:li:organization:{id}``) with
    ``w_organization_social``."""

    platform: ClassVar[str] = "linkedin"
    rules: ClassVar[Rules] = RULES
    default_bases: ClassVar[Mapping[str, str]] = {
        "api": "https://api.linkedin.com",
        "oauth": "https://www.linkedin.com",
    }

    def __init__(
        self,
        *,
        version: str | None = None,
        video_poll_interval: float = 3.0,
        video_max_wait: float = 900.0,
        media_ready_waits: tuple[float, ...] = (2.0, 3.0, 5.0),
        **kwargs: Any,
    ) -> None:
        """Args beyond :class:`Publisher`'s:

        version: the ``LinkedIn-Version`` (YYYYMM) to start with, over
            ``MILTON_LINKEDIN_VERSION``, over ``state["version"]``, over
            :data:`LINKEDIN_VERSION`.
        video_poll_interval: seconds between video status checks.
        video_max_wait: how long LinkedIn may take to process a video before the
            attempt gives up as transient (nothing was posted; a retry uploads again).
        media_ready_waits: the seconds to wait before each new create, when LinkedIn
            refuses a post because its image is still being processed; once they
            are used up the attempt is transient (nothing was posted).
        """
        super().__init__(**kwargs)
        self._override = (version or os.environ.get(VERSION_ENV) or "").strip() or None
        self._negotiated: str | None = None
        self.video_poll_interval = video_poll_interval
        self.video_max_wait = video_max_wait
        self.media_ready_waits = media_ready_waits

    def status(self) -> dict[str, str]:
        return {"api version": self.version}

    @property
    def version(self) -> str:
        """The ``LinkedIn-Version`` sent now.

        Read on every request, not once: the caller sets ``state`` after making the
        publisher, and a version found to work mid-publish replaces the others.
        """
        learned = (self.state.get("version") or "").strip()
        return self._negotiated or self._override or learned or LINKEDIN_VERSION

    @version.setter
    def version(self, value: str) -> None:
        self._negotiated = value

    # ------------------------------------------------------------ contract

    def identify(self, credential: Credential) -> Identity:
        what = "asking LinkedIn whose token this is"
        try:
            resp = self._call(
                "GET",
                f"{self.base('api')}/v2/userinfo",
                what=what,
                credential=credential,
                # /v2/userinfo is unversioned OpenID Connect: a bearer token is all it
                # takes, so it never meets a sunset version
                headers={"Authorization": f"Bearer {credential.access_token}"},
            )
        except _Forbidden as exc:
            # this is connecting, not posting: what the token lacks is the sign-in
            # permissions, and there is no account yet to mark for a reconnect
            raise Rejected(
                "LinkedIn would not say whose token this is"
                + (f" ({exc.said})" if exc.said else "")
                + ": the token needs the openid and profile permissions; connect the "
                "account again and allow them",
                http_status=403,
            ) from None
        info = json_body(resp)
        sub = info.get("sub")
        if not isinstance(sub, str) or not sub:
            raise Rejected(
                "LinkedIn did not say which member this token belongs to: reconnect the "
                "account and allow the openid and profile permissions",
                http_status=resp.status_code,
            )
        name = info.get("name")
        if not isinstance(name, str) or not name:
            parts = [info.get("given_name"), info.get("family_name")]
            name = " ".join(p for p in parts if isinstance(p, str) and p)
        # ``locale`` comes as "en-US" in the docs and as {"country","language"} in the
        # wild; nothing here depends on it, so either shape is simply accepted.
        return Identity(remote_id=sub, username=sub, display_name=name or sub)

    def pages(self, credential: Credential) -> list[Identity]:
        """The pages the token's member administers, each ready to be an account.

        An ``Identity`` whose ``remote_id`` is the page's author URN, so an account
        made from it posts as the page with no further lookup.
        """
        granted = granted_scopes(credential)
        if granted is not None and "w_organization_social" not in granted:
            # listing would work, but every post as the page would then be refused
            raise Rejected(
                "this LinkedIn token cannot post as a page: it lacks the "
                "w_organization_social permission; connect again and allow it (the "
                "LinkedIn app needs the Community Management product)",
                http_status=403,
            )
        ids: list[str] = []
        start = 0
        while True:
            rows = self._acl_page(credential, start)
            for row in rows:
                org = row.get("organization") if isinstance(row, dict) else None
                if isinstance(org, str) and org.startswith(ORGANIZATION):
                    org_id = org[len(ORGANIZATION) :]
                    if org_id and org_id not in ids:
                        ids.append(org_id)
            if len(rows) < ACL_PAGE_SIZE:
                break
            start += len(rows)
        return [self._page(org_id, credential) for org_id in ids]

    def _acl_page(self, credential: Credential, start: int) -> list[Any]:
        query = urlencode(
            {
                "q": "roleAssignee",
                "role": "ADMINISTRATOR",
                "state": "APPROVED",
                "start": start,
                "count": ACL_PAGE_SIZE,
            }
        )
        try:
            resp = self._rest(
                "GET",
                f"/rest/organizationAcls?{query}",
                what="listing the LinkedIn pages you administer",
                credential=credential,
            )
        except _Forbidden as exc:
            raise Rejected(
                "LinkedIn would not list the pages you administer"
                + (f" ({exc.said})" if exc.said else "")
                + ": the token needs the rw_organization_admin permission (and "
                "w_organization_social to post as a page); connect again and allow them "
                "(the LinkedIn app needs the Community Management product)",
                http_status=403,
            ) from None
        rows = json_body(resp).get("elements")
        return rows if isinstance(rows, list) else []

    def _page(self, org_id: str, credential: Credential) -> Identity:
        urn = ORGANIZATION + org_id
        try:
            resp = self._rest(
                "GET",
                f"/rest/organizations/{quote(org_id, safe='')}",
                what=f"reading the name of LinkedIn page {org_id}",
                credential=credential,
            )
        except _Forbidden as exc:
            raise Rejected(
                f"LinkedIn would not name the page {urn}"
                + (f" ({exc.said})" if exc.said else "")
                + ": the token needs the rw_organization_admin permission; connect "
                "again and allow it",
                http_status=403,
            ) from None
        info = json_body(resp)
        vanity = info.get("vanityName")
        name = info.get("localizedName")
        username = vanity if isinstance(vanity, str) else ""
        display = name if isinstance(name, str) and name else username or urn
        return Identity(remote_id=urn, username=username, display_name=display)

    def publish(
        self,
        content: Content,
        credential: Credential,
        account: AccountRef,
        progress: ProgressCallback | None = None,
    ) -> Published:
        problems = self.validate(content)
        if problems:
            raise Rejected("; ".join(p.message for p in problems))
        author = author_urn(account.remote_id)
        try:
            return self._publish(content, credential, author, progress)
        except _Forbidden as exc:
            if not author.startswith(ORGANIZATION):
                raise
            # a page post is refused for a missing scope and for a member who is not
            # (or no longer) an admin alike (section 1.8): both remedies are named
            raise _Forbidden(
                exc.what,
                exc.said,
                remedy=f"posting as the page {author} needs the w_organization_social "
                "permission and an administrator role on that page; reconnect the "
                "account and allow w_organization_social, or ask a page admin for the role",
            ) from None

    def _publish(
        self,
        content: Content,
        credential: Credential,
        author: str,
        progress: ProgressCallback | None,
    ) -> Published:
        with contextlib.ExitStack() as stack:
            # read or download every file first: a broken link fails before LinkedIn
            # has seen anything, and the total size drives the progress callback
            blobs = [self._open_media(n, item, stack) for n, item in enumerate(content.media, 1)]
            meter = _Progress(sum(b.size for b in blobs), progress)
            refs: list[dict[str, str]] = []
            for item, blob in zip(content.media, blobs, strict=True):
                if item.kind == "video":
                    urn = self._upload_video(blob, author, credential, meter)
                elif item.kind == "document":
                    urn = self._upload_whole(blob, author, credential, meter, "document")
                else:
                    urn = self._upload_whole(blob, author, credential, meter, "image")
                ref = {"id": urn}
                if item.kind == "document":
                    # alt text is for pictures; a document's is its title
                    ref["title"] = document_title(item)
                elif item.alt_text:
                    ref["altText"] = item.alt_text
                refs.append(ref)
        body: dict[str, Any] = {
            "author": author,
            "commentary": escape_commentary(content.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if len(refs) == 1:
            body["content"] = {"media": refs[0]}
        elif refs:
            body["content"] = {"multiImage": {"images": refs}}
        resp = self._create(body, credential)
        urn = resp.headers.get("x-restli-id", "").strip()
        if not urn:
            raise OutcomeUnknown(
                f"LinkedIn answered {resp.status_code} without the new post's id: it was "
                "probably published, but cannot be linked; check the account before "
                "publishing again",
                http_status=resp.status_code,
            )
        self.log.info("published %s as %s", urn, author)
        return Published(remote_id=urn, url=POST_URL.format(urn=urn))

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
        """A comment on the post (``root``), by the post's own author: the "first
        comment". Not idempotent: a lost answer is an unknown outcome."""
        if content.media:
            raise Rejected("a LinkedIn comment from Milton carries text only: remove its media")
        post_urn = root.remote_id
        author = author_urn(account.remote_id)
        body = {"actor": author, "object": post_urn, "message": {"text": content.text}}
        resp = self._rest(
            "POST",
            f"/rest/socialActions/{quote(post_urn, safe='')}/comments",
            what="commenting on the LinkedIn post",
            credential=credential,
            json=body,
            create=True,
        )
        answer = json_body(resp)
        urn = str(answer.get("$URN") or "")
        comment_id = str(answer.get("id") or resp.headers.get("x-restli-id", "")).strip()
        if not urn and comment_id:
            urn = (
                comment_id
                if comment_id.startswith("urn:")
                else f"urn:li:comment:({post_urn},{comment_id})"
            )
        if not urn:
            raise OutcomeUnknown(
                f"LinkedIn answered {resp.status_code} to the comment without its id: it was "
                "probably posted; check the post before publishing again",
                http_status=resp.status_code,
            )
        url = f"{POST_URL.format(urn=post_urn)}?commentUrn={quote(urn, safe='')}"
        self.log.info("commented %s on %s as %s", urn, post_urn, author)
        return Published(remote_id=urn, url=url)

    def _create(self, body: dict[str, Any], credential: Credential) -> requests.Response:
        """``POST /rest/posts``, sent again after a short wait while LinkedIn is still
        processing an image: it refused the post, so none exists to duplicate."""
        waits = iter(self.media_ready_waits)
        while True:
            try:
                return self._rest(
                    "POST",
                    "/rest/posts",
                    what="creating the LinkedIn post",
                    credential=credential,
                    json=body,
                    create=True,
                )
            except _MediaNotReady:
                delay = next(waits, None)
                if delay is None:
                    raise
                self.log.info("LinkedIn is still processing the media; posting in %g s", delay)
                self.sleep(delay)

    def metrics(self, refs: list[str], credential: Credential, account: AccountRef) -> MetricsBatch:
        granted = granted_scopes(credential)
        page = account.remote_id.startswith(ORGANIZATION)
        analytics = not page and (granted is None or ANALYTICS_SCOPE in granted)
        social = granted is None or bool(granted & SOCIAL_READ_SCOPES)
        found: dict[str, dict[str, int]] = {}
        gone: set[str] = set()
        notes: list[str] = []
        for urn in refs:
            if analytics:
                try:
                    found[urn] = self._post_analytics(urn, credential)
                    continue
                except _NotFound:
                    gone.add(urn)
                    continue
                except _Forbidden:
                    analytics = False
            if social:
                try:
                    found[urn] = self._social_counts(urn, credential)
                    continue
                except _NotFound:
                    gone.add(urn)
                    continue
                except _Forbidden:
                    social = False
        if not page and not analytics:
            notes.append(
                f"reconnect the LinkedIn account with {ANALYTICS_SCOPE} to see impressions and "
                "reach" + ("" if social else ", and likes and comments")
            )
        elif page and not social:
            notes.append(
                "reconnect the LinkedIn page with r_organization_social to see likes and comments"
            )
        return MetricsBatch(counters=found, gone=frozenset(gone), notes=tuple(notes))

    def _post_analytics(self, urn: str, credential: Credential) -> dict[str, int]:
        kind = "ugc" if urn.startswith("urn:li:ugcPost:") else "share"
        counts: dict[str, int] = {}
        for query_type, ours in _ANALYTICS.items():
            # a Rest.li 2.0 union: parentheses as they are, the URN encoded inside
            path = (
                "/rest/memberCreatorPostAnalytics?q=entity"
                f"&entity=({kind}:{quote(urn, safe='')})"
                f"&queryType={query_type}&aggregation=TOTAL"
            )
            resp = self._read(path, credential, what="reading a LinkedIn post's analytics")
            total = 0
            for element in json_body(resp).get("elements") or []:
                if isinstance(element, dict) and isinstance(element.get("count"), int):
                    total += element["count"]
            counts[ours] = total
        return counts

    def _social_counts(self, urn: str, credential: Credential) -> dict[str, int]:
        resp = self._read(
            f"/rest/socialActions/{quote(urn, safe='')}",
            credential,
            what="reading a LinkedIn post's likes and comments",
        )
        body = json_body(resp)
        likes = (body.get("likesSummary") or {}).get("totalLikes")
        comments = (body.get("commentsSummary") or {}).get("aggregatedTotalComments")
        out = {}
        if isinstance(likes, int):
            out["likes"] = likes
        if isinstance(comments, int):
            out["comments"] = comments
        return out

    def _read(self, path: str, credential: Credential, *, what: str) -> requests.Response:
        """A versioned GET; a 404 is a post that is gone (a 403 is ``_Forbidden``)."""
        try:
            return self._rest("GET", path, what=what, credential=credential)
        except Rejected as exc:
            if exc.http_status == 404:
                raise _NotFound(str(exc), http_status=404) from None
            raise

    def refresh(self, credential: Credential) -> Credential:
        if not credential.refresh_token:
            raise AuthExpired(
                "LinkedIn tokens last 60 days; reconnect the account", refreshable=False
            )
        if not credential.client_id or not credential.client_secret:
            raise AuthExpired(
                "the LinkedIn app's client id or secret is missing, so the token cannot be "
                "refreshed: reconnect the account",
                refreshable=False,
            )
        form = {
            "grant_type": "refresh_token",
            "refresh_token": credential.refresh_token,
            "client_id": credential.client_id,
            "client_secret": credential.client_secret,
        }
        data = self._token_request(
            form, credential_secrets(credential), what="refreshing the LinkedIn token"
        )
        return self._credential_from(
            data,
            credential,
            client_id=credential.client_id,
            client_secret=credential.client_secret,
        )

    def exchange_code(
        self,
        code: str,
        redirect_uri: str,
        client_id: str,
        client_secret: str,
        code_verifier: str | None = None,
    ) -> Credential:
        """Trade the authorization code from the browser redirect for a credential."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": client_secret,
        }
        if code_verifier:
            form["code_verifier"] = code_verifier
        data = self._token_request(
            form,
            (code, client_secret, code_verifier),
            what="exchanging the LinkedIn authorization code",
            connecting=True,
        )
        return self._credential_from(data, None, client_id=client_id, client_secret=client_secret)

    # ------------------------------------------------------------ OAuth plumbing

    def _token_request(
        self,
        form: dict[str, str],
        secrets: Iterable[str | None],
        *,
        what: str,
        connecting: bool = False,
    ) -> dict[str, Any]:
        url = f"{self.base('oauth')}/oauth/v2/accessToken"
        resp = send(self.session, "POST", url, what=what, timeout=self.timeout, data=form)
        self.log.info("POST %s (%s) -> %s", safe_url(url), form["grant_type"], resp.status_code)
        data = json_body(resp)
        if resp.ok and isinstance(data.get("access_token"), str) and data["access_token"]:
            return data
        if resp.status_code == 429:
            now = self.now()
            raise RateLimited(
                f"LinkedIn is rate limiting while {what}; will retry after midnight UTC",
                retry_after(resp, now, next_utc_midnight(now) - now),
            )
        if resp.status_code >= 500:
            raise server_error(resp, what=what, create=False)
        detail = data.get("error_description") or data.get("error") or f"HTTP {resp.status_code}"
        # the secrets just sent, should the server echo any of them back
        detail = scrub(str(detail), secrets)[:300]
        if connecting:
            raise AuthExpired(
                f"LinkedIn refused the sign-in ({detail}): connect the account again",
                http_status=resp.status_code,
                refreshable=False,
            )
        raise AuthExpired(
            f"LinkedIn refused to refresh the token ({detail}): reconnect the account",
            http_status=resp.status_code,
            refreshable=False,
        )

    def _credential_from(
        self,
        data: dict[str, Any],
        old: Credential | None,
        *,
        client_id: str | None,
        client_secret: str | None,
    ) -> Credential:
        now = self.now()
        extra = dict(old.extra) if old else {}
        if isinstance(data.get("scope"), str):
            extra["scope"] = data["scope"]
        rt_life = data.get("refresh_token_expires_in")
        if isinstance(rt_life, int | float):
            # the refresh token's life is fixed from the first consent; LinkedIn reports
            # what is left of it, so this moves earlier, never later
            extra["refresh_token_expires_at"] = (now + timedelta(seconds=rt_life)).isoformat()
        expires_in = data.get("expires_in")
        expires_at = (
            now + timedelta(seconds=expires_in) if isinstance(expires_in, int | float) else None
        )
        new_refresh = data.get("refresh_token")
        if not (isinstance(new_refresh, str) and new_refresh):
            new_refresh = old.refresh_token if old else None  # not rotated: keep the old one
        return Credential(
            access_token=data["access_token"],
            refresh_token=new_refresh,
            expires_at=expires_at,
            client_id=client_id,
            client_secret=client_secret,
            extra=extra,
        )

    # ------------------------------------------------------------ media

    def _open_media(self, n: int, item: MediaItem, stack: contextlib.ExitStack) -> _Blob:
        label = _media_label(n, item)
        rule = self.rules.media.get(item.kind)
        cap = rule.max_bytes if rule else 0
        # a media item may carry both; the local copy wins, the URL is the fallback
        if item.path is not None and (item.url is None or item.path.exists()):
            try:
                fh = stack.enter_context(open(item.path, "rb"))  # noqa: SIM115
                size = os.fstat(fh.fileno()).st_size
            except OSError as exc:
                raise Rejected(
                    f"cannot read {label}: {exc.strerror or exc}; add the file again"
                ) from None
            if size == 0:
                raise Rejected(f"{label} is an empty file; add the file again")
            if cap and size > cap:
                raise Rejected(
                    f"{label} is {size} bytes, over LinkedIn's {cap}; use a smaller file"
                )
            return _Blob(fh, size, label)
        if item.url:
            got = download(
                self.session,
                item.url,
                what=f"downloading {label}",
                label=label,
                cap=cap,
                timeout=self.timeout,
                stack=stack,
                platform=self.rules.label,
                log=self.log,
            )
            return _Blob(got.file, got.size, label)
        raise Rejected(f"{label} has neither a file nor a URL; add it again")

    def _upload_whole(
        self, blob: _Blob, author: str, credential: Credential, meter: _Progress, noun: str
    ) -> str:
        """Upload an image or a document (``noun``): the Images and Documents APIs
        share one flow, differing only in their path and the URN's key."""
        resp = self._rest(
            "POST",
            f"/rest/{noun}s?action=initializeUpload",
            what=f"starting the upload of {blob.label}",
            credential=credential,
            json={"initializeUploadRequest": {"owner": author}},
        )
        value = json_body(resp).get("value") or {}
        upload_url, urn = value.get("uploadUrl"), value.get(noun)
        if not isinstance(upload_url, str) or not isinstance(urn, str):
            raise Transient(f"LinkedIn gave no upload address for {blob.label}; will retry")
        # one PUT of the whole file: chunked PUTs to one image URL corrupt it (postiz)
        self._put(upload_url, blob.read(), what=f"uploading {blob.label}", credential=credential)
        meter.add(blob.size)
        return urn

    def _upload_video(
        self, blob: _Blob, author: str, credential: Credential, meter: _Progress
    ) -> str:
        resp = self._rest(
            "POST",
            "/rest/videos?action=initializeUpload",
            what=f"starting the upload of {blob.label}",
            credential=credential,
            json={
                "initializeUploadRequest": {
                    "owner": author,
                    "fileSizeBytes": blob.size,
                    "uploadCaptions": False,
                    "uploadThumbnail": False,
                }
            },
        )
        value = json_body(resp).get("value") or {}
        urn = value.get("video")
        instructions = value.get("uploadInstructions")
        if not isinstance(urn, str) or not isinstance(instructions, list) or not instructions:
            raise Transient(f"LinkedIn gave no upload instructions for {blob.label}; will retry")
        etags: list[str] = []
        for i, part in enumerate(instructions, 1):
            try:
                url, first, last = part["uploadUrl"], int(part["firstByte"]), int(part["lastByte"])
            except (KeyError, TypeError, ValueError):
                raise Transient(
                    f"LinkedIn's upload instructions for {blob.label} were unreadable; will retry"
                ) from None
            what = f"uploading part {i} of {len(instructions)} of {blob.label}"
            resp = self._put(url, blob.read(first, last), what=what, credential=credential)
            etag = resp.headers.get("ETag")
            if not etag:
                raise Transient(f"LinkedIn did not confirm {what}; will retry")
            etags.append(etag)
            meter.add(last - first + 1)
        self._rest(
            "POST",
            "/rest/videos?action=finalizeUpload",
            what=f"finishing the upload of {blob.label}",
            credential=credential,
            json={
                "finalizeUploadRequest": {
                    "video": urn,
                    "uploadToken": value.get("uploadToken") or "",
                    "uploadedPartIds": etags,
                }
            },
        )
        self._wait_for_video(urn, blob.label, credential)
        return urn

    def _wait_for_video(self, urn: str, label: str, credential: Credential) -> None:
        """Poll until LinkedIn has processed the video: a post with unready media fails."""
        waited = 0.0
        forbidden_retry = True
        while True:
            try:
                resp = self._rest(
                    "GET",
                    f"/rest/videos/{quote(urn, safe='')}",
                    what=f"checking LinkedIn's processing of {label}",
                    credential=credential,
                )
            except _Forbidden:
                # a video finalized a moment ago may not be visible to its owner yet
                # (postiz retries "resource is forbidden"); a second 403 is the token's
                if not forbidden_retry:
                    raise
                forbidden_retry = False
                self.sleep(self.video_poll_interval)
                waited += self.video_poll_interval
                continue
            status = json_body(resp).get("status")
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                raise Rejected(
                    f"LinkedIn could not process {label}: try another file or format (MP4)",
                    http_status=resp.status_code,
                )
            if waited >= self.video_max_wait:
                raise Transient(
                    f"LinkedIn was still processing {label} after {waited:.0f} s; will retry"
                )
            self.sleep(self.video_poll_interval)
            waited += self.video_poll_interval

    def _put(
        self, url: str, data: bytes, *, what: str, credential: Credential
    ) -> requests.Response:
        headers = {"Content-Type": "application/octet-stream"}
        if self._trusted(url):
            # the docs send the bearer token with the PUT; only ever to LinkedIn itself
            headers["Authorization"] = f"Bearer {credential.access_token}"
        return self._call("PUT", url, what=what, credential=credential, headers=headers, data=data)

    def _trusted(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        if host == "linkedin.com" or host.endswith(".linkedin.com"):
            return True
        return bool(self.api_base) and urlsplit(url).netloc == urlsplit(self.api_base).netloc

    # ------------------------------------------------------------ requests

    def _rest(
        self,
        method: str,
        path: str,
        *,
        what: str,
        credential: Credential,
        create: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        """One versioned request; a sunset version is negotiated on this very request."""
        url = f"{self.base('api')}{path}"

        def attempt(version: str) -> requests.Response:
            headers = {
                "Authorization": f"Bearer {credential.access_token}",
                "LinkedIn-Version": version,
                "X-Restli-Protocol-Version": "2.0.0",
                "Content-Type": "application/json",
            }
            return self._send(method, url, what=what, create=create, headers=headers, **kwargs)

        resp = attempt(self.version)
        if _is_sunset(resp):
            resp = self._negotiate(attempt, what=what)
        return self._checked(resp, what=what, create=create, credential=credential)

    def _negotiate(
        self, attempt: Callable[[str], requests.Response], *, what: str
    ) -> requests.Response:
        """Resend one refused request with other versions until LinkedIn takes one.

        Only this request is repeated, never the steps before it: a 426 is answered
        before LinkedIn does anything, so even a create is safe to send again, and a
        post can only ever go out once.
        """
        refused = self.version
        candidates = version_candidates(refused, self.now())
        self.log.warning(
            "LinkedIn-Version %s is no longer active; trying %s", refused, ", ".join(candidates)
        )
        for version in candidates:
            resp = attempt(version)
            if not _is_sunset(resp):
                # any other answer, even an error, means LinkedIn knows this version
                self.version = version
                self.learned["version"] = version
                self.log.info("LinkedIn accepts version %s; using it from now on", version)
                return resp
        raise Rejected(
            f"LinkedIn no longer accepts API version {refused}, nor any of "
            f"{min(candidates)} to {max(candidates)} tried while {what}: update Milton "
            f"Desktop, or set {VERSION_ENV} to a version LinkedIn lists as active (YYYYMM)",
            http_status=426,
        )

    def _call(
        self,
        method: str,
        url: str,
        *,
        what: str,
        credential: Credential,
        create: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        """One request through :func:`send`; a non-2xx answer raises its typed error."""
        resp = self._send(method, url, what=what, create=create, **kwargs)
        return self._checked(resp, what=what, create=create, credential=credential)

    def _send(
        self, method: str, url: str, *, what: str, create: bool, **kwargs: Any
    ) -> requests.Response:
        resp = send(
            self.session, method, url, what=what, create=create, timeout=self.timeout, **kwargs
        )
        self.log.info("%s %s -> %s", method, safe_url(url), resp.status_code)
        return resp

    def _checked(
        self, resp: requests.Response, *, what: str, create: bool, credential: Credential
    ) -> requests.Response:
        if 200 <= resp.status_code < 300:
            return resp
        raise self._error(resp, what=what, create=create, credential=credential)

    def _error(
        self, resp: requests.Response, *, what: str, create: bool, credential: Credential
    ) -> PublishError:
        """LinkedIn's answer as a typed error (sections 0.1 and 1.8)."""
        status = resp.status_code
        body = json_body(resp)
        said = scrub(str(body.get("message") or ""), credential_secrets(credential))[:300]
        code = body.get("code")
        if status == 401:
            if body.get("serviceErrorCode") == 65601 or code == "REVOKED_ACCESS_TOKEN":
                return AuthExpired(
                    "LinkedIn says access was revoked for this app: reconnect the account",
                    http_status=status,
                    refreshable=False,
                )
            refreshable = bool(credential.refresh_token)
            return AuthExpired(
                "LinkedIn did not accept the access token (expired or invalid)"
                + ("" if refreshable else ": reconnect the account"),
                http_status=status,
                refreshable=refreshable,
            )
        if status == 429:
            # no reset header is documented: LinkedIn's daily windows end at 00:00 UTC
            now = self.now()
            return RateLimited(
                f"LinkedIn's daily limit was reached while {what}; will retry after midnight UTC",
                retry_after(resp, now, next_utc_midnight(now) - now),
                http_status=status,
            )
        if status == 403:
            return _Forbidden(what, said)
        if not create:
            text = f"{said} {resp.text[:500] if not body else ''}".lower()
            if any(t in text for t in RETRY_TEXTS):
                return Transient(
                    f"LinkedIn answered {status} ({said or 'temporarily unavailable'}) while "
                    f"{what}; will retry",
                    http_status=status,
                )
        if status >= 500:
            return server_error(resp, what=what, create=create)
        if create and 400 <= status < 500 and MEDIA_NOT_READY.search(said):
            return _MediaNotReady(
                f"LinkedIn was still processing the media ({said}) while {what}; nothing "
                "was posted, will retry",
                http_status=status,
            )
        if status == 422 and _is_duplicate(body):
            return Rejected(
                "LinkedIn refused this as a duplicate of a recent post: change the text "
                "or delete the earlier post",
                http_status=status,
            )
        if status == 426:
            # without NONEXISTENT_VERSION this is no sunset _rest can negotiate away
            return Rejected(
                f"LinkedIn refused API version {self.version} (426 Upgrade Required) while "
                f"{what}: update Milton Desktop (or set {VERSION_ENV} to a recent YYYYMM "
                "version)",
                http_status=status,
            )
        if 400 <= status < 500:
            return Rejected(
                f"LinkedIn refused the request while {what}: {said or f'HTTP {status}'}",
                http_status=status,
            )
        # a 1xx or 3xx here is not something LinkedIn documents; after a create it
        # may still have landed, elsewhere nothing was published
        if create:
            return OutcomeUnknown(
                f"unexpected answer {status} while {what}; the post may or may not have "
                "been published: check the account before publishing again",
                http_status=status,
            )
        return Transient(f"unexpected answer {status} while {what}; will retry", http_status=status)


class _Forbidden(AuthExpired):
    """A 403 from LinkedIn: the token lacks a permission (ACCESS_DENIED).

    An AuthExpired that no refresh can help, so the engine fails the post and marks
    the account for a reconnect: a refreshed token keeps the scopes it had, and only
    a new consent grants ``w_member_social``.
    """

    def __init__(
        self,
        what: str,
        said: str,
        *,
        remedy: str = "reconnect the account and grant the posting permission (w_member_social)",
    ) -> None:
        super().__init__(
            f"LinkedIn refused permission while {what}"
            + (f" ({said})" if said else "")
            + f": {remedy}",
            http_status=403,
            refreshable=False,
        )
        self.what = what
        self.said = said


class _NotFound(Rejected):
    """The post is not there any more (a metrics read)."""


class _MediaNotReady(Transient):
    """LinkedIn refused a post because its media is not processed yet: nothing was
    created, so the create may be sent again once the media is ready."""


class _Progress:
    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0
        self.callback = callback

    def add(self, n: int) -> None:
        self.done += n
        if self.callback is not None:
            self.callback(self.done, self.total)


def _month(version: str) -> int | None:
    """A ``YYYYMM`` (or ``YYYYMM.NN``) version as a count of months, None if unreadable."""
    m = re.fullmatch(r"(\d{4})(\d{2})(?:\.\d{2})?", version.strip())
    if m is None or not 1 <= int(m.group(2)) <= 12:
        return None
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def _version(month: int) -> str:
    return f"{month // 12:04d}{month % 12 + 1:02d}"


def version_candidates(refused: str, now: datetime) -> list[str]:
    """The versions to try, in order, after LinkedIn refused ``refused`` as sunset.

    Newer ones first, the nearest first, since they differ least from what this
    client was built for; never the current month or later, which may not be released
    yet. Then older ones, the nearest first, in case ``refused`` was newer than any
    LinkedIn runs (a typo in the environment variable, say). Nothing older than
    :data:`VERSION_LIFETIME_MONTHS` before last month: LinkedIn has retired those.
    """
    today = now.astimezone(UTC)
    newest = today.year * 12 + today.month - 2  # last month
    oldest = newest - VERSION_LIFETIME_MONTHS + 1
    month = _month(refused)
    if month is None:  # unreadable: nothing is "newer", so try from last month down
        month = newest + 1
    newer = range(max(month + 1, oldest), newest + 1)
    older = range(min(month - 1, newest), oldest - 1, -1)
    return [_version(m) for m in (*newer, *older)]


def _is_sunset(resp: requests.Response) -> bool:
    # only LinkedIn's own signal: a bare 426 could mean anything and is refused as is
    return resp.status_code == 426 and json_body(resp).get("code") == "NONEXISTENT_VERSION"


def _is_duplicate(body: dict[str, Any]) -> bool:
    details = body.get("errorDetails")
    inputs = details.get("inputErrors") if isinstance(details, dict) else None
    if isinstance(inputs, list) and any(
        isinstance(e, dict) and e.get("code") == "DUPLICATE_POST" for e in inputs
    ):
        return True
    return (
        body.get("code") == "DUPLICATE_POST" or "duplicate" in str(body.get("message", "")).lower()
    )


#: the permission of member post analytics
ANALYTICS_SCOPE = "r_member_postAnalytics"
#: either lets a token read a post's social actions (likes and comments counts)
SOCIAL_READ_SCOPES = frozenset({"r_member_social", "r_organization_social"})
#: memberCreatorPostAnalytics query types -> the shared names
_ANALYTICS = {
    "IMPRESSION": "impressions",
    "MEMBERS_REACHED": "reach",
    "REACTION": "likes",
    "COMMENT": "comments",
    "RESHARE": "reposts",
}
METRICS = MetricsSpec(
    batch=1,
    counters=tuple(_ANALYTICS.values()),
    interactions=("likes", "comments", "reposts"),
    impressions="impressions",
    scoped={ANALYTICS_SCOPE: ("impressions", "reach", "reposts")},
)


PLATFORM = Platform(
    name="linkedin",
    label=RULES.label,
    short="in",
    colour="#0a66c2",
    order=10,
    rules=RULES,
    publisher=LinkedInPublisher,
    token_help=(
        "LinkedIn's developer portal has a token generator for your app: create a token "
        "with the openid, profile and w_member_social permissions and paste it here. "
        "It lasts 60 days; reconnect the account before then."
    ),
    post_url=lambda remote_id, _username: POST_URL.format(urn=remote_id),
    oauth=OAuthSpec(
        needs_client_secret=True,
        # LinkedIn ignores PKCE unless the app is enabled for it, as RFC 6749 section
        # 3.1 requires of unknown parameters, so sending it costs nothing
        uses_pkce=True,
        developer_portal="https://www.linkedin.com/developers/apps",
        authorize_url=authorize_url,
        page_scope=PAGE_SCOPES,
    ),
    has_pages=True,
    page_prefix=ORGANIZATION,
    preview=Preview(
        fold_chars=210,
        fold_lines=3,
        more_label="…see more",
        link_card=True,
        image_ratio=(1 / 1.91, 1.91),
        image_note="A single image is shown whole, from tall 1:1.91 to wide 1.91:1.",
        note="With no image, LinkedIn shows the first link as a card with the page's "
        "picture and title.",
    ),
    # first comments: each follow-up is a comment on the post, by its author, in order
    follow_ups=FollowUps(style="comment", rules=COMMENT_RULES, media=False),
    metrics=METRICS,
)
