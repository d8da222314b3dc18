"""Where the kiosk asks for a phone number, it says who will see it and when it is erased, with
the period the server's [retention] keeps it (issue 16: the privacy notice residents see)."""

from __future__ import annotations

from tests.kiosk.kiosk_support import walk_to_review


def test_the_phone_keypad_says_who_sees_the_number_and_when_it_is_erased(make_kiosk):
    kiosk = make_kiosk(SERVICEPOINT_RETENTION__CONTACT_DAYS="90")
    walk_to_review(kiosk, category="water_electric", phone=None)
    kiosk.tap(kiosk.app.root.current_screen.ids.leave_phone)
    assert kiosk.screen == "phone"
    hint = kiosk.app.root.current_screen.ids.hint.text
    assert "只给工作人员和接单的志愿者看" in hint and "办完 90 天后删除" in hint
    kiosk.app.lang = "en"
    kiosk.app.sync()
    assert "erased 90 days after it is done" in kiosk.app.root.current_screen.ids.hint.text
