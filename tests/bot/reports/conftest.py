"""The hand-computed world every report test reads (tests/bot/reports/world.py)."""

from __future__ import annotations

import pytest

from tests.bot.reports.world import build_world


@pytest.fixture
def world(session) -> dict:
    return build_world(session)
