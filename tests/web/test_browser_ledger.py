"""The month's ledger downloaded the way a community worker does it (issue 16's "done means"): in
headless Chromium, sign in, open 月度统计, pick the month, 下载台账（Excel）; the file the browser
saves opens in openpyxl with the month's figures, the volunteers' hours and the registers."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.web.test_browser import AUDIT
from tests.web.test_records import _served

pytestmark = pytest.mark.browser


def test_staff_download_the_months_ledger_from_the_figures_page(
        client: TestClient, live_url: str, desktop, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _served(client, clock, 90, rating=5)
    page = desktop
    page.goto(f"{live_url}/login")
    page.fill("#username", "admin")
    page.fill("#password", "admin-demo")
    page.click("form[action='/login'] button[type=submit]")
    page.click("nav >> text=月度统计")
    assert page.evaluate(AUDIT)["problems"] == []
    page.select_option("#ledger-month", str(clock().month))
    with page.expect_download() as waiting:
        page.click("button:has-text('下载台账')")
    saved = tmp_path / waiting.value.suggested_filename
    waiting.value.save_as(saved)
    assert saved.name == f"ledger-{clock().year}-{clock().month:02d}.xlsx"
    book = load_workbook(saved, read_only=True)
    assert book.sheetnames[:4] == ["服务统计", "按小区", "居民评价", "志愿服务时长"]
    hours = list(book["志愿服务时长"].iter_rows(values_only=True))
    assert [(row[2], row[5]) for row in hours[1:]] == [("李建国", 1.5)]
    assert "灭火器台账" in book.sheetnames and "蓄水池清洗消毒及水质检测" in book.sheetnames
