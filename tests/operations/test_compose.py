"""What one press of Save in the editor writes: all of it, or nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.errors import UserError
from milton_desktop.operations.compose import SavePlan, Target, save
from milton_desktop.storage.models import Post, ScheduledPost

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return FakeClock(NOW)


def test_a_refusal_rolls_back_everything(accounts, tmp_path, clock):
    plan = SavePlan(
        text="hello",
        voice="personal",
        when=datetime(2027, 2, 1, 9, tzinfo=UTC),
        timezone="Europe/Paris",
        targets=(Target(accounts["linkedin"].id, None), Target(accounts["instagram"].id, None)),
    )
    with pytest.raises(UserError, match="Instagram"):
        save(plan, tmp_path, clock)
    assert Post.select().count() == 0
    assert ScheduledPost.select().count() == 0
