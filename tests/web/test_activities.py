"""Group activities (issue 20): staff set one up, a volunteer signs in and out by scanning its QR
code on their phone, and the minutes are in their service record and on their certificate."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image
from pyzbar.pyzbar import decode

from server.records.hours import activity_minutes
from tests.web.conftest import cookie_sign_in, csrf_of
from tests.web.test_records import _served


def _site_day(clock) -> str:  # type: ignore[no-untyped-def]
    return (clock() + timedelta(hours=8)).date().isoformat()  # Changsha is UTC+8


def _set_up(client: TestClient, clock, *, start: str, end: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Staff set up the morning patrol; returns (its staff page URL, the URL its QR code opens)."""
    cookie_sign_in(client, "staff")
    page = client.get("/staff/activities")
    reply = client.post("/staff/activities", follow_redirects=False, data={
        "title": "早间巡逻", "place": "劳动新村东门", "day": _site_day(clock), "start": start,
        "end": end, "csrf_token": csrf_of(page.text)})
    assert reply.status_code == 303, reply.text
    staff_page = reply.headers["location"]
    qr = client.get(staff_page + "/qr.png")
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/png"
    from io import BytesIO
    codes = [c.data.decode() for c in decode(Image.open(BytesIO(qr.content)))]
    assert len(codes) == 1 and "/a/" in codes[0]
    return staff_page, "/a/" + codes[0].rsplit("/a/", 1)[1]


def _local_hhmm(clock, minutes_from_now: int) -> str:  # type: ignore[no-untyped-def]
    return (clock() + timedelta(hours=8, minutes=minutes_from_now)).strftime("%H:%M")


def test_minutes_count_within_the_activity_give_or_take_a_little() -> None:
    start = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    end = start + timedelta(hours=2)
    on_time = activity_minutes(signed_in=start, signed_out=end, starts=start, ends=end, now=end)
    early = activity_minutes(signed_in=start - timedelta(hours=2), signed_out=end, starts=start,
                             ends=end, now=end)
    forgot = activity_minutes(signed_in=start, signed_out=None, starts=start, ends=end,
                              now=end + timedelta(days=1))
    going = activity_minutes(signed_in=start, signed_out=None, starts=start, ends=end,
                             now=start + timedelta(minutes=5))
    assert (on_time, early, forgot, going) == (120, 150, 120, None)


def test_a_mistyped_activity_is_answered_beside_the_field(client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    cookie_sign_in(client, "staff")
    page = client.get("/staff/activities")
    reply = client.post("/staff/activities", data={
        "title": "", "place": "东门", "day": _site_day(clock), "start": "10:00", "end": "09:00",
        "csrf_token": csrf_of(page.text)})
    assert reply.status_code == 422
    assert "请填写活动名称" in reply.text and "结束时间应晚于开始时间" in reply.text
    assert 'value="东门"' in reply.text  # what was typed is kept


def test_three_jobs_and_a_patrol_on_the_phone_page_and_the_certificate(
        client: TestClient, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for minutes in (90, 30, 60):
        _served(client, clock, minutes)
    staff_page, sign_url = _set_up(client, clock, start=_local_hhmm(clock, 10),
                                   end=_local_hhmm(clock, 130))

    cookie_sign_in(client, "lijianguo")
    page = client.get(sign_url)
    assert "早间巡逻" in page.text and "签到" in page.text
    token = csrf_of(page.text)
    assert client.post(sign_url + "/in", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    again = client.post(sign_url + "/in", data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 303  # a second scan changes nothing
    clock.advance(minutes=90)
    assert client.post(sign_url + "/out", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    # Came 10 minutes before the start to set up: that counts.
    assert "这次服务 90 分钟" in client.get(sign_url).text

    record = client.get("/v/record").text
    # 90 + 30 + 60 minutes of jobs and 90 of the patrol: 4.5 hours, four services.
    assert re.search(r"服务时长（小时）</p><p class=\"level\">4\.5<", record)
    assert re.search(r"服务次数</p><p class=\"level\">4<", record) and "早间巡逻" in record

    cookie_sign_in(client, "staff")
    assert "李建国" in client.get(staff_page).text
    listing = client.get("/staff/records").text
    volunteer = re.search(r'href="/staff/records/(\d+)"', listing).group(1)  # type: ignore[union-attr]
    year = clock().year
    form = client.get(f"/staff/records/{volunteer}")
    issued = client.post(f"/staff/records/{volunteer}/certificates", follow_redirects=False,
                         data={"start": f"{year}-01-01", "end": f"{year}-12-31",
                               "csrf_token": csrf_of(form.text)})
    number = issued.headers["location"].split("issued=")[1]
    pdf = client.get(f"/staff/certificates/{number}.pdf")
    (tmp_path / "cert.pdf").write_bytes(pdf.content)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(tmp_path / "cert.pdf"),
                    str(tmp_path / "cert")], check=True)
    codes = [c.data.decode() for c in decode(Image.open(next(tmp_path.glob("cert*.png"))))]
    client.cookies.clear()
    check = client.get("/c/" + codes[0].rsplit("/c/", 1)[1]).text
    assert number in check and "4.5 小时" in check


def test_signing_in_before_the_qr_opens_is_refused_plainly(client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    _, sign_url = _set_up(client, clock, start=_local_hhmm(clock, 180),
                          end=_local_hhmm(clock, 240))
    cookie_sign_in(client, "lijianguo")
    token = csrf_of(client.get(sign_url).text)
    early = client.post(sign_url + "/in", data={"csrf_token": token})
    assert early.status_code == 409 and "开始前一小时可以签到" in early.text


def test_the_qr_page_asks_a_stranger_to_sign_in_and_staff_pages_refuse_volunteers(
        client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    staff_page, sign_url = _set_up(client, clock, start=_local_hhmm(clock, 10),
                                   end=_local_hhmm(clock, 70))
    client.cookies.clear()
    reply = client.get(sign_url, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"].startswith("/login?next=")
    cookie_sign_in(client, "lijianguo")
    assert client.get(staff_page).status_code in (401, 403)
    assert client.get(staff_page + "/qr.png").status_code in (401, 403)
