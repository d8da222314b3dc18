"""The volunteer's one-tap task link (issue 13): it opens that one task with no password, lets
the volunteer accept, go, finish or decline it, shows the resident's number as a ``tel:`` link
once accepted; and a link that expired, was revoked, whose task closed or went to someone
else gets a clear page, never a 500."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.models import Ticket, Volunteer
from server.services.requests import confirm_done
from server.services.task_links import issue_task_link, revoke_task_links
from server.task_access import PhoneReveal
from tests.server.conftest import FakeClock
from tests.web.conftest import advance, csrf_of, file_request, ticket_id_of

FULL = "13800001234"


def _link(client: TestClient, ticket_id: int, *, given_name: str | None = None) -> str:
    """What the dispatch notification carries: a link for the ticket's volunteer (or another)."""
    app = client.app
    with app.state.sessions() as db:  # type: ignore[attr-defined]
        ticket = db.get(Ticket, ticket_id)
        assert ticket is not None
        volunteer = (db.scalar(select(Volunteer).where(Volunteer.given_name == given_name))
                     if given_name else ticket.assignee)
        assert volunteer is not None
        path = issue_task_link(db, ticket=ticket, volunteer=volunteer,
                               now=app.state.clock())  # type: ignore[attr-defined]
        db.commit()
    assert re.fullmatch(r"/v/t/[A-Za-z0-9_-]{43}", path)  # 256 bits
    return path


def _offered(client: TestClient) -> tuple[dict[str, object], int, str]:
    filed = file_request(client, description="厨房水龙头一直滴水", floor="5", room="502")
    ticket_id = ticket_id_of(client, str(filed["number"]))
    advance(client, ticket_id, "dispatched")
    return filed, ticket_id, _link(client, ticket_id)


def _post(client: TestClient, link: str, action: str, note: str = "") -> object:
    token = csrf_of(client.get(link).text)
    return client.post(f"{link}/{action}", data={"csrf_token": token, "note": note},
                       follow_redirects=False)


def _link_reveals(client: TestClient, ticket_id: int) -> int:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        return len(db.scalars(select(PhoneReveal).where(PhoneReveal.ticket_id == ticket_id,
                                                        PhoneReveal.via == "link")).all())


def test_the_link_opens_the_task_without_a_password_and_hides_the_number_until_accepted(
        client: TestClient) -> None:
    filed, ticket_id, link = _offered(client)
    page = client.get(link)
    assert page.status_code == 200
    assert "建国，这是派给您的任务" in page.text and str(filed["number"]) in page.text
    assert "厨房水龙头一直滴水" in page.text and "5 楼" in page.text and "502 室" in page.text
    assert "138****1234" in page.text and FULL not in page.text
    assert "sp_session" not in client.cookies  # no session: nothing else is open to it
    assert client.get("/v", follow_redirects=False).status_code == 303  # to /login
    assert _link_reveals(client, ticket_id) == 0

    reply = _post(client, link, "accept")
    assert reply.status_code == 303  # type: ignore[attr-defined]
    accepted = client.get(reply.headers["location"]).text  # type: ignore[attr-defined]
    assert "已接单" in accepted and f'href="tel:{FULL}"' in accepted
    assert _link_reveals(client, ticket_id) == 1

    assert _post(client, link, "start").status_code == 303  # type: ignore[attr-defined]
    assert _post(client, link, "resolve").status_code == 422  # type: ignore[attr-defined]
    assert _post(client, link, "resolve", "换了阀芯").status_code == 303  # type: ignore[attr-defined]
    resident = client.get(f"/r/{filed['phone_token']}").text
    assert "志愿者说已经办好了" in resident
    # Reusable until the task closes: still open, waiting for the resident.
    assert "正在等居民确认" in client.get(link).text


