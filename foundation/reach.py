"""Who can open a link to ``http.public_url``: anyone (a public host) or only the local network.

The QR codes on the kiosk's done screen, the slips and the posters all point at ``public_url``.
When its host is a loopback or private address (10/8, 172.16/12, 192.168/16, link-local, a
``.local`` or single-label name, ``localhost``), a phone on mobile data, or a daughter in another
city, cannot open it: only a phone on the service point's Wi-Fi can. Three readers share this one
judgement, so they never disagree:

- ``servicepoint doctor`` fails a production setting whose ``public_url`` is LAN-only
  (servicepoint/public_url.py);
- the server says it in ``GET /api/v1/site`` as ``links_reachable``;
- the kiosk puts a plain caption under the QR code (kiosk/presenters/request.py).

Pure: no network, no name lookups (a name is judged by its form only)::

    >>> links_reachable("http://192.168.1.20:8080")
    'lan'
    >>> links_reachable("https://sp.example.cn")
    'anywhere'
"""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["Reach", "lan_only_reason", "links_reachable"]

Reach = Literal["lan", "anywhere"]

# Names that never resolve outside the local network (RFC 6762 .local, RFC 8375 home.arpa, and
# the suffixes home routers hand out).
_LOCAL_SUFFIXES = (".local", ".lan", ".home", ".internal", ".localdomain", ".home.arpa")


def lan_only_reason(url: str) -> str | None:
    """Why a link to ``url`` opens only on the local network, in a few words ("a loopback
    address", "a private address", ...), or None when its host is public."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if not host:
        return "no host name"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            return "a loopback name (localhost)"
        if host.endswith(_LOCAL_SUFFIXES):
            return f"a local network name ({host})"
        if "." not in host:
            return f"a name only the local network knows ({host})"
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private or address.is_unspecified:
        return "a private address"
    if not address.is_global:  # carrier-grade NAT (100.64/10), reserved ranges
        return "an address not reachable from the internet"
    return None


def links_reachable(url: str) -> Reach:
    """``"lan"`` when a link to ``url`` opens only on the local network, else ``"anywhere"``."""
    return "lan" if lan_only_reason(url) is not None else "anywhere"
