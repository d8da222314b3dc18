"""The done screen's plain word about who can open its QR code (issue 19).

A kiosk whose links point at the station's own network (``http.public_url`` on a private or
loopback address: a lone Pi with no centre) prints a QR code that a phone on mobile data cannot
open. The resident is told so under the code, in the words of ``done_lan_only``, so nobody scans
it at home and finds nothing. The judgement is ``foundation.reach``'s, the same the doctor and
the server's ``GET /api/v1/site`` use, made on the very URL the code carries.

Pure: used by kiosk/screens/request.py (DoneScreen.refresh)::

    done_reach_note("zh_CN", "http://192.168.1.20:8080/r/abc")   # "此二维码只能在服务站的…"
    done_reach_note("zh_CN", "https://sp.example.cn/r/abc")      # ""
"""

from __future__ import annotations

from foundation.reach import links_reachable
from kiosk.i18n import tr

__all__ = ["done_reach_note"]


def done_reach_note(lang: str, status_url: str) -> str:
    """The caption under the QR code when it opens only on the station's Wi-Fi, else ""."""
    if not status_url or links_reachable(status_url) == "anywhere":
        return ""
    return tr(lang, "done_lan_only")
