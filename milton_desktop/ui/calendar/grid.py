"""The month grid's dates, cell geometry and empty cells (weekday header, day numbers,
today's pill, grid lines), shared by the month view and the start-up frame's skeleton
month, so the first frame's cells are the ones the real month then fills in place.

Imports Qt and the style only: the start-up frame paints it before the rest of the
app is imported."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QLocale, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen

from milton_desktop.ui import style
from milton_desktop.ui.style import CellState, Theme

ROWS, COLS = 6, 7


def week_start(d: date, first_weekday: int) -> date:
    """The first day of ``d``'s week, ``first_weekday`` being ISO (1 = Monday … 7 = Sunday)."""
    return d - timedelta(days=(d.isoweekday() - first_weekday) % 7)


def month_grid_start(d: date, first_weekday: int) -> date:
    """The first day shown by a 6-week month grid containing ``d``'s month."""
    return week_start(d.replace(day=1), first_weekday)


def local_first_weekday() -> int:
    """The locale's first day of the week, ISO-numbered (Monday 1 … Sunday 7)."""
    return QLocale().firstDayOfWeek().value


def weekend_days() -> frozenset[int]:
    """The locale's weekend, ISO-numbered (Saturday and Sunday in most of Europe)."""
    working = {d.value for d in QLocale().weekdays()}
    days = frozenset(n for n in range(1, 8) if n not in working)
    return days or frozenset({6, 7})


def header_height(fm: QFontMetrics) -> int:
    """The weekday header's height above the cells."""
    return fm.height() + 10


def label_height(fm: QFontMetrics) -> int:
    """The strip at the top of a cell that holds its day number."""
    return fm.height() + 8


def month_cells(
    first_day: date, width: int, height: int, fm: QFontMetrics
) -> list[tuple[date, QRectF]]:
    """The 42 day cells of a month grid ``width`` x ``height`` pixels, row by row."""
    top = header_height(fm)
    cw = width / COLS
    rh = max(1.0, (height - top) / ROWS)
    cells = []
    for n in range(ROWS * COLS):
        r, c = divmod(n, COLS)
        cells.append((first_day + timedelta(days=n), QRectF(c * cw, top + r * rh, cw, rh)))
    return cells


def paint_month_grid(
    p: QPainter,
    *,
    theme: Theme,
    font: QFont,
    width: int,
    height: int,
    cells: list[tuple[date, QRectF]],
    month: int,
    today: date,
    weekend: frozenset[int],
    clip: QRectF,
) -> dict[date, QColor]:
    """Paint the base, the weekday header, each cell's background and day number, and
    the grid lines; returns each day's background (what is drawn over it reads on it)."""
    fm = QFontMetrics(font)
    p.fillRect(QRectF(0, 0, width, height), theme.base)
    # Weekday header; the weekend's columns carry their tint up into it.
    top = header_height(fm)
    cw = width / COLS
    first_day = cells[0][0]
    for c in range(COLS):
        d = first_day + timedelta(days=c)
        head = QRectF(c * cw, 0, cw, top)
        bg = theme.cell_bg(CellState(weekend=d.isoweekday() in weekend))
        p.fillRect(head, bg)
        p.setPen(style.text_on(theme.text_dim, bg, "weekday header"))
        p.drawText(
            head.adjusted(8, 0, 0, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            f"{d:%a}",
        )

    bold = QFont(font)
    bold.setBold(True)
    label_h = label_height(fm)
    cell_bgs: dict[date, QColor] = {}
    for day, cell in cells:
        state = CellState(
            today=day == today,
            past=day < today,
            weekend=day.isoweekday() in weekend,
            outside=day.month != month,
        )
        bg = cell_bgs[day] = theme.cell_bg(state)
        if not cell.intersects(clip):
            continue
        p.fillRect(cell, bg)
        label = f"{day.day} {day:%b}" if day.day == 1 else str(day.day)
        if state.today:
            p.setFont(bold)
            tw = QFontMetrics(bold).horizontalAdvance(label) + 12
            pill = QRectF(cell.left() + 4, cell.top() + 3, max(tw, label_h - 6), label_h - 6)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(theme.accent)
            p.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.setPen(style.text_on(theme.on_accent, theme.accent, "today pill"))
            p.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)
        else:
            p.setFont(bold if day.day == 1 else font)
            p.setPen(style.text_on(theme.day_text(state), bg, "day number"))
            p.drawText(
                QRectF(cell.left() + 8, cell.top() + 3, cell.width() - 10, label_h - 6),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                label,
            )
    p.setFont(font)

    # Grid lines over the cell backgrounds.
    p.setPen(QPen(theme.grid_line, 1))
    rh = (height - top) / ROWS
    for r in range(ROWS + 1):
        y = round(top + r * rh) - (1 if r == ROWS else 0)
        p.drawLine(0, y, width, y)
    for c in range(1, COLS):
        x = round(c * cw)
        p.drawLine(x, top, x, height)
    return cell_bgs
