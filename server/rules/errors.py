"""Errors the rules engine raises on purpose::

    ServicepointError
    └── RulesError(ValueError)       a fact or observation the rules cannot use
        └── StateError               persisted evaluation state that does not parse

Config problems raise :class:`foundation.errors.ConfigError` instead, naming the key.
"""

from foundation.errors import ServicepointError

__all__ = ["RulesError", "StateError"]


class RulesError(ServicepointError, ValueError):
    """An observation or register fact is malformed (e.g. a naive datetime)."""


class StateError(RulesError):
    """Persisted evaluation state could not be read back; start from an empty state."""
