"""The slot publishing pages (预约时段): a squad leader publishes a month of Tuesday mornings on
a phone, a mistyped slot is answered beside its field, the slot's page lists who booked, a
visit is marked a no-show, and cancelling a slot cancels its requests and frees the places."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from server.appointments.models import AppointmentSlot, Booking
from server.models import Category, ServiceRequest
from server.site_profile import CategoryEdit
from tests.web.conftest import advance, cookie_sign_in, csrf_of, ticket_id_of


def _by_appointment(app: Any) -> None:
    """上门理发 by appointment, as the admin's switch makes it: taken over from the file, so a
    (test client's) start-up does not set it back to config/categories.toml's."""
    with app.state.sessions() as db:
        db.get(Category, "haircut").by_appointment = True
        db.merge(CategoryEdit(code="haircut"))
        db.commit()


def _site_day(clock: Any, days: int) -> str:
    return (clock() + timedelta(hours=8, days=days)).date().isoformat()  # Changsha is UTC+8


def _publish(client: TestClient, clock: Any, **fields: str) -> Any:
    page = client.get("/staff/appointments")
    data = {"category": "haircut", "day": _site_day(clock, 1), "start": "09:00",
            "end": "11:00", "capacity": "2", "weeks": "1", "csrf_token": csrf_of(page.text)}
    data.update(fields)
    return client.post("/staff/appointments", data=data, follow_redirects=False)


def _book(client: TestClient, slot_id: int, phone: str = "13800001234") -> dict[str, Any]:
    reply = client.post("/api/v1/requests", json={
        "client_id": uuid.uuid4().hex, "category": "haircut", "unit_code": "C01-B01-U1",
        "answers": {"when": "any"}, "contact_name": "王阿姨", "contact_phone": phone,
        "room": "502", "channel": "kiosk", "slot_id": slot_id})
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def test_a_leader_publishes_four_tuesdays_and_sees_them(app, client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    cookie_sign_in(client, "leader1")
    with app.state.sessions() as db:  # as shipped, 证件预约上门办理 is; switched off here
        db.get(Category, "certificates").by_appointment = False
        db.commit()
    empty = client.get("/staff/appointments")
    assert "还没有需要预约的服务" in empty.text
    _by_appointment(app)
    reply = _publish(client, clock, weeks="4", capacity="3")
    assert reply.status_code == 303
    listed = client.get(reply.headers["location"])
    assert "已发布 4 个时段" in listed.text
    assert listed.text.count("09:00–11:00") == 4
    assert "已约 0 / 3" in listed.text and "上门理发" in listed.text
    with app.state.sessions() as db:
        starts = sorted(s.starts_at for s in db.query(AppointmentSlot))
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [timedelta(weeks=1)] * 3
    assert starts[0].hour == 1  # 09:00 in Changsha


def test_a_mistyped_slot_is_answered_beside_the_field(app, client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    _by_appointment(app)
    cookie_sign_in(client, "staff")
    late = _publish(client, clock, start="11:00", end="10:00", capacity="3")
    assert late.status_code == 422
    assert 'id="slot-end-error"' in late.text and "结束时间应晚于开始时间" in late.text
    assert 'value="11:00"' in late.text and 'value="3"' in late.text  # what was typed, kept
    past = _publish(client, clock, day=_site_day(clock, -1))
    assert past.status_code == 422 and "这个时间已经过去了" in past.text
    many = _publish(client, clock, capacity="500")
    assert many.status_code == 422 and "名额请填 1 到 50 之间的数字" in many.text
    with app.state.sessions() as db:
        assert db.query(AppointmentSlot).count() == 0
    english = client.get("/staff/appointments?lang=en")
    assert "Appointment slots" in english.text


def test_bookings_no_show_and_cancelling_the_slot(app, client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    _by_appointment(app)
    cookie_sign_in(client, "staff")
    assert _publish(client, clock).status_code == 303
    with app.state.sessions() as db:
        slot_id = db.query(AppointmentSlot).one().id
    first, second = _book(client, slot_id), _book(client, slot_id, phone="13900005678")

    page = client.get(f"/staff/appointments/{slot_id}")
    assert "已约 2 / 2" in page.text
    assert "13800001234" in page.text and "502" in page.text  # staff see the full number
    assert first["number"] in page.text and second["number"] in page.text

    booking_ids = [int(i) for i in re.findall(r"/staff/appointments/bookings/(\d+)/no_show",
                                              page.text)]
    missed = client.post(f"/staff/appointments/bookings/{booking_ids[0]}/no_show",
                         data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert missed.status_code == 303
    page = client.get(f"/staff/appointments/{slot_id}")
    assert "未见到人" in page.text

    cancelled = client.post(f"/staff/appointments/{slot_id}/cancel",
                            data={"csrf_token": csrf_of(page.text)})
    assert cancelled.status_code == 200 and "这个时段已取消" in cancelled.text
    tracked = client.get(f"/api/v1/track/{second['phone_token']}").json()
    assert tracked["status"] == "cancelled" and tracked["appointment_at"] is None
    with app.state.sessions() as db:
        statuses = sorted(b.status for b in db.query(Booking))
        assert statuses == ["cancelled", "no_show"]
        assert db.get(AppointmentSlot, slot_id).taken == 0
    # Without the CSRF token nothing happens.
    refused = client.post(f"/staff/appointments/{slot_id}/cancel", data={})
    assert refused.status_code == 403


def test_volunteers_may_not_publish(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    cookie_sign_in(client, "lijianguo")
    assert client.get("/staff/appointments").status_code == 403


FORM_ID = re.compile(r'name="form_id" value="([A-Za-z0-9_-]+)"')


def _open_form(client: TestClient, lang: str = "zh") -> tuple[Any, dict[str, str]]:
    page = client.get(f"/new?building=C01-B01&category=haircut&lang={lang}")
    assert page.status_code == 200, page.text
    found = FORM_ID.search(page.text)
    assert found
    return page, {"csrf_token": csrf_of(page.text), "form_id": found.group(1),
                  "category": "haircut", "building": "C01-B01", "unit": "C01-B01-U1",
                  "q_when": "any", "room": "502", "whose": "mine", "contact_name": "王阿姨",
                  "contact_phone": "13800001234"}


def _slots(app: Any) -> list[int]:
    with app.state.sessions() as db:
        return [s.id for s in db.query(AppointmentSlot).order_by(AppointmentSlot.starts_at)]


def test_the_phone_form_offers_the_times_and_keeps_what_was_typed(app, clock) -> None:  # type: ignore[no-untyped-def]
    _by_appointment(app)
    with TestClient(app) as staff:
        cookie_sign_in(staff, "staff")
        assert _publish(staff, clock, capacity="1").status_code == 303
        assert _publish(staff, clock, day=_site_day(clock, 2), start="14:00", end="16:00",
                        capacity="3").status_code == 303
    first, second = _slots(app)
    with TestClient(app) as phone:
        page, fields = _open_form(phone)
        assert page.text.count('name="slot"') == 2 and "还剩 1 个名额" in page.text

        # Forgot to choose a time: asked beside the field, the rest kept.
        missing = phone.post("/new", data=fields)
        assert missing.status_code == 422
        assert 'id="slot-error"' in missing.text and "请选一个上门时间" in missing.text
        assert 'value="王阿姨"' in missing.text

        # Someone at the kiosk takes the last place of the first time meanwhile.
        _book(phone, first, phone="13900005678")
        full = phone.post("/new", data={**fields, "slot": str(first)})
        assert full.status_code == 409
        assert "您选的时间刚刚约满了" in full.text and 'value="王阿姨"' in full.text
        assert re.search(rf'value="{first}" disabled', full.text)  # greyed: 已满
        assert "已满" in full.text

        filed = phone.post("/new", data={**fields, "slot": str(second)},
                           follow_redirects=False)
        assert filed.status_code == 303, filed.text
        status = phone.get(filed.headers["location"])
        assert "预约上门时间" in status.text and "14:00" in status.text
        english = phone.get(filed.headers["location"] + "&lang=en")
        assert "Appointment" in english.text

        token = filed.headers["location"].split("/r/")[1].split("?")[0]
        cancelled = phone.post(f"/r/{token}/cancel", data={"csrf_token": csrf_of(status.text)},
                               follow_redirects=False)
        assert cancelled.status_code == 303
    with app.state.sessions() as db:
        assert db.get(AppointmentSlot, second).taken == 0


def test_the_volunteer_sees_the_time_on_the_task(app, client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    _by_appointment(app)
    cookie_sign_in(client, "staff")
    assert _publish(client, clock, start="15:00", end="16:00").status_code == 303
    filed = _book(client, _slots(app)[0])
    advance(client, ticket_id_of(client, filed["number"]), "accepted", volunteer="wangxiuying",
            given_name="秀英")
    cookie_sign_in(client, "wangxiuying")
    tasks = client.get("/v")
    assert "预约上门" in tasks.text and "15:00" in tasks.text


def test_staff_taking_a_call_book_a_time_for_the_caller(app, client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    _by_appointment(app)
    cookie_sign_in(client, "staff")
    assert _publish(client, clock, start="10:00", end="11:00").status_code == 303
    [slot] = _slots(app)
    page = client.get("/staff/new?building=C01-B01&category=haircut")
    assert 'name="slot"' in page.text and "还剩 2 个名额" in page.text
    fields = {"csrf_token": csrf_of(page.text), "form_id": FORM_ID.search(page.text).group(1),
              "category": "haircut", "building": "C01-B01", "unit": "C01-B01-U1",
              "q_when": "any", "whose": "mine", "contact_name": "赵奶奶"}
    missing = client.post("/staff/new", data=fields)
    assert missing.status_code == 422 and "请选一个上门时间" in missing.text
    filed = client.post("/staff/new", data={**fields, "slot": str(slot)},
                        follow_redirects=False)
    assert filed.status_code == 303, filed.text
    with app.state.sessions() as db:
        assert db.get(AppointmentSlot, slot).taken == 1
        assert db.query(Booking).one().slot_id == slot


def test_the_admin_marks_a_service_by_appointment(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    from tests.web.test_admin_categories import _form

    cookie_sign_in(client, "admin")
    page = client.get("/admin/categories/haircut")
    assert 'name="by_appointment"' in page.text and "需预约" in page.text
    reply = client.post("/admin/categories/haircut",
                        data={**_form(client, "haircut"), "by_appointment": "1"},
                        follow_redirects=False)
    assert reply.status_code == 303, reply.text
    kiosk = {c["code"]: c for c in client.get("/api/v1/categories").json()["categories"]}
    assert kiosk["haircut"]["by_appointment"] is True
    assert re.search(r'name="by_appointment"[^>]*checked', client.get(
        "/admin/categories/haircut").text)


def test_a_leader_sees_only_his_squads_households_and_staff_see_no_shows(
        app, client: TestClient, clock) -> None:  # type: ignore[no-untyped-def]
    _by_appointment(app)
    cookie_sign_in(client, "staff")
    assert _publish(client, clock).status_code == 303
    [slot] = _slots(app)
    _book(client, slot)  # 劳动新村 1栋: squad 1's grid
    cookie_sign_in(client, "leader2")  # squad 2: sees that the place is taken, not by whom
    page = client.get(f"/staff/appointments/{slot}")
    assert "另有 1 户是其他小分队的" in page.text
    assert "1234" not in page.text and "王阿姨" not in page.text and "502" not in page.text
    cookie_sign_in(client, "leader1")  # squad 1's grid: the household, the number per privacy
    page = client.get(f"/staff/appointments/{slot}")
    assert "王阿姨" in page.text and "13800001234" in page.text
    booking = re.search(r"/staff/appointments/bookings/(\d+)/no_show", page.text)
    assert booking
    client.post(f"/staff/appointments/bookings/{booking.group(1)}/no_show",
                data={"csrf_token": csrf_of(page.text)})
    with app.state.sessions() as db:
        resident_id = db.query(ServiceRequest).one().resident_id
    cookie_sign_in(client, "admin")
    record = client.get(f"/admin/residents/{resident_id}")
    assert "预约上门未见到人（1 次）" in record.text and "上门理发" in record.text
