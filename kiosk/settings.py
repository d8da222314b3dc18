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

from pydantic import Field, model_validator

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

__all__ = ["DEVELOPMENT_STAFF_PIN", "KeptFor", "KioskAppSettings", "KioskKey", "KioskSettings",
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
    # Spoken prompts (kiosk/voice.py), on by default: not every resident reads well.
    voice: bool = True
    voice_command: str = "espeak-ng -v cmn"
    # espeak-ng's -s (words a minute; its own 175 is quick for elders) and -a (loudness, 0-200).
    voice_speed: int = Field(default=140, ge=80, le=300)
    voice_volume: int = Field(default=100, ge=0, le=200)
    # A tile's first touch says it and marks it, the second chooses; off for sighted users.
    two_touch: bool = True
    # Start in 大字 (larger type); residents switch it on every screen.
    large_text: bool = False
    staff_pin: str = Field(default=DEVELOPMENT_STAFF_PIN, pattern=r"^\d{4,8}$")
    request_timeout_s: float = Field(default=5.0, gt=0, le=60)
    # Where the kiosk stands ("劳动路服务站门口"): told to the staff when a resident calls them.
    place: str = Field(default="", max_length=80)
    # The receipt printer for the resident's slip (kiosk/printer.py): "none" shows no print
    # button; "png" saves each slip as a picture (demos, tests). USB ids as lsusb shows them
    # (0x0416 in the file); paper 384 dots wide for 58 mm, 576 for 80 mm.
    printer: Literal["none", "usb", "serial", "png"] = "none"
    printer_usb_vendor: int = Field(default=0, ge=0, le=0xFFFF)
    printer_usb_product: int = Field(default=0, ge=0, le=0xFFFF)
    printer_serial_device: str = "/dev/ttyUSB0"
    printer_baudrate: int = Field(default=9600, gt=0)
    printer_paper_dots: Literal[384, 576] = 384
    # 说一说, the spoken description (kiosk/microphone.py): "auto" offers it when arecord lists
    # a capture device (a USB microphone), "off" never; or an ALSA device name ("plughw:1,0").
    microphone: str = Field(default="auto", pattern=r"^(auto|off|[A-Za-z0-9:,=_.-]{1,60})$")

    @model_validator(mode="after")
    def _usb_printer_needs_ids(self) -> KioskSettings:
        if self.printer == "usb" and not (self.printer_usb_vendor and self.printer_usb_product):
            raise ValueError('printer = "usb" needs printer_usb_vendor and printer_usb_product')
        return self


class KioskKey(BorrowedSection):
    """``[security]`` as the kiosk sees it: the key it sends as X-Kiosk-Key in staff mode."""

    kiosk_key: str = Field(default=DEVELOPMENT_KIOSK_KEY, min_length=12)


class PublicAddress(BorrowedSection):
    """``[http]`` as the kiosk sees it: the address phones reach the server at."""

    public_url: PublicUrl = "http://127.0.0.1:8080"


class KeptFor(BorrowedSection):
    """``[retention]`` as the kiosk sees it: how long a request's phone number is kept (the
    server erases it; the kiosk says so beside the phone keypad)."""

    contact_days: int = Field(default=180, ge=1, le=3650)


class KioskAppSettings(AppSettings):
    kiosk: KioskSettings = KioskSettings()
    security: KioskKey = KioskKey()
    http: PublicAddress = PublicAddress()
    retention: KeptFor = KeptFor()


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
