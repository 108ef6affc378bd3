"""View ▸ Insights…: the heatmap from a seeded history, the "too little history" state,
the sortable table with its curves, the account's notes, and Fetch now over real HTTP
against the fake X."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.credential import Credential
from milton_desktop.domain.status import Status
from milton_desktop.operations import insights
from milton_desktop.storage import settings
from milton_desktop.storage.models import Account, Post, PostMetric, ScheduledPost
from milton_desktop.ui.insights.sparkline import HISTORY_ROLE
from milton_desktop.ui.insights.table import SORT_ROLE
from milton_desktop.ui.insights.view import InsightsDialog
from tests.fakes.x import FakeX

USER_ID = "2244994945"
TOKEN = "x-insights-view"
# Monday 11 January 2027, 08:00 UTC
NOW = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
# a Tuesday, 10:00 in Paris
TUESDAY_10 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Any:
    server = FakeX()
    server.start()
    server.add_user(USER_ID, "XDevelopers", "X Developers", token=TOKEN)
    yield server
    server.stop()


@pytest.fixture
def account(db, creds, fake) -> Account:
    settings.set_value("timezone", "Europe/Paris")
    acc = Account.create(
        platform="x", display_name="mine", username="XDevelopers", remote_id=USER_ID,
        api_base=fake.url, timezone="Europe/Paris",
    )  # fmt: skip
    creds.save("x", acc.id, Credential(TOKEN))
    return acc


def published(account: Account, tweet_id: str, at: datetime) -> ScheduledPost:
    return ScheduledPost.create(
        post=Post.create(body=f"post {tweet_id}"), account=account, scheduled_time=at,
        next_attempt_at=at, published_at=at, status=Status.PUBLISHED, remote_id=tweet_id,
    )  # fmt: skip


def snapshot(row: ScheduledPost, after: timedelta, likes: int, bucket: str = "7d") -> None:
    PostMetric.create(
        schedule=row, account=row.account, platform="x", remote_id=row.remote_id,
        taken_at=row.published_at + after, age_bucket=bucket,
        counters=json.dumps({"likes": likes, "impressions": 100}),
        interactions=likes, impressions=None,
    )  # fmt: skip


def seed_month(account: Account) -> None:
    """Four weeks where Tuesday 10:00 did best by far."""
    for week in range(4):
        base = TUESDAY_10 + timedelta(weeks=week)
        for n, (offset, likes) in enumerate(
            ((timedelta(0), 40), (timedelta(days=2, hours=5), 10), (timedelta(days=3), 9))
        ):
            row = published(account, f"{week}{n}", base + offset)
            snapshot(row, timedelta(hours=1), likes // 4, "1h")
            snapshot(row, timedelta(days=1), likes // 2, "24h")
            snapshot(row, timedelta(days=7), likes)


def open_view(qtbot, creds) -> InsightsDialog:
    view = InsightsDialog(creds, clock=FakeClock(NOW))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.data is not None and not view.busy(), timeout=5000)
    return view


def test_the_heatmap_shows_the_clearly_best_hour(qtbot, creds, account):
    seed_month(account)
    view = open_view(qtbot, creds)
    assert view.stack.currentWidget() is view.heatmap and view.heatmap.isVisible()
    assert not view.thin.isVisible()
    assert view.heatmap.best_cell() == (1, 10)  # Tuesday, 10:00 in Paris
    said = view.heatmap.cell_text(1, 10)
    assert "Tue 10:00–11:00: 4 posts" in said and "#1 of 3" in said
    # an empty hour is told apart from a poor one
    assert "no posts went out" in view.heatmap.cell_text(0, 3)
    assert "of a typical post" in view.heatmap.cell_text(4, 10)  # Fri 10:00 did worse
    assert view.heatmap.cell_at(view.heatmap.cell_center(1, 10)) == (1, 10)
    assert "Tue 10:00–11:00" in view.summary_label.text()
    assert "12 measured posts" in view.summary_label.text()
    assert "Europe/Paris" in view.zone_label.text()
    view.heatmap.grab()  # paints without error


def test_too_little_history_shows_no_map_and_how_many_more(qtbot, creds, account):
    for n in range(3):
        snapshot(published(account, str(n), TUESDAY_10 + timedelta(days=n)), timedelta(days=2), 5)
    view = open_view(qtbot, creds)
    assert view.stack.currentWidget() is view.thin
    assert not view.heatmap.isVisible() and view.thin_title.isVisible()
    assert view.heatmap.best_cell() is None
    assert view.thin_bar.value() == 3 and view.thin_bar.maximum() == 10
    assert "7 more measured" in view.thin_label.text()
    assert "7 more measured posts needed" in view.summary_label.text()


def _column(view: InsightsDialog, title: str) -> int:
    return next(n for n, c in enumerate(view.model.columns) if c.title == title)


def _values(view: InsightsDialog, column: int) -> list[Any]:
    return [view.proxy.index(r, column).data(SORT_ROLE) for r in range(view.proxy.rowCount())]


def test_the_table_sorts_and_draws_each_post_s_curve(qtbot, creds, account):
    seed_month(account)
    view = open_view(qtbot, creds)
    assert view.proxy.rowCount() == 12
    titles = [c.title for c in view.model.columns]
    assert titles[:2] == ["Went out", "Post"]
    assert {"Likes", "Reposts", "Interactions", "Impressions", "Measured", "Over time"} <= set(
        titles
    )
    # newest post first by default
    went = _values(view, 0)
    assert went == sorted(went, reverse=True)
    engaged = _column(view, "Interactions")
    view.table.horizontalHeader().sectionClicked.emit(engaged)
    view.table.sortByColumn(engaged, Qt.SortOrder.DescendingOrder)
    assert _values(view, engaged)[:4] == [40, 40, 40, 40]
    view.table.sortByColumn(engaged, Qt.SortOrder.AscendingOrder)
    assert _values(view, engaged)[0] == 9
    first = view.proxy.index(0, _column(view, "Over time"))
    assert [v for _t, v in first.data(HISTORY_ROLE)] == [2, 4, 9]
    measured = view.proxy.index(0, _column(view, "Measured")).data()
    assert measured.startswith("a week in · ") and measured.endswith(" ago")
    view.table.grab()  # the sparkline delegate paints


def test_the_account_s_notes_are_shown(qtbot, creds, account):
    settings.set_internal(
        insights.NOTES_KEY, {str(account.id): ["reconnect with tweet.read to see reach"]}
    )
    view = open_view(qtbot, creds)
    assert view.notes_label.isVisible()
    assert "Reconnect with tweet.read to see reach." in view.notes_label.text()
    assert view.empty_label.isVisible() and not view.table.isVisible()


def test_fetch_now_reads_the_figures_and_updates_the_table(qtbot, creds, account, fake):
    published(account, "1001", NOW - timedelta(days=3))
    fake.set_metrics("1001", like_count=7, reply_count=2, impression_count=500)
    view = open_view(qtbot, creds)
    assert view.proxy.rowCount() == 0
    with qtbot.waitSignal(view.fetched, timeout=10000):
        view.fetch_button.click()
    qtbot.waitUntil(lambda: not view.busy() and view.proxy.rowCount() == 1, timeout=5000)
    assert "1 post measured" in view.result_label.text()
    assert view.proxy.index(0, _column(view, "Likes")).data() == "7"
    assert view.proxy.index(0, _column(view, "Interactions")).data() == "9"
    assert view.proxy.index(0, _column(view, "Impressions")).data() == "500"
    assert view.fetch_button.isEnabled() and not view.progress.isVisible()


def test_fetch_now_says_what_went_wrong(qtbot, creds, account, fake):
    published(account, "1001", NOW - timedelta(days=3))
    fake.inject("GET /2/tweets", status=429, body={"title": "Too Many Requests"})
    view = open_view(qtbot, creds)
    with qtbot.waitSignal(view.fetched, timeout=10000):
        view.fetch_now()
    assert "asked to wait" in view.result_label.text()


# ---------------------------------------------------------------- the editor's Suggest a time


def _editor(qtbot, tmp_path):
    from milton_desktop.ui.editor.dialog import PostEditorDialog

    dlg = PostEditorDialog(clock=FakeClock(NOW), media_dir=tmp_path / "media")
    qtbot.addWidget(dlg)
    return dlg


def test_suggest_a_time_sets_the_best_free_hour_and_skips_a_taken_one(
    qtbot, creds, account, tmp_path
):
    from milton_desktop.operations import posts, schedules

    seed_month(account)
    dlg = _editor(qtbot, tmp_path)
    button = dlg.suggest_button
    assert not button.isEnabled() and "Tick one account" in button.toolTip()
    dlg.set_account_checked("mine")
    qtbot.waitUntil(lambda: button.suggested is not None, timeout=5000)
    # Tuesday 12 January 2027, 10:00 in Paris: the best hour of the history
    assert button.text() == "Suggest a time: Tue 12 Jan, 10:00"
    assert "4 posts" in button.toolTip() and "Tue 10:00–11:00" in button.toolTip()
    button.click()
    assert dlg.when() == datetime(2027, 1, 12, 9, 0, tzinfo=UTC)

    # another post goes out at 10:20 that Tuesday: the hour is no longer free
    post = posts.add_post("planned")
    schedules.schedule(
        post.id, account, datetime(2027, 1, 12, 9, 20, tzinfo=UTC), timezone="Europe/Paris",
        clock=FakeClock(NOW),
    )  # fmt: skip
    again = _editor(qtbot, tmp_path)
    again.set_account_checked("mine")
    qtbot.waitUntil(lambda: again.suggest_button.suggested is not None, timeout=5000)
    # it was the one hour that did better than usual: nothing else is offered in its place
    assert again.suggest_button.suggestion() is None
    assert again.suggest_button.text() == "No best time free"
    assert "already has a post within 60 minutes" in again.suggest_button.toolTip()


def test_suggest_a_time_with_too_little_history_says_so(qtbot, creds, account, tmp_path):
    for n in range(3):
        snapshot(published(account, str(n), TUESDAY_10 + timedelta(days=n)), timedelta(days=2), 5)
    dlg = _editor(qtbot, tmp_path)
    dlg.set_account_checked("mine")
    button = dlg.suggest_button
    qtbot.waitUntil(lambda: button.suggested is not None, timeout=5000)
    assert button.text() == "Suggest a time: too little history"
    assert not button.isEnabled() and "7 more measured" in button.toolTip()
    before = dlg.when()
    button.click()
    assert dlg.when() == before
