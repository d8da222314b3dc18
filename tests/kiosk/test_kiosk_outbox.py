"""The outbox and the courier: a filed request is never lost and is delivered exactly once."""

from __future__ import annotations

import httpx
import pytest

from kiosk.api import ServerClient
from kiosk.courier import Courier
from kiosk.errors import ServerRefused
from kiosk.outbox import Outbox
from kiosk.storage import JsonFile
from kiosk.tooling.demo import DemoServer


def body(client_id="client-0001", **extra):
    return {"client_id": client_id, "category": "water_electric", "unit_code": "C01-B01-U1",
            "answers": {"problem": "leak"}, "description": "", "channel": "kiosk", **extra}


@pytest.fixture
def outbox(tmp_path):
    box = Outbox(tmp_path / "outbox.sqlite3", kiosk_id="K1")
    yield box
    box.close()


def courier_for(outbox, server) -> Courier:
    client = ServerClient("http://server.test", kiosk_key="kiosk-key-123456", timeout=1,
                          transport=server.transport())
    return Courier(client, outbox, public_url="https://sp.example.cn")


def test_numbers_follow_a_local_sequence_that_survives_a_restart(tmp_path):
    box = Outbox(tmp_path / "o.sqlite3", kiosk_id="K1")
    first = box.enqueue(body("client-0001"))
    second = box.enqueue(body("client-0002"))
    box.close()
    box = Outbox(tmp_path / "o.sqlite3", kiosk_id="K1")
    third = box.enqueue(body("client-0003"))
    assert [first.number, second.number, third.number] == ["K1-0001", "K1-0002", "K1-0003"]
    assert [p.client_id for p in box.pending()] == ["client-0001", "client-0002", "client-0003"]
    assert len(first.phone_token) >= 43 and first.phone_token != second.phone_token
    box.close()


def test_the_same_request_twice_keeps_one_number(outbox):
    first = outbox.enqueue(body())
    again = outbox.enqueue(body(description="corrected"))
    assert (again.number, again.phone_token) == (first.number, first.phone_token)
    assert outbox.pending_count() == 1
    assert outbox.get("client-0001").body["description"] == "corrected"


def test_online_filing_gives_the_servers_link(outbox):
    server = DemoServer(public_url="https://sp.example.cn")
    receipt = courier_for(outbox, server).file(body())
    assert not receipt.offline
    assert receipt.number == "K1-0001"
    assert receipt.status_url == f"https://sp.example.cn/r/{outbox.get('client-0001').phone_token}"
    assert outbox.pending_count() == 0 and len(server.filed) == 1


def test_offline_filing_gives_a_local_ticket_then_delivers_exactly_once(outbox):
    server = DemoServer(public_url="https://sp.example.cn")
    server.online = False
    courier = courier_for(outbox, server)
    receipt = courier.file(body())
    parcel = outbox.get("client-0001")
    assert receipt.offline and receipt.number == "K1-0001"
    assert receipt.status_url == f"https://sp.example.cn/r/{parcel.phone_token}"
    assert courier.flush() == 0 and outbox.pending_count() == 1
    server.online = True
    assert courier.flush() == 1
    assert courier.flush() == 0
    assert server.posts == 1
    filed = server.filed["client-0001"]
    assert filed["number"] == "K1-0001" and filed["phone_token"] == parcel.phone_token


def test_a_timeout_after_the_server_filed_it_still_gives_one_request(outbox):
    server = DemoServer()
    calls = {"n": 0}

    def flaky(request):
        response = server.handle(request)
        calls["n"] += 1
        if calls["n"] == 1:  # the server filed it, but the answer never arrived
            raise httpx.ReadTimeout("lost answer", request=request)
        return response

    client = ServerClient("http://server.test", kiosk_key="kiosk-key-123456", timeout=1,
                          transport=httpx.MockTransport(flaky))
    courier = Courier(client, outbox, public_url="https://sp.example.cn")
    receipt = courier.file(body())
    assert receipt.offline
    assert courier.flush() == 1
    # The phone link printed while offline is the one the server holds.
    assert server.filed["client-0001"]["phone_token"] in receipt.status_url
    assert len(server.filed) == 1 and server.posts == 2


