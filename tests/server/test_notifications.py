"""Who is told what about a resident's request, through the running server's notice loop and
real Apprise posting to local stand-ins of the WeCom and DingTalk robot APIs (and a local SMTP
server for mail).

The demo site's channels (config/demo-site.toml): squad 1's WeCom group robot, squad 4's
mailbox, volunteer 建国 (v01, lijianguo)'s own robot; the duty staff's WeCom robot is
config/alerts.toml's. The tests set those variables to robots on loopback.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.alerts import AppriseNotifier
from server.settings import ServerSettings
from tests.server.alerts.robots import Mailbox, RobotApi, mailbox, robot_api
from tests.server.conftest import FakeClock, sign_in
from tests.server.conftest import file_request as file
from tests.support.waiting import wait_for

__all__ = ["mailbox", "robot_api"]  # fixtures used here

pytestmark = pytest.mark.timeout(120)

SQUAD1, V01, DUTY = "squad1key", "v01token", "dutykey"


@pytest.fixture
def channels(monkeypatch: pytest.MonkeyPatch, robot_api: RobotApi) -> RobotApi:
    monkeypatch.setenv("SERVICEPOINT_NOTIFY_SQUAD1_URL", f"wecombot://{SQUAD1}")
    monkeypatch.setenv("SERVICEPOINT_NOTIFY_V01_URL", f"dingtalk://{V01}/")
    monkeypatch.setenv("SERVICEPOINT_ALERT_DUTY_WECOM_URL", f"wecombot://{DUTY}")
    for unset in ("SERVICEPOINT_NOTIFY_SQUAD2_URL", "SERVICEPOINT_NOTIFY_SQUAD3_URL",
                  "SERVICEPOINT_NOTIFY_SQUAD4_URL", "SERVICEPOINT_NOTIFY_RESIDENT_SMS_URL"):
        monkeypatch.delenv(unset, raising=False)
    return robot_api


@pytest.fixture
def live(settings: ServerSettings, clock: FakeClock, channels: RobotApi
         ) -> Iterator[TestClient]:
    """The server with its notice loop running and real Apprise sending."""
    app: FastAPI = __import__("server.app", fromlist=["create_app"]).create_app(
        settings, clock=clock, background=False, notifier=AppriseNotifier(timeout_s=5))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def ticket_id(client: TestClient, number: str) -> int:
    tickets = client.get("/api/v1/tickets", headers=sign_in(client, "staff"),
                         params={"kind": "request"}).json()["tickets"]
    return next(int(t["id"]) for t in tickets if t["number"] == number)


def test_a_new_request_reaches_its_squad_group_once_within_five_seconds(
        live: TestClient, channels: RobotApi) -> None:
    started = time.monotonic()
    filed = file(live)
    calls = wait_for(lambda: channels.wecom(SQUAD1))
    assert calls, "squad 1's WeCom robot heard nothing within 5 s"
    assert time.monotonic() - started < 5
    time.sleep(1.5)  # two more rounds of the loop: still exactly one
    (call,) = channels.wecom(SQUAD1)
    assert call.body["msgtype"] == "text"
    text = call.text
    tid = ticket_id(live, filed["number"])
    assert "新请求" in text and filed["number"] in text
    assert "水电维修" in text and "劳动新村 1栋 1单元" in text
    assert "刚刚 / just now" in text
    assert f"http://127.0.0.1:8080/staff/tickets/{tid}" in text
    assert "13800001234" not in text  # no phone number in a group chat
    assert channels.wecom(DUTY) == []  # the squad had a channel: no fallback


def test_a_request_of_a_squad_without_a_channel_reaches_the_duty_staff(
        live: TestClient, channels: RobotApi) -> None:
    filed = file(live, unit_code="C05-B01-U1")  # grid 2: squad 2, whose variable is unset
    (call,) = wait_for(lambda: channels.wecom(DUTY))
    assert filed["number"] in call.text and "五一新村" in call.text
    assert channels.wecom(SQUAD1) == []


def test_dispatch_reaches_the_volunteer_with_a_one_tap_link_and_a_decline_the_leader(
        live: TestClient, channels: RobotApi) -> None:
    filed = file(live)
    tid = ticket_id(live, filed["number"])
    leader = sign_in(live, "leader1")
    proposed = live.get(f"/api/v1/tickets/{tid}/proposals", headers=leader).json()["proposals"]
    assert proposed[0]["given_name"] == "建国"
    reply = live.post(f"/api/v1/tickets/{tid}/dispatch", headers=leader,
                      json={"volunteer_id": proposed[0]["volunteer_id"], "note": "带上扳手"})
    assert reply.status_code == 200, reply.text

    (call,) = wait_for(lambda: channels.dingtalk(V01))
    assert call.body["msgtype"] == "text"
    text = call.text
    assert "派单给您" in text and filed["number"] in text and "带上扳手" in text
    link = next(word for word in text.split("：") if "/v/t/" in word).split()[0]
    assert link.startswith("http://127.0.0.1:8080/v/t/") and len(link.rsplit("/", 1)[1]) >= 22

    volunteer = sign_in(live, "lijianguo")
    reply = live.post(f"/api/v1/tickets/{tid}/decline", headers=volunteer,
                      json={"note": "今天在外地 / away today"})
    assert reply.status_code == 200, reply.text
    # Leader 1 has no channel of their own: the squad's group, where the leader is, hears it.
    declined = wait_for(lambda: [c for c in channels.wecom(SQUAD1) if "退回" in c.text])
    assert declined and "今天在外地 / away today" in declined[0].text
    assert "建国" in declined[0].text
    # Whoever declined is proposed last now.
    again = live.get(f"/api/v1/tickets/{tid}/proposals", headers=leader).json()["proposals"]
    assert again[-1]["given_name"] == "建国" and again[0]["given_name"] != "建国"


def test_an_unaccepted_request_tells_the_leader_at_its_target_time_then_the_duty_staff(
        live: TestClient, channels: RobotApi, clock: FakeClock) -> None:
    clock.now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in Changsha: no quiet hours
    filed = file(live)  # water repair: to be accepted within 4 hours
    wait_for(lambda: channels.wecom(SQUAD1))
    clock.advance(hours=3, minutes=59)
    time.sleep(1.5)
    assert [c for c in channels.wecom(SQUAD1) if "超时" in c.text] == []

    clock.advance(minutes=2)  # past the target: the leader (in the squad's group) is told
    overdue = wait_for(lambda: [c for c in channels.wecom(SQUAD1) if "超时未接单" in c.text])
    assert len(overdue) == 1 and filed["number"] in overdue[0].text
    assert "4 小时内接单" in overdue[0].text
    assert channels.wecom(DUTY) == []

    clock.advance(minutes=61)  # alerts.toml: staff_after_minutes = 60
    duty = wait_for(lambda: channels.wecom(DUTY))
    assert len(duty) == 1 and "【升级】" in duty[0].text and filed["number"] in duty[0].text
    time.sleep(1.2)
    assert len(channels.wecom(DUTY)) == 1

    # Accepted at last: nobody further up the ladder is told.
    tid = ticket_id(live, filed["number"])
    leader = sign_in(live, "leader1")
    first = live.get(f"/api/v1/tickets/{tid}/proposals", headers=leader).json()["proposals"][0]
    live.post(f"/api/v1/tickets/{tid}/dispatch", headers=leader,
              json={"volunteer_id": first["volunteer_id"]})
    live.post(f"/api/v1/tickets/{tid}/accept", headers=sign_in(live, "lijianguo"))
    clock.advance(hours=25)
    time.sleep(1.5)
    assert len(channels.wecom(DUTY)) == 1


def test_quiet_hours_hold_a_normal_request_until_morning(
        live: TestClient, channels: RobotApi, clock: FakeClock) -> None:
    clock.now = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)  # 23:30 in Changsha
    filed = file(live)
    time.sleep(1.5)
    assert channels.wecom(SQUAD1) == []
    clock.now = datetime(2026, 11, 25, 23, 1, tzinfo=UTC)  # 07:01
    # (By now it is past its 4 hours too: the overdue notice may come along.)
    (call,) = wait_for(lambda: [c for c in channels.wecom(SQUAD1) if "新请求" in c.text])
    assert filed["number"] in call.text


def test_resolved_texts_the_resident_where_an_sms_channel_is_configured(
        settings: ServerSettings, clock: FakeClock, channels: RobotApi,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in SMS gateway: any Apprise URL with {phone}; here the DingTalk stand-in, whose
    # plugin takes phone numbers to @-mention, so the number is seen arriving.
    monkeypatch.setenv("SERVICEPOINT_NOTIFY_RESIDENT_SMS_URL", "dingtalk://smsgate/{phone}/")
    from server.app import create_app

    app = create_app(settings, clock=clock, background=False,
                     notifier=AppriseNotifier(timeout_s=5))
    with TestClient(app) as client:
        filed = file(client)
        tid = ticket_id(client, filed["number"])
        leader = sign_in(client, "leader1")
        first = client.get(f"/api/v1/tickets/{tid}/proposals",
                           headers=leader).json()["proposals"][0]
        client.post(f"/api/v1/tickets/{tid}/dispatch", headers=leader,
                    json={"volunteer_id": first["volunteer_id"]})
        volunteer = sign_in(client, "lijianguo")
        client.post(f"/api/v1/tickets/{tid}/accept", headers=volunteer)
        reply = client.post(f"/api/v1/tickets/{tid}/resolve", headers=volunteer,
                            json={"note": "换了水龙头"})
        assert reply.status_code == 200, reply.text
        (sms,) = wait_for(lambda: channels.dingtalk("smsgate"))
    app.state.engine.dispose()
    assert sms.body["at"]["atMobiles"] == ["13800001234"]
    assert "已完成" in sms.text and "请确认并评价" in sms.text
    assert f"http://127.0.0.1:8080/r/{filed['phone_token']}" in sms.text


def test_no_sms_to_the_resident_by_default(live: TestClient, channels: RobotApi) -> None:
    filed = file(live)
    tid = ticket_id(live, filed["number"])
    leader = sign_in(live, "leader1")
    first = live.get(f"/api/v1/tickets/{tid}/proposals", headers=leader).json()["proposals"][0]
    live.post(f"/api/v1/tickets/{tid}/dispatch", headers=leader,
              json={"volunteer_id": first["volunteer_id"]})
    volunteer = sign_in(live, "lijianguo")
    live.post(f"/api/v1/tickets/{tid}/accept", headers=volunteer)
    live.post(f"/api/v1/tickets/{tid}/resolve", headers=volunteer, json={"note": "好了"})
    time.sleep(1.5)
    assert [c for c in channels.calls if "已完成" in c.text] == []


def test_a_squad_mailbox_gets_the_new_request_by_mail(
        settings: ServerSettings, clock: FakeClock, channels: RobotApi, mailbox: Mailbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICEPOINT_NOTIFY_SQUAD4_URL",
                       f"mailto://127.0.0.1:{mailbox.port}?mode=insecure"
                       "&from=servicepoint@example.org&to=squad4@example.org")
    from server.app import create_app

    app = create_app(settings, clock=clock, background=False,
                     notifier=AppriseNotifier(timeout_s=5))
    with TestClient(app) as client:
        filed = file(client, unit_code="C12-B01-U1")  # 邮电宿舍, grid 4: squad 4
        assert wait_for(lambda: mailbox.mails), "no mail within 5 s"
    app.state.engine.dispose()
    (mail,) = mailbox.mails
    assert mailbox.envelopes[0][1] == ["squad4@example.org"]
    assert f"新请求 {filed['number']}" in str(mail["Subject"])
    body = mail.get_body(preferencelist=("plain", "html"))
    assert body is not None and "邮电宿舍" in body.get_content()


def test_two_loops_delivering_at_once_send_each_notice_once(
        settings: ServerSettings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ingest's loop and the notice loop (or two replicas) share the outbox: the claim
    lets only one of them send a delivery."""
    import threading

    from server.alerts import RecordingNotifier
    from server.app import create_app
    from server.services.notices import NoticeCourier

    monkeypatch.setenv("SERVICEPOINT_NOTIFY_SQUAD1_URL", "wecombot://squad1key")

    class Slow(RecordingNotifier):
        def send(self, alert, recipient):  # type: ignore[no-untyped-def]
            time.sleep(0.05)  # both loops read the same due rows before either claims
            return super().send(alert, recipient)

    app = create_app(settings, clock=clock, background=False)
    with TestClient(app) as client:
        for _ in range(5):
            file(client)
    sessions, metrics = app.state.sessions, app.state.metrics
    couriers = [NoticeCourier.from_settings(settings, sessions=sessions, notifier=Slow(),
                                            clock=clock, metrics=metrics) for _ in range(2)]
    with sessions() as db:
        assert couriers[0].desk.read_history(db, now=clock()) == 5
    barrier = threading.Barrier(2)

    def deliver(courier: NoticeCourier) -> None:
        barrier.wait()
        courier.desk.book.deliver_due(sessions, courier.notifier, now=clock())

    threads = [threading.Thread(target=deliver, args=(c,)) for c in couriers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    sent = [alert.key for c in couriers for alert, _ in c.notifier.sent]  # type: ignore[attr-defined]
    assert len(sent) == 5 and len(set(sent)) == 5
    app.state.engine.dispose()
