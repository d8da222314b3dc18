"""The public request form at /new and the lookup page at /lookup, as a resident's phone uses
them with JavaScript off: what they file, and what they say when something needs fixing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.models import ServiceRequest
from tests.web.conftest import advance, cookie_sign_in, csrf_of

BUILDING = "C01-B01"
UNIT = "C01-B01-U1"
FORM_ID = re.compile(r'name="form_id" value="([A-Za-z0-9_-]+)"')


def _open(client: TestClient, url: str = f"/new?building={BUILDING}&category=water_electric",
          lang: str = "zh") -> dict[str, str]:
    """Open the form's second step; the hidden fields a browser would send back."""
    page = client.get(url + f"&lang={lang}")
    assert page.status_code == 200, page.text
    found = FORM_ID.search(page.text)
    assert found, "the page has no request form"
    return {"csrf_token": csrf_of(page.text), "form_id": found.group(1),
            "category": "water_electric", "building": BUILDING}


def _fields(**overrides: str) -> dict[str, str]:
    fields = {"unit": UNIT, "q_problem": "leak", "floor": "5", "room": "502",
              "description": "厨房水管滴水", "whose": "other", "resident_name": "王大爷",
              "contact_name": "王女士", "contact_phone": "139 0000 5678"}
    fields.update(overrides)
    return fields


def _filed(client: TestClient) -> int:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        return int(db.scalar(select(func.count()).select_from(ServiceRequest)) or 0)


def _request(client: TestClient) -> Any:
    db = client.app.state.sessions()  # type: ignore[attr-defined]
    return db.scalars(select(ServiceRequest).order_by(ServiceRequest.id.desc())).first()


def test_a_daughter_files_for_her_father_and_lands_on_the_status_page(
        client: TestClient) -> None:
    before = _filed(client)
    reply = client.post("/new", data={**_open(client), **_fields()}, follow_redirects=False)
    assert reply.status_code == 303, reply.text
    assert re.match(r"^/r/[A-Za-z0-9_-]{16,64}\?done=filed$", reply.headers["location"])
    status_page = client.get(reply.headers["location"])
    assert "已收到" in status_page.text and "水电维修" in status_page.text
    assert _filed(client) == before + 1
    request = _request(client)
    assert request.channel == "phone"
    assert (request.for_someone_else, request.resident_name, request.contact_name,
            request.contact_phone) == (True, "王大爷", "王女士", "13900005678")
    assert (request.ticket.unit.code, request.floor, request.room) == (UNIT, "5", "502")
    assert request.answers == {"problem": "leak"}


