"""A month of sample posts for the screenshot scripts: every platform and status,
around a fixed "now", so pictures are comparable from one run to the next."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Paris")

TEXTS = [
    "Three lessons from shipping our first desktop app to 2,000 beta users",
    "We're hiring: a senior Python engineer who loves Qt and good tests",
    "Behind the scenes of today's studio shoot 📸 #design #studio",
    "New blog post: scheduling posts across time zones without surprises",
    "Thank you to everyone who came to the meetup last night!",
    "Quick tip: keep your drafts short and let the calendar do the rest",
    "Our spring collection drops next week — sneak peek inside",
    "Case study: how a 4-person team publishes to three networks",
    "Poll: do you plan your posts weekly or monthly?",
    "Live Q&A on Thursday at 18:00 — bring your questions",
    "The one chart that explains our growth this quarter",
    "Reminder: the early-bird price ends on Friday",
]

#: (day offset from the 1st of now's month, local time, platform, status)
PLAN = [
    (1, "09:00", "linkedin", "published"),
    (1, "12:30", "x", "published"),
    (2, "10:00", "instagram", "published"),
    (3, "08:30", "linkedin", "published"),
    (4, "10:00", "x", "failed"),
    (5, "18:00", "instagram", "published"),
    (8, "09:15", "linkedin", "published"),
    (8, "09:15", "x", "published"),
    (8, "09:15", "instagram", "published"),
    (8, "17:00", "linkedin", "published"),
    (9, "11:00", "x", "uncertain"),
    (10, "10:00", "linkedin", "missed"),
    (11, "15:45", "instagram", "published"),
    (12, "10:00", "linkedin", "cancelled"),
    (15, "09:00", "x", "failed"),
    (16, "14:20", "linkedin", "publishing"),
    (16, "10:00", "linkedin", "published"),
    (16, "12:00", "x", "published"),
    (16, "16:30", "instagram", "pending"),
    (16, "18:00", "x", "pending"),
    (17, "06:00", "linkedin", "missed"),
    (17, "06:30", "x", "missed"),
    (17, "10:00", "linkedin", "pending"),
    (18, "10:00", "x", "pending"),
    (18, "10:00", "linkedin", "pending"),
    (18, "19:30", "instagram", "pending"),
    (21, "09:00", "linkedin", "pending"),
    (22, "10:00", "x", "cancelled"),
    (23, "13:00", "instagram", "pending"),
    (24, "08:00", "linkedin", "pending"),
    (25, "10:00", "x", "pending"),
    (29, "10:00", "linkedin", "pending"),
    (30, "11:30", "instagram", "pending"),
    (33, "10:00", "linkedin", "pending"),
]

ERRORS = {
    "failed": "X refused the post: duplicate content",
    "uncertain": "the connection dropped after the post was sent",
    "missed": "not published in time: the computer was asleep",
}

DRAFTS = [
    "Draft: a thread on what we learned moving from a daemon to a desktop app. "
    "Five points, each with a screenshot.",
    "Teaser for the April webinar",
    "Photo dump from the offsite 🌲",
]


def seed_month(now_local: datetime) -> tuple[dict, dict[str, list[int]]]:
    """Three accounts, the PLAN's schedules and three drafts (the last with images).

    Returns (accounts by platform, schedule ids by status).
    """
    from milton_desktop.storage import settings
    from milton_desktop.storage.models import Account, Media, Post, ScheduledPost

    settings.set_value("timezone", "Europe/Paris")
    accounts = {
        "linkedin": Account.create(platform="linkedin", display_name="Work LinkedIn"),
        "x": Account.create(platform="x", display_name="My X"),
        "instagram": Account.create(platform="instagram", display_name="Studio IG"),
    }
    first = now_local.date().replace(day=1)
    now = now_local.astimezone(UTC)
    by_status: dict[str, list[int]] = {}
    for n, (offset, hhmm, platform, status) in enumerate(PLAN):
        hh, mm = map(int, hhmm.split(":"))
        day = first + timedelta(days=offset - 1)
        when = datetime.combine(day, time(hh, mm), tzinfo=ZONE).astimezone(UTC)
        post = Post.create(body=TEXTS[n % len(TEXTS)], created_at=now, updated_at=now)
        if platform == "instagram":
            Media.create(post=post, kind="image", url=f"https://example.com/{n}.jpg")
        row = ScheduledPost.create(
            post=post,
            account=accounts[platform],
            scheduled_time=when,
            next_attempt_at=when,
            timezone="Europe/Paris",
            status=status,
            error_message=ERRORS.get(status),
            remote_url=f"https://example.com/p/{n}" if status == "published" else None,
        )
        by_status.setdefault(status, []).append(row.id)
    for n, text in enumerate(DRAFTS):
        post = Post.create(body=text, created_at=now, updated_at=now - timedelta(days=n))
        if n == len(DRAFTS) - 1:
            for k in range(3):
                Media.create(
                    post=post, position=k, kind="image", url=f"https://example.com/{k}.jpg"
                )
    return accounts, by_status
