"""The equipment records in real headless Chromium, as the admin and a staff member do them: add
an extinguisher and print its label (the label's QR decodes to its inspection form), scan it with
a phone that is not signed in (sign in, land on the form), do the monthly inspection with one
failed item (a ticket opens, the register shows the check done), record a tank cleaning with a
full water test and its lab report, and download the registers as .xlsx.

    WEB_SCREENSHOTS=1 .venv/bin/python -m pytest tests/web/test_browser_inspection.py
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from server.attachments import MemoryAttachmentStore
from server.models import Ticket
from tests.web.conftest import DESKTOP, session_for, shoot
from tests.web.test_browser import AUDIT

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _signed_in(browser, app, base: str, username: str, **options):  # type: ignore[no-untyped-def]
    from tests.web.conftest import watch_csp

    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", **options)
    context.add_cookies([{"name": "sp_session", "value": session_for(app, username),
                          "url": base}])
    violations = watch_csp(context)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page, violations


def _decode(png: bytes) -> str:
    from pyzbar.pyzbar import decode

    found = decode(Image.open(io.BytesIO(png)))
    assert len(found) == 1, "one QR code on the label"
    return found[0].data.decode()


def test_admin_adds_an_extinguisher_prints_its_label_and_staff_inspect_it(
        client: TestClient, live_url: str, browser, phone, desktop) -> None:  # type: ignore[no-untyped-def]
    client.app.state.attachments = MemoryAttachmentStore()
    admin = desktop
    admin.context.add_cookies([{"name": "sp_session", "value": session_for(client.app, "admin"),
                                "url": live_url}])
    admin.goto(f"{live_url}/admin")
    admin.click("text=消防和供水设备")
    assert admin.url.endswith("/staff/equipment")
    admin.click("text=+ 登记灭火器")
    admin.fill("#f-asset_id", "ext-20")
    admin.fill("#f-name", "劳动新村2栋3楼楼梯口")
    admin.select_option("#f-building_code", "C01-B02")
    admin.select_option("#f-extinguisher_type", "dry_powder")
    admin.fill("#f-manufactured_on", "2019-12-10")
    shoot(admin, "equipment-extinguisher-new")
    admin.click("form.admin-form button[type=submit]")
    admin.wait_for_selector("text=灭火器已登记")
    row = admin.locator("#ext-ext-20")
    assert "从未月检" in row.inner_text()

    # The label, drawn large enough to read back the way a phone's camera would.
    context, big, violations = _signed_in(browser, client.app, live_url, "admin",
                                          device_scale_factor=4)
    big.goto(f"{live_url}/staff/equipment/labels?asset=ext-20")
    label = big.locator(".asset-label")
    assert "劳动新村2栋3楼楼梯口" in label.inner_text() and "ext-20" in label.inner_text()
    box = label.bounding_box()
    assert box is not None and 185 <= box["width"] <= 195  # 50 mm at 96 px per inch
    url = _decode(big.locator(".asset-label svg").screenshot())
    assert url == f"{client.app.state.settings.http.public_url}/staff/inspect/ext-20"
    context.close()
    assert violations == []
    admin.goto(f"{live_url}/staff/equipment/labels")
    shoot(admin, "equipment-labels")

    # A staff member's phone scans it: sign in first, then land on the form.
    path = url.split("/staff/inspect/")[1]
    phone.goto(f"{live_url}/staff/inspect/{path}")
    assert "/login" in phone.url
    phone.fill("#username", "staff")
    phone.fill("#password", "staff-demo")
    phone.click("form[action='/login'] button[type=submit]")
    phone.wait_for_selector("text=月检：劳动新村2栋3楼楼梯口")
    assert phone.url.endswith("/staff/inspect/ext-20")
    for item in ("present", "seal_pin", "hose_nozzle", "label", "cabinet"):
        phone.check(f"input[name={item}][value=ok]")
    phone.check("input[name=gauge_green][value=fault]")
    phone.fill("#f-notes", "压力表指针在红区")
    assert phone.evaluate(AUDIT)["problems"] == []
    shoot(phone, "equipment-inspection")
    phone.click("form.checklist button[type=submit]")
    phone.wait_for_selector("text=有问题的项目已开维修工单")
    with client.app.state.sessions() as db:
        ticket = db.scalar(select(Ticket).where(Ticket.asset_id == "ext-20"))
        assert ticket is not None and ticket.category_code == "fire_safety"
        number = ticket.number
    assert number in phone.content()
    assert phone.evaluate(AUDIT)["problems"] == []
    shoot(phone, "equipment-inspection-failed")

    admin.goto(f"{live_url}/staff/equipment")
    row_text = admin.locator("#ext-ext-20").inner_text()
    assert "2026-11-25" in row_text and "有问题" in row_text and number in row_text
    assert "从未月检" not in row_text
    # Made 2019-12-10, dry powder: first maintenance 5 years on, so it is overdue, and it is
    # listed among the month's maintenance.
    assert "劳动新村2栋3楼楼梯口" in admin.locator("#due-maintenance").locator("..").inner_text()
    result = admin.evaluate(AUDIT)
    assert result["problems"] == []
    shoot(admin, "equipment")


def test_staff_record_a_cleaning_with_a_full_water_test_and_download_the_registers(
        client: TestClient, live_url: str, desktop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    client.app.state.attachments = MemoryAttachmentStore()
    page = desktop
    page.context.add_cookies([{"name": "sp_session", "value": session_for(client.app, "staff"),
                               "url": live_url}])
    page.goto(f"{live_url}/staff/equipment")
    page.click("text=清洗和水质检测")
    page.fill("#f-cleaned_on", "2026-11-20")
    page.fill("#f-company", "星城二次供水清洗公司")
    page.fill("#f-certificate_no", "湘卫水字2024-017")
    page.fill("#f-disinfectant", "次氯酸钠")
    page.fill("#f-tested_on", "2026-11-22")
    page.fill("#f-lab", "长沙市疾控中心")
    page.fill("#f-report_no", "SW-2026-1188")
    for field, value in (("turbidity_ntu", "0.4"), ("free_chlorine_mg_l", "0.3"),
                         ("colony_cfu_ml", "12"), ("colour", "5")):
        page.fill(f"#f-{field}", value)
    page.check("input[name=coliforms_detected][value=none]")
    page.check("input[name=odour_none][value=none]")
    report = tmp_path / "report.pdf"
    report.write_bytes(PDF)
    page.set_input_files("#f-report", str(report))
    shoot(page, "equipment-cleaning-form")
    page.click("text=保存清洗和检测记录")
    page.wait_for_selector("text=水质检测合格。清洗工单已关闭")
    entry = page.locator(".cleaning-entry").first.inner_text()
    assert "星城二次供水清洗公司" in entry and "长沙市疾控中心" in entry
    assert "0.05–2 mg/L" in entry and "不合格" not in entry
    assert page.evaluate(AUDIT)["problems"] == []
    shoot(page, "equipment-cleaning")

    page.goto(f"{live_url}/staff/equipment")
    with page.expect_download() as download:
        page.click("text=下载台账 Excel")
    saved = tmp_path / "registers.xlsx"
    download.value.save_as(saved)
    book = load_workbook(saved)
    cleanings = list(book["蓄水池清洗消毒及水质检测"].iter_rows(values_only=True))
    assert cleanings[0][:3] == ("水池", "清洗日期", "清洗单位")
    last = cleanings[-1]
    assert last[2] == "星城二次供水清洗公司" and last[6] == "长沙市疾控中心"
    assert last[9] == 0.3 and last[10] == "未检出" and last[14] == "合格"
    assert [r[0] for r in book["灭火器台账"].iter_rows(min_row=2, values_only=True)] == [
        "ext-1", "ext-2", "ext-3"]
