"""Render View ▸ Insights… for a visual check, in a light or dark theme.

    .venv/bin/python bench/render_insights_shots.py OUT_DIR [--dark] [--size WxH]

Seeds an X account with two months of measured posts (mornings on Tuesday and
Thursday did best, late evenings worst) and a LinkedIn account with too little
history, and writes the Insights view of each and the X queue's "Fill my queue
from best times" preview.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.render_shots import _memory_keyring, _settle
from bench.shot_options import apply_theme, parse

NOW = datetime(2027, 3, 15, 8, 0, tzinfo=UTC)

TEXTS = (
    "Five things we learned shipping v2",
    "A thread on keeping a calendar you actually trust",
    "New: CSV import, with a preview before anything is written",
    "Behind the scenes of this week's release",
    "What would you like to see next? Replies open",
    "Small releases beat big ones. Here is why",
    "Our first month of local-first publishing, in numbers",
    "Tip: drag a draft onto a free slot in the week view",
)


def _lift(weekday: int, hour: int) -> float:
    """How much better than usual posts did at this hour (the story the shots tell)."""
    lift = 1.0
    if weekday in (1, 3) and 8 <= hour <= 10:
        lift = 2.4 if hour == 9 else 1.7
    elif weekday < 5 and 12 <= hour <= 13:
        lift = 1.3
    elif hour >= 21 or hour <= 6:
        lift = 0.45
    elif weekday >= 5:
        lift = 0.7
    return lift


def _seed(home: str) -> None:
    from zoneinfo import ZoneInfo

    from milton_desktop.domain.status import Status
    from milton_desktop.operations import insights
    from milton_desktop.storage import settings
    from milton_desktop.storage.models import Account, Post, PostMetric, ScheduledPost

    paris = ZoneInfo("Europe/Paris")
    rng = random.Random(16)
    x = Account.create(
        platform="x", display_name="My X", username="miltonapp", remote_id="42",
        timezone="Europe/Paris",
    )  # fmt: skip
    linkedin = Account.create(
        platform="linkedin", display_name="Work LinkedIn", remote_id="urn:li:person:42"
    )

    def post(acc: Account, at: datetime, likes: int, reposts: int, shown: int | None) -> None:
        n = ScheduledPost.select().count()
        row = ScheduledPost.create(
            post=Post.create(body=TEXTS[n % len(TEXTS)]), account=acc, scheduled_time=at,
            next_attempt_at=at, published_at=at, status=Status.PUBLISHED, remote_id=str(1000 + n),
        )  # fmt: skip
        for after, share, bucket in ((1, 0.35, "1h"), (24, 0.8, "24h"), (168, 1.0, "7d")):
            taken = at + timedelta(hours=after)
            if taken > NOW:
                break
            counters = {
                "likes": round(likes * share), "reposts": round(reposts * share),
                "replies": round(likes * share / 8), "quotes": 0, "bookmarks": round(likes * share / 10),
            }  # fmt: skip
            if shown is not None:
                counters["impressions"] = round(shown * share)
            PostMetric.create(
                schedule=row, account=acc, platform=acc.platform, remote_id=row.remote_id,
                taken_at=taken, age_bucket=bucket, counters=json.dumps(counters),
                interactions=sum(v for k, v in counters.items() if k != "impressions"),
                impressions=counters.get("impressions"),
            )  # fmt: skip

    day = (NOW - timedelta(days=63)).astimezone(paris).date()
    while day < NOW.astimezone(paris).date():
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            hours = (7, 8, 9, 9, 9, 10, 11, 12, 12, 13, 15, 17, 18, 20, 22)
            hour = rng.choice(hours)
            local = datetime(
                day.year, day.month, day.day, hour, rng.choice((0, 15, 30)), tzinfo=paris
            )
            at = local.astimezone(UTC)
            lift = _lift(local.weekday(), hour) * rng.uniform(0.7, 1.35)
            shown = round(2400 * rng.uniform(0.8, 1.25))
            post(x, at, round(38 * lift), round(6 * lift), shown)
        day += timedelta(days=1)
    for n in range(4):
        at = NOW - timedelta(days=3 + 4 * n, hours=1)
        post(linkedin, at, 20 + 3 * n, 2, None)
    settings.set_internal(
        insights.NOTES_KEY,
        {
            str(linkedin.id): [
                "reconnect with the r_member_postAnalytics permission to see impressions"
            ]
        },
    )
    del home


def main(argv: list[str] | None = None) -> list[Path]:
    import keyring

    options = parse(argv, __doc__ or "", Path("docs/screenshots"))
    keyring.set_keyring(_memory_keyring())
    home = tempfile.mkdtemp(prefix="milton-insights-shots-")
    os.environ["MILTON_HOME"] = home
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from milton_desktop.context import open_context
    from milton_desktop.domain.clock import FakeClock
    from milton_desktop.storage import settings
    from milton_desktop.ui.insights.view import InsightsDialog

    app = QApplication.instance() or QApplication([])
    apply_theme(app, options.dark)
    ctx = open_context(None, stderr_logging=False)
    settings.set_value("timezone", "Europe/Paris")
    _seed(home)
    out: list[Path] = []
    try:
        view = InsightsDialog(ctx.credentials, clock=FakeClock(NOW))
        view.resize(min(options.width, 1180), min(options.height, 860))
        view.show()
        for index, stem in ((0, "insights-best-times"), (1, "insights-too-little")):
            view.account_combo.setCurrentIndex(index)
            while (
                view.data is None
                or view.busy()
                or view.account_combo.currentData() != view.data.account_id
            ):
                _settle(app)
            _settle(app)
            options.out_dir.mkdir(parents=True, exist_ok=True)
            target = options.out_dir / options.name(stem)
            view.grab().save(str(target))
            out.append(target)
        from milton_desktop.storage import queries
        from milton_desktop.ui.accounts.queue_page import QueueDialog

        page = QueueDialog(queries.find_account(1), clock=FakeClock(NOW))
        page.show()
        while page.fill_button.proposal is None or page.fill_button.busy():
            _settle(app)
        preview = page.fill_button.open_preview()
        assert preview is not None
        preview.list.item(preview.list.count() - 1).setCheckState(Qt.CheckState.Unchecked)
        _settle(app)
        target = options.out_dir / options.name("queue-fill-preview")
        preview.grab().save(str(target))
        out.append(target)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    for p in out:
        print(p)
    return out


if __name__ == "__main__":
    main()
