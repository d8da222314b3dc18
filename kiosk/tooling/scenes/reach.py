"""The done screen as a district kiosk and a lone Pi's kiosk show it (issue 19): a QR code that
opens anywhere (the centre's https address) and one that opens only on the station's Wi-Fi,
with its caption (kiosk/presenters/reach.py). Registered in kiosk.tooling.scenes."""

from __future__ import annotations

from typing import Any

from kiosk.flow import Receipt
from kiosk.tooling.scenes.base import DEMO_TOKEN, ManualClock, Scene
from kiosk.tooling.scenes.request import REQUEST_SCENES

__all__ = ["CENTRE_URL", "LAN_URL", "REACH_SCENES"]

CENTRE_URL = "https://sp.example.cn"  # a district's centre, behind Caddy
LAN_URL = "http://192.168.1.20:8080"  # a lone Pi on the station's Wi-Fi


def _done_at(app: Any, clock: ManualClock, base: str) -> None:
    REQUEST_SCENES["review"](app, clock)
    app.flow.submit()
    app.flow.filed(Receipt(number="K1-0042", status_url=f"{base}/r/{DEMO_TOKEN}"))
    app.sync()


def _done_anywhere(app: Any, clock: ManualClock) -> None:
    _done_at(app, clock, CENTRE_URL)


def _done_lan_only(app: Any, clock: ManualClock) -> None:
    _done_at(app, clock, LAN_URL)


REACH_SCENES: dict[str, Scene] = {
    "done_anywhere": _done_anywhere,
    "done_lan_only": _done_lan_only,
}
