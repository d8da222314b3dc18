"""The volunteer's one-tap link in real headless Chromium on a phone-sized screen (issue 13):
the link from the dispatch notification → accept → the resident's number as a call link →
done with a note → the resident's phone page shows it done. Also the squad leader's queue on a
phone, new requests above the sensor alerts, and the account page.

    WEB_SCREENSHOTS=1 .venv/bin/python -m pytest tests/web/test_browser_task_link.py
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import advance, api_headers, file_request, shoot, ticket_id_of, volunteer_id
from tests.web.test_browser import _audit, _sign_in, fake  # noqa: F401  (fixture)
from tests.web.test_task_link import _link

pytestmark = pytest.mark.browser


def test_link_accept_call_done_and_the_resident_sees_it(client: TestClient, live_url: str,
                                                        phone, desktop) -> None:  # type: ignore[no-untyped-def]
    filed = file_request(client, description="厨房水龙头一直滴水", floor="5", room="502")
    ticket_id = ticket_id_of(client, str(filed["number"]))
    client.post(f"/api/v1/tickets/{ticket_id}/dispatch", headers=api_headers(client, "leader1"),
                json={"volunteer_id": volunteer_id(client, ticket_id, "建国"),
                      "note": "阿姨腿脚不便，请上楼敲门"})
    link = _link(client, ticket_id)

    phone.goto(f"{live_url}{link}")
    assert "建国，这是派给您的任务" in phone.content()
    assert phone.locator("a[href^='tel:1380']").count() == 0
    assert "阿姨腿脚不便" in phone.content()
    _audit(phone)
    shoot(phone, "task-link-offered")

    phone.click("button:has-text('接单')")
    phone.wait_for_selector("text=已接单")
    call = phone.locator("a[href='tel:13800001234']")
    assert call.is_visible() and "王阿姨" in call.inner_text()
    _audit(phone)
    shoot(phone, "task-link-accepted")

    phone.click("button:has-text('我出发了')")
    phone.wait_for_selector("text=已标记为处理中")
    phone.fill("textarea[name=note]", "换了阀芯，试过不漏了")
    phone.click("button:has-text('办好了')")
    phone.wait_for_selector("text=正在等居民确认")
    shoot(phone, "task-link-done")

    resident = desktop.context.new_page()
    resident.set_viewport_size({"width": 390, "height": 844})
    resident.goto(f"{live_url}/r/{filed['phone_token']}")
    assert "志愿者说已经办好了" in resident.content()
    resident.close()

    phone.goto(f"{live_url}/v/t/{'A' * 43}")
    assert "找不到任务" in phone.content()
    _audit(phone)
    shoot(phone, "task-link-unknown")


def test_the_leaders_queue_on_a_phone_leads_with_new_requests(client: TestClient, live_url: str,
                                                               phone, fake) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    filed = file_request(client)
    older = file_request(client)
    advance(client, ticket_id_of(client, str(older["number"])), "dispatched")
    fake.raise_alert("1号蓄水池 低水位（12%）", urgent=True)
    _sign_in(phone, live_url, "leader1", "leader-demo")
    phone.goto(f"{live_url}/staff")
    phone.wait_for_selector(".alert-item", timeout=15_000)
    fresh = phone.locator("#fresh")
    assert str(filed["number"]) in fresh.inner_text()
    assert str(older["number"]) not in fresh.inner_text()  # already dispatched
    alerts_top = phone.evaluate("document.getElementById('alerts').getBoundingClientRect().top")
    assert fresh.bounding_box()["y"] < alerts_top  # type: ignore[index]
    _audit(phone)
    shoot(phone, "queue-leader")

    # A request filed while the leader looks appears without a reload.
    newer = file_request(client)
    phone.wait_for_function(  # a function, not a string Playwright would eval under the CSP
        "(number) => document.getElementById('fresh').innerText.includes(number)",
        arg=newer["number"], timeout=30_000)

    phone.click("a.who")
    phone.wait_for_selector("text=设置我的密码")
    _audit(phone)
    shoot(phone, "account")
