"""The Qt binding must not leak references: the scheduler makes millions of Qt calls
in a week. (PySide6 6.12.0 on Python 3.11 leaked one None reference per call and
aborted the process after a few thousand.)"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QTimer


def test_calls_returning_nothing_do_not_leak_none():
    obj, timer = QObject(), QTimer()
    before = sys.getrefcount(None)
    for _ in range(2000):
        obj.setObjectName("milton")
        timer.setInterval(10)
    assert abs(sys.getrefcount(None) - before) < 50
