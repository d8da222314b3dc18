"""A booking at the kiosk against the real server (a child process with the demo data, 上门理发
made a service by appointment with one slot published, as a squad leader does): the resident
books it by taps and sees the time on the done screen and the slip, the server holds the place;
then, on a second visit, another kiosk takes the last place while the resident is on the review,
and the resident is told it is full and sent back to pick another time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from kiosk.api import ServerClient
from kiosk.presenters.appointment import appointment_text
from server.appointments.service import publish_slots
from server.db import make_engine, session_factory
from server.models import Category, User
from server.settings import load_server_settings
from tests.kiosk.kiosk_support import Kiosk, _plain
from tests.support.server import ServerProcess

pytestmark = pytest.mark.xdist_group("kiosk-appointments-e2e")

REPO = Path(__file__).resolve().parents[2]
CHANGSHA = ZoneInfo("Asia/Shanghai")
SERVICE = "haircut"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process = ServerProcess(tmp_path_factory.mktemp("kiosk-appointments")).start()
    yield process
    process.stop()


def open_a_slot(server: ServerProcess, *, capacity: int) -> tuple[int, datetime]:
    """Make the service by appointment and publish tomorrow 9:00-10:00 (Changsha) in the server's
    own database, as staff do on /staff/appointments; (slot id, its start in UTC)."""
    settings = load_server_settings(REPO / "config" / "servicepoint.toml", env=server.env)
    engine = make_engine(settings.database_url)
    now = datetime.now(UTC)
    try:
        with session_factory(engine)() as db:
            db.get(Category, SERVICE).by_appointment = True
            db.commit()
            user = db.scalars(select(User).order_by(User.id)).first()
            day = (now + timedelta(days=1)).astimezone(CHANGSHA).date()
            [slot] = publish_slots(db, category_code=SERVICE, day=day, start=time(9),
                                   end=time(10), capacity=capacity, weeks=1, user=user, now=now,
                                   timezone="Asia/Shanghai")
            return slot.id, slot.starts_at.replace(tzinfo=slot.starts_at.tzinfo or UTC)
    finally:
        engine.dispose()


def to_review_with(kiosk: Kiosk, slot_id: int, starts: datetime) -> None:
    kiosk.tap_key(SERVICE)
    assert kiosk.screen == "slot"
    kiosk.wait_until(lambda: kiosk.flow.slots_state == "ok", what="the slots")
    kiosk.tap_key(starts.astimezone(CHANGSHA).date().isoformat())  # the day's tab
    kiosk.tap_key(str(slot_id))
    while kiosk.screen == "question":
        kiosk.tap_key(kiosk.flow.question.choices[0].key)
    kiosk.tap_key(kiosk.flow.compounds[0].code)
    kiosk.tap_key(kiosk.flow.compound.buildings[0].code)
    kiosk.tap_key(kiosk.flow.building.units[0].code)
    assert kiosk.screen == "review"


def test_a_booking_holds_its_place_and_the_last_place_taken_elsewhere_is_told_full(
        make_kiosk, server) -> None:
    slot_id, starts = open_a_slot(server, capacity=2)
    kiosk = make_kiosk(real_server_url=server.url, SERVICEPOINT_KIOSK__KIOSK_ID="K1",
                       SERVICEPOINT_KIOSK__PRINTER="png")
    assert next(c for c in kiosk.flow.categories if c.code == SERVICE).by_appointment
    when = appointment_text("zh_CN", starts, CHANGSHA)

    to_review_with(kiosk, slot_id, starts)
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "done", what="the done screen")
    receipt = kiosk.flow.receipt
    assert receipt.appointment_at == starts and not receipt.offline
    assert kiosk.app.root.current_screen.ids.appointment.text == kiosk.tr("done_appointment",
                                                                          when=when)
    kiosk.tap_text(kiosk.tr("print_slip"))
    kiosk.wait_until(lambda: kiosk.app.print_state == "printed", what="the slip")
    assert kiosk.tr("slip_appointment", when=when) in [
        line.text for line in kiosk.app.current_slip().lines]
    token = receipt.status_url.rsplit("/r/", 1)[1]
    tracked = httpx.get(f"{server.url}/api/v1/track/{token}", timeout=10).json()
    assert datetime.fromisoformat(tracked["appointment_at"]) == starts
    slots = httpx.get(f"{server.url}/api/v1/slots", params={"category": SERVICE},
                      timeout=10).json()["slots"]
    assert next(s for s in slots if s["id"] == slot_id)["remaining"] == 1

    # A second resident, later: the last place shows, and while they read the review another
    # kiosk books it.
    kiosk.tap_text(kiosk.tr("home"))
    to_review_with(kiosk, slot_id, starts)
    other = ServerClient(server.url, kiosk_key=kiosk.app.settings.security.kiosk_key)
    try:
        unit = kiosk.flow.draft.unit
        other.file_request({"client_id": "kiosk-k2-appointment-e2e", "category": SERVICE,
                            "unit_code": unit, "answers": {"when": "any"}, "description": "",
                            "channel": "kiosk", "slot_id": slot_id})
    finally:
        other.close()
    kiosk.tap_text(kiosk.tr("submit"))
    kiosk.wait_until(lambda: kiosk.screen == "slot" and kiosk.flow.slots_state == "ok",
                     what="the slot step again")
    kiosk.pump(2)
    assert kiosk.app.root.current_screen.ids.problem.text == kiosk.tr("slot_taken")
    assert kiosk.flow.draft.unit == unit  # nothing else to enter again
    kiosk.tap_key(starts.astimezone(CHANGSHA).date().isoformat())
    full = kiosk.button(key=str(slot_id))
    assert full.disabled and _plain(full.text).endswith(kiosk.tr("slot_full"))
