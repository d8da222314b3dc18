"""Staff and squad leaders: the queue and its filters, dispatch, acknowledge / resolve / close,
a ticket's full history, and the monthly figures as a page and a CSV for Excel."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from tests.server.conftest import FakeClock
from tests.web.conftest import (
    advance,
    cookie_sign_in,
    csrf_of,
    file_request,
    ticket_id_of,
    volunteer_id,
)


def test_the_queue_filters_by_status_squad_category_kind_and_overdue(
        client: TestClient, clock: FakeClock) -> None:
    leak = file_request(client)                                      # squad-1, 4 h target
    haircut = file_request(client, category="haircut", answers={"when": "morning"},
                           unit_code="C05-B01-U1")                    # squad-2
    advance(client, ticket_id_of(client, haircut["number"]), "dispatched",
            volunteer="wangxiuying", given_name="秀英")
    cookie_sign_in(client, "staff")

    def numbers(query: str) -> set[str]:
        page = client.get("/staff" + query)
        assert page.status_code == 200, page.text
        return {n for n in (leak["number"], haircut["number"]) if f">{n}<" in page.text}

    both = {leak["number"], haircut["number"]}
    assert numbers("") == both
    assert numbers("?status=dispatched") == {haircut["number"]}
    assert numbers("?squad=squad-1") == {leak["number"]}
    assert numbers("?category=haircut") == {haircut["number"]}
    assert numbers("?kind=maintenance") == set()
    assert numbers("?status=nonsense&kind=nonsense") == both  # odd values are ignored
    assert numbers("?overdue=1") == set()
    clock.advance(hours=5)
    assert leak["number"] in numbers("?overdue=1")
    assert "超时" in client.get("/staff").text


def test_dispatch_to_the_suggested_volunteer(client: TestClient) -> None:
    filed = file_request(client)
    ticket_id = ticket_id_of(client, filed["number"])
    cookie_sign_in(client, "leader1")
    page = client.get(f"/staff/tickets/{ticket_id}")
    assert page.status_code == 200 and "派单给志愿者" in page.text and "推荐" in page.text
    vid = volunteer_id(client, ticket_id, "建国")
    assert f'value="{vid}" checked' in page.text  # the first proposal is preselected
    reply = client.post(f"/staff/tickets/{ticket_id}/dispatch",
                        data={"volunteer_id": str(vid), "note": "请今天上门",
                              "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert reply.status_code == 303
    detail = client.get(reply.headers["location"]).text
    assert "已派单" in detail and "请今天上门" in detail
    assert "改派给其他志愿者" in detail and "当前" in detail
    assert "\" checked>" not in detail  # a reassignment is never preselected


def test_dispatch_without_a_choice_explains_and_keeps_the_note(client: TestClient) -> None:
    filed = file_request(client)
    ticket_id = ticket_id_of(client, filed["number"])
    cookie_sign_in(client, "staff")
    token = csrf_of(client.get(f"/staff/tickets/{ticket_id}").text)
    reply = client.post(f"/staff/tickets/{ticket_id}/dispatch",
                        data={"note": "尽快", "csrf_token": token})
    assert reply.status_code == 422 and "请先选一位志愿者" in reply.text and "尽快" in reply.text
    # A volunteer without the skill: the service's reason is shown, not a crash.
    haircut_only = volunteer_id(client, ticket_id_of(client, file_request(
        client, category="haircut", answers={"when": "morning"})["number"]), "秀英")
    reply = client.post(f"/staff/tickets/{ticket_id}/dispatch",
                        data={"volunteer_id": str(haircut_only), "csrf_token": token})
    assert reply.status_code == 422 and "无法派单" in reply.text
    reply = client.post(f"/staff/tickets/{ticket_id}/dispatch",
                        data={"volunteer_id": "x1", "csrf_token": token})
    assert reply.status_code == 422


def test_acknowledge_resolve_close_and_the_full_history(client: TestClient) -> None:
    filed = file_request(client)
    ticket_id = ticket_id_of(client, filed["number"])
    cookie_sign_in(client, "staff")
    token = csrf_of(client.get(f"/staff/tickets/{ticket_id}").text)
    ack = client.post(f"/staff/tickets/{ticket_id}/act/acknowledge",
                      data={"note": "", "csrf_token": token}, follow_redirects=False)
    assert ack.status_code == 303
    advance(client, ticket_id, "resolved")
    page = client.get(f"/staff/tickets/{ticket_id}").text
    assert "关闭" in page
    closed = client.post(f"/staff/tickets/{ticket_id}/act/close",
                         data={"note": "电话回访，居民满意", "csrf_token": token},
                         follow_redirects=False)
    assert closed.status_code == 303
    page = client.get(f"/staff/tickets/{ticket_id}").text
    for step in ("登记", "已知悉", "派单", "接单", "换了水龙头", "电话回访，居民满意"):
        assert step in page, step
    assert "已关闭" in page
    again = client.post(f"/staff/tickets/{ticket_id}/act/close", data={"csrf_token": token})
    assert again.status_code == 409 and "刚刚变了" in again.text


def test_squad_leaders_dispatch_but_do_not_close(client: TestClient) -> None:
    filed = file_request(client)
    ticket_id = ticket_id_of(client, filed["number"])
    cookie_sign_in(client, "leader1")
    page = client.get(f"/staff/tickets/{ticket_id}").text
    assert "派单给志愿者" in page and "取消工单" not in page
    reply = client.post(f"/staff/tickets/{ticket_id}/act/cancel",
                        data={"csrf_token": csrf_of(page)})
    assert reply.status_code == 403


def test_monthly_figures_page_and_csv_for_excel(client: TestClient) -> None:
    filed = file_request(client)
    advance(client, ticket_id_of(client, filed["number"]), "resolved")
    file_request(client, category="haircut", answers={"when": "morning"},
                 unit_code="C05-B01-U1")
    cookie_sign_in(client, "staff")
    page = client.get("/staff/figures?year=2026")
    assert page.status_code == 200
    assert "2026-11" in page.text and "水电维修" in page.text and "上门理发" in page.text
    assert "第一志愿服务小分队" in page.text
    download = client.get("/staff/figures.csv?year=2026")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    assert download.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["月份", "服务类别", "类别代码", "小分队"]
    water = next(r for r in rows if r[2] == "water_electric")
    assert water[0] == "2026-11" and water[1] == "水电维修" and water[4] == "1"
    assert water[6] == "1"  # completed
    english = client.get("/staff/figures.csv?year=2026&lang=en").content.decode("utf-8-sig")
    assert english.startswith("month,category,category_code,squad,requests")
    assert client.get("/staff/figures.csv?year=2025").content.decode("utf-8-sig").count(
        "\n") == 1  # a year with nothing: just the header


def test_the_queue_pages_through_long_lists(client: TestClient) -> None:
    from server.web import staff

    for _ in range(3):
        file_request(client)
    cookie_sign_in(client, "staff")
    original = staff.PAGE_SIZE
    staff.PAGE_SIZE = 2
    try:
        first = client.get("/staff?category=water_electric").text
        assert 'href="/staff?category=water_electric&page=2"' in first
        second = client.get("/staff?category=water_electric&page=2").text
        assert "上一页" in second and "下一页" not in second
    finally:
        staff.PAGE_SIZE = original
