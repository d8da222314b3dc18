"""A resident's spoken description, sent by the kiosk after its filing, plays on the staff's ticket
page and on the volunteer's task pages, and to nobody else (a stranger, a volunteer or leader it
is not for, the resident's public status page)."""

from __future__ import annotations

import io
import math
import struct
import uuid
import wave
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from foundation.settings import DEVELOPMENT_KIOSK_KEY
from server.audit_log import AuditEntry
from tests.web.conftest import advance, cookie_sign_in, shoot, ticket_id_of

KIOSK = {"X-Kiosk-Key": DEVELOPMENT_KIOSK_KEY}


def spoken_wav(seconds: float = 2.0, rate: int = 16_000) -> bytes:
    """What the kiosk's microphone seam hands over: 16-bit mono PCM (a tone stands in for a
    voice)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
            for i in range(int(seconds * rate))))
    return out.getvalue()


def file_with_voice(client: TestClient, wav: bytes) -> dict[str, Any]:
    client_id = uuid.uuid4().hex
    filed = client.post("/api/v1/requests", headers=KIOSK, json={
        "client_id": client_id, "category": "water_electric", "unit_code": "C01-B01-U1",
        "answers": {"problem": "leak"}, "channel": "kiosk"})
    assert filed.status_code == 201, filed.text
    sent = client.post(f"/api/v1/requests/{client_id}/recording", content=wav,
                       headers={**KIOSK, "Content-Type": "audio/wav"})
    assert sent.status_code == 201, sent.text
    return {**filed.json(), "client_id": client_id}


def test_staff_play_the_spoken_description_from_the_ticket_page(client: TestClient) -> None:
    wav = spoken_wav()
    filed = file_with_voice(client, wav)
    ticket_id = ticket_id_of(client, filed["number"])
    cookie_sign_in(client, "staff")
    page = client.get(f"/staff/tickets/{ticket_id}")
    assert f'<audio class="voice" controls preload="none" src="/staff/tickets/{ticket_id}/' \
           f'recording">' in page.text
    played = client.get(f"/staff/tickets/{ticket_id}/recording")
    assert played.status_code == 200
    assert played.content == wav
    assert played.headers["content-type"] == "audio/wav"
    assert "no-store" in played.headers["cache-control"]
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        (entry,) = db.scalars(select(AuditEntry).where(AuditEntry.action == "recording.play"))
        assert entry.subject_id == str(ticket_id)


def test_a_stranger_and_people_it_is_not_for_cannot_play_it(client: TestClient) -> None:
    filed = file_with_voice(client, spoken_wav())
    ticket_id = ticket_id_of(client, filed["number"])
    url = f"/staff/tickets/{ticket_id}/recording"
    stranger = client.get(url, follow_redirects=False)
    assert stranger.status_code in (303, 401) and stranger.content != spoken_wav()
    cookie_sign_in(client, "zhouweidong")  # a volunteer of another squad
    assert client.get(url).status_code == 403
    assert client.get(f"/v/tasks/{ticket_id}/recording").status_code == 403
    cookie_sign_in(client, "leader2")  # the leader of another grid
    assert client.get(url).status_code == 403
    client.cookies.clear()
    status_page = client.get(f"/r/{filed['phone_token']}")
    assert status_page.status_code == 200 and "recording" not in status_page.text


def test_the_volunteer_on_the_task_plays_it_on_the_task_pages(client: TestClient) -> None:
    wav = spoken_wav(seconds=1.5)
    filed = file_with_voice(client, wav)
    ticket_id = ticket_id_of(client, filed["number"])
    advance(client, ticket_id, "accepted")
    cookie_sign_in(client, "lijianguo")
    tasks = client.get("/v")
    assert f'src="/v/tasks/{ticket_id}/recording"' in tasks.text
    assert client.get(f"/v/tasks/{ticket_id}/recording").content == wav


def test_the_upload_is_the_kiosks_and_a_wav(client: TestClient) -> None:
    wav = spoken_wav(seconds=0.5)
    early = uuid.uuid4().hex
    url = f"/api/v1/requests/{early}/recording"
    wav_type = {"Content-Type": "audio/wav"}
    assert client.post(url, content=wav, headers=wav_type).status_code == 401
    # The request has not arrived yet: the kiosk's spool tries again later.
    assert client.post(url, content=wav, headers={**KIOSK, **wav_type}).status_code == 404
    filed = client.post("/api/v1/requests", headers=KIOSK, json={
        "client_id": early, "category": "water_electric", "unit_code": "C01-B01-U1",
        "answers": {"problem": "leak"}, "channel": "kiosk"})
    assert filed.status_code == 201
    refused = client.post(url, content=b"RIFF not a wave at all", headers={**KIOSK, **wav_type})
    assert refused.status_code == 422 and refused.json()["error"]["message"]
    too_long = spoken_wav(seconds=62, rate=8_000)
    assert client.post(url, content=too_long, headers={**KIOSK, **wav_type}).status_code == 422
    assert client.post(url, content=wav, headers={**KIOSK, **wav_type}).status_code == 201
    again = client.post(url, content=wav, headers={**KIOSK, **wav_type})
    assert again.status_code == 200 and again.json()["duration_s"] == 0.5


@pytest.mark.browser
def test_the_staff_page_plays_it_in_a_real_browser(client: TestClient, live_url: str,
                                                   desktop) -> None:  # type: ignore[no-untyped-def]
    filed = file_with_voice(client, spoken_wav(seconds=2.0))
    ticket_id = ticket_id_of(client, filed["number"])
    desktop.goto(f"{live_url}/login")
    desktop.fill("#username", "staff")
    desktop.fill("#password", "staff-demo")
    desktop.click("form[action='/login'] button[type=submit]")
    desktop.wait_for_load_state()
    desktop.goto(f"{live_url}/staff/tickets/{ticket_id}")
    duration = desktop.evaluate("""() => new Promise((done, failed) => {
        const audio = document.querySelector('audio.voice');
        audio.addEventListener('loadedmetadata', () => done(audio.duration));
        audio.addEventListener('error', () => failed('the audio did not load'));
        audio.load();
    })""")
    assert abs(duration - 2.0) < 0.1
    shoot(desktop, "ticket-spoken-description")


def test_the_volunteers_one_tap_link_plays_it_and_a_revoked_link_does_not(
        client: TestClient) -> None:
    from server.models import Ticket, Volunteer
    from server.services.task_links import issue_task_link, revoke_task_links

    wav = spoken_wav(seconds=1.0)
    filed = file_with_voice(client, wav)
    ticket_id = ticket_id_of(client, filed["number"])
    advance(client, ticket_id, "dispatched")
    app = client.app
    with app.state.sessions() as db:  # type: ignore[attr-defined]
        ticket = db.get(Ticket, ticket_id)
        volunteer = db.get(Volunteer, ticket.assignee_id)
        link = issue_task_link(db, ticket=ticket, volunteer=volunteer,
                               now=app.state.clock())  # type: ignore[attr-defined]
        db.commit()
    page = client.get(link)
    assert f'src="{link}/recording"' in page.text
    assert client.get(f"{link}/recording").content == wav
    with app.state.sessions() as db:  # type: ignore[attr-defined]
        revoke_task_links(db, ticket=db.get(Ticket, ticket_id),
                          now=app.state.clock())  # type: ignore[attr-defined]
        db.commit()
    assert client.get(f"{link}/recording").status_code == 403


@pytest.mark.browser
def test_the_tank_page_shows_residents_reports_in_a_real_browser(
        client: TestClient, live_url: str, phone) -> None:  # type: ignore[no-untyped-def]
    """The duty staff member on the phone: the odour report beside the tank's readings."""
    filed = client.post("/api/v1/requests", headers=KIOSK, json={
        "client_id": uuid.uuid4().hex, "category": "tank_water", "unit_code": "C01-B01-U1",
        "answers": {"symptom": "smell"}, "channel": "kiosk"}).json()
    phone.goto(f"{live_url}/login")
    phone.fill("#username", "staff")
    phone.fill("#password", "staff-demo")
    phone.click("form[action='/login'] button[type=submit]")
    phone.wait_for_load_state()
    phone.goto(f"{live_url}/staff/site/tanks/tank-1")
    reports = phone.locator("#reports-h").locator("xpath=..")
    assert "水有异味" in reports.inner_text() and filed["number"] in reports.inner_text()
    shoot(phone, "tank-residents-reports")
