"""A stand-in server for screenshots, tests and ``servicepoint kiosk --demo``.

The same shapes the real server answers with (docs/API.md), served by ``httpx.MockTransport`` so
nothing listens on a port::

    client = ServerClient("http://demo", kiosk_key="x", transport=DemoServer().transport())

It files requests idempotently by client_id, like the real intake, and can be switched off
(``server.online = False``) to show the offline paths.
"""

from __future__ import annotations

import json
import secrets
import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

__all__ = ["CATEGORIES", "PLACES", "SITE_STATUS", "SLOTS", "DemoServer"]


def _q(code: str, zh: str, en: str, choices: list[tuple[str, str, str]],
       required: bool = True) -> dict[str, Any]:
    return {"code": code, "label_zh": zh, "label_en": en, "required": required,
            "choices": [{"key": k, "zh": z, "en": e} for k, z, e in choices]}


def _c(code: str, zh: str, en: str, questions: list[dict[str, Any]],
       kiosk: bool = True, by_appointment: bool = False) -> dict[str, Any]:
    return {"code": code, "name_zh": zh, "name_en": en, "skill": code, "target_hours": 24,
            "kiosk": kiosk, "questions": questions, "by_appointment": by_appointment}


CATEGORIES: dict[str, Any] = {"categories": [
    _c("water_electric", "水电维修", "Water & electrical repair", [_q(
        "problem", "哪里出了问题？", "What is wrong?",
        [("leak", "漏水", "Water leak"), ("no_power", "停电或跳闸", "No power / tripped"),
         ("light", "灯或开关坏了", "Light or switch broken"),
         ("socket", "插座坏了", "Socket broken"),
         ("other", "其他", "Something else")])]),
    _c("pipe_unclog", "管道疏通", "Pipe unclogging", [_q(
        "where", "哪里堵了？", "Where is it blocked?",
        [("kitchen", "厨房水槽", "Kitchen sink"), ("toilet", "马桶", "Toilet"),
         ("floor_drain", "地漏", "Floor drain"), ("other", "其他", "Somewhere else")])]),
    _c("appliance", "家电维修", "Appliance repair", [_q(
        "appliance", "什么电器？", "Which appliance?",
        [("tv", "电视", "TV"), ("fridge", "冰箱", "Fridge"),
         ("washer", "洗衣机", "Washing machine"),
         ("aircon", "空调", "Air conditioner"), ("heater", "热水器", "Water heater"),
         ("other", "其他", "Other")])]),
    _c("haircut", "上门理发", "Haircut at home", [_q(
        "when", "什么时候方便？", "When suits you?",
        [("morning", "上午", "Morning"), ("afternoon", "下午", "Afternoon"),
         ("any", "都可以", "Any time")])]),
    _c("policy", "政策咨询", "Policy consultation", [_q(
        "topic", "想问哪方面？", "What is it about?",
        [("pension", "养老", "Pension"), ("medical", "医保", "Medical insurance"),
         ("allowance", "低保", "Subsistence allowance"), ("housing", "住房", "Housing"),
         ("other", "其他", "Other")])]),
    _c("certificates", "证件预约上门办理", "Certificates done at home", [_q(
        "document", "办理什么证件？", "Which document?",
        [("senior_card", "老年卡", "Senior card"), ("birth_permit", "准生证", "Birth permit"),
         ("other", "其他", "Other")])], by_appointment=True),
    _c("jobs", "就业信息推荐", "Job information", [_q(
        "kind", "想找什么工作？", "What kind of work?",
        [("full_time", "全职", "Full-time"), ("part_time", "兼职", "Part-time"),
         ("flexible", "灵活就业", "Flexible work")], required=False)]),
    _c("books", "图书借阅", "Book lending", [_q(
        "need", "需要什么帮助？", "What do you need?",
        [("deliver", "送书上门", "Bring books to my home"),
         ("suggest", "推荐好书", "Suggest a book")])]),
    _c("tank_water", "用水问题", "Tap water problem", [_q(
        "symptom", "水有什么问题？", "What is wrong with the water?",
        [("smell", "有异味", "Smells odd"), ("yellow", "发黄", "Yellow"),
         ("low_pressure", "水压小", "Low pressure"), ("no_water", "停水", "No water")])]),
    _c("shared_facility", "公共设施", "Shared facilities", [_q(
        "facility", "什么坏了？", "What is broken?",
        [("stair_light", "楼道灯", "Stairwell light"), ("entry_door", "防盗门", "Entry door"),
         ("hydrant", "消防栓", "Fire hydrant")])]),
    _c("tank_cleaning", "二次供水蓄水池清洗消毒", "Water tank cleaning & disinfection", [],
       kiosk=False),
]}

