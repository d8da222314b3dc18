"""The resident's phone page: status as a timeline, confirm and rate, cancel — and nothing
beyond the one request its token opens."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import advance, api_headers, csrf_of, file_request, ticket_id_of


def test_a_new_request_shows_its_number_status_and_next_step(client: TestClient) -> None:
    filed = file_request(client)
    page = client.get(f"/r/{filed['phone_token']}")
    assert page.status_code == 200
    html = page.text
    assert filed["number"] in html and "水电维修" in html and "劳动新村 1栋 1单元" in html
    assert "新建" in html and "已收到请求" in html and "4 小时内" in html
    assert "tel:0731-88880000" in html  # how to reach the service point
    assert "确认办好了" not in html  # nothing to confirm yet
    assert "取消这个请求" in html
    assert page.headers["referrer-policy"] == "no-referrer"  # the token must not leak


def test_english_is_one_tap_away_and_stays_chosen(client: TestClient) -> None:
    filed = file_request(client)
    url = f"/r/{filed['phone_token']}"
    assert "Received" in client.get(url + "?lang=en").text
    toggle = client.get(f"/lang/en?next={url}", follow_redirects=False)
    assert toggle.status_code == 303 and toggle.headers["location"] == url
    page = client.get(url).text
    assert "Request number" in page and 'lang="en"' in page and "中文" in page


def test_the_timeline_names_the_volunteer_once_accepted(client: TestClient) -> None:
    filed = file_request(client)
    ticket_id = ticket_id_of(client, filed["number"])
    advance(client, ticket_id, "dispatched")
    page = client.get(f"/r/{filed['phone_token']}").text
    assert "建国" not in page  # not named until they have accepted
    accepted = client.post(f"/api/v1/tickets/{ticket_id}/accept",
                           headers=api_headers(client, "lijianguo"))
    assert accepted.status_code == 200
    page = client.get(f"/r/{filed['phone_token']}").text
    assert "志愿者「建国」已接单" in page
    assert "不需要了？" not in page  # too late to cancel once someone accepted


def test_confirm_and_rate_closes_the_request(client: TestClient) -> None:
    filed = file_request(client)
    advance(client, ticket_id_of(client, filed["number"]), "resolved")
    url = f"/r/{filed['phone_token']}"
    page = client.get(url)
    assert "确认办好了" in page.text
    reply = client.post(url + "/confirm", data={"rating": "4", "comment": "师傅很细心",
                                                "csrf_token": csrf_of(page.text)},
                        follow_redirects=False)
    assert reply.status_code == 303
    done = client.get(reply.headers["location"]).text
    assert "评价已收到" in done and "4/5" in done and "师傅很细心" in done
    assert "已关闭" in done


def test_confirming_without_a_score_explains_and_keeps_the_comment(client: TestClient) -> None:
    filed = file_request(client)
    advance(client, ticket_id_of(client, filed["number"]), "resolved")
    url = f"/r/{filed['phone_token']}"
    token = csrf_of(client.get(url).text)
    reply = client.post(url + "/confirm", data={"comment": "水不漏了", "csrf_token": token})
    assert reply.status_code == 422
    assert "请选择一个分数" in reply.text and "水不漏了" in reply.text
    reply = client.post(url + "/confirm", data={"rating": "9", "csrf_token": token})
    assert reply.status_code == 422 and "请选择一个分数" in reply.text
    reply = client.post(url + "/confirm", data={"rating": "5", "comment": "好" * 501,
                                                "csrf_token": token})
    assert reply.status_code == 422 and "最多 500" in reply.text and "好" * 501 in reply.text


def test_confirming_before_the_volunteer_is_done_is_refused_politely(client: TestClient) -> None:
    filed = file_request(client)
    url = f"/r/{filed['phone_token']}"
    reply = client.post(url + "/confirm", data={"rating": "5",
                                                "csrf_token": csrf_of(client.get(url).text)})
    assert reply.status_code == 409 and "状态刚刚有了变化" in reply.text


def test_cancel_while_nobody_accepted(client: TestClient) -> None:
    filed = file_request(client)
    url = f"/r/{filed['phone_token']}"
    reply = client.post(url + "/cancel", data={"reason": "自己修好了",
                                               "csrf_token": csrf_of(client.get(url).text)},
                        follow_redirects=False)
    assert reply.status_code == 303
    page = client.get(reply.headers["location"]).text
    assert "已取消这个请求" in page and "不需要了？" not in page


def test_cancel_after_acceptance_is_refused_without_error(client: TestClient) -> None:
    filed = file_request(client)
    url = f"/r/{filed['phone_token']}"
    token = csrf_of(client.get(url).text)
    advance(client, ticket_id_of(client, filed["number"]), "accepted")
    reply = client.post(url + "/cancel", data={"csrf_token": token})
    assert reply.status_code == 409 and "状态刚刚有了变化" in reply.text


def test_one_token_reads_only_its_own_request(client: TestClient) -> None:
    mine = file_request(client, contact_name="李奶奶", contact_phone="13900009999")
    other = file_request(client, contact_name="张爷爷", contact_phone="13700007777",
                         category="haircut", answers={"when": "morning"})
    page = client.get(f"/r/{mine['phone_token']}").text
    for secret in ("李奶奶", "13900009999", "139****9999", "张爷爷", other["number"],
                   other["phone_token"], "上门理发"):
        assert secret not in page
    # A token can act only on its own request: posting to another's needs that token.
    missing = client.get("/r/" + "A" * 32)
    assert missing.status_code == 404 and "找不到" in missing.text
    assert client.get("/r/short").status_code == 404
    assert client.get("/r/" + "%3Cscript%3E" * 3).status_code == 404


def test_forms_without_their_csrf_token_are_refused(client: TestClient) -> None:
    filed = file_request(client)
    advance(client, ticket_id_of(client, filed["number"]), "resolved")
    url = f"/r/{filed['phone_token']}"
    client.get(url)  # has the cookie, but posts no token
    reply = client.post(url + "/confirm", data={"rating": "5"})
    assert reply.status_code == 403 and "页面已过期" in reply.text
    reply = client.post(url + "/confirm", data={"rating": "5", "csrf_token": "0" * 64})
    assert reply.status_code == 403
    token = csrf_of(client.get(url).text)
    cross_site = client.post(url + "/confirm", data={"rating": "5", "csrf_token": token},
                             headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    fresh = TestClient(client.app)  # another browser: the token is bound to its cookie
    assert fresh.post(url + "/confirm", data={"rating": "5",
                                              "csrf_token": token}).status_code == 403
    assert "新建" not in client.get(url).text and "确认办好了" in client.get(url).text


def test_lookups_are_rate_limited_with_a_page_not_a_crash(client: TestClient) -> None:
    codes = [client.get("/r/" + "B" * 32).status_code for _ in range(61)]
    assert codes[:60] == [404] * 60 and codes[60] == 429
    assert "操作太频繁" in client.get("/r/" + "B" * 32).text
