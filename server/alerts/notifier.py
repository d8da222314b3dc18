"""The notifier seam: one method, ``send(alert, recipient) -> Delivery``, and a fake for tests.

The outbox worker holds a :class:`Notifier`; production passes
:class:`~server.alerts.apprise_notifier.AppriseNotifier`, tests pass :class:`RecordingNotifier`::

    notifier = RecordingNotifier(fail={"wang/wecom"})
    delivery = notifier.send(alert, recipient)
    assert notifier.sent == [(alert, recipient)]

A notifier must not raise for a failed delivery; it returns ``Delivery(ok=False, ...)``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol, runtime_checkable

from server.alerts.model import AlertMessage, Delivery, Recipient

__all__ = ["Notifier", "RecordingNotifier"]


@runtime_checkable
class Notifier(Protocol):
    def send(self, alert: AlertMessage, recipient: Recipient) -> Delivery:
        """Deliver ``alert`` to ``recipient``; report failure in the result, never by raising."""
        ...


class RecordingNotifier:
    """Remembers every send. Recipients whose key is in ``fail`` get a retryable failure."""

    def __init__(self, *, fail: Collection[str] = (), retryable: bool = True) -> None:
        self.fail = set(fail)
        self.retryable = retryable
        self.sent: list[tuple[AlertMessage, Recipient]] = []
        self.attempts: list[tuple[AlertMessage, Recipient]] = []

    def send(self, alert: AlertMessage, recipient: Recipient) -> Delivery:
        self.attempts.append((alert, recipient))
        if recipient.key in self.fail:
            return Delivery.failed(recipient, "refused by the fake", retryable=self.retryable)
        self.sent.append((alert, recipient))
        return Delivery.delivered(recipient)
