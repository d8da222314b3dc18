"""Walks through the pages in real headless Chromium (Debian's, driven by Playwright): a
resident confirming on the phone, a volunteer accepting, staff dispatching, a live alert, a
tank cleaning. With WEB_SCREENSHOTS=1 each page is saved phone- and desktop-sized under
docs/screenshots/web/.

    WEB_SCREENSHOTS=1 .venv/bin/python -m pytest tests/web -m browser
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import FakeClock
from tests.web.conftest import advance, file_request, shoot, ticket_id_of
from tests.web.fake_sensing import FakeSensing

pytestmark = pytest.mark.browser

# Elder-friendly checks run in the page: body text, touch targets, contrast of every text.
AUDIT = (Path(__file__).with_name("audit.js")).read_text(encoding="utf-8")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> FakeSensing:
    sensing = FakeSensing(clock.now)
    monkeypatch.setattr("server.web.site.sensing", lambda: sensing)
    return sensing


def _audit(page) -> None:  # type: ignore[no-untyped-def]
    result = page.evaluate(AUDIT)
    assert result["problems"] == [], result["problems"]
    return result


def _sign_in(page, base: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()


def test_resident_opens_the_link_confirms_and_rates(client: TestClient, live_url: str,
                                                    phone, fake) -> None:  # type: ignore[no-untyped-def]
    waiting = file_request(client)
    phone.goto(f"{live_url}/r/{waiting['phone_token']}")
    assert phone.locator("h1.number").inner_text() == waiting["number"]
    assert _audit(phone)["bodyPx"] >= 18
    shoot(phone, "phone-new")
    phone.click("text=English")
    assert "Request received" in phone.content()
    shoot(phone, "phone-new-en")
    phone.click("text=中文")

    filed = file_request(client)
    advance(client, ticket_id_of(client, filed["number"]), "resolved")
    phone.goto(f"{live_url}/r/{filed['phone_token']}")
    assert "志愿者「建国」已接单" in phone.content()
    _audit(phone)
    shoot(phone, "phone-resolved")
    phone.fill("#comment", "师傅很准时，谢谢")
    phone.click("button:has-text('确认办好了')")  # forgot the score
    assert phone.locator("#rating-error").is_visible()
    assert phone.input_value("#comment") == "师傅很准时，谢谢"  # nothing typed is lost
    shoot(phone, "phone-missing-score")
    phone.click("label.choice:has-text('非常满意')")
    phone.click("button:has-text('确认办好了')")
    phone.wait_for_selector("text=评价已收到")
    assert "5/5" in phone.content() and "已关闭" in phone.content()
    _audit(phone)
    shoot(phone, "phone-closed")


def test_reader_opens_their_loans_and_renews_one(client: TestClient, live_url: str, phone,
                                                app, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    from server.library import services
    from server.models import Resident
    from tests.library.conftest import DEMO_CSV, KIOSK

    with app.state.sessions() as db:
        services.import_catalog(db, text=DEMO_CSV.read_text(encoding="utf-8"), now=clock())
        resident = Resident(address_as="王阿姨", phone="13800001234")
        db.add(resident)
        db.commit()
        patron, _new = services.enrol_patron(db, resident_id=resident.id, now=clock(), pin="1234")
        token, card = patron.phone_token, patron.card_id
    session = client.post("/api/v1/library/sessions", json={"card_id": card},
                          headers=KIOSK).json()["session"]
    for n, copy_id in enumerate(("LB-0001", "LB-0009", "LB-0016")):
        client.post("/api/v1/library/loans", headers={**KIOSK, "X-Library-Session": session},
                    json={"copy_id": copy_id, "client_id": f"web-b-{n:04d}"}).raise_for_status()
    clock.advance(days=12)

    phone.goto(f"{live_url}/l/{token}")
    assert "我的借阅" in phone.content() and "长沙老街旧事" in phone.content()
    assert _audit(phone)["bodyPx"] >= 18
    shoot(phone, "loans")
    phone.click("li[data-copy='LB-0009'] button:has-text('续借这本')")
    phone.wait_for_selector("text=续借好了")
    assert "还可续借 1 次" in phone.locator("li[data-copy='LB-0009']").inner_text()
    _audit(phone)
    shoot(phone, "loans-renewed")


def test_volunteer_signs_in_and_accepts_a_task(client: TestClient, live_url: str,
                                               phone, fake) -> None:  # type: ignore[no-untyped-def]
    filed = file_request(client, description="卫生间水管接口渗水")
    ticket_id = ticket_id_of(client, filed["number"])
    advance(client, ticket_id, "dispatched")
    phone.goto(f"{live_url}/v")
    assert "/login" in phone.url
    _audit(phone)
    shoot(phone, "login")
    _sign_in(phone, live_url, "lijianguo", "volunteer-demo")
    assert phone.url.endswith("/v")
    assert "卫生间水管接口渗水" in phone.content()
    _audit(phone)
    shoot(phone, "volunteer-offered")
    phone.click(f"#t{ticket_id} button:has-text('接单')")
    phone.wait_for_selector("text=已接单。请尽快联系居民")
    phone.click(f"#t{ticket_id} button:has-text('办好了')")  # without the note
    phone.wait_for_selector("text=请写一句做了什么")
    shoot(phone, "volunteer-note-needed")
    phone.fill(f"#note-{ticket_id}", "更换了接口密封圈，试水不漏")
    phone.click(f"#t{ticket_id} button:has-text('办好了')")
    phone.wait_for_selector("text=已标记办好")
    assert filed["number"] in phone.locator("table.grid").inner_text()
    shoot(phone, "volunteer-history")


def test_staff_sign_in_and_dispatch(client: TestClient, live_url: str, desktop,
                                    fake) -> None:  # type: ignore[no-untyped-def]
    filed = file_request(client, description="楼道灯不亮，开关有焦味")
    file_request(client, category="haircut", answers={"when": "morning"},
                 unit_code="C02-B01-U1", contact_name="周奶奶")
    _sign_in(desktop, live_url, "leader1", "leader-demo")
    assert desktop.url.endswith("/staff")
    _audit(desktop)
    shoot(desktop, "staff-queue")
    desktop.click(f"a:has-text('{filed['number']}')")
    desktop.wait_for_selector("text=派单给志愿者")
    _audit(desktop)
    shoot(desktop, "staff-ticket")
    desktop.check("input[name=volunteer_id] >> nth=0")
    desktop.fill("#dispatch-note", "请今天下午上门")
    desktop.click("button:has-text('派单')")
    desktop.wait_for_selector("text=已保存")
    assert "已派单" in desktop.locator(".page-head").inner_text()
    assert "请今天下午上门" in desktop.locator(".history-list").inner_text()
    shoot(desktop, "staff-dispatched")


def test_staff_see_a_live_alert_and_record_a_tank_cleaning(
        client: TestClient, live_url: str, desktop, fake) -> None:  # type: ignore[no-untyped-def]
    _sign_in(desktop, live_url, "staff", "staff-demo")
    desktop.wait_for_load_state("networkidle")
    assert desktop.locator(".alert-item").count() == 0
    fake.raise_alert("1号蓄水池 低水位（12%）", urgent=True)  # what a sensor event causes
    desktop.wait_for_selector(".alert-item:has-text('1号蓄水池 低水位')", timeout=15_000)
    assert "紧急告警" in desktop.locator("#alerts").inner_text()
    shoot(desktop, "staff-live-alert")
    desktop.click(".alert-item button:has-text('确认知悉')")
    desktop.wait_for_selector(".alert-item", state="detached")
    assert fake.alerts[0]["acknowledged"] is True

    desktop.click("nav >> text=站点状态")
    desktop.wait_for_selector("text=灭火器台账")
    _audit(desktop)
    shoot(desktop, "site-status")
    desktop.click("text=水位曲线和清洗记录")
    desktop.wait_for_selector("svg")
    shoot(desktop, "tank")
    desktop.fill("#turbidity_ntu", "很清")
    desktop.fill("#notes", "星城清洗公司；市疾控检测")
    desktop.click("button:has-text('保存清洗记录')")
    desktop.wait_for_selector("text=请选择检测合格或不合格")
    assert desktop.input_value("#notes") == "星城清洗公司；市疾控检测"
    shoot(desktop, "tank-form-errors")
    desktop.check("input[value=passed]")
    desktop.fill("#turbidity_ntu", "0.6")
    desktop.click("button:has-text('保存清洗记录')")
    desktop.wait_for_selector("text=清洗记录已保存")
    assert "星城清洗公司" in desktop.locator("table.grid").inner_text()
    shoot(desktop, "tank-cleaned")


def test_monthly_figures_page(client: TestClient, live_url: str, desktop,
                              fake) -> None:  # type: ignore[no-untyped-def]
    for unit, category, answers in [("C01-B01-U1", "water_electric", {"problem": "leak"}),
                                    ("C05-B01-U1", "haircut", {"when": "morning"}),
                                    ("C08-B01-U1", "water_electric", {"problem": "leak"})]:
        file_request(client, unit_code=unit, category=category, answers=answers)
    advance(client, 1, "resolved")
    _sign_in(desktop, live_url, "staff", "staff-demo")
    desktop.goto(f"{live_url}/staff/figures?year=2026")
    assert "2026-11" in desktop.content()
    _audit(desktop)
    shoot(desktop, "figures")
    with desktop.expect_download() as download:
        desktop.click("text=下载 CSV")
    assert download.value.suggested_filename == "servicepoint-figures-2026.csv"


def test_a_real_sensor_event_appears_live_on_the_staff_page(
        client: TestClient, live_url: str, desktop, app, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    """The real sensing services behind the page: the tank's level falls and stays low, sensor
    ingest's processor raises the condition, and the alert shows up on an open page with no
    reload."""
    from server.sensing import services as sensing
    from tests.server.sensing import conftest as rigs

    rig = rigs.Rig(app.state.sessions, clock)
    _sign_in(desktop, live_url, "staff", "staff-demo")
    desktop.wait_for_load_state("networkidle")
    assert desktop.locator(".alert-item").count() == 0
    rig.feed(rig.node.tank(60))
    for _ in range(5):  # below the low mark for longer than the rule's minimum duration
        clock.advance(minutes=1)
        rig.feed(rig.node.tank(12))
        rig.tick()
    with app.state.sessions() as db:
        assert sensing.alerts_since(db, after_id=0, limit=10)
    alert = desktop.wait_for_selector(".alert-item", timeout=15_000)
    assert "蓄水池水位过低" in alert.inner_text() and "查看工单" in alert.inner_text()
    shoot(desktop, "staff-live-sensor-alert")
    desktop.click(".alert-item button:has-text('确认知悉')")
    desktop.wait_for_selector(".alert-item", state="detached")
    desktop.goto(f"{live_url}/staff/site")
    assert "没有未确认的告警" in desktop.content()
    assert "低水位" in desktop.content() and "12%" in desktop.content()
