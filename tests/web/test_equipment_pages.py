"""The equipment pages as staff and the admin use them: the register with its due lists, adding
and editing an extinguisher (mistakes answered beside the field, a stale edit refused with the
other's change shown), retiring one, the monthly inspection, a cleaning with its water test and
lab report, and the registers as .xlsx."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.attachments import MemoryAttachmentStore
from server.audit_log import AuditEntry
from server.lifecycle import Status
from server.models import Ticket
from tests.web.conftest import cookie_sign_in, csrf_of

PDF = b"%PDF-1.4\n% a lab report\n"
ALL_OK = {"present": "ok", "seal_pin": "ok", "gauge_green": "ok", "hose_nozzle": "ok",
          "label": "ok", "cabinet": "ok"}
FULL_TEST = {"cleaned_on": "2026-11-20", "company": "星城二次供水清洗公司",
             "certificate_no": "湘卫水字2024-017", "disinfectant": "次氯酸钠",
             "tested_on": "2026-11-22", "lab": "长沙市疾控中心", "report_no": "SW-2026-1188",
             "turbidity_ntu": "0.4", "free_chlorine_mg_l": "0.3", "colony_cfu_ml": "12",
             "colour": "5", "coliforms_detected": "none", "odour_none": "none"}


def _post(client: TestClient, page: str, action: str, data: dict[str, str], **kw: object):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False,
                       **kw)  # type: ignore[arg-type]


def test_staff_see_the_register_and_due_lists_but_only_the_admin_changes_it(
        client: TestClient) -> None:
    cookie_sign_in(client, "staff")
    page = client.get("/staff/equipment")
    assert page.status_code == 200
    assert "劳动新村1栋1单元" in page.text and "未来 30 天内到期" in page.text
    assert "/admin/equipment/extinguishers/new" not in page.text
    assert client.get("/admin/equipment/extinguishers/new").status_code == 403
    english = client.get("/staff/equipment?lang=en").text
    assert "Fire and water equipment" in english and "Dry powder" in english


def test_adding_an_extinguisher_answers_mistakes_beside_the_field(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    new = "/admin/equipment/extinguishers/new"
    reply = _post(client, new, new, {"asset_id": "Ext 9!", "name": "劳动新村2栋2单元",
                                     "building_code": "C01-B02", "extinguisher_type": "co2",
                                     "manufactured_on": "2026/01/05"})
    assert reply.status_code == 422
    assert "编号只能用小写英文字母" in reply.text and "请按 2026-11-25 的格式填写日期" in reply.text
    assert 'value="劳动新村2栋2单元"' in reply.text  # what was typed is kept
    reply = _post(client, new, new, {"asset_id": "ext-9", "name": "劳动新村2栋2单元",
                                     "building_code": "C01-B02", "extinguisher_type": "co2",
                                     "manufactured_on": "2026-01-05"})
    assert reply.status_code == 303
    page = client.get(reply.headers["location"]).text
    assert "灭火器已登记" in page and "劳动新村2栋2单元" in page
    again = _post(client, new, new, {"asset_id": "ext-9", "name": "又一个",
                                     "extinguisher_type": "co2",
                                     "manufactured_on": "2026-01-05"})
    assert again.status_code == 422 and "这个编号已经登记过了" in again.text


def test_a_stale_edit_is_refused_with_the_other_change_shown(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    url = "/admin/equipment/extinguishers/ext-3"
    first = client.get(url).text
    token, version = csrf_of(first), '1'
    assert 'name="version" value="1"' in first
    form = {"name": "劳动新村2栋1单元楼梯口", "building_code": "C01-B02",
            "extinguisher_type": "water", "manufactured_on": "2021-09-01",
            "last_maintained_on": "2025-10-01", "version": version, "csrf_token": token}
    assert client.post(url, data=form, follow_redirects=False).status_code == 303
    late = client.post(url, data={**form, "name": "2栋1单元"}, follow_redirects=False)
    assert late.status_code == 409
    assert "别人已保存了这条记录" in late.text and "劳动新村2栋1单元楼梯口" in late.text
    with client.app.state.sessions() as db:
        actions = list(db.scalars(select(AuditEntry.action)
                                  .where(AuditEntry.subject_id == "ext-3")))
    assert actions == ["extinguisher.edit"]


def test_retiring_takes_an_extinguisher_off_the_register(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    url = "/admin/equipment/extinguishers/ext-2"
    reply = _post(client, url, url + "/retire", {"version": "1"})
    assert reply.status_code == 303
    page = client.get(reply.headers["location"]).text
    assert "灭火器已停用" in page and 'id="ext-ext-2"' not in page
    assert "停用" in client.get("/staff/inspect/ext-2").text


def test_a_failed_inspection_opens_a_ticket_and_the_register_shows_the_check(
        client: TestClient) -> None:
    cookie_sign_in(client, "staff")
    url = "/staff/inspect/ext-1"
    missing = _post(client, url, url, {**ALL_OK, "gauge_green": "", "inspected_on": "2026-11-25"})
    assert missing.status_code == 422 and "请选择 正常 或 有问题" in missing.text
    reply = _post(client, url, url, {**ALL_OK, "gauge_green": "fault",
                                     "inspected_on": "2026-11-25", "notes": "指针在红区"})
    assert reply.status_code == 303 and reply.headers["location"].endswith("done=failed")
    with client.app.state.sessions() as db:
        ticket = db.scalar(select(Ticket).where(Ticket.asset_id == "ext-1",
                                                Ticket.kind == "maintenance"))
        assert ticket is not None and ticket.status == Status.NEW
        assert ticket.category_code == "fire_safety" and ticket.squad_id is not None
        assert "压力表指针在绿区" in ticket.events[0].note
    register = client.get("/staff/equipment").text
    row = register[register.index('id="ext-ext-1"'):][:1500]
    assert "2026-11-25" in row and "有问题" in row and ticket.number in row
    site = client.get("/staff/site").text
    assert "月检 已过期" not in site  # the register's date moved at once


def test_a_cleaning_with_a_failed_indicator_keeps_the_cleaning_ticket_open(
        client: TestClient) -> None:
    store = MemoryAttachmentStore()
    client.app.state.attachments = store
    cookie_sign_in(client, "staff")
    url = "/staff/equipment/tanks/tank-1/cleaning"
    no_report = _post(client, url, url, FULL_TEST)
    assert no_report.status_code == 422 and "请附上检测报告" in no_report.text
    assert 'value="星城二次供水清洗公司"' in no_report.text
    typo = _post(client, url, url, {**FULL_TEST, "colour": "五"},
                 files={"report": ("report.pdf", io.BytesIO(PDF), "application/pdf")})
    assert typo.status_code == 422 and "请填写检测报告上的数字" in typo.text
    assert "请重新选择检测报告文件" in typo.text and not store.files  # nothing half-kept
    reply = _post(client, url, url, {**FULL_TEST, "colony_cfu_ml": "180"},
                  files={"report": ("report.pdf", io.BytesIO(PDF), "application/pdf")})
    assert reply.status_code == 303 and reply.headers["location"].count("done=failed")
    page = client.get(reply.headers["location"]).text
    assert "水质检测不合格" in page and "菌落总数" in page and "≤ 100 CFU/mL" in page
    report_link = page[page.index("/staff/equipment/water-tests/"):].split('"')[0]
    report = client.get(report_link)
    assert report.status_code == 200 and report.content == PDF
    assert report.headers["content-type"] == "application/pdf"
    cookie_sign_in(client, "leader1")
    assert client.get(report_link).status_code == 403  # only staff read the lab report


def test_the_registers_download_as_a_workbook(client: TestClient) -> None:
    from openpyxl import load_workbook

    cookie_sign_in(client, "staff")
    reply = client.get("/staff/equipment/registers.xlsx")
    assert reply.status_code == 200
    book = load_workbook(io.BytesIO(reply.content))
    assert book.sheetnames == ["灭火器台账", "灭火器月检记录", "蓄水池清洗消毒及水质检测"]
    rows = list(book["灭火器台账"].iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "位置", "楼栋", "类型")
    assert rows[1][:4] == ("ext-1", "劳动新村1栋1单元", "C01-B01", "干粉")


def test_an_impossible_row_is_listed_flagged_never_a_500(client: TestClient) -> None:
    from datetime import date

    from server.sensing.models import ExtinguisherBay

    with client.app.state.sessions() as db:
        bay = db.get(ExtinguisherBay, "ext-1")
        assert bay is not None
        bay.last_inspected_on = date(2020, 1, 1)  # before it was made (2022-03-01)
        bay.extinguisher_type = "foam"  # no such agent in the rules
        db.commit()
    cookie_sign_in(client, "staff")
    page = client.get("/staff/equipment")
    assert page.status_code == 200
    row = page.text[page.text.index('id="ext-ext-1"'):][:800]
    assert "记录有误，请更正" in row
    assert client.get("/staff/equipment/registers.xlsx").status_code == 200


def test_the_admin_edits_a_tank_and_a_bad_interval_is_answered_beside_it(
        client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    url = "/admin/equipment/tanks/tank-1"
    page = client.get(url).text
    assert 'value="20000"' in page and "默认 20" in page  # the file's line, beside its field
    form = {"version": "1", "name": "1号二次供水蓄水池", "building_code": "C01-B01",
            "capacity_l": "18000", "cleaning_interval_days": "400"}
    bad = _post(client, url, url, form)
    assert bad.status_code == 422 and "请填写 90 到 365 之间的天数" in bad.text
    assert 'value="18000"' in bad.text
    good = _post(client, url, url, {**form, "cleaning_interval_days": "90"})
    assert good.status_code == 303
    assert "90 天" in client.get(good.headers["location"]).text
    with client.app.state.sessions() as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "tank.edit"))
        assert entry is not None and entry.actor_label
        assert entry.before["cleaning_interval_days"] == 180
        assert entry.after["cleaning_interval_days"] == 90 and entry.after["capacity_l"] == 18000
