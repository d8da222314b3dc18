"""Photos end to end in real headless Chromium (issue 15, "done means"): a resident on a
phone-sized screen files through the form with a photo from the camera (a JPEG carrying EXIF and
GPS; a text file chosen first is refused beside the field with everything typed kept), lands on
the status page, and the staff ticket page shows the photo with no EXIF left in
the file the server sends. Then the volunteer marks the job done with an "after" photo from the
task link, and the resident sees it on the status page.

    WEB_SCREENSHOTS=1 .venv/bin/python -m pytest tests/web/test_browser_photos.py
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import PASSWORDS
from tests.server.test_photos import assert_clean, phone_photo
from tests.web.conftest import advance, shoot, ticket_id_of
from tests.web.test_browser import _audit, _sign_in
from tests.web.test_task_link import _link

pytestmark = pytest.mark.browser


def _shows_picture(page, img) -> None:  # type: ignore[no-untyped-def]
    """The thumbnail (loaded lazily) has really arrived and decoded, not a broken image."""
    img.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=img.element_handle())


def test_a_resident_files_with_a_photo_and_staff_see_it_without_exif(
        client: TestClient, live_url: str, phone, desktop) -> None:  # type: ignore[no-untyped-def]
    camera = phone_photo((1200, 900))
    assert b"PhoneModelX" in camera  # what the phone's camera wrote, GPS included

    # What the stairwell poster's QR code opens: the building already chosen.
    phone.goto(f"{live_url}/new?building=C01-B01")
    phone.click("label.choice:has-text('水电维修')")
    phone.click("button:has-text('下一步')")
    phone.check("input[name=q_problem][value=leak]")
    phone.select_option("#unit", "C01-B01-U1")
    phone.fill("#description", "厨房水管接头一直滴水")
    phone.fill("#contact_name", "王阿姨")
    phone.fill("#contact_phone", "13800001234")
    photo_field = phone.locator("input[type=file][name=photos]")
    assert photo_field.get_attribute("accept") == "image/*"
    # First a file that is not a photo: refused beside the field, nothing filed, all kept.
    photo_field.set_input_files([{"name": "notes.txt", "mimeType": "text/plain",
                                  "buffer": b"not a photo"}])
    phone.click("button:has-text('提交')")
    error = phone.locator("#photos-error")
    assert error.is_visible() and "选的文件不是照片" in error.inner_text()
    assert phone.locator("#photos").get_attribute("aria-describedby") == "photos-error"
    assert phone.input_value("#description") == "厨房水管接头一直滴水"
    assert phone.input_value("#contact_phone") == "13800001234"
    _audit(phone)
    error.scroll_into_view_if_needed()
    shoot(phone, "new-request-photo-refused")
    photo_field.set_input_files([{"name": "IMG_20261203.jpg", "mimeType": "image/jpeg",
                                  "buffer": camera}])
    _audit(phone)
    shoot(phone, "new-request-photo")
    phone.click("button:has-text('提交')")
    phone.wait_for_url(re.compile(r"/r/[A-Za-z0-9_-]+\?done=filed$"))
    number = phone.locator("h1.number").inner_text()
    thumbs = phone.locator("ul.photos img")
    assert thumbs.count() == 1
    _shows_picture(phone, thumbs.first)
    _audit(phone)
    shoot(phone, "phone-with-photo")

    # Staff open the ticket: the photo is there, and the file served carries no EXIF (no GPS).
    ticket_id = ticket_id_of(client, number)
    _sign_in(desktop, live_url, "staff", PASSWORDS["staff"])
    desktop.goto(f"{live_url}/staff/tickets/{ticket_id}")
    shown = desktop.locator("ul.photos img")
    assert shown.count() == 1
    _shows_picture(desktop, shown.first)
    full = desktop.locator("ul.photos a").first.get_attribute("href")
    served = desktop.request.get(f"{live_url}{full}")
    assert served.ok and served.headers["cache-control"].startswith("private")
    picture = assert_clean(served.body())
    assert picture.size == (900, 1200)  # turned upright from the camera's orientation tag
    shoot(desktop, "ticket-with-photo")

    # The volunteer finishes with an "after" photo from the one-tap link on a phone.
    advance(client, ticket_id, "accepted")
    link = _link(client, ticket_id)
    volunteer = desktop.context.browser.new_context(  # type: ignore[union-attr]
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    volunteer.goto(f"{live_url}{link}")
    volunteer.fill("textarea[name=note]", "换了接头的垫圈，试过不漏了")
    volunteer.locator("input[type=file][name=photo]").set_input_files(
        [{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": phone_photo((800, 600))}])
    _audit(volunteer)
    shoot(volunteer, "task-link-after-photo")
    volunteer.click("button:has-text('办好了')")
    volunteer.wait_for_selector("text=正在等居民确认")
    volunteer.context.close()

    phone.reload()
    assert "志愿者办好后拍的照片" in phone.content()
    assert phone.locator("ul.photos img").count() == 2
    _audit(phone)
    shoot(phone, "phone-after-photo")
