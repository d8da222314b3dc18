"""The root of every error servicepoint raises on purpose.

Each error also inherits the builtin it is a kind of, so callers can catch either::

    ServicepointError
    ├── ConfigError(ValueError)          a bad setting; the message names the key
    └── (server.errors, sensors.errors, kiosk.errors define their own branches)
"""

__all__ = ["ConfigError", "ServicepointError"]


class ServicepointError(Exception):
    """Base class of all servicepoint errors."""


class ConfigError(ServicepointError, ValueError):
    """A configuration value is missing, malformed or impossible.

    ``key`` is the dotted name of the offending setting, e.g. ``database.url``.
    """

    def __init__(self, key: str, message: str, source: str | None = None) -> None:
        self.key = key
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {message}")
