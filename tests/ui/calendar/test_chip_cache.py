"""Chips repainted from the painter's cache look exactly as freshly painted ones."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFont, QImage, QPainter

from milton_desktop.ui import style
from milton_desktop.ui.calendar.chips import ChipPainter
from milton_desktop.ui.calendar.model import ScheduleItem


def _item(status: str = "pending", text: str = "Launch day: the new studio opens") -> ScheduleItem:
    return ScheduleItem(
        id=7,
        post_id=3,
        account="My X",
        platform="x",
        local=datetime(2030, 3, 12, 9, 30, tzinfo=UTC),
        status=status,
        short_text=text,
        text=text,
        url=None,
        error=None,
    )


def _render(
    cp: ChipPainter, it: ScheduleItem, rect: QRectF, *, direct: bool
) -> tuple[QImage, list[str]]:
    image = QImage(220, 80, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor("#ffffff"))
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    paint = cp.paint_direct if direct else cp.paint
    drawn = paint(p, rect, it, selected=False)
    p.end()
    return image, drawn


def _differing_pixels(a: QImage, b: QImage) -> int:
    return sum(
        1
        for y in range(a.height())
        for x in range(a.width())
        if max(
            abs(QColor(a.pixel(x, y)).red() - QColor(b.pixel(x, y)).red()),
            abs(QColor(a.pixel(x, y)).green() - QColor(b.pixel(x, y)).green()),
            abs(QColor(a.pixel(x, y)).blue() - QColor(b.pixel(x, y)).blue()),
        )
        > 8
    )


def test_cached_chip_matches_a_direct_paint(qapp):
    cp = ChipPainter(QFont(), style.theme_for())
    it = _item()
    for rect in (QRectF(10, 10, 150, cp.height), QRectF(10.5, 7.25, 120.4, cp.block_height)):
        direct, texts = _render(cp, it, rect, direct=True)
        first, first_texts = _render(cp, it, rect, direct=False)  # painted into the cache
        again, again_texts = _render(cp, it, rect, direct=False)  # drawn from it
        assert texts == first_texts == again_texts
        assert first == again
        assert _differing_pixels(direct, first) == 0


def test_a_changed_chip_is_painted_anew(qapp):
    cp = ChipPainter(QFont(), style.theme_for())
    rect = QRectF(10, 10, 150, cp.height)
    pending, _ = _render(cp, _item("pending"), rect, direct=False)
    published, texts = _render(cp, _item("published"), rect, direct=False)
    assert pending != published
    assert _differing_pixels(published, _render(cp, _item("published"), rect, direct=True)[0]) == 0
    assert style.STATUS_MARKS["published"] in texts
    other, other_texts = _render(cp, _item(text="Another post entirely"), rect, direct=False)
    assert other != pending
    assert any("Another" in t for t in other_texts)


def test_the_cache_stays_within_its_budget(qapp, monkeypatch):
    from milton_desktop.ui.calendar import chips

    monkeypatch.setattr(chips, "CHIP_CACHE_BYTES", 200_000)
    cp = ChipPainter(QFont(), style.theme_for())
    for n in range(200):
        _render(cp, _item(text=f"Post number {n}"), QRectF(0, 0, 150, cp.height), direct=False)
    assert 0 < cp._painted_bytes <= 200_000
    assert len(cp._painted) < 200
