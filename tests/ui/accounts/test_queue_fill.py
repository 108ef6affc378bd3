""" "Fill my queue from best times" on the Queue page: a preview of the account's best
hours, Apply adds the accepted ones; disabled with the reason when history is thin."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.slots import Slot
from milton_desktop.domain.status import Status
from milton_desktop.operations import queue
from milton_desktop.storage import queries
from milton_desktop.storage.models import Account, Post, PostMetric, ScheduledPost
from milton_desktop.ui.accounts.queue_page import QueueDialog

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
TUESDAY_10 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)  # 10:00 in Paris


@pytest.fixture
def account(db) -> Account:
    return Account.create(platform="x", display_name="mine", remote_id="7", timezone="Europe/Paris")


def seed(account: Account, weeks: int) -> None:
    """Tuesday 10:00 best, Friday 16:00 good, Wednesday 11:00 and Thursday 10:00 poor."""
    n = 0
    for week in range(weeks):
        base = TUESDAY_10 + timedelta(weeks=week)
        for offset, likes in (
            (timedelta(0), 40),
            (timedelta(days=1, hours=1), 10),
            (timedelta(days=2), 8),
            (timedelta(days=3, hours=6), 20),
        ):
            n += 1
            at = base + offset
            row = ScheduledPost.create(
                post=Post.create(body=f"post {n}"), account=account, scheduled_time=at,
                next_attempt_at=at, published_at=at, status=Status.PUBLISHED, remote_id=str(n),
            )  # fmt: skip
            PostMetric.create(
                schedule=row, account=account, platform="x", remote_id=str(n),
                taken_at=at + timedelta(days=7), age_bucket="7d",
                counters=json.dumps({"likes": likes}), interactions=likes,
            )  # fmt: skip


def _page(qtbot, account: Account) -> QueueDialog:
    page = QueueDialog(queries.find_account(account.id), clock=FakeClock(NOW))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.fill_button.proposal is not None, timeout=5000)
    return page


def test_fill_my_queue_previews_the_best_hours_and_applies_the_accepted(qtbot, account):
    seed(account, weeks=4)
    queue.set_queue("mine", ["MO 08:30"])
    page = _page(qtbot, account)
    assert page.fill_button.isEnabled()
    preview = page.fill_button.open_preview()
    assert preview is not None
    qtbot.addWidget(preview)
    texts = [preview.list.item(r).text() for r in range(preview.list.count())]
    assert texts == [
        "10:00 on Tuesdays — 4 posts, 2.7× a typical post",
        "16:00 on Fridays — 4 posts, 1.3× a typical post",
    ]
    assert "out of 16 measured posts" in preview.list.item(0).toolTip()
    assert preview.apply_button.text() == "Add 2 to the list"
    # nothing is written by the preview
    assert queue.slots_of(account.id) == (Slot(0, 8 * 60 + 30),)
    preview.list.item(1).setCheckState(Qt.CheckState.Unchecked)
    assert preview.apply_button.text() == "Add 1 to the list"
    with qtbot.waitSignal(page.fill_button.applied, timeout=5000):
        preview.apply_button.click()
    items = [page.slot_list.item(r).text() for r in range(page.slot_list.count())]
    assert items == ["Mon 08:30", "Tue 10:00"]
    assert queue.slots_of(account.id) == (Slot(0, 8 * 60 + 30),)  # the page's Save writes
    assert page.save()
    assert queue.slots_of(account.id) == (Slot(0, 8 * 60 + 30), Slot(1, 600))
    # the next proposal leaves out what the queue now has
    qtbot.waitUntil(lambda: not page.fill_button.busy(), timeout=5000)
    assert [c.queue_slot for c in page.fill_button.proposal.choices] == [Slot(4, 16 * 60)]


def test_fill_my_queue_is_disabled_with_the_reason_when_history_is_thin(qtbot, account):
    seed(account, weeks=2)  # eight measured posts
    page = _page(qtbot, account)
    assert not page.fill_button.isEnabled()
    assert "2 more measured" in page.fill_button.toolTip()
    assert page.fill_button.open_preview() is None
