"""The kiosk against the real server app (served over HTTP on loopback, with the demo site): a
resident taps 用水问题 → 有异味 and the report lands on tank-1's maintenance ticket history, and
the duty staff hear of it as a water-quality concern through the server's notice loop and the
notifier seam; a resident records a spoken description, and staff play it from the ticket page.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kiosk.microphone import FakeMicrophone, tone_wav
from server.alerts import RecordingNotifier
from server.app import create_app
from server.models import Ticket
from server.settings import load_server_settings
from tests.kiosk.kiosk_support import walk_to_review
from tests.server.conftest import CONFIG, FakeClock, sqlite_template  # noqa: F401 (fixture)
from tests.support.ports import free_port, wait_for_port

pytestmark = pytest.mark.timeout(180)


class LiveServer:
    def __init__(self, app: Any, url: str, notifier: RecordingNotifier) -> None:
        self.app, self.url, self.notifier = app, url, notifier


@pytest.fixture
def live(sqlite_template: Path, tmp_path: Path,  # noqa: F811
         monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """The server app with its notice loop and a recording notifier, served by uvicorn."""
    import uvicorn

    monkeypatch.setenv("SERVICEPOINT_ALERT_DUTY_WECOM_URL", "wecombot://dutykey")
    database = tmp_path / "servicepoint.db"
    shutil.copy(sqlite_template, database)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = load_server_settings(CONFIG / "servicepoint.toml", env={
        "SERVICEPOINT_DATABASE_URL": f"sqlite:///{database}",
        "SERVICEPOINT_DATA_DIR": str(tmp_path / "server-data"),
        "SERVICEPOINT_ENVIRONMENT": "test", "SERVICEPOINT_HTTP__PUBLIC_URL": url})
    notifier = RecordingNotifier()
    app = create_app(settings, clock=FakeClock(), background=False, notifier=notifier)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    yield LiveServer(app, url, notifier)
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


def tap_through(kiosk: Any, category: str, answer: str) -> None:  # type: ignore[no-untyped-def]
    """From home to the review: the category, its answer, then 劳动新村 1栋 1单元 (tank-1's)."""
    kiosk.tap_key(category)
    kiosk.tap_key(answer)
    kiosk.tap_key("C01")
    kiosk.tap_key("C01-B01")
    kiosk.tap_key("C01-B01-U1")
    assert kiosk.screen == "review"


def test_a_tank_odour_report_from_the_kiosk_is_on_the_tanks_history_and_alerts_staff(
        make_kiosk, live: LiveServer) -> None:  # type: ignore[no-untyped-def]
    kiosk = make_kiosk(real_server_url=live.url, SERVICEPOINT_KIOSK__KIOSK_ID="K3")
    home = [b.key for b in kiosk.buttons()]
    assert "tank_water" in home and "shared_facility" in home
    tap_through(kiosk, "tank_water", "smell")
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    receipt = kiosk.flow.receipt
    assert not receipt.offline

    with live.app.state.sessions() as db:
        (tank_ticket,) = db.scalars(select(Ticket).where(Ticket.asset_id == "tank-1"))
        history = [(e.action, e.note) for e in tank_ticket.events]
    assert tank_ticket.kind == "maintenance" and tank_ticket.priority == "urgent"
    [(action, note)] = history
    assert action == "resident_report"
    assert "1号二次供水蓄水池的水有异味" in note and receipt.number in note

    deadline = time.monotonic() + 10
    while not [m for m, r in live.notifier.sent if r.key == "duty/wecom" and "水有异味" in m.body]:
        assert time.monotonic() < deadline, "the duty staff heard nothing of the odour"
        time.sleep(0.05)
    (alert, _) = next((m, r) for m, r in live.notifier.sent if "水有异味" in m.body)
    assert alert.urgent and "Resident reports odour in the water" in alert.title
    # The resident's own request is followed as any other.
    status = httpx.get(receipt.status_url.replace("/r/", "/api/v1/track/"), timeout=10)
    assert status.status_code == 200 and status.json()["category"] == "tank_water"


def test_a_spoken_description_from_the_kiosk_plays_on_the_staff_ticket_page(
        make_kiosk, live: LiveServer) -> None:  # type: ignore[no-untyped-def]
    kiosk = make_kiosk(real_server_url=live.url, SERVICEPOINT_KIOSK__KIOSK_ID="K3")
    wav = tone_wav(2.5)
    clock = [0.0]
    kiosk.app.use_microphone(FakeMicrophone(wav=wav, clock=lambda: clock[0]))
    walk_to_review(kiosk, category="water_electric", phone=None)
    kiosk.tap_text(kiosk.tr("voice_add"))
    kiosk.tap_text(kiosk.tr("voice_start"))
    clock[0] += 2.5
    kiosk.tap_text(kiosk.tr("voice_stop"))
    kiosk.tap_text(kiosk.tr("voice_use"))
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    number = kiosk.flow.receipt.number
    kiosk.wait_until(lambda: not kiosk.app.spool.waiting(), what="the recording delivered")

    with live.app.state.sessions() as db:
        ticket_id = db.scalar(select(Ticket.id).where(Ticket.number == number))
    with httpx.Client(base_url=live.url, timeout=10) as browser:
        assert browser.get(f"/staff/tickets/{ticket_id}/recording").status_code in (303, 401)
        login = browser.get("/login")
        token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
        signed = browser.post("/login", data={"username": "staff", "password": "staff-demo",
                                              "csrf_token": token})
        assert signed.status_code in (200, 303)
        page = browser.get(f"/staff/tickets/{ticket_id}")
        assert f'src="/staff/tickets/{ticket_id}/recording"' in page.text
        played = browser.get(f"/staff/tickets/{ticket_id}/recording")
        assert played.status_code == 200 and played.content == wav