_COMPOUND_NAMES = [
    ("劳动新村", "Laodong New Village"), ("东塘小区", "Dongtang"),
    ("桂花苑", "Osmanthus Garden"), ("雨花里", "Yuhua Lane"),
    ("粮站宿舍", "Grain Depot Quarters"), ("机械厂宿舍", "Machinery Works"),
    ("红星小区", "Hongxing"), ("韶山路小区", "Shaoshan Road"),
    ("电力宿舍", "Power Bureau Quarters"),
    ("新桥小区", "Xinqiao"), ("邮电宿舍", "Post Office Quarters"), ("树木岭小区", "Shumuling"),
    ("仓库小区", "Warehouse"), ("曙光里", "Shuguang Lane"),
]

PLACES: dict[str, Any] = {"compounds": [
    {"code": f"C{i:02d}", "name_zh": zh, "name_en": en, "buildings": [
        {"code": f"C{i:02d}-B{b:02d}", "name": f"{b}栋", "units": [
            {"code": f"C{i:02d}-B{b:02d}-U{u}", "name": f"{u}单元"} for u in range(1, 4)]}
        for b in range(1, 10)]}
    for i, (zh, en) in enumerate(_COMPOUND_NAMES, start=1)
]}

SITE_STATUS: dict[str, Any] = {
    "site": "site-01",
    "tanks": [{"asset_id": "tank-1", "name": "1号蓄水池", "level_percent": 62.5, "volume_l": 12500,
               "turbidity_ntu": 0.8, "updated_at": "2026-11-25T09:20:00+08:00",
               "cleaning_due": "2027-03-01", "conditions": []},
              {"asset_id": "tank-2", "name": "2号蓄水池", "level_percent": 14.0, "volume_l": 2800,
               "turbidity_ntu": 1.9, "updated_at": "2026-11-25T09:20:00+08:00",
               "cleaning_due": "2026-12-01", "conditions": ["low_level"]}],
    "extinguisher_bays": [
        {"asset_id": "ext-b01-1", "name": "1栋1楼", "present": True, "pressure_ok": True,
         "door_open": False, "updated_at": "...", "conditions": []},
        {"asset_id": "ext-b02-1", "name": "2栋1楼", "present": False, "pressure_ok": None,
         "door_open": True, "updated_at": "...", "conditions": ["missing", "door_open"]},
        {"asset_id": "ext-b03-1", "name": "3栋1楼", "present": True, "pressure_ok": True,
         "door_open": False, "updated_at": "...", "conditions": []}],
    "open_tickets": [
        {"id": 7, "number": "R-0007", "kind": "sensor", "category": "tank_cleaning",
         "title": "2号蓄水池水位低", "status": "new", "priority": "high", "created_at": "..."},
        {"id": 5, "number": "K1-0003", "kind": "request", "category": "water_electric",
         "title": "水电维修 劳动新村 1栋", "status": "dispatched", "priority": "high",
         "created_at": "..."}],
    "alerts": [{"id": 3, "ticket_id": 7, "title": "2号蓄水池水位低", "urgent": True,
                "created_at": "...", "acknowledged": False}],
}


def _slot(slot_id: int, day: int, hour: int, remaining: int, capacity: int = 2,
          month: int = 11) -> dict[str, Any]:
    """A slot of an hour from ``hour`` o'clock in Changsha (UTC+8) on 2026-``month``-``day``."""
    starts = datetime(2026, month, day, hour, tzinfo=timezone(timedelta(hours=8)))
    return {"id": slot_id, "capacity": capacity, "remaining": remaining,
            "starts_at": starts.astimezone(UTC).isoformat(),
            "ends_at": (starts + timedelta(hours=1)).astimezone(UTC).isoformat()}


# The by-appointment service's slots around the demo's day (Wednesday 2026-11-25, the
# screenshots' date): today's afternoon, a full one, and five days, so the day tabs page.
SLOTS: list[dict[str, Any]] = [
    _slot(1, 25, 14, 1), _slot(2, 25, 15, 0),
    _slot(3, 26, 9, 2), _slot(4, 26, 10, 1), _slot(5, 26, 14, 0), _slot(6, 26, 19, 2),
    _slot(7, 28, 9, 3, capacity=3), _slot(8, 28, 10, 3, capacity=3),
    _slot(9, 1, 9, 2, month=12), _slot(10, 3, 15, 2, month=12),
]


