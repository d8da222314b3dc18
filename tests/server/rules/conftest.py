"""Shared helpers for the rules tests: a fixed clock origin and the default config."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.rules import RulesConfig

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in Changsha


@pytest.fixture
def config() -> RulesConfig:
    return RulesConfig(timezone="Asia/Shanghai")
