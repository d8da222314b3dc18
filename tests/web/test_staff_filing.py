"""Staff taking a call (代办): the "file for a resident" form on the staff pages, what it records,
who may open it, and the resident's text message with the status link."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.alerts import AppriseNotifier
from server.models import ServiceRequest, User
from server.settings import ServerSettings
from tests.server.alerts.robots import RobotApi, robot_api
from tests.web.conftest import FakeClock, cookie_sign_in, csrf_of

__all__ = ["robot_api"]  # fixture used here

FORM_ID = re.compile(r'name="form_id" value="([A-Za-z0-9_-]+)"')
STEP_TWO = "/staff/new?building=C01-B02&category=pipe_unclog"


def _form(client: TestClient, lang: str = "zh") -> dict[str, str]:
    page = client.get(f"{STEP_TWO}&lang={lang}")
    assert page.status_code == 200, page.text
    found = FORM_ID.search(page.text)
    assert found
    return {"csrf_token": csrf_of(page.text), "form_id": found.group(1),
            "category": "pipe_unclog", "building": "C01-B02", "unit": "unknown",
            "q_where": "kitchen", "whose": "mine", "contact_name": "李奶奶",
            "contact_phone": "13700001111", "description": "电话报修：厨房下水慢"}


def test_staff_file_a_phoned_in_request_and_its_history_says_who(client: TestClient) -> None:
    cookie_sign_in(client, "staff")
    reply = client.post("/staff/new", data=_form(client), follow_redirects=False)
    assert reply.status_code == 303, reply.text
    filed_page = client.get(reply.headers["location"])
    assert filed_page.status_code == 200
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        request = db.scalars(select(ServiceRequest).order_by(ServiceRequest.id.desc())).first()
        staff = db.scalar(select(User).where(User.username == "staff"))
        assert request is not None and staff is not None
        number, ticket_id = request.ticket.number, request.ticket_id
        assert (request.channel, request.filed_by_user_id) == ("staff", staff.id)
        assert request.ticket.building.code == "C01-B02" and request.ticket.unit is None
        staff_name = staff.display_name or staff.username
    # The number, big, for the staff member to read out to the caller.
    assert f'<p class="filed-number">{number}</p>' in filed_page.text
    ticket = client.get(f"/staff/tickets/{ticket_id}")
    assert f"由工作人员 {staff_name} 代为登记（电话）" in ticket.text
    assert "工作人员代登记" in ticket.text  # the channel
    english = client.get(f"/staff/tickets/{ticket_id}?lang=en")
    assert f"Filed by staff member {staff_name} for the resident (by phone)" in english.text


def test_staff_may_file_without_a_phone_but_not_with_a_bad_one(client: TestClient) -> None:
    cookie_sign_in(client, "staff")
    reply = client.post("/staff/new", data={**_form(client), "contact_phone": ""},
                        follow_redirects=False)
    assert reply.status_code == 303
    assert "没有留手机号" in client.get(reply.headers["location"]).text
    bad = client.post("/staff/new?lang=en", data={**_form(client, "en"),
                                                  "contact_phone": "0731-888"})
    assert bad.status_code == 422
    assert "A phone number is 11 digits" in bad.text and 'value="0731-888"' in bad.text


def test_staff_see_staff_only_services_that_residents_do_not(client: TestClient) -> None:
    cookie_sign_in(client, "staff")
    staff_page = client.get("/staff/new?building=C01-B01").text
    public_page = client.get("/new?building=C01-B01").text
    staff_codes = set(re.findall(r'name="category" value="([a-z_]+)"', staff_page))
    public_codes = set(re.findall(r'name="category" value="([a-z_]+)"', public_page))
    assert public_codes < staff_codes


@pytest.mark.parametrize("username", ["lijianguo", "leader1"])
def test_volunteers_and_squad_leaders_cannot_open_the_staff_form(client: TestClient,
                                                                 username: str) -> None:
    cookie_sign_in(client, username)
    assert client.get("/staff/new").status_code == 403
    page = client.get("/lookup")  # any page with a form: a CSRF token for this browser
    reply = client.post("/staff/new", data={"csrf_token": csrf_of(page.text)})
    assert reply.status_code == 403


def test_an_anonymous_caller_is_sent_to_sign_in(client: TestClient) -> None:
    reply = client.get("/staff/new", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"].startswith("/login")


def _wait_for(check: Callable[[], Any], within: float = 5.0) -> Any:
    deadline = time.monotonic() + within
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_a_staff_filed_request_texts_the_resident_the_status_link(
        settings: ServerSettings, clock: FakeClock, robot_api: RobotApi,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The DingTalk stand-in as the SMS gateway (as tests/server/test_notifications.py does):
    # its plugin @-mentions the phone number, so the number is seen arriving.
    monkeypatch.setenv("SERVICEPOINT_NOTIFY_RESIDENT_SMS_URL", "dingtalk://smsgate/{phone}/")
    from server.app import create_app

    app = create_app(settings, clock=clock, background=False,
                     notifier=AppriseNotifier(timeout_s=5))
    with TestClient(app) as client:
        cookie_sign_in(client, "staff")
        reply = client.post("/staff/new", data=_form(client), follow_redirects=False)
        assert reply.status_code == 303
        (sms,) = _wait_for(lambda: robot_api.dingtalk("smsgate"))
        with app.state.sessions() as db:
            request = db.scalars(select(ServiceRequest)
                                 .order_by(ServiceRequest.id.desc())).first()
            assert request is not None
            token, number = request.phone_token, request.ticket.number
    app.state.engine.dispose()
    assert sms.body["at"]["atMobiles"] == ["13700001111"]
    assert f"已为您登记 {number}" in sms.text
    assert f"/r/{token}" in sms.text


def test_a_residents_own_filing_gets_no_such_text(
        settings: ServerSettings, clock: FakeClock, robot_api: RobotApi,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICEPOINT_NOTIFY_RESIDENT_SMS_URL", "dingtalk://smsgate/{phone}/")
    from server.app import create_app
    from tests.web.conftest import file_request

    app = create_app(settings, clock=clock, background=False,
                     notifier=AppriseNotifier(timeout_s=5))
    with TestClient(app) as client:
        file_request(client)  # at the kiosk: the resident has the QR code already
        time.sleep(1.5)  # a round of the notice loop, and then one more
        assert robot_api.dingtalk("smsgate") == []
    app.state.engine.dispose()


def test_staff_filing_through_the_json_api_is_recorded_as_theirs_too(client: TestClient) -> None:
    from tests.web.conftest import api_headers

    reply = client.post("/api/v1/requests", headers=api_headers(client, "staff"), json={
        "client_id": "staff-call-0001", "category": "water_electric", "unit_code": "C01-B01-U1",
        "answers": {"problem": "leak"}, "contact_name": "赵大爷"})
    assert reply.status_code == 201, reply.text
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        request = db.scalars(select(ServiceRequest).order_by(ServiceRequest.id.desc())).first()
        assert request is not None
        assert request.channel == "staff" and request.filed_by_user_id is not None
        first = request.ticket.events[0]
        assert (first.action, first.actor_kind) == ("file", "user")
