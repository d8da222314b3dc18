"""The demo's scripted story, played over the server's HTTP API as the people in it would.

``servicepoint demo`` (servicepoint/demo.py) starts one :class:`Story` once the server answers.
It prints, as staff would see them, the tickets and alerts the sensors' scenario causes, and
plays the request's three hands (居民点单、分队下单、党员接单): the resident's request (tapped in on
the kiosk's screen: the kiosk's demo resident reports what the screen shows, and the staff API
says when the server has it; with no kiosk, filed over HTTP as the kiosk would), the squad
leader's dispatch, the volunteer's acceptance and, later, "done". Everything goes through
public interfaces, the HTTP API and the kiosk's report: no database or outbox file of another
program is read.

The :class:`NoticeBoard` stands in for the channels people read (squad 1's WeCom group, the
volunteer's own robot, the resident's SMS): the demo points their variables at it as Apprise
``json://`` URLs, so the server's notice loop really sends, and the board prints each notice as
it arrives: what the squad, the volunteer (with the one-tap link) and the resident are told.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

__all__ = ["NoticeBoard", "Story"]

log = logging.getLogger("servicepoint.demo")


class NoticeBoard:
    """A local HTTP endpoint that prints every notice the server sends to it.

    ``channels()`` gives the environment for the server: each channel variable of the demo
    site (config/demo-site.toml, config/alerts.toml) as a ``json://`` URL to this board, with
    the path naming who would read it.
    """

    WHO = {"squad-1": "squad 1's group (第一小分队群, its WeCom robot)",
           "v01": "volunteer 建国 (lijianguo, his own robot)",
           "resident": "the resident (SMS)"}

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.received: list[tuple[str, str, str]] = []
        board = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", "0"))
                try:
                    payload = json.loads(self.rfile.read(length))
                    board.show(self.path, str(payload.get("title", "")),
                               str(payload.get("message", "")))
                    self.send_response(200)
                except ValueError:
                    self.send_response(400)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # the board prints what matters itself

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="notice-board",
                                       kwargs={"poll_interval": 0.2}, daemon=True)

    def channels(self) -> dict[str, str]:
        base = f"json://127.0.0.1:{self.port}"
        return {"SERVICEPOINT_NOTIFY_SQUAD1_URL": f"{base}/squad-1",
                "SERVICEPOINT_NOTIFY_V01_URL": f"{base}/v01",
                "SERVICEPOINT_NOTIFY_RESIDENT_SMS_URL": f"{base}/resident/{{phone}}"}

    def show(self, path: str, title: str, message: str) -> None:
        who = self.WHO.get(path.strip("/").split("/")[0], path)
        self.received.append((who, title, message))
        lines = "\n".join(f"        {line}" for line in message.splitlines())
        self.say(f"  ▸ Notice to {who}:\n      {title}\n{lines}")

    def heard_by(self, path: str) -> bool:
        """Whether a notice to ``path``'s reader (a key of WHO) has arrived."""
        return any(who == self.WHO[path] for who, _, _ in self.received)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Story(threading.Thread):
    """Watches the server and plays the resident's and the volunteers' part of the story.

    Every second it prints tickets and alerts that are new (as staff would see them), and at
    its times it files a request the way the kiosk does, dispatches it as the squad leader,
    accepts it as the volunteer and marks it done. A failed call is logged and tried again on
    the next round; the story never stops the demo.
    """

    # Seconds after start (times ``scale``) for the request's steps.
    FILE_AT, DISPATCH_AT, ACCEPT_AT, RESOLVE_AT = 30.0, 40.0, 50.0, 65.0
    # How long the story waits for the kiosk's resident before it files over HTTP instead.
    KIOSK_PATIENCE_S = 90.0

    def __init__(self, base_url: str, *, scale: float, kiosk_id: str, mqtt_port: int | None,
                 say: Callable[[str], None], stop: threading.Event,
                 kiosk_report: Path | None = None, board: NoticeBoard | None = None) -> None:
        super().__init__(name="demo-story", daemon=True)
        self.board = board
        self.base_url = base_url
        self.scale = scale
        self.kiosk_id = kiosk_id
        self.kiosk_report = kiosk_report
        self.mqtt_port = mqtt_port
        self.say = say
        self.halt = stop
        self.http = httpx.Client(base_url=base_url, timeout=10)
        self.tokens: dict[str, str] = {}
        self.seen_tickets: set[int] = set()
        self.last_alert = 0
        self.request: dict[str, Any] | None = None
        self.request_ticket: int | None = None
        self.dispatched = self.accepted = self.resolved = self.told_complete = False
        self.conditions: set[str] = set()
        self.urgent_alert = False
        self.pages = False

    # The story's milestones; the demo's test reads the same facts from the database.
    @property
    def complete(self) -> bool:
        # The last person told is the resident (asked to confirm): the story is complete only
        # once that notice has arrived, so "each step told" is true when it is printed.
        return ({"low_level", "missing"} <= self.conditions and self.urgent_alert
                and self.resolved and (self.board is None or self.board.heard_by("resident")))

    def run(self) -> None:
        started = time.monotonic()
        self.pages = self._has_staff_pages()
        while not self.halt.wait(1.0):
            elapsed = time.monotonic() - started
            try:
                self._watch()
                if self.request is None and elapsed >= self.FILE_AT * self.scale:
                    self._file_request(elapsed)
                elif self.request is not None and not self.dispatched and \
                        elapsed >= self.DISPATCH_AT * self.scale:
                    self._dispatch()
                elif self.dispatched and not self.accepted and \
                        elapsed >= self.ACCEPT_AT * self.scale:
                    self._accept()
                elif self.accepted and not self.resolved and \
                        elapsed >= self.RESOLVE_AT * self.scale:
                    self._resolve()
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                log.warning("demo story: %s; trying again", exc)
            if self.complete and not self.told_complete:
                self.told_complete = True
                self._tell_complete()
        self.http.close()

    # --- HTTP -----------------------------------------------------------------------------

    def _token(self, username: str, password: str) -> dict[str, str]:
        if username not in self.tokens:
            reply = self.http.post("/api/v1/auth/login",
                                   json={"username": username, "password": password})
            reply.raise_for_status()
            self.tokens[username] = reply.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def _get(self, path: str, who: tuple[str, str], **params: Any) -> Any:
        reply = self.http.get(path, headers=self._token(*who), params=params)
        reply.raise_for_status()
        return reply.json()

    def _post(self, path: str, who: tuple[str, str] | None, body: Any = None) -> Any:
        headers = self._token(*who) if who else {}
        reply = self.http.post(path, headers=headers, json=body)
        reply.raise_for_status()
        return reply.json()

    def _has_staff_pages(self) -> bool:
        try:
            return self.http.get("/login").status_code == 200
        except httpx.HTTPError:
            return False

    def _ticket_link(self, ticket_id: int) -> str:
        if self.pages:
            return f"{self.base_url}/staff/tickets/{ticket_id}"
        return f"{self.base_url}/api/v1/tickets/{ticket_id}  (signed in as staff)"

    # --- the parts ------------------------------------------------------------------------

    def _watch(self) -> None:
        staff = ("staff", "staff-demo")
        tickets = self._get("/api/v1/tickets", staff, kind="maintenance", limit=100)["tickets"]
        for ticket in sorted(tickets, key=lambda t: t["id"]):
            if ticket["id"] in self.seen_tickets or not ticket.get("condition"):
                continue
            self.seen_tickets.add(ticket["id"])
            self.conditions.add(ticket["condition"])
            if ticket["condition"] in ("low_level", "missing"):
                self.say(f"  ▸ Ticket {ticket['number']} raised by the sensors: {ticket['title']}"
                         f" ({ticket['priority']})\n      {self._ticket_link(ticket['id'])}")
        alerts = self._get("/api/v1/alerts", staff, after_id=self.last_alert)["alerts"]
        for alert in alerts:
            self.last_alert = max(self.last_alert, int(alert["id"]))
            if alert.get("condition") not in ("low_level", "missing"):
                continue
            if alert.get("urgent") and alert.get("kind") == "raised":
                self.urgent_alert = True
            self.say(f"  ▸ Alert to staff ({alert.get('kind')}): {alert.get('title')}")

    def _file_request(self, elapsed: float) -> None:
        if self.kiosk_report is not None:
            filed = self._filed_at_kiosk()
            if filed is not None:
                number, token = filed
                self.request = {"number": number, "phone_token": token}
                self.say(f"  ▸ A resident filed request {number} at the kiosk, tapping its "
                         f"screen (水电维修 water repair: a leak, 劳动新村1栋1单元).\n"
                         f"      Phone link (the QR code): {self.base_url}/r/{token}")
                return
            if elapsed < self.FILE_AT * self.scale + self.KIOSK_PATIENCE_S:
                return  # the resident is still tapping, or the kiosk is still sending
            log.warning("no request from the kiosk after %.0f s; filing it over HTTP instead",
                        elapsed)
            self.kiosk_report = None
        # The body the kiosk's flow builds (kiosk/flow/request.py request_body) with the number and
        # phone token its outbox adds (kiosk/outbox.py); 9001 is far from the kiosk's own count.
        body = {"client_id": f"demo-{secrets.token_hex(8)}", "category": "water_electric",
                "unit_code": "C01-B01-U1", "answers": {"problem": "leak"}, "description": "",
                "channel": "kiosk", "contact_phone": "13907310001",
                "number": f"{self.kiosk_id}-9001", "phone_token": secrets.token_urlsafe(32)}
        self.request = self._post("/api/v1/requests", None, body)
        url = self.request.get("status_url") or \
            f"{self.base_url}/r/{self.request['phone_token']}"
        self.say(f"  ▸ A resident filed request {self.request['number']} at the kiosk "
                 f"(水电维修 water repair: a leak, 劳动新村1栋1单元).\n"
                 f"      Phone link (the QR code): {url}")

    def _filed_at_kiosk(self) -> tuple[str, str] | None:
        """(number, phone token) of the request the kiosk's resident filed, once the server has it.

        What the resident's screen shows (the number, and the link in the QR code) comes from
        the report the kiosk's demo resident writes; that the kiosk has delivered it, from the
        server's staff API. The kiosk's own files stay its own."""
        assert self.kiosk_report is not None
        try:
            shown = json.loads(self.kiosk_report.read_text(encoding="utf-8"))
            number, status_url = str(shown["number"]), str(shown["status_url"])
        except FileNotFoundError:
            return None  # the resident is still tapping
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("the kiosk's report %s is not readable: %s", self.kiosk_report, exc)
            return None
        staff = ("staff", "staff-demo")
        tickets = self._get("/api/v1/tickets", staff, kind="request", limit=100)["tickets"]
        if not any(ticket["number"] == number for ticket in tickets):
            return None  # shown on the screen, still in the kiosk's outbox
        return number, status_url.rstrip("/").rsplit("/", 1)[-1]

    def _find_request_ticket(self, leader: tuple[str, str]) -> int:
        tickets = self._get("/api/v1/tickets", leader, kind="request", limit=100)["tickets"]
        for ticket in tickets:
            if self.request is not None and ticket["number"] == self.request["number"]:
                return int(ticket["id"])
        raise KeyError(f"request {self.request and self.request['number']} not in the queue")

    def _dispatch(self) -> None:
        leader = ("leader1", "leader-demo")
        self.request_ticket = self.request_ticket or self._find_request_ticket(leader)
        proposals = self._get(f"/api/v1/tickets/{self.request_ticket}/proposals",
                              leader)["proposals"]
        # The squad leader picks 建国 (lijianguo) when he is proposed, else the first.
        chosen = next((p for p in proposals if p["given_name"] == "建国"),
                      proposals[0] if proposals else None)
        if chosen is None:
            raise ValueError("no volunteer proposed for the request")
        self._post(f"/api/v1/tickets/{self.request_ticket}/dispatch", leader,
                   {"volunteer_id": chosen["volunteer_id"]})
        self.dispatched = True
        self.say(f"  ▸ Squad leader leader1 dispatched it to volunteer {chosen['given_name']} "
                 f"(分队下单).")

    def _accept(self) -> None:
        self._post(f"/api/v1/tickets/{self.request_ticket}/accept",
                   ("lijianguo", "volunteer-demo"))
        self.accepted = True
        where = f"{self.base_url}/v" if self.pages else f"{self.base_url}/api/v1/me/tasks"
        assert self.request is not None
        self.say(f"  ▸ Volunteer lijianguo (建国) accepted it (党员接单): {where}\n"
                 f"      The resident's phone page now says who is coming: "
                 f"{self.base_url}/r/{self.request['phone_token']}")

    def _resolve(self) -> None:
        self._post(f"/api/v1/tickets/{self.request_ticket}/resolve",
                   ("lijianguo", "volunteer-demo"), {"note": "换了阀门垫圈 / replaced the washer"})
        self.resolved = True
        assert self.request is not None
        link = f"{self.base_url}/r/{self.request['phone_token']}"
        self.say(f"  ▸ Volunteer 建国 marked it done. The resident's phone page now asks them "
                 f"to confirm and rate it:\n      {link}")

    def _tell_complete(self) -> None:
        lines = ["", "  The story is complete: two sensor tickets with their alerts, and a "
                     "request filed, dispatched, accepted and done, each step told to whoever "
                     "acts next."]
        if self.pages:
            lines.append(f"  Dashboard: {self.base_url}/staff (staff/staff-demo); "
                         f"site status: {self.base_url}/staff/site")
        lines.append(f"  API: {self.base_url}/api/v1/tickets, {self.base_url}/api/v1/alerts "
                     "(sign in: POST /api/v1/auth/login)")
        if self.mqtt_port:
            lines.append(f"  Alerts on MQTT: mosquitto_sub -p {self.mqtt_port} "
                         "-t 'servicepoint/+/alerts/#' -v")
        lines.append("  The extinguisher comes back and the tank refills shortly; "
                     "stop with Ctrl-C.\n")
        self.say("\n".join(lines))