def test_a_double_tap_files_once_and_both_land_on_the_same_page(client: TestClient) -> None:
    form = {**_open(client), **_fields(whose="mine", resident_name="")}
    before = _filed(client)
    first = client.post("/new", data=form, follow_redirects=False)
    second = client.post("/new", data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert _filed(client) == before + 1


def test_the_same_form_from_another_browser_does_not_open_the_first_filing(
        client: TestClient, app: Any) -> None:
    form = {**_open(client), **_fields()}
    first = client.post("/new", data=form, follow_redirects=False).headers["location"]
    with TestClient(app) as other:
        mine = _open(other)
        replay = other.post("/new", data={**form, "csrf_token": mine["csrf_token"]},
                            follow_redirects=False)
    assert replay.status_code == 303 and replay.headers["location"] != first


def test_a_poster_link_opens_the_form_with_the_building_chosen(client: TestClient) -> None:
    page = client.get(f"/new?building={BUILDING}")
    assert page.status_code == 200
    assert 'name="building" value="C01-B01"' in page.text
    assert "劳动新村 1栋" in page.text
    assert 'name="category" value="water_electric"' in page.text  # now choose the service


@pytest.mark.parametrize(("lang", "words"), [
    ("zh", "找不到这栋楼，请从列表里选。"),
    ("en", "We cannot find that building. Please choose it from the list."),
])
def test_an_unknown_building_is_said_beside_the_field(client: TestClient, lang: str,
                                                      words: str) -> None:
    page = client.get(f"/new?building=NOPE-B9&lang={lang}")
    assert page.status_code == 404
    assert words in page.text
    assert 'id="building-error"' in page.text and 'aria-describedby="building-error"' in page.text


@pytest.mark.parametrize(("lang", "missing", "bad", "question"), [
    ("zh", "请填写联系电话，服务站用它联系您。", "电话号码应是 11 位手机号，例如 13800001234。",
     "请回答这个问题。"),
    ("en", "Please give a phone number: the service point calls you on it.",
     "A phone number is 11 digits and starts with 1, for example 13800001234.",
     "Please answer this question."),
])
def test_what_needs_fixing_is_said_beside_each_field_and_what_was_typed_is_kept(
        client: TestClient, lang: str, missing: str, bad: str, question: str) -> None:
    before = _filed(client)
    form = _open(client, lang=lang)
    reply = client.post(f"/new?lang={lang}", data={**form, **_fields(contact_phone="",
                                                                     q_problem="")})
    assert reply.status_code == 422
    assert missing in reply.text and question in reply.text
    assert 'id="contact_phone-error"' in reply.text and 'id="q_problem-error"' in reply.text
    assert 'value="王女士"' in reply.text and "厨房水管滴水" in reply.text
    assert 'value="502"' in reply.text
    reply = client.post(f"/new?lang={lang}", data={**form, **_fields(contact_phone="12345")})
    assert reply.status_code == 422 and bad in reply.text and 'value="12345"' in reply.text
    assert _filed(client) == before
    assert 'servicepoint_form_refusals_total{form="public",reason="invalid"} 2' in \
        client.get("/metrics").text


def test_a_unit_not_of_the_building_is_refused(client: TestClient) -> None:
    reply = client.post("/new", data={**_open(client), **_fields(unit="C02-B01-U1")})
    assert reply.status_code == 422 and 'id="unit-error"' in reply.text


def test_a_staff_only_service_cannot_be_filed_from_the_phone(client: TestClient) -> None:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        from server.models import Category

        tank = db.scalars(select(Category).where(Category.public.is_(False))).first()
        assert tank is not None
        code = tank.code
    page = client.get(f"/new?building={BUILDING}&category={code}")
    assert page.status_code == 404 and 'id="category-error"' in page.text
    assert f'value="{code}"' not in page.text


def test_a_filled_honeypot_files_nothing_and_is_counted(client: TestClient) -> None:
    before = _filed(client)
    reply = client.post("/new", data={**_open(client), **_fields(website="http://spam")})
    assert reply.status_code == 422
    assert "请把标着“请留空”的一栏清空后再提交。" in reply.text
    assert 'value="王女士"' in reply.text and "http://spam" not in reply.text
    assert _filed(client) == before
    assert 'servicepoint_form_refusals_total{form="public",reason="honeypot"} 1' in \
        client.get("/metrics").text


def test_past_the_per_address_limit_the_form_says_when_to_come_back(client: TestClient,
                                                                      app: Any) -> None:
    app.state.filing_limiters.per_address.limit = 1
    client.post("/new", data={**_open(client), **_fields()}, follow_redirects=False)
    before = _filed(client)
    reply = client.post("/new?lang=en", data={**_open(client, lang="en"), **_fields()})
    assert reply.status_code == 429 and int(reply.headers["Retry-After"]) > 0
    assert "Too many requests were sent from this network" in reply.text
    assert 'value="王女士"' in reply.text
    assert _filed(client) == before
    metrics = client.get("/metrics").text
    assert 'servicepoint_form_refusals_total{form="public",reason="too_many"} 1' in metrics
    assert 'servicepoint_filings_refused_total{by="address",route="form"} 1' in metrics


def test_the_form_is_refused_without_its_csrf_token(client: TestClient) -> None:
    form = {**_open(client), **_fields()}
    del form["csrf_token"]
    before = _filed(client)
    assert client.post("/new", data=form).status_code == 403
    assert _filed(client) == before


# --- /lookup ----------------------------------------------------------------------------------

def _file_one(client: TestClient) -> str:
    return str(client.post("/new", data={**_open(client), **_fields()},
                           follow_redirects=False).headers["location"].split("?")[0])


def test_lookup_by_number_and_phone_ending_opens_the_status_page(client: TestClient) -> None:
    status_path = _file_one(client)
    number = _request(client).ticket.number
    page = client.get("/lookup")
    reply = client.post("/lookup", data={"csrf_token": csrf_of(page.text),
                                         "number": number.lower(), "phone_last4": "5678"},
                        follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == status_path


@pytest.mark.parametrize(("lang", "words"), [
    ("zh", "没有找到。请核对服务单号和手机号后四位"),
    ("en", "Nothing found. Please check the request number and the last four digits"),
])
def test_a_wrong_pair_on_the_lookup_page_keeps_what_was_typed(client: TestClient, lang: str,
                                                              words: str) -> None:
    _file_one(client)
    number = _request(client).ticket.number
    page = client.get(f"/lookup?lang={lang}")
    reply = client.post(f"/lookup?lang={lang}", data={
        "csrf_token": csrf_of(page.text), "number": number, "phone_last4": "0000"})
    assert reply.status_code == 404 and words in reply.text
    assert f'value="{number}"' in reply.text and 'value="0000"' in reply.text


def test_the_status_page_and_the_form_link_to_the_lookup(client: TestClient) -> None:
    status_path = _file_one(client)
    assert 'href="/lookup"' in client.get(status_path).text
    assert 'href="/lookup"' in client.get("/new").text


def test_the_volunteer_is_shown_whose_home_it_is_and_who_to_call(client: TestClient) -> None:
    _file_one(client)  # a daughter (王女士) for her father (王大爷)
    request = _request(client)
    advance(client, request.ticket_id, "accepted")
    cookie_sign_in(client, "lijianguo")
    task = client.get("/v").text
    assert "住户" in task and "王大爷" in task
    assert "联系人（家人或邻居）" in task
    assert 'href="tel:13900005678"' in task and "打电话给王女士" in task
    cookie_sign_in(client, "staff")
    ticket = client.get(f"/staff/tickets/{request.ticket_id}").text
    assert "王大爷" in ticket and "家人或邻居代报：请打给联系人" in ticket


def test_a_link_in_english_stays_in_english_through_both_steps(client: TestClient) -> None:
    start = client.get(f"/new?building={BUILDING}&lang=en").text
    assert '<input type="hidden" name="lang" value="en">' in start  # step 1's GET form
    form = client.get(f"/new?building={BUILDING}&category=water_electric&lang=en").text
    assert 'action="/new?lang=en"' in form
    assert f'href="/new?building={BUILDING}&amp;lang=en"' in form
    assert 'action="/lookup?lang=en"' in client.get("/lookup?lang=en").text
