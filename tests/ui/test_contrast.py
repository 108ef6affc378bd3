"""Readable in a light and a dark palette: every text colour the calendar, the drafts
and the upcoming panel paint has a WCAG contrast of at least 4.5:1 on its background.

Two ways in: the theme lists every pair it hands out, state by state (pending,
published, failed, uncertain, missed, cancelled, a draft; past, today, weekend and
other-month cells; headers; badges), and the painters record each pair they really
draw while the views are rendered (``style.recording_text``), so a painter that
picks a colour on its own is caught too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette, QUndoStack
from PySide6.QtWidgets import QLabel

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.status import Status
from milton_desktop.operations import posts, repeats, schedules
from milton_desktop.publishers import registry
from milton_desktop.storage import queries
from milton_desktop.storage.models import ScheduledPost
from milton_desktop.ui import style
from milton_desktop.ui.calendar.drafts import DraftsPane
from milton_desktop.ui.calendar.model import ScheduleItem
from milton_desktop.ui.calendar.pane import CalendarPane
from milton_desktop.ui.calendar.upcoming import UpcomingPanel

PARIS = ZoneInfo("Europe/Paris")
#: a Wednesday; the month has days before it (past), a weekend and other months' days
NOW = datetime(2027, 3, 17, 9, 30, tzinfo=PARIS)


@pytest.fixture(params=["light", "dark"])
def theme_name(request, qapp):
    previous = QPalette(qapp.palette())
    qapp.setPalette(style.dark_palette() if request.param == "dark" else style.light_palette())
    yield request.param
    qapp.setPalette(previous)


@pytest.fixture
def month_of_posts(accounts):
    """One post per platform and status, around NOW, plus a repeat and a draft."""
    clock = FakeClock(datetime(2027, 3, 1, 8, tzinfo=UTC))
    statuses = [s for s in Status if s != Status.PENDING]
    for n, platform in enumerate(accounts):
        for k, status in enumerate([Status.PENDING, *statuses]):
            day = date(2027, 3, 8 + k) if status != Status.PENDING else date(2027, 3, 18 + n)
            when = datetime.combine(day, time(9 + n), tzinfo=PARIS).astimezone(UTC)
            media = [posts.MediaInput(url="https://cdn.example.com/a.jpg")]
            post = posts.add_post(
                f"{status} on {platform}: a post with a few words",
                media=media if platform == "instagram" else (),
                clock=clock,
            )
            row = schedules.schedule(post.id, accounts[platform], when, clock=clock)
            ScheduledPost.update(status=status).where(ScheduledPost.id == row.id).execute()
    # Next month's first days show in the grid too (muted chips).
    post = posts.add_post("Early April", clock=clock)
    schedules.schedule(post.id, accounts["x"], datetime(2027, 4, 2, 8, tzinfo=UTC), clock=clock)
    post = posts.add_post("Weekly tip", clock=clock)
    repeats.schedule_repeating(
        post.id,
        accounts["linkedin"],
        datetime(2027, 3, 20, 11, 0),
        "Europe/Paris",
        "FREQ=WEEKLY;COUNT=2",
        clock=clock,
    )
    posts.add_post("A draft nobody scheduled yet", clock=clock)
    return FakeClock(NOW.astimezone(UTC))


def _failures(uses) -> list[str]:
    return [
        f"{u.role}: {u.fg} on {u.bg} is {u.ratio:.2f}:1"
        for u in sorted(uses, key=lambda u: u.role)
        if u.ratio < style.MIN_TEXT_CONTRAST
    ]


def test_every_pair_the_theme_hands_out_is_readable(theme_name, qapp):
    theme = style.theme_for(qapp.palette())
    assert theme.dark is (theme_name == "dark")
    pairs = theme.text_pairs()
    # States the contrast promise covers, each by name.
    for status in ("pending", "published", "failed", "uncertain", "missed", "cancelled"):
        assert f"chip text · linkedin {status}" in pairs
    for name in ("draft title", "day number · past", "day number · today", "today pill"):
        assert name in pairs
    assert "day number · weekend" in pairs and "day number · outside month" in pairs
    low = [
        f"{name}: {fg.name()} on {bg.name()} is {style.contrast(fg, bg):.2f}:1"
        for name, (fg, bg) in pairs.items()
        if style.contrast(fg, bg) < style.MIN_TEXT_CONTRAST
    ]
    assert low == []


def test_what_the_views_paint_is_readable(theme_name, qapp, qtbot, month_of_posts):
    clock = month_of_posts
    pane = CalendarPane(QUndoStack(), clock=clock)
    qtbot.addWidget(pane)
    pane.resize(1200, 800)
    pane.show()
    qtbot.waitExposed(pane)
    pane.go_to(NOW.date())
    pane.show_cancelled.setChecked(True)  # off by default: every status must be painted here
    drafts = DraftsPane()
    upcoming = UpcomingPanel(clock=clock)
    for w in (drafts, upcoming):
        qtbot.addWidget(w)
        w.resize(300, 500)
        w.show()
    with style.recording_text() as uses:
        for view in ("month", "week", "day"):
            pane.set_view(view)
            pane.go_to(date(2027, 3, 8) if view == "day" else NOW.date())
            pane.grab()
        pane.set_view("month")
        pane.go_to(NOW.date())
        pane.select(pane.month_view.shown_ids()[0])
        pane.month_view.setFocus()
        pane.grab()
        drafts.list_view.grab()
        upcoming.grab()
    roles = {u.role.split(" · ")[0] for u in uses}
    assert {"chip text", "chip status mark", "day number", "today pill", "hour label"} <= roles
    assert {"weekday header", "day heading", "draft title", "draft details"} <= roles
    painted_statuses = {u.role.rsplit(" ", 1)[-1] for u in uses if u.role.startswith("chip text")}
    assert painted_statuses >= {s.value for s in Status}
    assert _failures(uses) == []

    # Widgets that take their colours from the palette: their labels and tree rows.
    for label in [*drafts.findChildren(QLabel), *upcoming.findChildren(QLabel)]:
        pal = label.palette()
        fg, bg = pal.color(QPalette.ColorRole.WindowText), pal.color(QPalette.ColorRole.Window)
        assert style.contrast(fg, bg) >= style.MIN_TEXT_CONTRAST, label.objectName()
    tree = upcoming.tree
    assert tree.topLevelItemCount() > 0
    heading = tree.topLevelItem(0)
    own = heading.data(0, Qt.ItemDataRole.ForegroundRole)  # None: the palette's text
    fg = own.color() if own is not None else tree.palette().color(QPalette.ColorRole.Text)
    assert style.contrast(fg, tree.palette().color(QPalette.ColorRole.Base)) >= 4.5


def test_dark_cells_are_dark_and_the_x_badge_stands_out(qapp, qtbot, month_of_posts):
    previous = QPalette(qapp.palette())
    qapp.setPalette(style.dark_palette())
    try:
        pane = CalendarPane(QUndoStack(), clock=month_of_posts)
        qtbot.addWidget(pane)
        pane.resize(1200, 800)
        pane.show()
        pane.go_to(NOW.date())
        pane.set_view("week")
        grid = pane.week_view.grid
        image = grid.grab().toImage()
        monday = grid.days[0]
        past = grid.slot_rect(monday, time(3, 0)).center()  # a past slot without chips
        assert style.luminance(image.pixelColor(past)) < 0.05  # not stuck white
        theme = style.theme_for(qapp.palette())
        chip = theme.chip("x", Status.PENDING)
        assert style.contrast(chip.badge, chip.fill) >= style.MIN_SHAPE_CONTRAST
        assert style.contrast(chip.fill, theme.base) > 1.2  # the chip is seen at all
    finally:
        qapp.setPalette(previous)


def test_chips_are_coloured_by_channel_with_a_fallback_for_new_platforms(qapp):
    theme = style.theme_for(style.light_palette())
    fills = {p: theme.chip(p, Status.PENDING).fill.name() for p in ("linkedin", "x", "instagram")}
    assert len(set(fills.values())) == 3  # one colour per channel, not one per status
    # A platform this version does not know still gets its own steady colour.
    assert style.platform_color("futurenet") == style.platform_color("futurenet")
    assert style.platform_color("futurenet") != style.platform_color("othernet")
    assert theme.chip("linkedin", Status.PUBLISHED).fill == theme.chip("linkedin", "pending").fill
    # Status still reads without colour: a mark per state that is not plain pending.
    for status in (Status.PUBLISHED, Status.FAILED, Status.UNCERTAIN, Status.MISSED):
        assert style.STATUS_MARKS[status]


def test_contrast_arithmetic_matches_wcag():
    assert style.contrast(QColor("#000000"), QColor("#ffffff")) == pytest.approx(21.0)
    assert style.contrast(QColor("#777777"), QColor("#ffffff")) == pytest.approx(4.48, abs=0.01)
    fixed = style.readable(QColor("#8b8f96"), QColor("#ffffff"))
    assert style.contrast(fixed, QColor("#ffffff")) >= 4.5


def test_menu_headings_and_reasons_read_though_disabled(theme_name, qapp, qtbot, accounts):
    """A failed post's menu starts with what went wrong: a disabled line (it is not a
    choice) that must still read on the menu, in a light and a dark palette."""
    post = posts.add_post("Launch day")
    row = schedules.schedule(post.id, accounts["x"], NOW.astimezone(UTC), timezone="Europe/Paris")
    ScheduledPost.update(status=Status.FAILED, error_message="duplicate content").where(
        ScheduledPost.id == row.id
    ).execute()
    pane = CalendarPane(QUndoStack(), clock=FakeClock(NOW.astimezone(UTC)))
    qtbot.addWidget(pane)
    item = ScheduleItem.from_row(queries.schedule_view(row.id), pane.zone)
    menu = pane.settler.menu_for(item, pane)
    head = menu.actions()[0]
    assert head.text() == "Failed: duplicate content" and not head.isEnabled()
    pal = menu.palette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    base = pal.color(role.Base)
    for r in (role.Text, role.WindowText, role.ButtonText):
        fg = pal.color(group.Disabled, r)
        for bg in (base, base.lighter(108), pal.color(role.Window)):
            assert style.contrast(fg, bg) >= style.MIN_TEXT_CONTRAST, (r, fg.name(), bg.name())
        # still dimmer than a choice, so the heading does not look clickable
        assert style.contrast(fg, base) < style.contrast(pal.color(role.Text), base)


def test_platform_dots_show_on_the_palette(theme_name, qapp):
    """The account dots of the accounts dialog and the editor: X's black disc must not
    vanish into a dark list."""
    base = qapp.palette().color(QPalette.ColorRole.Base)
    for platform in registry.names():
        image = style.platform_dot(platform).pixmap(12, 12).toImage()
        disc = image.pixelColor(6, 6)
        assert style.contrast(disc, base) >= style.MIN_SHAPE_CONTRAST, platform


@pytest.mark.parametrize("kind", ["check", "radio"])
def test_unticked_boxes_show_their_edge_on_a_dark_palette(qapp, qtbot, kind):
    """Fusion outlines an unticked box in the window colour made darker, which
    vanishes on a dark window; the app's style adds an edge that shows (3:1)."""
    from PySide6.QtWidgets import QCheckBox, QRadioButton, QStyle, QStyleOptionButton

    from milton_desktop.ui.indicators import ReadableIndicators

    box = (QCheckBox if kind == "check" else QRadioButton)("Publish to this account")
    proxy = ReadableIndicators("fusion")
    box.setStyle(proxy)
    box.setPalette(style.dark_palette())
    qtbot.addWidget(box)
    box.resize(240, 30)
    image = box.grab().toImage()
    option = QStyleOptionButton()
    option.initFrom(box)
    element = (
        QStyle.SubElement.SE_CheckBoxIndicator
        if kind == "check"
        else QStyle.SubElement.SE_RadioButtonIndicator
    )
    rect = proxy.subElementRect(element, option, box)
    window = style.dark_palette().color(QPalette.ColorRole.Window)
    ratio = max(
        style.contrast(image.pixelColor(x, y), window)
        for x in range(rect.left(), rect.right() + 1)
        for y in range(rect.top(), rect.bottom() + 1)
    )
    assert ratio >= style.MIN_SHAPE_CONTRAST
