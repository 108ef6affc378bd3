"""The Platform descriptor: everything the rest of the app knows about a platform.

Each platform module in ``publishers/`` declares one ``PLATFORM = Platform(...)``;
the registry finds them, and validation, the command line, the accounts dialog, the
calendar's badges, the bundle and the tests all read the descriptors instead of
keeping lists of their own. Adding a platform is one module plus its tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from milton_desktop.domain.content import Content, Problem
from milton_desktop.domain.validation import Rules, validate

if TYPE_CHECKING:
    from milton_desktop.publishers.base import Publisher


@dataclass(frozen=True)
class OAuthSpec:
    """How a platform's browser sign-in works (RFC 8252 loopback redirect)."""

    #: the token endpoint needs the developer app's secret (a confidential client)
    needs_client_secret: bool
    #: authorize and token endpoints take a PKCE challenge
    uses_pkce: bool
    #: the consent page: ``(client_id, redirect_uri, state, *, code_challenge=, base=)``
    authorize_url: Callable[..., str]
    #: where the user creates the developer app whose client id they paste ("" when
    #: the app registers itself)
    developer_portal: str = ""
    #: the ``scope`` to ask for when the member wants to post as their pages
    #: (``Platform.has_pages``); None: the platform has no such choice
    page_scope: str | None = None
    #: Milton registers its own app on the user's server before each first sign-in
    #: there (the publisher's ``register_app``), so the user pastes no client id:
    #: platforms of many servers and no developer portal (Mastodon)
    registers_itself: bool = False


@dataclass(frozen=True)
class TokenUpkeep:
    """When a platform's tokens are renewed without the user (its publisher's ``refresh``).

    Two styles: long-lived tokens renewed ahead of their expiry by the scheduler's
    daily pass (Instagram's 60-day tokens), and short-lived ones renewed just before
    they are used (X's 2-hour tokens), so a publish never spends its attempt on a 401.
    """

    #: renew when fewer than this remain before the token expires
    renew_before: timedelta
    #: a token younger than this cannot be renewed yet (Instagram: a day)
    min_age: timedelta = timedelta(0)
    #: with no known expiry, renew when the token is this old
    unknown_expiry_every: timedelta | None = None
    #: renew just before use instead of ahead of time
    before_use: bool = False

    def due(
        self,
        now: datetime,
        *,
        expires_at: datetime | None,
        renewed_at: datetime,
    ) -> bool:
        """Whether a token renewed (or issued) at ``renewed_at`` should be renewed now."""
        if now - renewed_at < self.min_age:
            return False
        if expires_at is not None:
            return now < expires_at and expires_at - now < self.renew_before
        every = self.unknown_expiry_every
        return every is not None and now - renewed_at >= every


@dataclass(frozen=True)
class Preview:
    """How a platform's feed shows a post, for the editor's preview (approximately:
    feeds differ a little between the app, the web and the screen size)."""

    #: characters of text the feed shows before the rest hides behind ``more_label``;
    #: None: the whole text is shown
    fold_chars: int | None = None
    #: lines shown before the fold, whichever of the two comes first
    fold_lines: int | None = None
    more_label: str = "…see more"
    #: links are shown shortened to this many characters (X's t.co links); None: as written
    link_chars: int | None = None
    #: links in the text can be clicked (Instagram captions show them as plain text)
    links_clickable: bool = True
    #: with no media, the first link gets a card (the page's image, 1.91:1, and title)
    link_card: bool = False
    #: width/height ratios an image is shown at; outside them it is cropped to the
    #: nearest one (X's timeline crops a single image to 16:9)
    image_ratio: tuple[float, float] = (0.5, 2.0)
    #: the crops in words, for the note under the preview
    image_note: str = ""
    #: what else the user should know about how this platform shows a post
    note: str = ""


@dataclass(frozen=True)
class FollowUps:
    """How a platform takes the parts after a post's main text."""

    #: "reply": each part answers the one before (a thread); "comment": each is a
    #: comment on the post, in order (LinkedIn's and Instagram's "first comment")
    style: str
    #: what a follow-up may hold; None: the same as the main post
    rules: Rules | None = None
    #: follow-ups may carry images or videos
    media: bool = True

    @property
    def noun(self) -> str:
        return "reply" if self.style == "reply" else "comment"


