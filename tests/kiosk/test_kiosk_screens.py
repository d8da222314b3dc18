"""The kiosk on screen, driven by simulated taps, against the in-memory demo server."""

from __future__ import annotations

import threading
import time

import httpx

from kiosk.flow import Step
from kiosk.tooling.demo import DemoServer
from tests.kiosk.kiosk_support import qr_codes_on_screen, walk_to_review


def test_home_shows_the_services_the_site_and_the_time(make_kiosk):
    kiosk = make_kiosk()
    assert kiosk.screen == "home"
    tiles = [b.text for b in kiosk.buttons() if b.key]
    assert tiles == ["水电维修", "管道疏通", "家电维修", "上门理发", "政策咨询", "证件预约上门办理",
                     "就业信息推荐", "图书借阅", "用水问题", "公共设施"]
    screen = kiosk.app.root.current_screen
    assert screen.ids.site_name.text == "劳动路社区服务站"
    assert screen.ids.clock.text == "2026年11月25日 星期三 09:30"


def test_filing_by_taps_gives_a_ticket_and_a_qr_code_that_links_to_it(make_kiosk, tmp_path):
    kiosk = make_kiosk()
    walk_to_review(kiosk, category="water_electric")
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    filed = kiosk.server.filed[kiosk.app.outbox.pending()[0].client_id
                               if kiosk.app.outbox.pending() else next(iter(kiosk.server.filed))]
    receipt = kiosk.flow.receipt
    assert receipt.number == filed["number"] == "K1-0001"
    assert kiosk.app.root.current_screen.ids.number.text == "K1-0001"
    assert qr_codes_on_screen(tmp_path) == [receipt.status_url]
    assert receipt.status_url.endswith("/r/" + filed["phone_token"])
    assert filed["answers"] == {"problem": "leak"}
    assert filed["unit_code"] == "C01-B01-U1" and filed["contact_phone"] == "13800001234"
    kiosk.tap_text(kiosk.tr("home"))
    assert kiosk.screen == "home"


def test_with_the_server_down_the_resident_still_gets_a_ticket_then_it_is_sent_once(
        make_kiosk, tmp_path):
    server = DemoServer()
    kiosk = make_kiosk(server=server)
    server.online = False
    walk_to_review(kiosk, category="pipe_unclog", phone=None)
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    receipt = kiosk.flow.receipt
    parcel = kiosk.app.outbox.pending()[0]
    assert receipt.offline and receipt.number == parcel.number == "K1-0001"
    assert receipt.status_url == f"http://127.0.0.1:8080/r/{parcel.phone_token}"
    assert qr_codes_on_screen(tmp_path) == [receipt.status_url]
    assert kiosk.app.root.current_screen.offline
    assert server.filed == {}
    server.online = True
    kiosk.app.flush_outbox().result(timeout=10)
    kiosk.app.flush_outbox().result(timeout=10)
    assert list(server.filed) == [parcel.client_id] and server.posts == 1
    assert server.filed[parcel.client_id]["phone_token"] == parcel.phone_token
    kiosk.wait_until(lambda: not kiosk.app.offline, what="the offline banner to go")


def test_a_slow_server_shows_please_wait_and_the_screen_keeps_drawing(make_kiosk):
    server = DemoServer()
    release = threading.Event()
    original = server.handle

    def slow(request):
        if request.method == "POST":
            release.wait(10)
        return original(request)

    server.handle = slow
    kiosk = make_kiosk(server=server)
    walk_to_review(kiosk, category="haircut")
    kiosk.tap_text(kiosk.tr("submit"))
    assert kiosk.screen == "sending"
    frames = []
    for _ in range(10):
        started = time.monotonic()
        kiosk.pump(1)
        frames.append(time.monotonic() - started)
    assert max(frames) < 0.5, "the UI thread was blocked by the network"
    assert kiosk.screen == "sending"
    assert kiosk.speaker.said[-1] == (kiosk.tr("say_sending"), "zh_CN")
    release.set()
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")


