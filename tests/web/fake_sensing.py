"""A stand-in for ``server.sensing.services`` with the same functions and shapes, so the site
pages can be tested on their own: no broker, no ingest, readings chosen by the test.

    fake = FakeSensing(now)
    monkeypatch.setattr("server.web.site.sensing", lambda: fake)
    fake.raise_alert("1号蓄水池 低水位", urgent=True)     # what a sensor event would cause
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from server.errors import Invalid, NotFound


@dataclass
class Cleaning:
    asset_id: str
    cleaned_on: date
    water_test_passed: bool
    turbidity_ntu: float | None
    notes: str
    recorded_by: int | None
    recorded_at: datetime


@dataclass
class FakeSensing:
    now: datetime
    alerts: list[dict[str, Any]] = field(default_factory=list)
    cleanings: list[Cleaning] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.tanks = [{
            "asset_id": "tank-1", "name": "1号蓄水池", "level_percent": 62.5,
            "volume_l": 12500, "turbidity_ntu": 0.8, "overflow": False, "low_level": False,
            "updated_at": self.now.isoformat(), "cleaning_due": "2026-12-10",
            "last_cleaned_on": "2026-06-13", "conditions": []}]
        self.bays = [
            {"asset_id": "ext-b01-1", "name": "劳动新村1栋1楼", "type": "dry_powder",
             "building": "C01-B01", "manufactured_on": "2021-03-01",
             "last_maintained_on": None, "last_inspected_on": "2026-11-01",
             "inspection_due": "2026-12-01", "maintenance_due": "2026-03-01",
             "scrap_on": "2031-03-01", "present": True, "pressure_ok": True,
             "door_open": False, "conditions": ["maintenance_due"]},
            {"asset_id": "ext-b01-2", "name": "劳动新村1栋3楼", "type": "water",
             "building": "C01-B01", "manufactured_on": "2024-05-01",
             "last_maintained_on": None, "last_inspected_on": "2026-11-01",
             "inspection_due": "2026-12-01", "maintenance_due": "2027-05-01",
             "scrap_on": "2030-05-01", "present": False, "pressure_ok": None,
             "door_open": True, "conditions": ["missing", "door_open"]}]
        self.nodes = [
            {"node_id": "node-1", "online": True, "last_state_at": self.now.isoformat(),
             "outbox_depth": 0, "cpu_temp_c": 48.2, "conditions": []},
            {"node_id": "node-2", "online": False,
             "last_state_at": (self.now - timedelta(hours=3)).isoformat(),
             "outbox_depth": None, "cpu_temp_c": None, "conditions": ["offline"]}]

    # the functions the pages call, with the real module's signatures

    def site_overview(self, db: Any, *, now: datetime, rules: Any) -> dict[str, Any]:
        open_alerts = [a for a in self.alerts if not a["acknowledged"]]
        return {"tanks": self.tanks, "extinguisher_bays": self.bays, "nodes": self.nodes,
                "alerts": list(reversed(open_alerts))}

    def tank_history(self, db: Any, *, asset_id: str, since: datetime, until: datetime
                     ) -> list[tuple[datetime, float]]:
        if asset_id != "tank-1":
            raise NotFound(f"no tank {asset_id}")
        points, at, level = [], since, 70.0
        while at <= until:
            # a day of use and refill, with a six-hour gap two days ago (node offline)
            if not until - timedelta(days=2) <= at < until - timedelta(days=2, hours=-6):
                points.append((at, level))
            level = 40.0 + (at.hour * 2.5) % 55
            at += timedelta(minutes=30)
        return points

    def record_cleaning(self, db: Any, *, asset_id: str, user: Any, cleaned_on: date,
                        water_test_passed: bool, turbidity_ntu: float | None, notes: str,
                        now: datetime, timezone: str = "Asia/Shanghai") -> Cleaning:
        if asset_id != "tank-1":
            raise NotFound(f"no tank {asset_id}")
        if cleaned_on > now.date():
            raise Invalid("cleaned_on: a cleaning cannot be in the future")
        entry = Cleaning(asset_id, cleaned_on, water_test_passed, turbidity_ntu, notes,
                         user.id, now)
        self.cleanings.insert(0, entry)
        if water_test_passed:
            self.tanks[0]["last_cleaned_on"] = cleaned_on.isoformat()
            self.tanks[0]["cleaning_due"] = (cleaned_on + timedelta(days=180)).isoformat()
        return entry

    def cleaning_log(self, db: Any, *, asset_id: str) -> list[Cleaning]:
        return [c for c in self.cleanings if c.asset_id == asset_id]

    def extinguisher_register(self, db: Any, *, now: datetime, rules: Any) -> list[dict[str, Any]]:
        return self.bays

    def alerts_since(self, db: Any, *, after_id: int = 0, limit: int = 50
                     ) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(a) for a in self.alerts if a["id"] > after_id][:limit]

    def acknowledge_alert(self, db: Any, *, alert_id: int, user: Any, now: datetime) -> None:
        with self.lock:
            for alert in self.alerts:
                if alert["id"] == alert_id:
                    alert["acknowledged"] = True
                    return
        raise NotFound(f"no alert {alert_id}")

    # what the test does instead of a sensor

    def raise_alert(self, title: str, *, urgent: bool = True, ticket_id: int | None = None,
                    kind: str = "raised") -> dict[str, Any]:
        with self.lock:
            alert = {"id": len(self.alerts) + 1, "ticket_id": ticket_id, "kind": kind,
                     "level": 0, "title": title, "urgent": urgent, "asset_id": "tank-1",
                     "condition": "low_level", "created_at": self.now.isoformat(),
                     "acknowledged": False}
            self.alerts.append(alert)
            return alert
