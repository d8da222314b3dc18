"""The kiosk's HTTP client for the server's API (docs/API.md). The only way the kiosk reaches
the server.

One seam, ``transport=``: tests pass ``httpx.MockTransport`` and never need a network::

    client = ServerClient("http://127.0.0.1:8080", kiosk_key="...", timeout=5.0)
    raw = client.get_categories()      # JSON, for the cache; parse with kiosk.catalog
    filed = client.file_request(body)  # FiledRequest
    reader = client.open_library_session(card_id="P1234567897")   # the library (kiosk.lending)
    loan = client.borrow(reader.session, copy_id="LB-0001", client_id="kiosk-b-1234abcd")

Errors (see kiosk.errors): no answer, a timeout or a 5xx raise ServerUnavailable; a 4xx raises
ServerRefused with the API's error code; a body that is not the documented JSON raises BadReply.
Every call blocks, so the app makes them from worker threads, never from the UI thread.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# httpx loads its command line (rich, pygments and click, about 5 MiB resident) whenever those
# happen to be installed, as they are beside the server's tools; the kiosk never runs it. A None
# entry makes that one import fail, and httpx then goes without it, as on a kiosk-only install.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx  # noqa: E402

from foundation.redact import short_hash
from kiosk.errors import BadReply, ServerRefused, ServerUnavailable
from kiosk.lending import (
    CheckIn,
    Loan,
    Patron,
    Reader,
    parse_loan,
    parse_loans,
    parse_return,
    parse_session,
)

__all__ = [
    "Alert",
    "ExtinguisherBay",
    "FiledRequest",
    "OpenTicket",
    "ServerClient",
    "SiteStatus",
    "WaterTank",
    "parse_site_status",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FiledRequest:
    number: str
    status: str
    phone_token: str
    status_url: str
    appointment_at: datetime | None = None  # a by-appointment request's booked time (aware)


def _appointment(value: object) -> datetime | None:
    """The filed request's ``appointment_at``; missing, null or unreadable is None (the kiosk
    then shows the slot it booked)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


@dataclass(frozen=True)
class WaterTank:
    asset_id: str
    name: str
    level_percent: float | None
    cleaning_due: str | None
    conditions: tuple[str, ...]


@dataclass(frozen=True)
class ExtinguisherBay:
    asset_id: str
    name: str
    present: bool | None
    pressure_ok: bool | None
    door_open: bool | None
    conditions: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return (self.present is not False and self.pressure_ok is not False
                and not self.door_open and not self.conditions)


@dataclass(frozen=True)
class OpenTicket:
    id: int | str
    number: str
    title: str
    status: str
    priority: str


@dataclass(frozen=True)
class Alert:
    id: int | str
    title: str
    urgent: bool
    acknowledged: bool


@dataclass(frozen=True)
class SiteStatus:
    site: str
    tanks: tuple[WaterTank, ...] = ()
    extinguisher_bays: tuple[ExtinguisherBay, ...] = ()
    open_tickets: tuple[OpenTicket, ...] = ()
    alerts: tuple[Alert, ...] = field(default=())