def test_a_refused_request_says_so_and_can_be_corrected(make_kiosk):
    server = DemoServer()
    original = server.handle
    refusals = [1]

    def refuse_once(request):
        # Only the filing is refused: the kiosk's heartbeat posts too.
        if request.method == "POST" and request.url.path == "/api/v1/requests" and refusals:
            refusals.pop()
            return httpx.Response(422, json={"error": {"code": "invalid", "message": "no"}})
        return original(request)

    server.handle = refuse_once
    kiosk = make_kiosk(server=server)
    walk_to_review(kiosk, category="policy")
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "failed", what="the failure screen")
    assert kiosk.app.root.current_screen.ids.problem.text == kiosk.tr("refused")
    kiosk.tap_text(kiosk.tr("retry"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    assert len(server.filed) == 1


def test_back_and_home_work_from_every_step(make_kiosk):
    kiosk = make_kiosk()
    walk_to_review(kiosk, category="water_electric")
    trail = []
    while kiosk.screen != "home":
        kiosk.tap_text(kiosk.tr("back"))
        trail.append(kiosk.screen)
    assert trail == ["unit", "building", "compound", "question", "home"]
    # (The books tile opens the library now; its "bring books home" request is walked in
    # test_the_books_tile_opens_the_library_and_its_request_is_one_tap_away.)
    walk_to_review(kiosk, category="appliance")
    kiosk.tap_text(kiosk.tr("home"))
    assert kiosk.screen == "home" and kiosk.flow.draft is None
    assert not kiosk.app.draft_file.path.exists()


def test_long_lists_turn_pages_with_a_tap(make_kiosk):
    kiosk = make_kiosk()
    kiosk.tap_key("water_electric")
    kiosk.tap_key("leak")
    first_page = {b.key for b in kiosk.buttons() if b.key}
    assert "C01" in first_page and "C14" not in first_page
    kiosk.tap_text(kiosk.tr("next_page"))
    assert "C14" in {b.key for b in kiosk.buttons() if b.key}
    kiosk.tap_key("C14")
    assert kiosk.screen == "building" and kiosk.flow.draft.compound == "C14"


def test_the_language_toggle_switches_every_word(make_kiosk):
    kiosk = make_kiosk()
    kiosk.tap_text("English")
    assert kiosk.app.lang == "en"
    assert "Water & electrical repair" in [b.text for b in kiosk.buttons()]
    assert kiosk.app.root.current_screen.ids.site_name.text == (
        "Laodong Road Community Service Point")
    kiosk.tap_key("water_electric")
    assert kiosk.app.root.current_screen.ids.title.text == "What is wrong?"
    assert kiosk.speaker.said[-1] == ("What is wrong?", "en")
    kiosk.tap_text("Home")
    kiosk.tap_text("中文")
    assert kiosk.app.lang == "zh_CN"


def test_each_screen_speaks_its_instruction_in_mandarin(make_kiosk):
    kiosk = make_kiosk()
    kiosk.tap_key("water_electric")
    kiosk.tap_key("leak")
    # Each screen's title on entering, and each tile's words as it is touched.
    assert kiosk.speaker.said == [("您好，请点您需要的服务。", "zh_CN"), ("水电维修", "zh_CN"),
                                  ("哪里出了问题？", "zh_CN"), ("漏水", "zh_CN"),
                                  ("请点您住的小区。", "zh_CN")]


def test_idle_warns_with_time_to_stay_then_clears_and_goes_home(make_kiosk):
    kiosk = make_kiosk()
    kiosk.tap_key("water_electric")
    kiosk.tap_key("leak")
    kiosk.clock.advance(91)
    kiosk.pump(int(0.6 / (1 / 60)) + 1)
    kiosk.wait_until(lambda: kiosk.app.idle_warning is not None, what="the idle warning")
    assert kiosk.app.idle_warning.seconds >= 20
    kiosk.tap_text(kiosk.tr("idle_stay"))
    assert kiosk.app.idle_warning is None and kiosk.screen == "compound"
    kiosk.clock.advance(91)
    kiosk.wait_until(lambda: kiosk.app.idle_warning is not None, what="the idle warning")
    kiosk.clock.advance(30)
    kiosk.wait_until(lambda: kiosk.screen == "home", what="the idle timeout")
    assert kiosk.app.idle_warning is None
    assert kiosk.flow.draft is None and not kiosk.app.draft_file.path.exists()


def test_a_half_entered_request_survives_a_restart(make_kiosk, tmp_path):
    kiosk = make_kiosk()
    kiosk.tap_key("appliance")
    kiosk.tap_key("fridge")
    kiosk.tap_key("C02")
    kiosk.tap_key("C02-B03")
    kiosk.tap_key("C02-B03-U2")
    kiosk.tap(kiosk.app.root.current_screen.ids.add_door)
    kiosk.type_digits("302")  # the door number
    kiosk.tap_text(kiosk.tr("confirm"))
    kiosk.tap(kiosk.app.root.current_screen.ids.leave_phone)
    kiosk.type_digits("139")
    client_id = kiosk.flow.draft.client_id
    # The draft was written (fsync'd) at every tap; a restart finds it on disk.
    kiosk.close()
    again = make_kiosk(data_dir=tmp_path / "data")
    assert again.screen == "phone"
    assert again.flow.draft.client_id == client_id
    assert again.flow.draft.answers == {"appliance": "fridge"}
    assert again.app.root.current_screen.ids.display.text == "139"
    again.type_digits("00001234")
    again.tap_text(again.tr("confirm"))
    again.tap_text(again.tr("submit"))
    again.wait_until(lambda: again.screen == "done", what="the done screen")
    filed = again.server.filed[client_id]
    assert (filed["unit_code"], filed["room"], filed["floor"]) == ("C02-B03-U2", "302", "3")


def test_the_catalog_is_cached_for_when_the_server_is_down(make_kiosk, tmp_path):
    make_kiosk()
    offline = DemoServer()
    offline.online = False
    kiosk = make_kiosk(server=offline, data_dir=tmp_path / "data")
    assert len([b for b in kiosk.buttons() if b.key]) == 10
    assert kiosk.app.offline
    assert kiosk.app.root.current_screen.ids.offline_banner.opacity == 1


def test_with_no_cache_and_no_server_home_says_how_to_get_help(make_kiosk):
    offline = DemoServer()
    offline.online = False
    kiosk = make_kiosk(server=offline)
    assert [b for b in kiosk.buttons() if b.key] == []
    message = kiosk.tr("no_categories", phone="0731-8888 0000")
    assert message in [w.text for w in kiosk.app.root.current_screen.ids.tiles.children]


def test_staff_mode_needs_the_pin_and_shows_the_site_at_a_glance(make_kiosk):
    kiosk = make_kiosk()
    kiosk.tap_text("工作人员")
    assert kiosk.screen == "staff_pin"
    kiosk.type_digits("1111")
    kiosk.tap_text(kiosk.tr("confirm"))
    assert kiosk.screen == "staff_pin"
    assert kiosk.app.root.current_screen.ids.hint.text == kiosk.tr("pin_wrong")
    kiosk.type_digits("2468")
    kiosk.tap_text(kiosk.tr("confirm"))
    assert kiosk.screen == "staff"
    kiosk.wait_until(lambda: kiosk.app.status_state == "ok", what="the site status")
    ids = kiosk.app.root.current_screen.ids
    assert "2号蓄水池：水位 14%" in ids.tanks.lines and "水位低" in ids.tanks.lines
    assert ids.bays.lines.startswith("2栋1楼：【注意】灭火器不在位")
    assert "【紧急】2号蓄水池水位低" in ids.alerts.lines
    assert "K1-0003" in ids.tickets.lines
    kiosk.tap_text(kiosk.tr("home"))
    assert kiosk.screen == "home"


def test_staff_mode_says_no_data_yet_before_the_sensors_report(make_kiosk):
    kiosk = make_kiosk(server=DemoServer(status={"site": "site-01", "tanks": [],
                                                 "extinguisher_bays": [], "open_tickets": [],
                                                 "alerts": []}))
    kiosk.app.open_staff()
    kiosk.type_digits("2468")
    kiosk.tap_text(kiosk.tr("confirm"))
    kiosk.wait_until(lambda: kiosk.app.status_state == "ok", what="the site status")
    ids = kiosk.app.root.current_screen.ids
    assert ids.tanks.lines == ids.bays.lines == "暂无数据"
    assert ids.alerts.lines == ids.tickets.lines == "没有"


def test_staff_mode_says_when_the_server_cannot_be_reached(make_kiosk):
    server = DemoServer()
    kiosk = make_kiosk(server=server)
    server.online = False
    kiosk.app.open_staff()
    kiosk.type_digits("2468")
    kiosk.tap_text(kiosk.tr("confirm"))
    kiosk.wait_until(lambda: kiosk.app.status_state == "unreachable", what="the failed read")
    ids = kiosk.app.root.current_screen.ids
    assert ids.state.text == kiosk.tr("staff_never")
    assert ids.tanks.lines == "暂无数据"
    assert kiosk.flow.step is Step.STAFF


def test_the_books_tile_opens_the_library_and_its_request_is_one_tap_away(make_kiosk):
    kiosk = make_kiosk()
    kiosk.tap_key("books")
    assert kiosk.screen == "library" and kiosk.flow.draft is None
    kiosk.tap_text(kiosk.tr("lib_deliver"))
    assert kiosk.flow.draft is not None and kiosk.flow.draft.category == "books"
    assert kiosk.screen == "question"
    kiosk.tap_text(kiosk.tr("home"))
    assert kiosk.screen == "home" and kiosk.flow.draft is None and kiosk.flow.visit is None