class DemoServer:
    """In-memory server with the kiosk's endpoints. ``filed`` maps client_id to the stored body."""

    def __init__(self, *, public_url: str = "http://127.0.0.1:8080",
                 status: dict[str, Any] | None = None) -> None:
        self.public_url = public_url.rstrip("/")
        self.online = True
        self.status = SITE_STATUS if status is None else status
        self.filed: dict[str, dict[str, Any]] = {}
        self.recordings: dict[str, bytes] = {}  # client_id -> the spoken description's WAV
        self.posts = 0
        self.help_calls = 0  # presses of 呼叫工作人员
        # The by-appointment categories' slots (a copy: a test may fill one or empty the list).
        self.slots: list[dict[str, Any]] = [dict(s) for s in SLOTS]
        self._lock = threading.Lock()
        self._seq = 0

    def transport(self) -> httpx.MockTransport:
        # Looked up per request, so a test can wrap ``handle`` after the client exists.
        return httpx.MockTransport(lambda request: self.handle(request))

    def handle(self, request: httpx.Request) -> httpx.Response:
        if not self.online:
            raise httpx.ConnectError("demo server is off", request=request)
        path = request.url.path
        if request.method == "GET" and path == "/api/v1/categories":
            return httpx.Response(200, json=CATEGORIES)
        if request.method == "GET" and path == "/api/v1/places":
            return httpx.Response(200, json=PLACES)
        if request.method == "GET" and path == "/api/v1/slots":
            with self._lock:
                return httpx.Response(200, json={"slots": [dict(s) for s in self.slots]})
        if request.method == "GET" and path == "/api/v1/site/status":
            if not request.headers.get("X-Kiosk-Key"):
                return httpx.Response(401, json={"error": {"code": "unauthorized",
                                                           "message": "kiosk key needed"}})
            return httpx.Response(200, json=self.status)
        if request.method == "POST" and path == "/api/v1/requests":
            return self._file(json.loads(request.content))
        if request.method == "POST" and path.endswith("/recording"):
            return self._recording(path.split("/")[-2], request.content)
        if request.method == "POST" and path == "/api/v1/requests/lookup":
            return self._lookup(json.loads(request.content))
        if request.method == "POST" and path == "/api/v1/kiosk/help":
            # 呼叫工作人员: the demo has no staff to tell; it answers as the server would.
            with self._lock:
                self.help_calls += 1
            return httpx.Response(200, json={"called": True, "alerted": self.help_calls == 1,
                                             "ticket": "M000001", "phone": ""})
        if request.method == "POST" and path == "/api/v1/kiosk/heartbeat":
            # The demo keeps no kiosk list; it takes the beat as the server would.
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": path}})

    def _lookup(self, body: dict[str, Any]) -> httpx.Response:
        """查进度 over what was filed here: the number and the phone's last four, or none."""
        with self._lock:
            found = next((b for b in self.filed.values() if b["number"] == body.get("number")
                          and b.get("contact_phone", "")[-4:] == body.get("phone_last4", "")),
                         None)
        if found is None:
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "no match"}})
        category = next((c for c in CATEGORIES["categories"] if c["code"] == found["category"]),
                        {"name_zh": found["category"], "name_en": found["category"]})
        return httpx.Response(200, json={
            "number": found["number"], "status": "new", "status_label_zh": "新建",
            "status_label_en": "Received", "category_name_zh": category["name_zh"],
            "category_name_en": category["name_en"], "volunteer_given_name": None,
            "filed_at": "2026-11-25T01:30:00Z",
            "status_url": f"{self.public_url}/r/{found['phone_token']}"})

    def _book(self, body: dict[str, Any]) -> httpx.Response | None:
        """Take a place of the body's slot, as the server does; a refusal, or None if taken."""
        slot = next((s for s in self.slots if s["id"] == body.get("slot_id")), None)
        if slot is None:
            return httpx.Response(422, json={"error": {"code": "slot_invalid",
                                                       "message": "no such slot"}})
        if slot["remaining"] <= 0:
            return httpx.Response(409, json={"error": {"code": "slot_full",
                                                       "message": "the slot is full"}})
        slot["remaining"] -= 1
        body["appointment_at"] = slot["starts_at"]
        return None

    def _file(self, body: dict[str, Any]) -> httpx.Response:
        with self._lock:
            self.posts += 1
            client_id = body["client_id"]
            code = 200 if client_id in self.filed else 201
            refused = self._book(body) if code == 201 and "slot_id" in body else None
            if refused is not None:
                return refused
            if code == 201:
                self._seq += 1
                token = body.get("phone_token") or secrets.token_urlsafe(32)
                number = body.get("number") or f"R-{self._seq:04d}"
                self.filed[client_id] = {**body, "number": number, "phone_token": token}
            stored = self.filed[client_id]
        return httpx.Response(code, json={
            "number": stored["number"], "status": "new", "category": stored["category"],
            "phone_token": stored["phone_token"],
            "status_url": f"{self.public_url}/r/{stored['phone_token']}", "history": [],
            "appointment_at": stored.get("appointment_at"),
        })

    def _recording(self, client_id: str, wav: bytes) -> httpx.Response:
        with self._lock:
            if client_id not in self.filed:
                return httpx.Response(404, json={"error": {"code": "not_found",
                                                           "message": "no such request yet"}})
            code = 200 if client_id in self.recordings else 201
            self.recordings.setdefault(client_id, wav)
        return httpx.Response(code, json={"duration_s": 0.0, "size": len(wav)})
