"""The kiosk against the real server (a child process with the demo data), tapped like a resident.

Online: a request filed by taps, its QR code read back from the screen, and the link answering
with the request's status. Offline: the same with the server stopped, then started again, and
the kept request delivered exactly once.
"""

from __future__ import annotations

import httpx
import pytest

from tests.kiosk.kiosk_support import qr_codes_on_screen, walk_to_review
from tests.support.server import ServerProcess

# One real server for the module: keep both tests on one xdist worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("kiosk-end-to-end")

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process = ServerProcess(tmp_path_factory.mktemp("kiosk-e2e")).start()
    yield process
    process.stop()


def token_of(url: str) -> str:
    return url.rsplit("/r/", 1)[1]


def test_a_request_filed_at_the_kiosk_is_on_the_server_and_its_qr_code_tracks_it(
        make_kiosk, server, tmp_path):
    kiosk = make_kiosk(real_server_url=server.url, SERVICEPOINT_KIOSK__KIOSK_ID="K1")
    assert kiosk.flow.categories and not kiosk.app.offline
    walk_to_review(kiosk, category="water_electric")
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    receipt = kiosk.flow.receipt
    assert not receipt.offline

    [url] = qr_codes_on_screen(tmp_path)
    assert url == receipt.status_url
    assert url.startswith(server.url + "/r/")
    status = httpx.get(f"{server.url}/api/v1/track/{token_of(url)}", timeout=10)
    assert status.status_code == 200
    body = status.json()
    assert body["number"] == receipt.number
    assert body["status"] == "new" and body["category"] == "water_electric"
    assert httpx.get(url, timeout=10).status_code == 200  # the phone page itself

    # Staff mode reads the same server with the kiosk key. Read after the kiosk has: the
    # server's schedules may raise a due ticket at any moment, which the kiosk then lists first.
    kiosk.tap_text(kiosk.tr("home"))
    kiosk.tap_text(kiosk.tr("staff"))
    kiosk.type_digits("2468")
    kiosk.tap_text(kiosk.tr("confirm"))
    kiosk.wait_until(lambda: kiosk.app.status_state == "ok", what="the site status")
    site = httpx.get(f"{server.url}/api/v1/site/status", timeout=10,
                     headers={"X-Kiosk-Key": kiosk.app.settings.security.kiosk_key}).json()
    ids = kiosk.app.root.current_screen.ids
    for tank in site["tanks"][:2]:
        assert tank["name"] in ids.tanks.lines
    if not site["tanks"]:
        assert ids.tanks.lines == kiosk.tr("no_data_yet")
    if not site["extinguisher_bays"]:
        assert ids.bays.lines == kiosk.tr("no_data_yet")
    numbers = [t["number"] for t in site["open_tickets"]]
    assert receipt.number in numbers
    assert any(number in ids.tickets.lines for number in numbers)


def test_with_the_server_down_the_request_is_kept_and_delivered_exactly_once(
        make_kiosk, server, tmp_path):
    # Another kiosk id: this kiosk's sequence starts at 0001 like the first test's kiosk.
    kiosk = make_kiosk(real_server_url=server.url, SERVICEPOINT_KIOSK__KIOSK_ID="K2")
    assert kiosk.flow.categories
    server.stop()
    try:
        walk_to_review(kiosk, category="pipe_unclog", phone=None)
        kiosk.tap_text(kiosk.tr("submit"))
        kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
        receipt = kiosk.flow.receipt
        [parcel] = kiosk.app.outbox.pending()
        assert receipt.offline and receipt.number == parcel.number == "K2-0001"
        [url] = qr_codes_on_screen(tmp_path)
        assert url == receipt.status_url == f"{server.url}/r/{parcel.phone_token}"
        assert kiosk.app.flush_outbox().result(timeout=30) == 0
    finally:
        server.start()

    assert kiosk.app.flush_outbox().result(timeout=30) == 1
    assert kiosk.app.flush_outbox().result(timeout=30) == 0
    assert kiosk.app.outbox.pending_count() == 0
    status = httpx.get(f"{server.url}/api/v1/track/{token_of(url)}", timeout=10)
    assert status.status_code == 200
    assert status.json()["number"] == "K2-0001"
    # Exactly once: the same request again is answered with the first filing, not a new one.
    again = httpx.post(f"{server.url}/api/v1/requests", json=parcel.body, timeout=10)
    assert again.status_code == 200 and again.json()["number"] == "K2-0001"
    kiosk.wait_until(lambda: not kiosk.app.offline, what="the offline banner to go")
