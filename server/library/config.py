"""Typed loading of config/library.toml into the pure :class:`~server.library.rules.LendingPolicy`.

A bad value raises :class:`~foundation.errors.ConfigError` naming the key, for example
``config/library.toml: loans.max_items: Input should be greater than or equal to 1``::

    policy = load_policy(library_config_path(settings))
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from foundation.errors import ConfigError
from server.library.rules import LendingPolicy
from server.settings import ServerSettings

__all__ = ["library_config_path", "load_policy"]

_DEFAULT = LendingPolicy()


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Loans(_Section):
    days: int = Field(default=_DEFAULT.loan_days, ge=1, le=365)
    max_renewals: int = Field(default=_DEFAULT.max_renewals, ge=0, le=50)
    max_items: int = Field(default=_DEFAULT.max_items, ge=1, le=100)
    overdue_grace_days: int = Field(default=_DEFAULT.overdue_grace_days, ge=0, le=365)


class _Reminders(_Section):
    due_soon_days: int = Field(default=_DEFAULT.due_soon_days, ge=0, le=60)
    overdue_repeat_days: int = Field(default=_DEFAULT.overdue_repeat_days, ge=1, le=365)


class _Kiosk(_Section):
    session_minutes: int = Field(default=_DEFAULT.session_minutes, ge=1, le=240)
    pin_attempts: int = Field(default=_DEFAULT.pin_attempts, ge=1, le=100)
    pin_window_minutes: int = Field(default=_DEFAULT.pin_window_minutes, ge=1, le=24 * 60)


class _LibraryFile(_Section):
    loans: _Loans = _Loans()
    reminders: _Reminders = _Reminders()
    kiosk: _Kiosk = _Kiosk()


def library_config_path(settings: ServerSettings, env: Mapping[str, str] | None = None) -> Path:
    """``SERVICEPOINT_LIBRARY_CONFIG``, else library.toml beside the site's other config files."""
    env = os.environ if env is None else env
    if env.get("SERVICEPOINT_LIBRARY_CONFIG"):
        return Path(env["SERVICEPOINT_LIBRARY_CONFIG"])
    return settings.categories_file.with_name("library.toml")


def load_policy(path: Path | None) -> LendingPolicy:
    """The policy in ``path``; the defaults when there is no such file (a fresh checkout)."""
    if path is None or not path.is_file():
        return LendingPolicy()
    source = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("(file)", f"is not valid TOML: {exc}", source) from None
    try:
        parsed = _LibraryFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(file)"
        message = "is not a known setting" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(key, message, source) from None
    return LendingPolicy(
        loan_days=parsed.loans.days, max_renewals=parsed.loans.max_renewals,
        max_items=parsed.loans.max_items, overdue_grace_days=parsed.loans.overdue_grace_days,
        due_soon_days=parsed.reminders.due_soon_days,
        overdue_repeat_days=parsed.reminders.overdue_repeat_days,
        pin_attempts=parsed.kiosk.pin_attempts,
        pin_window_minutes=parsed.kiosk.pin_window_minutes,
        session_minutes=parsed.kiosk.session_minutes,
    )
