"""The month's ledger (台账, issue 16): staff download it as an .xlsx with Chinese headers and one
sheet per table, which openpyxl opens back here; on the 1st the server writes last month's
ledger under the data folder once and tells the duty staff's WeCom robot (real Apprise to a
local stand-in of the robot API) where to download it."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from server.alerts import AppriseNotifier
from server.ledgers.job import announcer, ledger_path, run_monthly_ledger
from server.settings import ServerSettings
from tests.server.alerts.robots import RobotApi, robot_api
from tests.web.conftest import cookie_sign_in
from tests.web.test_records import _served

__all__ = ["robot_api"]  # fixture used here

DUTY = "dutykey"


def _sheets(data: bytes) -> dict[str, list[tuple[object, ...]]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def test_staff_download_the_months_ledger_and_excel_opens_it(client: TestClient,
                                                             clock) -> None:  # type: ignore[no-untyped-def]
    _served(client, clock, 90, rating=5)
    _served(client, clock, 30, rating=2)
    cookie_sign_in(client, "staff")
    now = clock()
    reply = client.get(f"/staff/ledger.xlsx?year={now.year}&month={now.month}")
    assert reply.status_code == 200
    assert reply.headers["content-disposition"].endswith(f'-{now.month:02d}.xlsx"')
    sheets = _sheets(reply.content)
    assert list(sheets) == [
        "服务统计", "按小区", "居民评价", "志愿服务时长", "维修工单", "图书借阅", "志愿者名册",
        "灭火器台账", "灭火器月检记录", "蓄水池清洗消毒及水质检测"]
    head, *rows = sheets["服务统计"]
    assert head[:5] == ("服务类别", "小分队", "请求数", "服务居民数", "已完成")
    assert sum(int(r[2]) for r in rows) == 2 and sum(int(r[4]) for r in rows) == 2
    head, *rows = sheets["居民评价"]
    assert rows == [("水电维修", 2, 3.5, 1)]
    head, *rows = sheets["志愿服务时长"]
    assert [(r[2], r[4], r[5]) for r in rows] == [("李建国", 2, 2.0)]
    assert any(r[1] == "李建国" for r in sheets["志愿者名册"][1:])

    cookie_sign_in(client, "leader1")
    assert client.get(f"/staff/ledger.xlsx?year={now.year}&month={now.month}"
                      ).status_code in (401, 403)
    cookie_sign_in(client, "staff")
    assert client.get("/staff/ledger.xlsx?year=2026&month=13").status_code == 422


def test_on_the_first_the_ledger_is_written_once_and_the_duty_robot_told(
        client: TestClient, clock, settings: ServerSettings, robot_api: RobotApi,  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICEPOINT_ALERT_DUTY_WECOM_URL", f"wecombot://{DUTY}")
    _served(client, clock, 60)
    served_month = clock().astimezone(UTC)
    first = datetime(served_month.year + (served_month.month == 12),
                     served_month.month % 12 + 1, 1, 1, 0, tzinfo=UTC)  # 09:00 in Changsha
    announce = announcer(settings, AppriseNotifier(timeout_s=5), lambda: first)
    app = client.app
    with app.state.sessions() as db:  # type: ignore[attr-defined]
        path = run_monthly_ledger(db, settings=settings, rules=app.state.rules,  # type: ignore[attr-defined]
                                  now=first, announce=announce)
    assert path == ledger_path(Path(settings.data_dir), served_month.year, served_month.month)
    hours = _sheets(path.read_bytes())["志愿服务时长"]
    assert [(r[2], r[5]) for r in hours[1:]] == [("李建国", 1.0)]
    (call,) = robot_api.wecom(DUTY)
    assert "台账已生成" in call.text and "/staff/ledger.xlsx?year=" in call.text

    with app.state.sessions() as db:  # type: ignore[attr-defined]
        again = run_monthly_ledger(db, settings=settings, rules=app.state.rules,  # type: ignore[attr-defined]
                                   now=first, announce=announce)
    assert again is None and len(robot_api.wecom(DUTY)) == 1  # once a month


def test_the_figures_page_draws_the_year_as_bars_on_the_server(client: TestClient,
                                                              clock) -> None:  # type: ignore[no-untyped-def]
    import re

    _served(client, clock, 90, rating=4)
    _served(client, clock, 30, rating=5)
    cookie_sign_in(client, "staff")
    page = client.get(f"/staff/figures?year={clock().year}").text
    charts = re.findall(r"<figcaption>([^<]+)</figcaption><svg[^>]*>(.*?)</svg>", page)
    assert [title for title, _ in charts] == [
        "每月居民请求（件）", "每月已完成（件）", "每月志愿服务时长（小时）",
        "每月平均评分（5分制）", "每月维修工单（件）", "每月图书借出（册次）"]
    month = clock().astimezone(UTC).month  # the served month, the same in Changsha here
    requests = dict(charts)["每月居民请求（件）"]
    assert len(re.findall(r'<rect class="bar"', requests)) == 12
    assert re.search(rf'>2</text><text class="val" x="[\d.]+" y="\d+" text-anchor="middle">'
                     rf'{month}</text>', requests)
    assert ">4.5</text>" in dict(charts)["每月平均评分（5分制）"]
    assert ">2.0</text>" in dict(charts)["每月志愿服务时长（小时）"]
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]  # no chart script