def _as_list(payload: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = payload.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadReply(f"site status: {key} must be a list of objects")
    return value


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def parse_site_status(payload: object) -> SiteStatus:
    """``GET /api/v1/site/status``; missing lists are taken as empty (no sensor data yet)."""
    if not isinstance(payload, dict):
        raise BadReply("site status: expected an object")
    return SiteStatus(
        site=str(payload.get("site", "")),
        tanks=tuple(
            WaterTank(asset_id=str(t.get("asset_id", "")),
                      name=str(t.get("name") or t.get("asset_id", "")),
                      level_percent=_float(t.get("level_percent")),
                      cleaning_due=str(t["cleaning_due"]) if t.get("cleaning_due") else None,
                      conditions=tuple(str(c) for c in t.get("conditions") or ()))
            for t in _as_list(payload, "tanks")
        ),
        extinguisher_bays=tuple(
            ExtinguisherBay(asset_id=str(b.get("asset_id", "")),
                            name=str(b.get("name") or b.get("asset_id", "")),
                            present=_bool(b.get("present")),
                            pressure_ok=_bool(b.get("pressure_ok")),
                            door_open=_bool(b.get("door_open")),
                            conditions=tuple(str(c) for c in b.get("conditions") or ()))
            for b in _as_list(payload, "extinguisher_bays")
        ),
        open_tickets=tuple(
            OpenTicket(id=t.get("id", ""), number=str(t.get("number") or ""),
                       title=str(t.get("title") or t.get("category") or ""),
                       status=str(t.get("status") or ""), priority=str(t.get("priority") or ""))
            for t in _as_list(payload, "open_tickets")
        ),
        alerts=tuple(
            Alert(id=a.get("id", ""), title=str(a.get("title") or ""), urgent=bool(a.get("urgent")),
                  acknowledged=bool(a.get("acknowledged")))
            for a in _as_list(payload, "alerts")
        ),
    )


class ServerClient:
    """The server's public and kiosk-key API, over one reusable httpx client.

    httpx.Client is safe to share between threads, so the app's worker threads use one instance.
    """

    def __init__(
        self,
        base_url: str,
        *,
        kiosk_key: str,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._kiosk_key = kiosk_key
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "servicepoint-kiosk"},
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ServerUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            # 429: too many filings for now. Not a refusal: the outbox keeps it and retries.
            raise ServerUnavailable(f"{method} {path}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            error = error if isinstance(error, dict) else {}
            raise ServerRefused(response.status_code, str(error.get("code", "http_error")),
                                str(error.get("message", response.reason_phrase)),
                                message_zh=str(error.get("message_zh") or ""),
                                message_en=str(error.get("message_en") or ""))
        if body is None:
            raise BadReply(f"{method} {path}: the answer is not JSON")
        return response.status_code, body

    def get_categories(self) -> Any:
        """The raw JSON of ``GET /api/v1/categories`` (parse it with kiosk.catalog)."""
        return self._call("GET", "/api/v1/categories")[1]

    def get_places(self) -> Any:
        """The places of the kiosk's own site: its key names the site at a district's centre."""
        return self._call("GET", "/api/v1/places", headers={"X-Kiosk-Key": self._kiosk_key})[1]

    def get_slots(self, category: str) -> Any:
        """The raw JSON of ``GET /api/v1/slots?category=…`` (parse it with kiosk.catalog): its
        own site's times, which its key names at a district's centre."""
        return self._call("GET", "/api/v1/slots", params={"category": category},
                          headers={"X-Kiosk-Key": self._kiosk_key})[1]

    def file_request(self, body: dict[str, Any]) -> FiledRequest:
        """POST /api/v1/requests. A retry with the same client_id returns the first filing.

        The kiosk key goes with it: the server counts the kiosk's filings against the kiosk's
        own limit (not its address's) and answers a replay only to the kiosk that filed it.
        A refused key is the installer's mistake, not the request's: it is kept and retried
        (ServerUnavailable), never set aside as refused."""
        try:
            status, reply = self._call("POST", "/api/v1/requests", json=body,
                                       headers={"X-Kiosk-Key": self._kiosk_key})
        except ServerRefused as exc:
            if exc.status != 401:
                raise
            log.error("the server refused this kiosk's key (security.kiosk_key differs from "
                      "the server's): requests are kept here until it is fixed")
            raise ServerUnavailable(f"POST /api/v1/requests: {exc}") from exc
        if not isinstance(reply, dict) or not isinstance(reply.get("number"), str):
            raise BadReply("filing: the answer has no number")
        log.info("request %s filed as %s (HTTP %d)", short_hash(body.get("client_id")),
                 reply["number"], status)
        return FiledRequest(
            number=reply["number"],
            status=str(reply.get("status", "")),
            phone_token=str(reply.get("phone_token") or body.get("phone_token") or ""),
            status_url=str(reply.get("status_url") or ""),
            appointment_at=_appointment(reply.get("appointment_at")),
        )

    def site_status(self) -> SiteStatus:
        reply = self._call("GET", "/api/v1/site/status",
                           headers={"X-Kiosk-Key": self._kiosk_key})[1]
        return parse_site_status(reply)

    def track(self, phone_token: str) -> Any:
        return self._call("GET", f"/api/v1/track/{phone_token}")[1]

    def lookup_request(self, *, number: str, phone_last4: str | None) -> Any:
        """``POST /api/v1/requests/lookup`` (查进度): the raw answer, for kiosk.flow.lookup's
        ``parse_lookup``; a wrong pair is ServerRefused 404."""
        body: dict[str, str] = {"number": number}
        if phone_last4:
            body["phone_last4"] = phone_last4
        return self._call("POST", "/api/v1/requests/lookup", json=body,
                          headers={"X-Kiosk-Key": self._kiosk_key})[1]

    def call_staff(self, *, kiosk_id: str, place: str, screen: str) -> Any:
        """``POST /api/v1/kiosk/help`` (呼叫工作人员): an urgent alert to the duty staff."""
        return self._call("POST", "/api/v1/kiosk/help",
                          json={"kiosk_id": kiosk_id, "place": place, "screen": screen},
                          headers={"X-Kiosk-Key": self._kiosk_key})[1]

    def send_heartbeat(self, body: dict[str, Any]) -> Any:
        """``POST /api/v1/kiosk/heartbeat``: alive, and what the outbox holds
        (kiosk/heartbeat.py)."""
        return self._call("POST", "/api/v1/kiosk/heartbeat", json=body,
                          headers={"X-Kiosk-Key": self._kiosk_key})[1]

    def send_recording(self, client_id: str, wav: bytes) -> Any:
        """``POST /api/v1/requests/<client id>/recording``: a request's spoken description,
        after its filing (kiosk/recorder.py's spool retries it); ServerRefused 404 while the
        request has not reached the server."""
        return self._call("POST", f"/api/v1/requests/{client_id}/recording", content=wav,
                          headers={"X-Kiosk-Key": self._kiosk_key,
                                   "Content-Type": "audio/wav"})[1]

    # --- the library (docs/LIBRARY.md) -----------------------------------------------------

    _LIBRARY = "/api/v1/library"

    def _library(self, method: str, path: str, *, session: str = "", **kwargs: Any) -> Any:
        headers = {"X-Kiosk-Key": self._kiosk_key}
        if session:
            headers["X-Library-Session"] = session
        return self._call(method, self._LIBRARY + path, headers=headers, **kwargs)[1]

    def open_library_session(self, *, card_id: str | None = None, phone: str | None = None,
                             pin: str | None = None) -> Reader:
        """Identify a reader by what the scanner read off their card, or by phone and PIN."""
        body = {"card_id": card_id} if card_id is not None else {"phone": phone, "pin": pin}
        return parse_session(self._library("POST", "/sessions", json=body))

    def end_library_session(self, session: str) -> None:
        headers = {"X-Kiosk-Key": self._kiosk_key, "X-Library-Session": session}
        try:
            response = self._http.delete(self._LIBRARY + "/sessions/current", headers=headers)
        except httpx.TransportError as exc:
            raise ServerUnavailable(f"DELETE library session: {exc}") from exc
        if response.status_code >= 500:
            raise ServerUnavailable(f"DELETE library session: HTTP {response.status_code}")

    def borrow(self, session: str, *, copy_id: str, client_id: str) -> Loan:
        return parse_loan(self._library("POST", "/loans", session=session,
                                        json={"copy_id": copy_id, "client_id": client_id}))

    def renew(self, session: str, *, copy_id: str) -> Loan:
        return parse_loan(self._library("POST", "/renewals", session=session,
                                        json={"copy_id": copy_id}))

    def my_loans(self, session: str) -> tuple[Patron, tuple[Loan, ...]]:
        return parse_loans(self._library("GET", "/session/loans", session=session))

    def return_copy(self, body: dict[str, Any]) -> CheckIn:
        """``POST /returns``; applied once per ``client_id``, so a replay is safe."""
        return parse_return(self._library("POST", "/returns", json=body))