def test_the_leaders_dispatch_note_reaches_the_volunteer(client: TestClient) -> None:
    filed = file_request(client)
    ticket_id = ticket_id_of(client, str(filed["number"]))
    from tests.web.conftest import api_headers, volunteer_id
    staff = api_headers(client, "leader1")
    client.post(f"/api/v1/tickets/{ticket_id}/dispatch", headers=staff,
                json={"volunteer_id": volunteer_id(client, ticket_id, "建国"),
                      "note": "阿姨耳背，多敲几下门"})
    page = client.get(_link(client, ticket_id)).text
    assert "队长留言" in page and "阿姨耳背，多敲几下门" in page


def test_a_closed_task_an_expired_or_revoked_link_and_someone_elses_are_refused(
        client: TestClient, clock: FakeClock) -> None:
    unknown = client.get("/v/t/" + "A" * 43)
    assert unknown.status_code == 404 and "找不到任务" in unknown.text

    filed, ticket_id, link = _offered(client)
    clock.advance(days=8)
    expired = client.get(link)
    assert expired.status_code == 410 and "链接已过期" in expired.text
    assert client.post(f"{link}/accept", data={"csrf_token": "x"}).status_code in (403, 410)

    revoked_link = _link(client, ticket_id)
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        ticket = db.get(Ticket, ticket_id)
        assert revoke_task_links(db, ticket=ticket, now=clock()) == 2
        db.commit()
    revoked = client.get(revoked_link)
    assert revoked.status_code == 410 and "链接已失效" in revoked.text

    # Someone else's: the link was made out for 秀英, but the task is 建国's.
    others = client.get(_link(client, ticket_id, given_name="秀英"))
    assert others.status_code == 410 and "不在您名下" in others.text

    # Closed: accepted, done, confirmed by the resident.
    mine = _link(client, ticket_id)
    _post(client, mine, "accept")
    _post(client, mine, "resolve", "换了阀芯")
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        confirm_done(db, token=str(filed["phone_token"]), rating=5, comment="", now=clock())
    closed = client.get(mine)
    assert closed.status_code == 410 and "任务已结束" in closed.text and FULL not in closed.text


def test_a_link_acts_on_its_own_task_only_and_a_decline_ends_it(client: TestClient) -> None:
    _, first, link = _offered(client)
    _, second, _ = _offered(client)
    token = csrf_of(client.get(link).text)
    # No session: the volunteer pages' own routes for another task send to the sign-in page.
    other = client.post(f"/v/tasks/{second}/accept", data={"csrf_token": token},
                        follow_redirects=False)
    assert other.status_code == 303 and "/login" in other.headers["location"]
    reply = _post(client, link, "decline", "今天在外地")
    assert reply.status_code == 303  # type: ignore[attr-defined]
    declined = client.get(reply.headers["location"])  # type: ignore[attr-defined]
    assert declined.status_code == 200 and "已婉拒" in declined.text
    assert client.get(link).status_code == 410  # it is no longer theirs
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        assert db.get(Ticket, first).status == "new"  # type: ignore[union-attr]
        assert db.get(Ticket, second).status == "dispatched"  # type: ignore[union-attr]


def test_the_squads_leader_withdraws_a_tasks_links_from_its_page(client: TestClient) -> None:
    from tests.web.conftest import cookie_sign_in, post_form

    _, ticket_id, link = _offered(client)
    cookie_sign_in(client, "leader2")  # another squad's leader: not theirs
    page = f"/staff/tickets/{ticket_id}"
    assert client.get(page).status_code == 403
    cookie_sign_in(client, "leader1")
    reply = post_form(client, page, f"{page}/revoke-links", {})
    assert reply.status_code == 303  # type: ignore[attr-defined]
    assert "已收回发给志愿者的任务链接" in client.get(reply.headers["location"]).text  # type: ignore[attr-defined]
    client.cookies.clear()
    assert client.get(link).status_code == 410
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        ticket = db.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "dispatched"
        assert "task links withdrawn: 1" in ticket.events[-1].note
