"""呼叫工作人员 on the server: the kiosk's press becomes an urgent alert that real Apprise posts to
the duty staff's WeCom robot (a stand-in on loopback), once per few minutes however often a
child presses it; with nobody on duty for urgent alerts the kiosk is told so (503)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.alerts import AppriseNotifier
from server.app import create_app
from server.lifecycle import Action
from server.models import User
from server.services.tickets import get_ticket, staff_action
from server.settings import ServerSettings
from tests.server.alerts.robots import RobotApi, robot_api
from tests.server.conftest import FakeClock, sign_in
from tests.support.waiting import wait_for

__all__ = ["robot_api"]  # the fixture used here

pytestmark = pytest.mark.timeout(120)

DUTY = "dutykey"
PRESS = {"kiosk_id": "K1", "place": "劳动路服务站门口", "screen": "review"}


@pytest.fixture
def kiosk_key(settings: ServerSettings) -> dict[str, str]:
    return {"X-Kiosk-Key": settings.security.kiosk_key}


@pytest.fixture
def live(settings: ServerSettings, clock: FakeClock, robot_api: RobotApi,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The server with its notice loop running and real Apprise sending to the duty robot."""
    monkeypatch.setenv("SERVICEPOINT_ALERT_DUTY_WECOM_URL", f"wecombot://{DUTY}")
    app: FastAPI = create_app(settings, clock=clock, background=False,
                              notifier=AppriseNotifier(timeout_s=5))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def test_a_press_reaches_the_duty_staff_as_an_urgent_alert_naming_the_kiosk_and_its_place(
        live: TestClient, robot_api: RobotApi, kiosk_key: dict[str, str]) -> None:
    reply = live.post("/api/v1/kiosk/help", json=PRESS, headers=kiosk_key)
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert answer["called"] is True and answer["alerted"] is True
    assert answer["phone"] and answer["ticket"].startswith("M")
    calls = wait_for(lambda: robot_api.wecom(DUTY))
    assert calls, "the duty staff's WeCom robot heard nothing within 5 s"
    text = calls[0].body["text"]["content"]
    assert "【紧急】" in text and "K1" in text and "劳动路服务站门口" in text
    # Staff see it as a ticket they can close once someone has helped.
    tickets = live.get("/api/v1/tickets", headers=sign_in(live, "staff"),
                       params={"kind": "maintenance"}).json()["tickets"]
    assert answer["ticket"] in {t["number"] for t in tickets}


def test_ten_presses_make_one_alert_and_a_press_after_the_window_makes_another(
        live: TestClient, robot_api: RobotApi, clock: FakeClock,
        kiosk_key: dict[str, str]) -> None:
    answers = [live.post("/api/v1/kiosk/help", json=PRESS, headers=kiosk_key).json()
               for _ in range(10)]
    assert [a["alerted"] for a in answers] == [True] + [False] * 9
    assert {a["ticket"] for a in answers} == {answers[0]["ticket"]}
    assert all(a["called"] for a in answers)  # the screen still says staff are called
    assert wait_for(lambda: robot_api.wecom(DUTY))
    time.sleep(1.5)  # more rounds of the delivery loop: still one message
    assert len(robot_api.wecom(DUTY)) == 1
    clock.advance(minutes=6)
    later = live.post("/api/v1/kiosk/help", json=PRESS, headers=kiosk_key).json()
    assert later["alerted"] is True and later["ticket"] != answers[0]["ticket"]
    assert wait_for(lambda: len(robot_api.wecom(DUTY)) == 2)


def test_another_kiosk_is_its_own_call(live: TestClient, kiosk_key: dict[str, str]) -> None:
    first = live.post("/api/v1/kiosk/help", json=PRESS, headers=kiosk_key).json()
    other = live.post("/api/v1/kiosk/help", json={**PRESS, "kiosk_id": "K2"},
                      headers=kiosk_key).json()
    assert first["alerted"] and other["alerted"] and first["ticket"] != other["ticket"]


def test_with_nobody_on_duty_the_kiosk_is_told_so_and_nothing_is_kept(
        client: TestClient, kiosk_key: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SERVICEPOINT_ALERT_DUTY_WECOM_URL", raising=False)
    monkeypatch.delenv("SERVICEPOINT_ALERT_HEAD_DINGTALK_URL", raising=False)
    monkeypatch.delenv("SERVICEPOINT_ALERT_HEAD_MAIL_URL", raising=False)
    monkeypatch.delenv("SERVICEPOINT_ALERT_OFFICE_MAIL_URL", raising=False)
    reply = client.post("/api/v1/kiosk/help", json=PRESS, headers=kiosk_key)
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "nobody_on_duty"


def test_only_the_kiosk_or_staff_may_call_and_bad_bodies_are_4xx_json(
        client: TestClient, kiosk_key: dict[str, str]) -> None:
    assert client.post("/api/v1/kiosk/help", json=PRESS).status_code == 401
    wrong = client.post("/api/v1/kiosk/help", json=PRESS, headers={"X-Kiosk-Key": "x" * 20})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"]
    volunteer = sign_in(client, "lijianguo")
    assert client.post("/api/v1/kiosk/help", json=PRESS, headers=volunteer).status_code == 403
    for bad in ({"kiosk_id": "k1"}, {**PRESS, "place": "门" * 81}, {**PRESS, "screen": "<b>"},
                {**PRESS, "extra": 1}, {}):
        reply = client.post("/api/v1/kiosk/help", json=bad, headers=kiosk_key)
        assert reply.status_code == 422, (bad, reply.text)
        assert reply.json()["error"]["code"]


def test_staff_close_the_call_once_someone_has_helped(
        client: TestClient, app: FastAPI, clock: FakeClock, kiosk_key: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICEPOINT_ALERT_DUTY_WECOM_URL", f"wecombot://{DUTY}")
    answer = client.post("/api/v1/kiosk/help", json=PRESS, headers=kiosk_key).json()
    staff = sign_in(client, "staff")
    tickets = client.get("/api/v1/tickets", headers=staff,
                         params={"kind": "maintenance"}).json()["tickets"]
    ticket = next(t for t in tickets if t["number"] == answer["ticket"])
    assert ticket["priority"] == "urgent"
    # The staff member marks it done on the ticket page (resolve), then closes it.
    with app.state.sessions() as db:
        user = db.scalar(select(User).where(User.username == "staff"))
        staff_action(db, ticket=get_ticket(db, ticket_id=ticket["id"]), user=user,
                     action=Action.RESOLVE, now=clock(), note="已到自助机帮居民办好")
    closed = client.post(f"/api/v1/tickets/{ticket['id']}/close", headers=staff)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
