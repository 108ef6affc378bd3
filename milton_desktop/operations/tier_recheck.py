"""Keeping an account's tier current: limits a platform changes while the account stays
connected (a Mastodon instance's characters, attachments, file sizes) are read again by
the scheduler's daily pass, for platforms whose descriptor asks for it
(``Platform.tier_recheck_every``), through the publisher's ``current_tier``.

At most one try per account per period, whatever happens: a failure to read is logged
and tried again next time, and never marks the account for reconnecting (publishing
finds out soon enough if the token is really dead). Network and keyring work: the
scheduler runs it on its housekeeping thread.
"""

from __future__ import annotations

import logging
from datetime import datetime

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.status import AccountStatus
from milton_desktop.publishers import registry
from milton_desktop.publishers.base import PublishError
from milton_desktop.storage import settings
from milton_desktop.storage.credentials import (
    CredentialMissing,
    CredentialStore,
    KeyringUnavailable,
)
from milton_desktop.storage.models import Account, database

log = logging.getLogger("milton.accounts")

#: when each account's tier was last read, by account id (an internal setting)
TRIED_KEY = "tier_recheck_tried"


def recheck_tiers(credentials: CredentialStore, *, clock: Clock | None = None) -> list[str]:
    """Read again the tier of each connected account that is due; store it if it changed.

    An account is due when its platform's ``tier_recheck_every`` has passed since the
    last try, or since it was connected (which read the tier) for the first one.
    Returns the names of the accounts whose tier changed.
    """
    clock = clock or SystemClock()
    now = clock.now()
    used = Account.select(Account.platform).where(Account.status == AccountStatus.CONNECTED)
    in_use = registry.find_all([a.platform for a in used.distinct()])
    periods = {p.name: p.tier_recheck_every for p in in_use if p.tier_recheck_every}
    if not periods:
        return []
    tried: dict[str, str] = dict(settings.get_internal(TRIED_KEY, {}) or {})
    changed = []
    query = Account.select().where(
        Account.platform.in_(list(periods)) & (Account.status == AccountStatus.CONNECTED)
    )
    for acc in list(query):
        every = periods[acc.platform]
        assert every is not None
        last = _instant(tried.get(str(acc.id))) or acc.token_refreshed_at or acc.created_at
        if last is not None and now - last < every:
            continue
        tried[str(acc.id)] = now.isoformat()
        settings.set_internal(TRIED_KEY, tried)
        label = registry.label(acc.platform)
        try:
            credential = credentials.load(acc.platform, acc.id)
            publisher = registry.make_publisher(acc.platform, api_base=acc.api_base, now=clock.now)
            tier = publisher.current_tier(credential)
        except (PublishError, KeyringUnavailable, CredentialMissing) as exc:
            log.warning(
                "could not read the %s limits of account id %s (%s); trying again in %s",
                label,
                acc.id,
                exc,
                every,
            )
            continue
        if tier == acc.tier:
            continue
        with database.atomic():
            done = (
                Account.update(tier=tier)
                .where((Account.id == acc.id) & (Account.status == AccountStatus.CONNECTED))
                .execute()
            )
        if done:
            log.info(
                "the %s limits of account id %s changed: tier %s is now %s",
                label,
                acc.id,
                acc.tier,
                tier,
            )
            changed.append(acc.display_name)
    return changed


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