@dataclass(frozen=True)
class MetricsSpec:
    """What a platform tells of its posts' engagement (the publisher's ``metrics``)."""

    #: the most post ids one request may carry (1: one request per post)
    batch: int
    #: the counters it can give, in the shared names of ``domain/metrics.py``
    counters: tuple[str, ...]
    #: the counters that are interactions (summed into a post's engagement)
    interactions: tuple[str, ...]
    #: the counter that says how many times the post was shown, where there is one
    impressions: str | None = None
    #: counters that need a permission the token may lack, by the permission's name
    scoped: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Platform:
    """One platform, described once."""

    name: str  # stored in the database: never changes
    label: str
    #: a glyph or two for calendar chips
    short: str
    #: brand colour (hex), for badges and dots
    colour: str
    #: place in menus and lists
    order: int
    rules: Rules
    publisher: type[Publisher]
    #: how a pasted token is obtained and how long it lasts, shown where one is pasted
    token_help: str
    #: the public URL of a post from its id and the author's user name
    post_url: Callable[[str, str], str]
    oauth: OAuthSpec | None = None
    #: how its tokens are kept alive; None: they are not renewed (reconnect instead)
    token_upkeep: TokenUpkeep | None = None
    #: what accounts on a paid plan may post instead of ``rules``, by tier name (the
    #: ``Identity.tier`` the publisher reports on connect)
    tiers: Mapping[str, Rules] = field(default_factory=dict)
    #: a member can also post as pages they administer (the publisher's ``pages``)
    has_pages: bool = False
    #: how a page account's ``remote_id`` begins, to tell it from a member's
    page_prefix: str = ""
    #: how its feed shows a post (the editor's preview)
    preview: Preview = field(default_factory=Preview)
    #: there is no one server (Mastodon's instances): every account must be connected
    #: with its server's address as ``api_base``
    needs_instance: bool = False
    #: what the platform calls the login name a pasted secret goes with (Bluesky: an
    #: app password with the "handle"); None: the pasted token is enough on its own
    login_name: str | None = None
    #: how follow-ups (a thread, first comments) go out; None: the platform takes none
    follow_ups: FollowUps | None = None
    #: why there is no browser sign-in, said where one would be offered (the platform
    #: refuses the loopback redirect a desktop app needs); "" when nothing needs saying
    no_browser_note: str = ""
    #: re-read the account's tier (the publisher's ``current_tier``) this often, for
    #: limits the platform may change while the account stays connected (a Mastodon
    #: instance's); None: the tier read at connect time stands until a reconnect
    tier_recheck_every: timedelta | None = None
    #: how its posts' engagement is read; None: the platform gives none to Milton
    metrics: MetricsSpec | None = None

    def is_page(self, remote_id: str) -> bool:
        """Whether an account with ``remote_id`` posts as a page, not as its member."""
        return bool(self.has_pages and self.page_prefix and remote_id.startswith(self.page_prefix))

    def rules_for(self, tier: str | None) -> Rules:
        """The rules for an account of ``tier``; an unknown tier or none gets ``rules``,
        so a tier stored by another version never allows more than the standard."""
        return self.tiers.get(tier, self.rules) if tier else self.rules

    def validate(self, content: Content, tier: str | None = None) -> list[Problem]:
        """Problems that would make this platform refuse ``content`` (no network)."""
        return validate(self.rules_for(tier), content)

    def follow_up_rules(self, tier: str | None = None) -> Rules:
        """What one follow-up may hold on an account of ``tier``."""
        spec = self.follow_ups
        if spec is not None and spec.rules is not None:
            return spec.rules
        return self.rules_for(tier)

    def validate_parts(self, parts: Sequence[Content], tier: str | None = None) -> list[Problem]:
        """Problems with a post and its follow-ups (``parts[0]`` is the main post); a
        follow-up's problems name its part."""
        problems = self.validate(parts[0], tier) if parts else []
        follow_ups = parts[1:]
        if not follow_ups:
            return problems
        spec = self.follow_ups
        if spec is None:
            return [
                *problems,
                Problem(
                    self.name,
                    "follow_ups",
                    f"{self.label} takes no follow-ups: remove them, or post them yourself",
                ),
            ]
        rules = self.follow_up_rules(tier)
        for index, part in enumerate(follow_ups, 1):
            if part.media and not spec.media:
                problems.append(
                    Problem(
                        self.name,
                        "follow_ups",
                        f"part {index + 1}: a {self.label} {spec.noun} cannot carry media; "
                        "remove it",
                    )
                )
            for problem in validate(rules, part):
                problems.append(
                    Problem(
                        problem.platform,
                        "follow_ups",
                        f"part {index + 1}: {problem.message}",
                        problem.hint,
                    )
                )
        return problems

    def length(self, text: str, tier: str | None = None) -> tuple[int, int]:
        """(length as this platform counts it, its limit for an account of ``tier``)."""
        return self.rules_for(tier).length(text)
