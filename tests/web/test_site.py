"""Site status pages against a stand-in for the sensing services: tanks, the cleaning form,
the extinguisher register, sensor nodes, and the live alert feed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import FakeClock
from tests.web.conftest import cookie_sign_in, csrf_of
from tests.web.fake_sensing import FakeSensing


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> FakeSensing:
    sensing = FakeSensing(clock.now)
    monkeypatch.setattr("server.web.site.sensing", lambda: sensing)
    return sensing


def test_the_site_page_shows_tanks_extinguishers_and_nodes(client: TestClient,
                                                          fake: FakeSensing) -> None:
    cookie_sign_in(client, "staff")
    page = client.get("/staff/site").text
    assert "1号蓄水池" in page and "62%" in page and "2026-12-10" in page
    assert "15 天内到期" in page  # the cleaning date is near: words, not only colour
    assert "劳动新村1栋3楼" in page and "不在位" in page and "打开" in page
    assert "需送修保养" in page and "已过期" in page  # maintenance overdue since 2026-03
    assert "node-1" in page and "在线" in page and "node-2" in page and "离线" in page
    english = client.get("/staff/site?lang=en").text
    assert "Missing" in english and "Offline" in english and "Dry powder" in english


def test_squad_leaders_see_the_site_but_record_no_cleaning(client: TestClient,
                                                          fake: FakeSensing) -> None:
    cookie_sign_in(client, "leader1")
    assert client.get("/staff/site").status_code == 200
    tank = client.get("/staff/site/tanks/tank-1").text
    assert "保存清洗记录" not in tank
    reply = client.post("/staff/site/tanks/tank-1/cleaning", data={
        "cleaned_on": "2026-11-24", "water_test": "passed", "csrf_token": csrf_of(tank)})
    assert reply.status_code == 403 and not fake.cleanings


def test_the_tank_page_charts_days_and_weeks(client: TestClient, fake: FakeSensing) -> None:
    cookie_sign_in(client, "staff")
    week = client.get("/staff/site/tanks/tank-1").text
    assert "<svg" in week and 'class="line"' in week and "最近 7 天" in week
    assert week.count(" M") >= 1  # the gap while the node was offline starts a new segment
    weeks = client.get("/staff/site/tanks/tank-1?range=12w").text
    assert "<svg" in weeks and 'aria-current="true">最近 12 周' in weeks
    assert client.get("/staff/site/tanks/tank-9").status_code == 404
    assert client.get("/staff/site/tanks/tank-1?range=1y").status_code == 422


def test_recording_a_cleaning_with_its_water_test(client: TestClient, fake: FakeSensing) -> None:
    cookie_sign_in(client, "staff")
    token = csrf_of(client.get("/staff/site/tanks/tank-1").text)
    reply = client.post("/staff/site/tanks/tank-1/cleaning", data={
        "cleaned_on": "2026-11-24", "water_test": "passed", "turbidity_ntu": "0.6",
        "notes": "星城清洗公司；市疾控检测", "csrf_token": token}, follow_redirects=False)
    assert reply.status_code == 303
    page = client.get(reply.headers["location"]).text
    assert "清洗记录已保存" in page and "星城清洗公司" in page and "合格" in page
    assert "2027-05-23" in page  # due again 180 days later
    entry = fake.cleanings[0]
    assert entry.water_test_passed and entry.turbidity_ntu == 0.6


def test_a_bad_cleaning_form_is_explained_and_keeps_what_was_typed(
        client: TestClient, fake: FakeSensing) -> None:
    cookie_sign_in(client, "staff")
    token = csrf_of(client.get("/staff/site/tanks/tank-1").text)
    reply = client.post("/staff/site/tanks/tank-1/cleaning", data={
        "cleaned_on": "24/11/2026", "water_test": "", "turbidity_ntu": "很清",
        "notes": "第二次清洗", "csrf_token": token})
    assert reply.status_code == 422
    html = reply.text
    assert "请按 2026-11-25 的格式填写日期" in html and 'value="24/11/2026"' in html
    assert "请选择检测合格或不合格" in html
    assert "请填一个数字" in html and 'value="很清"' in html and "第二次清洗" in html
    future = client.post("/staff/site/tanks/tank-1/cleaning", data={
        "cleaned_on": "2026-12-30", "water_test": "failed", "turbidity_ntu": "2000",
        "csrf_token": token})
    assert future.status_code == 422 and "不能晚于今天" in future.text
    assert "0 到 1000" in future.text and 'value="failed" checked' in future.text
    assert not fake.cleanings


def test_the_alert_feed_gives_new_alerts_after_a_cursor(client: TestClient,
                                                       fake: FakeSensing) -> None:
    fake.raise_alert("旧告警", urgent=False)
    fake.acknowledge_alert(None, alert_id=1, user=None, now=fake.now)
    fake.raise_alert("2号灭火器箱门打开", urgent=False)
    cookie_sign_in(client, "leader1")
    first = client.get("/staff/alerts.json").json()
    assert [a["title"] for a in first["alerts"]] == ["2号灭火器箱门打开"]
    assert first["cursor"] == 2 and first["sensing"] is True
    assert client.get("/staff/alerts.json?after=2").json()["alerts"] == []
    fake.raise_alert("1号蓄水池 低水位", urgent=True, ticket_id=7)
    fake.raise_alert("1号蓄水池 低水位 已恢复", kind="cleared")
    later = client.get("/staff/alerts.json?after=2").json()
    assert [(a["title"], a["urgent"], a["ticket_id"]) for a in later["alerts"]] == [
        ("1号蓄水池 低水位", True, 7)]
    assert later["cursor"] == 4


def test_acknowledging_an_alert(client: TestClient, fake: FakeSensing) -> None:
    alert = fake.raise_alert("1号蓄水池 溢流", urgent=True)
    cookie_sign_in(client, "staff")
    page = client.get("/staff/site").text
    assert "1号蓄水池 溢流" in page and "确认知悉" in page
    token = csrf_of(page)
    ack = client.post(f"/staff/alerts/{alert['id']}/ack", data={"csrf_token": token},
                      headers={"Accept": "application/json"})
    assert ack.status_code == 200 and ack.json() == {"ok": True, "id": alert["id"]}
    assert "没有未确认的告警" in client.get("/staff/site").text
    assert client.post("/staff/alerts/99/ack", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/staff/alerts/{alert['id']}/ack", data={}).status_code == 403


def test_without_sensor_ingest_the_pages_say_so(client: TestClient,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("server.web.site.sensing", lambda: None)
    cookie_sign_in(client, "staff")
    assert "传感器数据尚未接入" in client.get("/staff/site").text
    assert client.get("/staff/alerts.json").json() == {"alerts": [], "cursor": 0,
                                                        "sensing": False}


def test_the_pages_work_on_the_real_sensing_services(client: TestClient) -> None:
    """With sensor ingest installed: the demo site's tank and bays, and a cleaning recorded
    through the form lands in the real cleaning log and restarts the schedule."""
    cookie_sign_in(client, "staff")
    site = client.get("/staff/site")
    assert site.status_code == 200 and "灭火器台账" in site.text and "tank-1" in site.text
    page = client.get("/staff/site/tanks/tank-1")
    assert page.status_code == 200 and "<svg" in page.text
    reply = client.post("/staff/site/tanks/tank-1/cleaning", data={
        "cleaned_on": "2026-11-24", "water_test": "passed", "turbidity_ntu": "0.4",
        "notes": "市疾控检测合格", "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert reply.status_code == 303
    after = client.get(reply.headers["location"]).text
    assert "清洗记录已保存" in after and "市疾控检测合格" in after and "0.4 NTU" in after
    assert client.get("/staff/alerts.json").json()["sensing"] is True
