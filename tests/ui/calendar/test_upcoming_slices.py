"""The upcoming panel adds its rows a slice per loop turn; they end complete and in order."""

from __future__ import annotations

from datetime import timedelta

from milton_desktop.ui.calendar import upcoming
from milton_desktop.ui.calendar.upcoming import ROWS_PER_TURN, UpcomingPanel


def _make_many(make_schedule, later, n):
    # a few per day over three days, times given out of order
    made = []
    for k in range(n):
        when = later + timedelta(days=k % 3, minutes=7 * (n - k))
        made.append((when, make_schedule(f"Post {k}", when)))
    return [s.id for _, s in sorted(made, key=lambda pair: (pair[0], pair[1].id))]


def test_sliced_rows_end_complete_and_in_order(qtbot, make_schedule, later):
    n = ROWS_PER_TURN * 2 + 5
    expected = _make_many(make_schedule, later, n)
    panel = UpcomingPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 400)
    panel.show()
    # the first slice is in at once; the rest follow while the loop runs
    assert len(panel.schedule_ids()) == ROWS_PER_TURN
    assert panel.schedule_ids() == expected[:ROWS_PER_TURN]
    assert panel.loading()
    qtbot.waitUntil(lambda: not panel.loading(), timeout=5000)
    assert panel.schedule_ids() == expected
    assert len(panel.day_labels()) == 3
    groups = panel._day_groups()
    assert all(group.isExpanded() for group in groups)
    assert all(group.isFirstColumnSpanned() for group in groups)


def test_a_refresh_during_the_slices_starts_over_without_duplicates(qtbot, make_schedule, later):
    expected = _make_many(make_schedule, later, ROWS_PER_TURN * 3)
    panel = UpcomingPanel()
    qtbot.addWidget(panel)
    assert panel.loading()
    first = make_schedule("Earliest", later - timedelta(minutes=30))
    panel.refresh()  # read again (on this thread in a bare panel) before the slices end
    assert panel.schedule_ids()[0] == first.id  # built anew, not appended to the old rows
    qtbot.waitUntil(lambda: not panel.loading(), timeout=5000)
    assert panel.schedule_ids() == [first.id, *expected]


def test_the_more_row_comes_last_after_every_slice(qtbot, make_schedule, later, monkeypatch):
    monkeypatch.setattr(upcoming, "UPCOMING_ROWS", ROWS_PER_TURN + 10)
    expected = _make_many(make_schedule, later, ROWS_PER_TURN + 25)
    panel = UpcomingPanel()
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: not panel.loading(), timeout=5000)
    assert panel.schedule_ids() == expected[: ROWS_PER_TURN + 10]
    tree = panel.tree
    last = tree.topLevelItem(tree.topLevelItemCount() - 1)
    assert last.text(0).startswith("and 15 more in the next")
