"""Volunteer service records (issue 20): the hours behind 党员接单, from "on my way" to "done",
shown on the volunteer's phone, corrected by the squad leader with the change in the ticket's
history, and printed as a certificate whose QR code opens a public page confirming its number
and hours and nothing else about the person."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image
from pyzbar.pyzbar import decode

from server.records.hours import MAX_JOB_MINUTES, HistoryStep, job_minutes
from tests.web.conftest import (
    advance,
    api_headers,
    cookie_sign_in,
    csrf_of,
    file_request,
    ticket_id_of,
)


def _served(client: TestClient, clock, minutes: float, *, start: bool = True,  # type: ignore[no-untyped-def]
            rating: int | None = None) -> tuple[str, int]:
    """A request 建国 accepts, sets off for (unless ``start`` is False), and finishes
    ``minutes`` later; rated by the resident if ``rating``."""
    filed = file_request(client)
    ticket_id = ticket_id_of(client, str(filed["number"]))
    advance(client, ticket_id, "accepted")
    mine = api_headers(client, "lijianguo")
    if start:
        assert client.post(f"/api/v1/tickets/{ticket_id}/start",
                           headers=mine).status_code == 200
    clock.advance(minutes=minutes)
    assert client.post(f"/api/v1/tickets/{ticket_id}/resolve", headers=mine,
                       json={"note": "修好了"}).status_code == 200
    if rating is not None:
        page = client.get(f"/r/{filed['phone_token']}")
        assert client.post(f"/r/{filed['phone_token']}/confirm", follow_redirects=False, data={
            "rating": str(rating), "csrf_token": csrf_of(page.text)}).status_code == 303
    clock.advance(hours=2)
    return str(filed["number"]), ticket_id


def test_a_jobs_hours_run_from_on_my_way_to_done_and_are_capped() -> None:
    from datetime import UTC, datetime, timedelta
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    steps = [HistoryStep(t0, "accept", 7), HistoryStep(t0 + timedelta(minutes=10), "start", 7),
             HistoryStep(t0 + timedelta(minutes=55), "resolve", 7)]
    assert job_minutes(steps, 7).minutes == 45 and job_minutes(steps, 7).timed
    assert job_minutes(steps, 8).minutes == 0  # someone else's job
    forgotten = [HistoryStep(t0, "start", 7), HistoryStep(t0 + timedelta(days=1), "resolve", 7)]
    assert job_minutes(forgotten, 7).minutes == MAX_JOB_MINUTES  # "done" tapped next morning
    no_start = [HistoryStep(t0, "accept", 7), HistoryStep(t0 + timedelta(hours=1), "resolve", 7)]
    assert not job_minutes(no_start, 7).timed and job_minutes(no_start, 7).minutes == 0


def test_the_volunteer_sees_hours_by_month_services_and_ratings(client: TestClient,
                                                                 clock) -> None:  # type: ignore[no-untyped-def]
    first, _ = _served(client, clock, 90, rating=5)
    second, _ = _served(client, clock, 30, rating=4)
    third, _ = _served(client, clock, 60)
    cookie_sign_in(client, "lijianguo")
    page = client.get("/v/record").text
    assert "我的志愿服务" in page
    assert all(number in page for number in (first, second, third))
    # 90 + 30 + 60 minutes = 3 hours, three services, ratings 5 and 4.
    assert re.search(r"服务时长（小时）</p><p class=\"level\">3\.0<", page)
    assert re.search(r"服务次数</p><p class=\"level\">3<", page)
    assert "4.5" in page
    assert "更正时长" not in page  # the volunteer cannot change their own hours


def test_the_leader_corrects_a_forgotten_start_and_the_history_says_so(
        client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    number, ticket_id = _served(client, clock, 40, start=False)
    cookie_sign_in(client, "lijianguo")
    assert "没有记“出发”" in client.get("/v/record").text
    volunteer = re.search(r'href="/staff/records/(\d+)"',
                          _leader_list(client)).group(1)  # type: ignore[union-attr]
    page_url = f"/staff/records/{volunteer}"
    action = f"/staff/records/{volunteer}/jobs/{ticket_id}/hours"
    token = csrf_of(client.get(page_url).text)
    refused = client.post(action, data={"minutes": "900", "reason": "", "csrf_token": token})
    assert refused.status_code == 422
    assert "分钟数应在 0 到 480 之间" in refused.text and "请写明更正的原因" in refused.text
    assert 'value="900"' in refused.text  # what was typed is kept
    saved = client.post(action, data={"minutes": "45", "reason": "忘了点出发",
                                      "csrf_token": token}, follow_redirects=False)
    assert saved.status_code == 303
    assert "队长已更正" in client.get(page_url).text
    history = client.get(f"/api/v1/tickets/{ticket_id}",
                         headers=api_headers(client, "staff")).json()["history"]
    assert any("0 → 45 分钟" in h["note"] and "忘了点出发" in h["note"] for h in history), number


def _leader_list(client: TestClient) -> str:
    cookie_sign_in(client, "leader1")
    listing = client.get("/staff/records")
    assert listing.status_code == 200
    return listing.text


def test_another_squads_leader_cannot_see_or_correct(client: TestClient,
                                                      clock) -> None:  # type: ignore[no-untyped-def]
    _, ticket_id = _served(client, clock, 30)
    volunteer = re.search(r'href="/staff/records/(\d+)"',
                          _leader_list(client)).group(1)  # type: ignore[union-attr]
    cookie_sign_in(client, "leader2")
    assert f'href="/staff/records/{volunteer}"' not in client.get("/staff/records").text
    assert client.get(f"/staff/records/{volunteer}").status_code == 403
    cookie_sign_in(client, "lijianguo")
    assert client.get(f"/staff/records/{volunteer}").status_code in (401, 403)


def test_the_certificate_shows_the_hours_and_its_qr_opens_the_public_check(
        client: TestClient, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for minutes in (90, 30, 60):
        _served(client, clock, minutes)
    cookie_sign_in(client, "staff")
    volunteer = re.search(r'href="/staff/records/(\d+)"',
                          client.get("/staff/records").text).group(1)  # type: ignore[union-attr]
    page_url = f"/staff/records/{volunteer}"
    token = csrf_of(client.get(page_url).text)
    year = clock().year
    bad = client.post(f"{page_url}/certificates", data={
        "start": f"{year}-12-31", "end": f"{year}-01-01", "csrf_token": token})
    assert bad.status_code == 422 and "结束日期不能早于开始日期" in bad.text
    issued = client.post(f"{page_url}/certificates", follow_redirects=False, data={
        "start": f"{year}-01-01", "end": f"{year}-12-31", "csrf_token": token})
    assert issued.status_code == 303
    number = issued.headers["location"].split("issued=")[1]
    assert number == f"ZY{year}-0001"

    pdf = client.get(f"/staff/certificates/{number}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    (tmp_path / "cert.pdf").write_bytes(pdf.content)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(tmp_path / "cert.pdf"),
                    str(tmp_path / "cert")], check=True)
    picture = Image.open(next(tmp_path.glob("cert*.png")))
    codes = [c.data.decode() for c in decode(picture)]
    assert len(codes) == 1 and "/c/" in codes[0]

    client.cookies.clear()  # anyone with the paper: no sign-in
    check = client.get("/c/" + codes[0].rsplit("/c/", 1)[1])
    assert check.status_code == 200
    assert number in check.text and "3.0 小时" in check.text and "这份证明是真实的" in check.text
    assert "建国" not in check.text and "1380000" not in check.text  # nothing about the person
    assert client.get("/c/" + "x" * 22).status_code == 404


def test_the_branch_ledger_lists_hours_by_month_squad_and_volunteer(
        client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    _served(client, clock, 90)
    _served(client, clock, 30)
    cookie_sign_in(client, "staff")
    listing = client.get("/staff/records").text
    assert "2.0 小时" in listing  # the squad's total
    reply = client.get(f"/staff/records.csv?year={clock().year}")
    assert reply.status_code == 200 and reply.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
    assert rows[0] == ["月份", "小分队", "志愿者编号", "志愿者", "党员", "服务次数",
                       "服务时长（小时）"]
    mine = [r for r in rows[1:] if r[3] == "李建国"]
    assert mine == [[clock().strftime("%Y-%m"), mine[0][1], mine[0][2], "李建国", "是", "2",
                     "2.0"]]
    cookie_sign_in(client, "leader1")  # leaders see their squad's records, not the export
    assert client.get("/staff/records.csv").status_code in (401, 403)
