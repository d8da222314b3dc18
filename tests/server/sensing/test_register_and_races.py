"""The register is editable by staff; history is pruned by retention; and the database itself
refuses a second open ticket for one (asset, condition), even with replicas racing."""

from __future__ import annotations

import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.models import Ticket
from server.rules import Condition
from server.sensing.models import AssetState, ReadingRow
from server.sensing.readings import get_or_create
from tests.server.conftest import sign_in
from tests.server.sensing.conftest import Rig


def test_two_replicas_raising_the_same_condition_make_one_ticket(rig: Rig, db_url: str) -> None:
    other = Rig(rig.sessions, rig.clock)
    barrier = threading.Barrier(2)
    made: list[object] = []

    def race(which: Rig) -> None:
        with which.sessions() as db:
            barrier.wait()
            made.append(which.processor.maintenance.new_ticket(
                db, asset_id="tank-1", condition=Condition.LOW_LEVEL, title="蓄水池水位过低",
                urgent=False, now=which.clock(), note="", open_key="tank-1|low_level"))
            db.commit()

    threads = [threading.Thread(target=race, args=(r,)) for r in (rig, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with rig.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Ticket)
                         .where(Ticket.open_key == "tank-1|low_level")) == 1
    assert sorted(m is None for m in made) == [False, True]


def test_readings_older_than_the_retention_are_pruned(rig: Rig) -> None:
    rig.feed(rig.node.tank(50))
    rig.clock.advance(days=30)
    rig.feed(rig.node.tank(51))
    with rig.sessions() as db:
        assert rig.processor.prune(db, retention_days=10) == 1
        assert db.scalar(select(func.count()).select_from(ReadingRow)) == 1


def test_staff_edit_the_register_and_volunteers_cannot(client: TestClient) -> None:
    staff, volunteer = sign_in(client, "staff"), sign_in(client, "lijianguo")
    body = {"name": "2号蓄水池", "building_code": "C02-B01", "capacity_l": 15000,
            "cleaning_interval_days": 90}
    assert client.put("/api/v1/assets/tanks/tank-2", json=body, headers=volunteer
                      ).status_code == 403
    assert client.put("/api/v1/assets/tanks/tank-2", json=body, headers=staff).status_code == 200
    bad = client.put("/api/v1/assets/tanks/tank-2", headers=staff,
                     json={**body, "cleaning_interval_days": 30})
    assert bad.status_code == 422 and "cleaning_interval_days" in bad.json()["error"]["message"]
    ext = {"name": "3栋1单元", "extinguisher_type": "co2", "manufactured_on": "2020-01-01"}
    assert client.put("/api/v1/assets/extinguishers/ext-9", json=ext, headers=staff
                      ).status_code == 200
    assets = client.get("/api/v1/assets", headers=staff).json()
    assert "tank-2" in [t["asset_id"] for t in assets["tanks"]]
    co2 = next(e for e in assets["extinguishers"] if e["asset_id"] == "ext-9")
    assert (co2["maintenance_due"], co2["scrap_on"]) == ("2025-01-01", "2032-01-01")


def test_recording_a_cleaning_through_the_api(client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    staff = sign_in(client, "staff")
    reply = client.post("/api/v1/tanks/tank-1/cleanings", headers=staff, json={
        "cleaned_on": (clock() - timedelta(days=1)).date().isoformat(),
        "water_test_passed": True, "turbidity_ntu": 0.2, "notes": "消毒后复检"})
    assert reply.status_code == 201
    log = client.get("/api/v1/tanks/tank-1/cleanings", headers=staff).json()["cleanings"]
    assert log[0]["water_test_passed"] is True and log[0]["notes"] == "消毒后复检"
    future = client.post("/api/v1/tanks/tank-1/cleanings", headers=staff, json={
        "cleaned_on": (clock() + timedelta(days=3)).date().isoformat(),
        "water_test_passed": True})
    assert future.status_code == 422


def test_two_replicas_meeting_a_new_asset_at_once_both_keep_their_batch(rig: Rig) -> None:
    """A node's first readings reach both replicas through the shared subscription: both find
    no latest-state row for the tank and make one. The database keeps one; the replica that
    loses takes the winner's row and goes on, with nothing lost or logged as an error."""
    barrier = threading.Barrier(2, timeout=20)
    got: list[AssetState] = []
    failed: list[BaseException] = []

    def make() -> AssetState:
        barrier.wait()  # both have looked and found nothing
        return AssetState(asset_id="tank-1", node_id="node-1", kind="tank_state",
                          ts=rig.clock(), seq=1, payload={"v": 1})

    def replica() -> None:
        try:
            with rig.sessions() as db:
                got.append(get_or_create(db, AssetState, "tank-1", make))
                db.commit()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            failed.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failed == [] and len(got) == 2
    with rig.sessions() as db:
        assert db.scalar(select(func.count()).select_from(AssetState)) == 1