def test_a_refused_request_is_set_aside_not_retried(outbox):
    def refuse(request):
        return httpx.Response(422, json={"error": {"code": "invalid", "message": "no unit"}})

    client = ServerClient("http://server.test", kiosk_key="kiosk-key-123456", timeout=1,
                          transport=httpx.MockTransport(refuse))
    courier = Courier(client, outbox, public_url="https://sp.example.cn")
    with pytest.raises(ServerRefused):
        courier.file(body())
    assert outbox.get("client-0001").state == "rejected"
    assert outbox.pending_count() == 0


def test_filing_carries_the_kiosk_key_and_a_refused_key_keeps_the_request(outbox, caplog):
    seen = []

    def wrong_key(request):
        seen.append(request.headers.get("X-Kiosk-Key"))
        return httpx.Response(401, json={"error": {"code": "not_authenticated",
                                                   "message": "wrong kiosk key"}})

    client = ServerClient("http://server.test", kiosk_key="kiosk-key-123456", timeout=1,
                          transport=httpx.MockTransport(wrong_key))
    courier = Courier(client, outbox, public_url="https://sp.example.cn")
    receipt = courier.file(body())
    # The resident still leaves with a number; the request waits for the key to be fixed.
    assert receipt.offline and receipt.number
    assert seen == ["kiosk-key-123456"]
    assert outbox.get("client-0001").state == "pending"
    assert "kiosk_key" in caplog.text


def test_the_backlog_goes_oldest_first_and_stops_when_the_server_goes(outbox):
    server = DemoServer()
    server.online = False
    courier = courier_for(outbox, server)
    for n in range(3):
        courier.file(body(f"client-000{n}"))
    server.online = True
    original = server.handle

    def one_then_gone(request):
        response = original(request)
        server.online = False  # the uplink drops again after one delivery
        return response

    server.handle = one_then_gone
    assert courier.flush() == 1
    assert list(server.filed) == ["client-0000"]
    assert outbox.pending_count() == 2
    server.handle = original
    server.online = True
    assert courier.flush() == 2
    assert list(server.filed) == ["client-0000", "client-0001", "client-0002"]


def test_json_files_are_replaced_whole_and_a_damaged_one_is_ignored(tmp_path):
    cache = JsonFile(tmp_path / "kiosk" / "categories.json")
    assert cache.load() is None
    cache.save({"categories": []})
    assert cache.load() == {"categories": []}
    assert not list((tmp_path / "kiosk").glob(".*.tmp"))
    cache.path.write_text("{not json")
    assert cache.load() is None
    cache.clear()
    cache.clear()


def test_a_truncated_outbox_is_set_aside_and_its_readable_requests_still_go(tmp_path, caplog):
    from kiosk.outbox import ReturnBox

    path = tmp_path / "outbox.sqlite3"
    box = Outbox(path, kiosk_id="K1")
    kept = [box.enqueue(body(f"client-{i:04d}", description="水管漏了" * 40)) for i in range(60)]
    box.close()  # checkpointed: everything is in the one file now
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)

    caplog.set_level("WARNING")
    box = Outbox(path, kiosk_id="K1")  # no traceback: the damage is found at start
    returns = ReturnBox(path)
    aside = list(tmp_path.glob("outbox.sqlite3.damaged-*"))
    assert len(aside) == 1 and aside[0].stat().st_size == size // 2
    assert any(str(path) in r.getMessage() and aside[0].name in r.getMessage()
               for r in caplog.records)
    # What could be read is still to deliver, under the number and token the resident holds.
    pending = {p.client_id: p for p in box.pending()}
    assert pending, "nothing was read back from the damaged outbox"
    for parcel in kept:
        if parcel.client_id in pending:
            assert pending[parcel.client_id].number == parcel.number
            assert pending[parcel.client_id].phone_token == parcel.phone_token
    # The new file works, and numbers already given are not given again.
    fresh = box.enqueue(body("client-9999"))
    assert fresh.number == "K1-0061"
    assert returns.keep(client_id="kiosk-r-0001", copy_id="LB-0001").state == "pending"
    box.close()
    returns.close()


def test_a_garbage_outbox_is_set_aside_and_a_new_one_started(tmp_path, caplog):
    path = tmp_path / "outbox.sqlite3"
    path.write_bytes(b"\x00garbage, not a database" * 100)
    caplog.set_level("WARNING")
    box = Outbox(path, kiosk_id="K1")
    assert box.enqueue(body()).number == "K1-0001"
    assert [p.name for p in tmp_path.glob("outbox.sqlite3.damaged-*")]
    assert any(str(path) in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    box.close()
