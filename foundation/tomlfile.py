"""Reading the project's TOML files with one kind of error: a ConfigError that names the setting
that pointed at the file (when it is missing) or the file itself (when it does not parse)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from foundation.errors import ConfigError

__all__ = ["read_toml"]


def read_toml(path: Path | str, *, key: str) -> dict[str, Any]:
    """The parsed file. ``key`` names the setting or option that chose the file."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(key, f"no such file: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("(file)", f"is not valid TOML: {exc}", str(path)) from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        raise ConfigError(key, f"cannot be read: {exc}", str(path)) from None
