"""Logging set-up shared by every servicepoint process."""

import logging
import os

__all__ = ["configure_logging"]

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(level: str | None = None) -> None:
    """Log to stderr (journald picks it up under systemd) at SERVICEPOINT_LOG_LEVEL or INFO."""
    chosen = (level or os.environ.get("SERVICEPOINT_LOG_LEVEL") or "INFO").upper()
    logging.basicConfig(level=chosen, format=_FORMAT)
    # Third-party chatter that drowns out our own events at INFO.
    for noisy in ("uvicorn.access", "apprise", "alembic", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
