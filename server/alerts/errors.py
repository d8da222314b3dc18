"""Errors the alerting code raises on purpose::

    ServicepointError
    ├── ConfigError(ValueError)              config/alerts.toml has a bad key (named in the message)
    └── AlertsError
        ├── InvalidPolicy(ValueError)        an impossible ladder or retry policy
        └── DeliveryFailed(ConnectionError)  raised only by Delivery.raise_for_failure()

A notifier never raises for a failed delivery: it returns a :class:`~server.alerts.Delivery`
with ``ok=False``, so one dead channel never stops the outbox loop.
"""

from foundation.errors import ServicepointError

__all__ = ["AlertsError", "DeliveryFailed", "InvalidPolicy"]


class AlertsError(ServicepointError):
    """Base class of the alerting errors."""


class DeliveryFailed(AlertsError, ConnectionError):
    """A delivery did not go through; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class InvalidPolicy(AlertsError, ValueError):
    """An escalation ladder or retry policy that cannot work (e.g. delays going down)."""
