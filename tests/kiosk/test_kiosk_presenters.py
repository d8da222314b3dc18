"""What the kiosk's screens say, worked out without Kivy (kiosk.presenters): pages of buttons, the
review, the keypads, the answer to a scan, the loans and the staff panels."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.api import parse_site_status
from kiosk.catalog import parse_categories, parse_places
from kiosk.flow import Flow, LibraryCall, Step
from kiosk.i18n import tr
from kiosk.lending import CheckIn, Loan, Patron, Reader, Refusal
from kiosk.presenters import (
    SKIP,
    borrow_status,
    choice_page,
    keypad_view,
    loans_view,
    outcome_view,
    progress_text,
    receipt_lines,
    review_lines,
    staff_panels,
    staff_state,
)
from kiosk.tooling.demo import CATEGORIES, PLACES, SITE_STATUS
from kiosk.tooling.scenes import ManualClock


@pytest.fixture
def flow():
    flow = Flow(idle_seconds=90, warning_seconds=30, staff_pin="2468", now=ManualClock())
    flow.set_catalog(categories=parse_categories(CATEGORIES), compounds=parse_places(PLACES))
    return flow


def _loan(copy_id="LB-0001", title="阳台种菜一本通", due=date(2026, 12, 25), renewals=2, late=0):
    return Loan(copy_id=copy_id, title=title, due_on=due, renewals_left=renewals,
                overdue_days=late)


def _reader(loans=(), *, blocked=False):
    return Reader(session="s-1", loans=tuple(loans), phone_url="http://sp/l/token",
                  patron=Patron(card_id="P1234567897", address_as="王阿姨", loans=len(loans),
                                max_items=5, can_borrow=5 - len(loans), blocked=blocked))


def _answer(flow, kind, result):
    flow.visit.in_flight += 1
    flow.library_answered(LibraryCall(kind=kind, visit=flow.visit.serial), result)


def _identified(flow, purpose, reader):
    flow.open_library()
    flow.library_choose(purpose)
    _answer(flow, "identify", reader)


def test_fourteen_compounds_come_as_two_pages_of_eight_with_blank_cells_last(flow):
    flow.choose_category("pipe_unclog")
    flow.answer("kitchen")
    first = choice_page(flow, "zh_CN", page=0)
    assert first.title == "您住在哪个小区？" and first.cols == 4 and first.pages == 2
    assert [label for _key, label in first.items][:2] == ["劳动新村", "东塘小区"]
    assert len(first.items) == 8 and first.blanks == 0
    # Asking for a page past the end shows the last one, with the buttons kept the same size.
    last = choice_page(flow, "en", page=5)
    assert last.page == 1 and len(last.items) == 6 and last.blanks == 2
    assert last.items[-1] == ("C14", "Shuguang Lane")
    assert progress_text(flow, "en") == "Step 3 of 4"


def test_an_optional_question_offers_skip_and_a_required_one_does_not(flow):
    flow.choose_category("jobs")
    keys = [key for key, _label in choice_page(flow, "zh_CN", page=0).items]
    assert keys[-1] == SKIP and dict(choice_page(flow, "zh_CN", 0).items)[SKIP] == "跳过"
    flow.home()
    flow.choose_category("water_electric")
    assert SKIP not in dict(choice_page(flow, "zh_CN", page=0).items)


def test_the_review_reads_back_every_answer_and_the_phone_as_written(flow):
    flow.choose_category("water_electric")
    flow.answer("leak")
    flow.choose_compound("C01")
    flow.choose_building("C01-B02")
    flow.choose_unit("C01-B02-U3")
    flow.add_door()
    for digit in "502":
        flow.press_digit(digit)
    assert keypad_view(flow, "zh_CN").display == "502"
    flow.confirm_door()
    flow.leave_phone()
    for digit in "13800001234":
        flow.press_digit(digit)
    flow.confirm_phone()
    assert review_lines(flow, "zh_CN") == [
        "服务：水电维修", "哪里出了问题？漏水", "地点：劳动新村 2栋 3单元", "门牌号：502",
        "电话：138 0000 1234"]
    assert flow.request_body()["room"] == "502" and flow.request_body()["floor"] == "5"
    flow.leave_phone()
    flow.clear_digits()
    flow.confirm_phone()
    assert review_lines(flow, "en")[-1] == tr("en", "review_no_phone")


def test_the_keypads_show_what_was_typed_and_why_it_was_refused(flow):
    flow.choose_category("haircut")
    flow.answer("morning")
    flow.choose_compound("C01")
    flow.choose_building("C01-B01")
    flow.choose_unit("C01-B01-U1")
    assert "room" not in flow.request_body()
    flow.leave_phone()
    for digit in "2380":
        flow.press_digit(digit)
    hint = keypad_view(flow, "zh_CN", contact_days=90).hint
    assert hint == tr("zh_CN", "phone_hint") + "\n" + tr("zh_CN", "privacy_phone", days=90)
    flow.confirm_phone()
    view = keypad_view(flow, "zh_CN")
    assert view.display == "238 0" and view.hint == "号码要 11 位，以 1 开头"
    assert view.hint_is_problem
    flow.home()
    flow.open_library()
    flow.library_choose("borrow")
    flow.library_use_phone()
    for digit in "13800001234":
        flow.press_digit(digit)
    flow.confirm_library_phone()
    for digit in "1111":
        flow.press_digit(digit)
    call = flow.confirm_library_pin()
    # The PIN is never shown, and while the server checks it the reader is told so.
    assert keypad_view(flow, "en").display == "●●●●"
    assert keypad_view(flow, "en").hint == tr("en", "lib_checking")
    flow.library_refused(call, Refusal.from_error("wrong_pin"))
    view = keypad_view(flow, "en")
    assert view.hint == Refusal.from_error("wrong_pin").text("en") and view.hint_is_problem


def test_a_typed_book_number_is_shown_as_on_its_label(flow):
    _identified(flow, "borrow", _reader())
    flow.library_type_copy()
    for digit in "12":
        flow.press_digit(digit)
    assert flow.step is Step.LIB_COPY and keypad_view(flow, "zh_CN").display == "LB-0012"


def test_each_answer_to_a_scan_has_a_mark_words_and_a_tone(flow):
    assert outcome_view("zh_CN", None, "请扫书").headline == "请扫书"
    _identified(flow, "borrow", _reader())
    _answer(flow, "borrow", _loan(due=date(2026, 12, 25)))
    ok = outcome_view("zh_CN", flow.visit)
    assert (ok.mark, ok.tone) == ("✔", "ok") and "2026年12月25日" in ok.detail
    flow.visit.in_flight += 1
    flow.library_refused(LibraryCall(kind="borrow", visit=flow.visit.serial),
                         Refusal.from_error("on_hold_for_other"))
    refused = outcome_view("en", flow.visit)
    assert (refused.mark, refused.tone) == ("✘", "refused")
    assert refused.detail == Refusal.from_error("on_hold_for_other").text("en")
    flow.home()
    flow.open_library()
    flow.library_choose("return")
    _answer(flow, "give_back", CheckIn(client_id="r-1", copy_id="LB-0010", title="湖湘文化名人录",
                                       overdue_days=5))
    assert outcome_view("zh_CN", flow.visit).detail == "这本书晚还了 5 天。请把书放进还书箱，谢谢！"
    assert outcome_view("en", flow.visit).detail.startswith(tr("en", "lib_late", days=5) + ". ")
    _answer(flow, "give_back", CheckIn(client_id="r-2", copy_id="LB-0006", hand_to_staff=True))
    held = outcome_view("zh_CN", flow.visit)
    assert (held.mark, held.tone, held.detail) == ("!", "warn", tr("zh_CN", "lib_hand_to_staff"))
    _answer(flow, "give_back", CheckIn(client_id="r-3", copy_id="LB-0003", queued=True))
    assert outcome_view("zh_CN", flow.visit).detail == tr("zh_CN", "lib_queued", copy="LB-0003")


def test_a_blocked_reader_is_told_why_before_scanning(flow):
    _identified(flow, "borrow", _reader([_loan(late=5)], blocked=True))
    status, blocked = borrow_status(flow, "zh_CN")
    assert blocked and status == Refusal.from_error("overdue_block").text("zh_CN")
    flow.home()
    _identified(flow, "borrow", _reader())
    assert borrow_status(flow, "zh_CN") == ("王阿姨，您还可以借 5 本", False)


def test_a_long_receipt_says_how_many_more_are_on_the_phone(flow):
    _identified(flow, "borrow", _reader())
    for n in range(5):
        _answer(flow, "borrow", _loan(copy_id=f"LB-00{n:02d}", title=f"书{n}"))
    lines = receipt_lines(flow.visit, "zh_CN").split("\n")
    assert lines[0] == "这次借了 5 本：" and lines[1:6:2] == ["书0", "书1", "书2"]
    assert lines[-1] == "还有 2 本，手机扫码都能看到"


def test_the_loans_page_shows_renewals_left_on_the_button_and_late_books_first_words(flow):
    loans = [_loan("LB-0010", "湖湘文化名人录", date(2026, 11, 20), renewals=2, late=5),
             _loan("LB-0011", "阳台种菜一本通", date(2026, 12, 30), renewals=0),
             _loan("LB-0012", "a", renewals=1), _loan("LB-0013", "b", renewals=1)]
    _identified(flow, "loans", _reader(loans))
    view = loans_view(flow.visit, "zh_CN", page=0, sp=2.0)
    assert view.status == "王阿姨，您借了 4 本" and view.pages == 2 and len(view.rows) == 3
    late, spent = view.rows[0], view.rows[1]
    assert late.late and late.line.startswith("【逾期 5 天】")
    # Markup sizes are pixels: the renewals-left line is 18 sp at this screen's scale.
    assert late.renew_text == "续借\n[size=36]还可 2 次[/size]" and late.can_renew
    assert spent.renew_text == "[size=40]不能再续借[/size]" and not spent.can_renew
    assert [row.copy_id for row in loans_view(flow.visit, "zh_CN", page=1, sp=1).rows] == [
        "LB-0013"]
    flow.visit.in_flight += 1
    flow.library_refused(LibraryCall(kind="renew", visit=flow.visit.serial),
                         Refusal.from_error("renew_on_hold"))
    refused = loans_view(flow.visit, "en", page=0, sp=1)
    assert refused.result_is_refusal
    assert refused.result == "✘ " + Refusal.from_error("renew_on_hold").text("en")
    flow.home()
    _identified(flow, "loans", _reader())
    assert loans_view(flow.visit, "zh_CN", page=0, sp=1).none_left


def test_staff_panels_put_problems_first_and_fit_three_lines(flow):
    status = parse_site_status(SITE_STATUS)
    panels = {p.widget_id: p for p in staff_panels("zh_CN", status)}
    assert panels["bays"].lines.split("\n")[0] == "2栋1楼：【注意】灭火器不在位, 柜门开着"
    assert panels["alerts"].lines == "【紧急】2号蓄水池水位低"
    many = parse_site_status({**SITE_STATUS, "open_tickets": [
        {"id": n, "number": f"R-{n:04d}", "title": f"工单{n}", "status": "new",
         "priority": "normal"} for n in range(5)]})
    tickets = {p.widget_id: p for p in staff_panels("zh_CN", many)}["tickets"].lines
    assert tickets.split("\n")[2] == "……还有 3 条"
    empty = parse_site_status({"site": "s", "tanks": [], "extinguisher_bays": [],
                               "open_tickets": [], "alerts": []})
    words = {p.widget_id: p.lines for p in staff_panels("zh_CN", empty)}
    # Sensors that never reported have no data; an empty ticket list has none open.
    assert words == {"tanks": "暂无数据", "bays": "暂无数据", "alerts": "没有", "tickets": "没有"}
    assert {p.lines for p in staff_panels("en", None)} == {tr("en", "no_data_yet")}


def test_the_staff_screen_says_whether_it_shows_old_data_or_none(flow):
    status = parse_site_status(SITE_STATUS)
    assert staff_state("zh_CN", status, "unreachable") == ("连不上服务器，显示的是上次的数据", True)
    assert staff_state("zh_CN", None, "unreachable") == ("连不上服务器，暂无数据", True)
    assert staff_state("zh_CN", status, "ok") == ("", False)
    assert staff_state("en", None, "loading")[1] is False
