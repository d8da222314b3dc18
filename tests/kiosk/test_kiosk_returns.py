"""Library returns at the kiosk: kept on disk before they are sent, delivered exactly once when the
server is back, and a refused return set aside instead of retried for ever.

The server here is a small stand-in on the kiosk's HTTP seam (httpx.MockTransport) that keeps the
documented contract of ``POST /api/v1/library/returns`` (applied once per client_id, a replay
answered from the first receipt); tests/kiosk/test_kiosk_lending_e2e.py does the same against the
real server.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from kiosk.api import ServerClient
from kiosk.courier import Courier
from kiosk.errors import ServerRefused
from kiosk.outbox import Outbox, ReturnBox

TITLES = {"LB-0001": "老年常见病防治手册（大字版）", "LB-0008": "中国通史故事（大字本）",
          "LB-0010": "湖湘文化名人录"}


class LibraryDesk:
    """The returns endpoint: which copies are out, and what each client_id was answered."""

    def __init__(self, on_loan=("LB-0001", "LB-0008", "LB-0010"), held=("LB-0008",)) -> None:
        self.on_loan = set(on_loan)
        self.held = set(held)
        self.online = True
        self.failing = False           # answers 503 (a server restarting behind a proxy)
        self.posts: list[dict] = []    # every return that reached the server
        self.paths: list[str] = []
        self.check_ins: list[str] = []  # copies actually checked in (once each, we hope)
        self.receipts: dict[str, httpx.Response] = {}

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if not self.online:
            raise httpx.ConnectError("connection refused", request=request)
        if self.failing:
            return httpx.Response(503, json={"error": {"code": "unavailable"}})
        body = json.loads(request.content)
        self.paths.append(request.url.path)
        if request.url.path == "/api/v1/requests":
            return httpx.Response(201, json={"number": body["number"], "status": "new",
                                             "phone_token": body["phone_token"]})
        assert request.url.path == "/api/v1/library/returns"
        assert request.headers["X-Kiosk-Key"] == "kiosk-key-123456"
        self.posts.append(body)
        first = self.receipts.get(body["client_id"])
        if first is not None:
            return first
        copy_id = body["copy_id"]
        if copy_id not in TITLES:
            answer = httpx.Response(404, json={"error": {
                "code": "unknown_copy", "message": "no such copy",
                "message_zh": "没有找到这本书，请把书交给工作人员。",
                "message_en": "This book is not in our catalogue. Please hand it to staff."}})
        elif copy_id not in self.on_loan:
            answer = httpx.Response(409, json={"error": {
                "code": "not_on_loan", "message": "not on loan"}})
        else:
            self.on_loan.discard(copy_id)
            self.check_ins.append(copy_id)
            answer = httpx.Response(200, json={
                "client_id": body["client_id"], "copy_id": copy_id, "title": TITLES[copy_id],
                "outcome": "returned", "returned_at": body.get("returned_at"),
                "overdue_days": 0, "hand_to_staff": copy_id in self.held,
                "message_zh": "还书成功，谢谢！", "message_en": "Returned. Thank you!",
                "replayed": False})
        self.receipts[body["client_id"]] = answer
        return answer


@pytest.fixture
def desk():
    return LibraryDesk()


@pytest.fixture
def boxes(tmp_path):
    path = tmp_path / "kiosk" / "outbox.sqlite3"
    outbox, returns = Outbox(path, kiosk_id="K1"), ReturnBox(path)
    yield outbox, returns
    outbox.close()
    returns.close()


def courier_for(desk, boxes) -> Courier:
    outbox, returns = boxes
    client = ServerClient("http://server.test", kiosk_key="kiosk-key-123456", timeout=1,
                          transport=desk.transport())
    return Courier(client, outbox, public_url="https://sp.example.cn", returns=returns)


def give(client_id: str, copy_id: str) -> dict[str, str]:
    return {"client_id": client_id, "copy_id": copy_id}


def test_a_return_online_is_checked_in_and_recorded(desk, boxes):
    courier = courier_for(desk, boxes)
    check_in = courier.give_back(give("kiosk-r-0001", "LB-0001"))
    assert check_in.title == "老年常见病防治手册（大字版）" and not check_in.queued
    assert not check_in.hand_to_staff
    assert boxes[1].get("kiosk-r-0001").state == "delivered"
    assert courier.pending_count() == 0 and desk.check_ins == ["LB-0001"]


def test_a_held_book_comes_back_flagged_for_staff(desk, boxes):
    check_in = courier_for(desk, boxes).give_back(give("kiosk-r-0002", "LB-0008"))
    assert check_in.hand_to_staff and check_in.title == "中国通史故事（大字本）"


def test_a_return_while_the_server_is_away_is_kept_then_applied_exactly_once(desk, boxes):
    courier = courier_for(desk, boxes)
    desk.online = False
    dropped = datetime.now(UTC).replace(microsecond=0)
    check_in = courier.give_back(give("kiosk-r-0003", "LB-0010"))
    assert check_in.queued and check_in.copy_id == "LB-0010" and check_in.title == ""
    assert courier.pending_count() == 1
    assert courier.flush() == 0  # still away: nothing lost, nothing sent
    [kept] = boxes[1].pending()
    assert kept.attempts == 2 and kept.copy_id == "LB-0010"

    desk.online = True
    assert courier.flush() == 1
    assert courier.flush() == 0
    assert desk.check_ins == ["LB-0010"] and len(desk.posts) == 1
    # Sent with the time the book was dropped, not the time the network came back.
    returned_at = datetime.fromisoformat(desk.posts[0]["returned_at"])
    assert abs((returned_at - dropped).total_seconds()) <= 2
    assert boxes[1].get("kiosk-r-0003").state == "delivered"
    assert courier.pending_count() == 0


def test_a_return_whose_answer_was_lost_is_sent_again_and_applied_once(desk, boxes):
    courier = courier_for(desk, boxes)
    desk.online = False
    courier.give_back(give("kiosk-r-0004", "LB-0001"))
    desk.online = True
    # The server took it but the answer never came back (a timeout): the kiosk still holds it.
    client = ServerClient("http://server.test", kiosk_key="kiosk-key-123456",
                          transport=desk.transport())
    client.return_copy(boxes[1].get("kiosk-r-0004").body)
    assert desk.check_ins == ["LB-0001"] and courier.pending_count() == 1
    assert courier.flush() == 1
    assert desk.check_ins == ["LB-0001"] and len(desk.posts) == 2  # sent twice, applied once
    assert courier.pending_count() == 0


def test_kept_returns_survive_a_restart_of_the_kiosk(desk, tmp_path):
    path = tmp_path / "kiosk" / "outbox.sqlite3"
    desk.online = False
    outbox, returns = Outbox(path, kiosk_id="K1"), ReturnBox(path)
    courier_for(desk, (outbox, returns)).give_back(give("kiosk-r-0005", "LB-0001"))
    courier_for(desk, (outbox, returns)).give_back(give("kiosk-r-0006", "LB-0010"))
    outbox.close()
    returns.close()

    desk.online = True
    outbox, returns = Outbox(path, kiosk_id="K1"), ReturnBox(path)
    try:
        courier = courier_for(desk, (outbox, returns))
        assert courier.pending_count() == 2
        assert courier.flush() == 2
        assert desk.check_ins == ["LB-0001", "LB-0010"]  # in the order they were dropped
    finally:
        outbox.close()
        returns.close()


def test_the_same_scan_kept_twice_is_one_return(desk, boxes):
    courier = courier_for(desk, boxes)
    desk.online = False
    courier.give_back(give("kiosk-r-0007", "LB-0001"))
    courier.give_back(give("kiosk-r-0007", "LB-0001"))
    assert courier.pending_count() == 1


def test_a_refused_return_is_set_aside_not_retried_for_ever(desk, boxes):
    courier = courier_for(desk, boxes)
    with pytest.raises(ServerRefused) as refused:
        courier.give_back(give("kiosk-r-0008", "LB-9999"))
    assert refused.value.code == "unknown_copy"
    assert refused.value.message_en.startswith("This book is not in our catalogue")
    assert boxes[1].get("kiosk-r-0008").state == "rejected"

    desk.online = False
    courier.give_back(give("kiosk-r-0009", "LB-0001"))   # not on loan by the time it arrives
    courier.give_back(give("kiosk-r-0010", "LB-0010"))
    desk.on_loan.discard("LB-0001")
    desk.online = True
    assert courier.flush() == 1                           # the refused one does not block
    assert boxes[1].get("kiosk-r-0009").state == "rejected"
    assert boxes[1].get("kiosk-r-0010").state == "delivered"
    posts = len(desk.posts)
    for _ in range(3):
        assert courier.flush() == 0
    assert len(desk.posts) == posts and courier.pending_count() == 0


def test_a_server_answering_5xx_keeps_the_return_too(desk, boxes):
    courier = courier_for(desk, boxes)
    desk.failing = True
    assert courier.give_back(give("kiosk-r-0011", "LB-0001")).queued
    desk.failing = False
    assert courier.flush() == 1 and desk.check_ins == ["LB-0001"]


def test_returns_and_requests_wait_in_one_file_and_go_out_together(desk, boxes):
    outbox, _returns = boxes
    courier = courier_for(desk, boxes)
    desk.online = False
    courier.give_back(give("kiosk-r-0012", "LB-0010"))
    outbox.enqueue({"client_id": "client-0001", "category": "books", "unit_code": "C01-B01-U1",
                    "answers": {}, "description": "", "channel": "kiosk"})
    assert courier.pending_count() == 2
    desk.online = True
    assert courier.flush() == 2
    assert desk.paths == ["/api/v1/library/returns", "/api/v1/requests"]
    assert desk.check_ins == ["LB-0010"] and courier.pending_count() == 0
