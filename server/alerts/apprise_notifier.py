"""Staff alerts and request notices through Apprise: WeCom and DingTalk group robots, e-mail,
SMS gateways, and many more.

Each recipient's channel is an Apprise URL (from an environment variable, see
``config/alerts.toml``), for example:

- WeCom (企业微信) group robot: ``wecombot://<botkey>``
- DingTalk (钉钉) group robot: ``dingtalk://<token>/`` or ``dingtalk://<secret>@<token>/``
- e-mail: ``mailtos://user:password@smtp.example.com?to=duty@example.com``
- any webhook: ``json://host/path`` or ``form://host/path``

::

    notifier = AppriseNotifier(timeout_s=15)
    delivery = notifier.send(alert, recipient)   # never raises for a failed delivery

One :class:`apprise.Apprise` object is built per send, so one recipient's URL never leaks into
another's message and nothing is shared between outbox worker threads.
"""

from __future__ import annotations

import logging

import apprise

from server.alerts.model import AlertKind, AlertMessage, Delivery, NoticeKind, Recipient

__all__ = ["AppriseNotifier"]

logger = logging.getLogger(__name__)

_DETAIL_CHARS = 300


def _notify_type(alert: AlertMessage) -> apprise.NotifyType:
    if alert.kind in (AlertKind.CLEARED, NoticeKind.RESOLVED):
        return apprise.NotifyType.SUCCESS
    if isinstance(alert.kind, NoticeKind) and alert.kind is not NoticeKind.OVERDUE:
        return apprise.NotifyType.FAILURE if alert.urgent else apprise.NotifyType.INFO
    return apprise.NotifyType.FAILURE if alert.urgent else apprise.NotifyType.WARNING


class AppriseNotifier:
    """A :class:`~server.alerts.notifier.Notifier` that sends through the Apprise library."""

    def __init__(self, *, timeout_s: float = 15.0, app_id: str = "servicepoint") -> None:
        self.timeout_s = timeout_s
        self._asset = apprise.AppriseAsset(app_id=app_id, app_desc="Community service point")

    @staticmethod
    def accepts(url: str) -> bool:
        """Whether Apprise understands ``url`` (for checking config at start-up)."""
        return apprise.Apprise().add(url)

    def send(self, alert: AlertMessage, recipient: Recipient) -> Delivery:
        try:
            sender = apprise.Apprise(asset=self._asset)
            if not sender.add(recipient.url):
                logger.error("alert %s: %s has a URL Apprise does not understand",
                             alert.key, recipient.key)
                return Delivery.failed(
                    recipient, "unsupported or malformed notification URL", retryable=False
                )
            result = sender.notify(
                body=alert.body,
                title=alert.title,
                notify_type=_notify_type(alert),
                body_format=apprise.NotifyFormat.TEXT,
                timeout=self.timeout_s,
            )
        except Exception as exc:  # a plugin bug must not kill the outbox loop
            logger.exception("alert %s to %s: Apprise raised", alert.key, recipient.key)
            return Delivery.failed(recipient, f"{type(exc).__name__}: {exc}"[:_DETAIL_CHARS],
                                   retryable=True)
        if result:
            logger.info("alert %s delivered to %s", alert.key, recipient.key)
            return Delivery.delivered(recipient)
        problems = [entry.message for entry in result.logs()
                    if entry.level in ("WARNING", "ERROR", "CRITICAL")]
        detail = f"{result.status.name}: {problems[-1] if problems else 'not delivered'}"
        logger.warning("alert %s to %s failed: %s", alert.key, recipient.key, detail)
        return Delivery.failed(recipient, detail[:_DETAIL_CHARS], retryable=True)
