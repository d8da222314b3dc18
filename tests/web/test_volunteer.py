"""A volunteer's pages: tasks offered to me, accept (接单) or decline, done with a note, history."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import advance, cookie_sign_in, csrf_of, file_request, ticket_id_of


def _offered(client: TestClient) -> tuple[dict[str, object], int]:
    filed = file_request(client, description="厨房水龙头一直滴水")
    ticket_id = ticket_id_of(client, filed["number"])
    advance(client, ticket_id, "dispatched")
    cookie_sign_in(client, "lijianguo")
    return filed, ticket_id


def test_my_offered_tasks_show_what_and_where(client: TestClient) -> None:
    filed, _ = _offered(client)
    page = client.get("/v").text
    assert "您好，建国" in page and "水电维修" in page and "管道疏通" in page  # my skills
    assert filed["number"] in page and "劳动新村 1栋 1单元" in page
    assert "漏水" in page and "厨房水龙头一直滴水" in page and "138****1234" in page
    assert "13800001234" not in page
    assert "接单" in page


def test_accept_then_done_with_a_note(client: TestClient) -> None:
    filed, ticket_id = _offered(client)
    token = csrf_of(client.get("/v").text)
    reply = client.post(f"/v/tasks/{ticket_id}/accept", data={"csrf_token": token},
                        follow_redirects=False)
    assert reply.status_code == 303
    page = client.get(reply.headers["location"]).text
    assert "已接单" in page and "办好了" in page
    assert "志愿者「建国」已接单" in client.get(f"/r/{filed['phone_token']}").text

    reply = client.post(f"/v/tasks/{ticket_id}/resolve",
                        data={"note": "换了阀芯", "csrf_token": token}, follow_redirects=False)
    assert reply.status_code == 303
    page = client.get("/v").text
    assert "我的服务记录" in page and filed["number"] in page and "已完成" in page
    assert "确认办好了" in client.get(f"/r/{filed['phone_token']}").text


def test_done_without_a_note_asks_for_one_and_keeps_the_task(client: TestClient) -> None:
    _, ticket_id = _offered(client)
    token = csrf_of(client.get("/v").text)
    client.post(f"/v/tasks/{ticket_id}/accept", data={"csrf_token": token})
    reply = client.post(f"/v/tasks/{ticket_id}/resolve", data={"note": "  ",
                                                              "csrf_token": token})
    assert reply.status_code == 422 and "请写一句做了什么" in reply.text
    long_note = "修" * 501
    reply = client.post(f"/v/tasks/{ticket_id}/resolve", data={"note": long_note,
                                                              "csrf_token": token})
    assert reply.status_code == 422 and "最多 500" in reply.text and long_note in reply.text


def test_decline_hands_the_task_back_to_the_squad(client: TestClient) -> None:
    filed, ticket_id = _offered(client)
    token = csrf_of(client.get("/v").text)
    reply = client.post(f"/v/tasks/{ticket_id}/decline",
                        data={"note": "今天在外地", "csrf_token": token}, follow_redirects=False)
    assert reply.status_code == 303
    page = client.get(reply.headers["location"]).text
    assert "已婉拒" in page and filed["number"] not in page
    assert "新建" in client.get(f"/r/{filed['phone_token']}").text


def test_acting_twice_is_explained_not_crashed(client: TestClient) -> None:
    _, ticket_id = _offered(client)
    token = csrf_of(client.get("/v").text)
    client.post(f"/v/tasks/{ticket_id}/accept", data={"csrf_token": token})
    again = client.post(f"/v/tasks/{ticket_id}/accept", data={"csrf_token": token})
    assert again.status_code == 409 and "状态刚刚变了" in again.text
