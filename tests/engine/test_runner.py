"""The runner's timer thread (the GUI thread in the tray app) never writes to the
database: housekeeping and the heartbeat run on the dispatcher's threads."""

from __future__ import annotations

import threading
from datetime import timedelta

from milton_desktop.engine.runner import Runner
from milton_desktop.storage import settings
from milton_desktop.storage.models import ScheduledPost
from tests.engine.test_machine import _schedule


def test_a_tick_writes_nothing_on_the_timer_thread(qtbot, engine, account, clock, monkeypatch):
    late = _schedule(clock, account, minutes=1)
    clock.advance(timedelta(hours=3))  # past the grace window: the tick marks it missed
    writers: list[str] = []
    real_mark, real_set = engine.mark_missed, settings.set_internal

    def mark_missed():
        writers.append(threading.current_thread().name)
        return real_mark()

    def set_internal(key, value):
        writers.append(threading.current_thread().name)
        real_set(key, value)

    monkeypatch.setattr(engine, "mark_missed", mark_missed)
    monkeypatch.setattr(settings, "set_internal", set_internal)
    runner = Runner(engine, interval_s=3600, clock=clock)
    outcomes: list = []
    runner.outcome.connect(outcomes.append)
    with qtbot.waitSignal(runner.rearmed, timeout=10000):
        runner.start()
    qtbot.waitUntil(lambda: bool(outcomes), timeout=10000)
    assert [o.status for o in outcomes] == ["missed"]
    assert ScheduledPost.get_by_id(late.id).status == "missed"
    assert settings.get_internal("heartbeat")["pid"] > 0
    assert writers and threading.main_thread().name not in writers, writers
    assert runner.stop(timeout=10)


def test_the_timer_is_armed_for_the_next_post_after_each_dispatch(
    qtbot, engine, account, clock, scripted
):
    _schedule(clock, account, minutes=30)
    runner = Runner(engine, interval_s=3600, clock=clock)
    with qtbot.waitSignal(runner.rearmed, timeout=10000) as armed:
        runner.start()
    assert armed.args[0] == clock.now() + timedelta(minutes=30)
    assert runner.stop(timeout=10)


def test_the_warm_up_waits_until_shortly_before_the_next_post(
    qtbot, engine, account, clock, scripted, monkeypatch
):
    """An idle scheduler does not load the publishers for a post a day away."""
    from milton_desktop.engine import runner as runner_module

    warmed: list[str] = []
    monkeypatch.setattr(engine, "warm_up", lambda: warmed.append(threading.current_thread().name))
    _schedule(clock, account, minutes=24 * 60)
    runner = Runner(engine, interval_s=3600, clock=clock)
    with qtbot.waitSignal(runner.rearmed, timeout=10000):
        runner.start()
    assert warmed == []
    ahead = timedelta(minutes=24 * 60) - timedelta(seconds=runner_module.WARM_UP_AHEAD_S)
    remaining = runner._warm_timer.remainingTime()
    assert runner._warm_timer.isActive()
    assert abs(remaining - ahead / timedelta(milliseconds=1)) < 60_000
    # a post added for the next minute makes it warm up now, off the timer's thread
    _schedule(clock, account, minutes=1)
    runner.rearm()
    qtbot.waitUntil(lambda: bool(warmed), timeout=10000)
    assert warmed and warmed[0] != threading.main_thread().name
    runner.rearm()  # once is enough
    assert len(warmed) == 1 and not runner._warm_timer.isActive()
    assert runner.stop(timeout=10)
