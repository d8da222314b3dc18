"""Staff alerts and request notices, all in this package: the pure policy and wording, the
notifier seam, and the alert book (one outbox for both).

- :class:`Notifier` is the one seam: ``send(alert, recipient) -> Delivery``. Production uses
  :class:`AppriseNotifier` (WeCom and DingTalk group robots, e-mail, webhooks…); tests use
  :class:`RecordingNotifier`. ``AppriseNotifier`` is imported lazily, so the pure parts load
  without Apprise.
- The policy functions (:func:`compose_alert`, :func:`due_levels`, :func:`release_at`,
  :func:`retry_delay`, :func:`delivery_key`) are pure: the server's outbox worker stores one
  row per :func:`delivery_key` and calls the notifier; see :mod:`server.alerts.policy`.
- :func:`compose_notice` (pure, :mod:`server.alerts.notices`) words the notices about a
  resident's request (:class:`NoticeKind`: new, dispatched, declined, overdue, resolved); the
  request side chooses who hears them through :class:`server.alerts.contacts.ContactBook` (squad
  and people channels from the site file, with fallbacks) and keeps them in the same book.
- :func:`load_alerts_config` reads ``config/alerts.toml``; channel secrets come from the
  environment.
- The alert book (:class:`server.alerts.outbox.AlertBook`) keeps the alerts in the database, in
  the tables of :mod:`server.alerts.rows` (:class:`~server.alerts.rows.AlertRow` and its
  deliveries, the outbox). Those modules (and ``contacts``) need SQLAlchemy and the server's
  models, so they are imported by name, not from here.

One name per thing: :class:`AlertMessage` is what a channel carries, ``AlertRow`` what the book
stores, ``sensors.contract.AlertNotice`` what the MQTT alert topic carries.

Errors::

    ServicepointError
    ├── ConfigError(ValueError)              a bad key in config/alerts.toml, named
    └── AlertsError
        ├── InvalidPolicy(ValueError)        an impossible ladder or retry policy
        └── DeliveryFailed(ConnectionError)  only from Delivery.raise_for_failure()
"""

from typing import TYPE_CHECKING, Any

from server.alerts.config import AlertsConfig, alerts_config_from_mapping, load_alerts_config
from server.alerts.errors import AlertsError, DeliveryFailed, InvalidPolicy
from server.alerts.model import AlertKind, AlertMessage, Delivery, NoticeKind, Recipient
from server.alerts.notices import RequestFacts, compose_notice, notice_key
from server.alerts.notifier import Notifier, RecordingNotifier
from server.alerts.policy import (
    AlertSubject,
    EscalationLadder,
    QuietHours,
    RetryPolicy,
    SiteInfo,
    compose_alert,
    delivery_key,
    due_levels,
    in_quiet_hours,
    next_attempt_at,
    next_escalation_at,
    recipients_for_level,
    release_at,
    retry_delay,
)

if TYPE_CHECKING:
    from server.alerts.apprise_notifier import AppriseNotifier

__all__ = [
    "AlertKind",
    "AlertMessage",
    "AlertSubject",
    "AlertsConfig",
    "AlertsError",
    "AppriseNotifier",
    "Delivery",
    "DeliveryFailed",
    "EscalationLadder",
    "InvalidPolicy",
    "NoticeKind",
    "Notifier",
    "QuietHours",
    "Recipient",
    "RecordingNotifier",
    "RequestFacts",
    "RetryPolicy",
    "SiteInfo",
    "alerts_config_from_mapping",
    "compose_alert",
    "compose_notice",
    "delivery_key",
    "due_levels",
    "in_quiet_hours",
    "load_alerts_config",
    "next_attempt_at",
    "next_escalation_at",
    "notice_key",
    "recipients_for_level",
    "release_at",
    "retry_delay",
]


def __getattr__(name: str) -> Any:
    # Apprise loads its many plugins at import; only the process that sends needs it.
    if name == "AppriseNotifier":
        from server.alerts.apprise_notifier import AppriseNotifier

        return AppriseNotifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
