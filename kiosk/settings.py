"""The kiosk's settings: its ``[kiosk]`` section, the site, and two keys of the server's sections.

Read from the site's shared TOML file and the environment by :func:`load_kiosk_settings` (the
reader is ``foundation.settings``). The kiosk reads only what it uses, so a kiosk on a Pi whose
env file holds just ``SERVICEPOINT_ENVIRONMENT=production``, its key
(``SERVICEPOINT_SECURITY__KIOSK_KEY``) and its staff PIN (``SERVICEPOINT_KIOSK__STAFF_PIN``; the
shipped one is refused in production) starts; the server's secrets are the server's to check::

    settings = load_kiosk_settings(env={"SERVICEPOINT_KIOSK__KIOSK_ID": "K2"})
    settings.kiosk.server_url, settings.security.kiosk_key, settings.data_dir / "kiosk"

Sections: ``[kiosk]`` is the kiosk's own (a misspelt key there stops it, naming the key);
``[site]`` is shared; of ``[security]`` it reads ``kiosk_key`` and of ``[http]`` ``public_url``
(where phones reach the server, for the QR code of a request filed while the server was away).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field

from foundation.settings import (
    DEVELOPMENT_KIOSK_KEY,
    AppSettings,
    BorrowedSection,
    PublicUrl,
    Secret,
    Section,
    load_app_settings,
    refuse_weak_secrets,
)

__all__ = ["DEVELOPMENT_STAFF_PIN", "KioskAppSettings", "KioskKey", "KioskSettings",
           "PublicAddress", "load_kiosk_settings"]


# The staff PIN a checkout starts with; in production the kiosk refuses it (everyone knows it).
DEVELOPMENT_STAFF_PIN = "2468"


class KioskSettings(Section):
    server_url: str = "http://127.0.0.1:8080"
    kiosk_id: str = Field(default="K1", pattern=r"^[A-Z][A-Z0-9]{0,3}$")
    font_path: Path = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    fullscreen: bool = False
    language: Literal["zh_CN", "en"] = "zh_CN"
    idle_seconds: int = Field(default=90, ge=10)
    idle_warning_seconds: int = Field(default=30, ge=20)
    voice: bool = False
    voice_command: str = "espeak-ng -v cmn -s 140"
    staff_pin: str = Field(default=DEVELOPMENT_STAFF_PIN, pattern=r"^\d{4,8}$")
    request_timeout_s: float = Field(default=5.0, gt=0, le=60)


class KioskKey(BorrowedSection):
    """``[security]`` as the kiosk sees it: the key it sends as X-Kiosk-Key in staff mode."""

    kiosk_key: str = Field(default=DEVELOPMENT_KIOSK_KEY, min_length=12)


class PublicAddress(BorrowedSection):
    """``[http]`` as the kiosk sees it: the address phones reach the server at."""

    public_url: PublicUrl = "http://127.0.0.1:8080"


class KioskAppSettings(AppSettings):
    kiosk: KioskSettings = KioskSettings()
    security: KioskKey = KioskKey()
    http: PublicAddress = PublicAddress()


def load_kiosk_settings(path: Path | str | None = None,
                        env: Mapping[str, str] | None = None) -> KioskAppSettings:
    """The kiosk's settings; in production its key must be neither the placeholder nor short,
    and its staff PIN not the one the code ships."""
    settings = load_app_settings(KioskAppSettings, path, env)
    refuse_weak_secrets(
        settings,
        Secret("security.kiosk_key", settings.security.kiosk_key, DEVELOPMENT_KIOSK_KEY,
               "SERVICEPOINT_SECURITY__KIOSK_KEY"),
        Secret("kiosk.staff_pin", settings.kiosk.staff_pin, DEVELOPMENT_STAFF_PIN,
               "SERVICEPOINT_KIOSK__STAFF_PIN", min_length=4))
    return settings
