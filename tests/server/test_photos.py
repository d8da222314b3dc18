"""Photos of a request (issue 15): what is stored is a clean, upright, shrunk JPEG with no EXIF
(no GPS); a file that is not a picture, a decompression bomb or an oversize file is refused with
nothing stored; a filing's photos are stored all or none; and a photo is served only to those who
may see its request."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import ExifTags, Image
from sqlalchemy import func, select

from server.attachments import FileAttachmentStore, MemoryAttachmentStore
from server.models import Ticket, utcnow
from server.photo_records import Photo, PhotoKind
from server.services.photos import (
    PhotoLimits,
    PhotoRefused,
    attach_photos,
    prepare_photo,
    prepare_photos,
)
from server.services.task_links import issue_task_link
from tests.web.conftest import (
    advance,
    cookie_sign_in,
    csrf_of,
    file_request,
    ticket_id_of,
)

GPS = {1: "N", 2: (28.0, 11.0, 30.5), 3: "E", 4: (112.0, 58.0, 12.25)}


def phone_photo(size: tuple[int, int] = (400, 200), *, orientation: int = 6) -> bytes:
    """A JPEG as a phone camera writes it: the camera's model, the GPS position, and the
    picture stored sideways with an orientation tag saying how to turn it."""
    picture = Image.new("RGB", size, (200, 30, 30))
    picture.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Model] = "PhoneModelX"
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def assert_clean(data: bytes) -> Image.Image:
    """A JPEG with no metadata: no EXIF block at all, so no GPS and no camera model."""
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "JPEG"
    assert dict(picture.getexif()) == {} and "exif" not in picture.info
    assert b"Exif" not in data and b"PhoneModelX" not in data
    return picture


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    target = tmp_path / "servicepoint.db"
    shutil.copy(sqlite_template, target)
    yield f"sqlite:///{target}"


# --- the cleaning -----------------------------------------------------------------------------

def test_a_phone_photo_is_stored_upright_shrunk_and_without_exif_or_gps() -> None:
    original = phone_photo((3000, 1500))
    assert b"PhoneModelX" in original  # the test's photo does carry them
    prepared = prepare_photo(original, limits=PhotoLimits(max_side_px=1600))
    full = assert_clean(prepared.jpeg)
    # Orientation 6: stored sideways, shown turned a quarter; the long side is now upright.
    assert full.size == (800, 1600) == (prepared.width, prepared.height)
    top_left = full.convert("RGB").getpixel((10, 10))
    assert top_left[2] > 150 and top_left[0] < 100  # the blue half is now on top
    thumb = assert_clean(prepared.thumb)
    assert max(thumb.size) <= 360


def test_a_transparent_png_is_kept_on_white() -> None:
    picture = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    out = io.BytesIO()
    picture.save(out, "PNG")
    prepared = prepare_photo(out.getvalue(), limits=PhotoLimits())
    assert Image.open(io.BytesIO(prepared.jpeg)).convert("RGB").getpixel((25, 25))[0] > 240


def _bomb() -> bytes:
    """A small PNG that unpacks to 100 megapixels."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("data, code", [
    (b"not a photo, a note\n" * 10, "not_image"),
    (b"", "not_image"),
    (b"%PDF-1.7\n" + b"0" * 500, "not_image"),
    (phone_photo()[:300], "not_image"),  # cut off after the header
    (_bomb(), "too_many_pixels"),
])
def test_files_that_are_not_safe_pictures_are_refused(data: bytes, code: str) -> None:
    assert len(data) < 1024 * 1024  # the bomb is small as a file
    with pytest.raises(PhotoRefused) as refused:
        prepare_photo(data, limits=PhotoLimits())
    assert refused.value.code == code and refused.value.status_code == 422


def test_a_file_over_the_size_limit_is_refused_before_it_is_decoded() -> None:
    with pytest.raises(PhotoRefused) as refused:
        prepare_photo(phone_photo(), limits=PhotoLimits(max_bytes=1000))
    assert refused.value.code == "too_large"


def test_one_bad_file_refuses_the_filing_and_four_photos_are_too_many() -> None:
    with pytest.raises(PhotoRefused) as refused:
        prepare_photos([phone_photo(), b"hello", phone_photo()], limits=PhotoLimits())
    assert refused.value.index == 1
    with pytest.raises(PhotoRefused) as too_many:
        prepare_photos([phone_photo()] * 4, limits=PhotoLimits())
    assert too_many.value.code == "too_many"


# --- storing, all or none ---------------------------------------------------------------------

def test_a_filing_whose_store_fails_midway_keeps_no_file_and_no_row(client: TestClient) -> None:
    filed = file_request(client)
    store = MemoryAttachmentStore()
    store.fail_after = 3  # the second photo's thumbnail meets a full disk
    photos = prepare_photos([phone_photo(), phone_photo()], limits=PhotoLimits())
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        ticket = db.scalar(select(Ticket).where(Ticket.number == filed["number"]))
        assert ticket is not None
        with pytest.raises(OSError):
            attach_photos(db, store, ticket=ticket, photos=photos, kind=PhotoKind.RESIDENT,
                          added_by="resident", now=utcnow())
        db.rollback()
        assert db.scalar(select(func.count()).select_from(Photo)) == 0
    assert store.files == {}


# --- who sees them ----------------------------------------------------------------------------

def _after_photo_by_link(client: TestClient) -> tuple[dict[str, object], int, str]:
    """A request whose volunteer marks it done through the task link with a photo."""
    filed = file_request(client, description="厨房水龙头一直滴水")
    ticket_id = ticket_id_of(client, str(filed["number"]))
    advance(client, ticket_id, "accepted")
    app = client.app
    with app.state.sessions() as db:  # type: ignore[attr-defined]
        ticket = db.get(Ticket, ticket_id)
        assert ticket is not None and ticket.assignee is not None
        link = issue_task_link(db, ticket=ticket, volunteer=ticket.assignee,
                               now=app.state.clock())  # type: ignore[attr-defined]
        db.commit()
    page = client.get(link)
    reply = client.post(f"{link}/resolve", data={"csrf_token": csrf_of(page.text),
                                                 "note": "换了阀芯"},
                        files={"photo": ("IMG_0001.jpg", phone_photo(), "image/jpeg")},
                        follow_redirects=False)
    assert reply.status_code == 303, reply.text
    return filed, ticket_id, link


def _stored_files(client: TestClient) -> list[str]:
    store = client.app.state.attachments  # type: ignore[attr-defined]
    assert isinstance(store, FileAttachmentStore)
    return list(store.keys())


def test_the_volunteers_after_photo_is_seen_by_the_resident_the_staff_and_the_volunteer(
        client: TestClient) -> None:
    filed, ticket_id, link = _after_photo_by_link(client)
    assert len(_stored_files(client)) == 2  # the picture and its thumbnail, on disk

    resident_page = client.get(f"/r/{filed['phone_token']}").text
    assert "志愿者办好后拍的照片" in resident_page
    urls = re.findall(r'src="(/r/[^"]+/photos/\d+\?size=thumb)"', resident_page)
    assert len(urls) == 1
    full_url = urls[0].split("?")[0]
    served = client.get(full_url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"].startswith("private")
    assert_clean(served.content)
    assert client.get(urls[0]).status_code == 200  # the thumbnail
    photo_id = int(full_url.rsplit("/", 1)[1])

    # The volunteer's own link shows it on the task page.
    assert client.get(f"{link}/photos/{photo_id}").status_code == 200

    # Staff see it on the ticket page and can open it.
    cookie_sign_in(client, "staff")
    ticket_page = client.get(f"/staff/tickets/{ticket_id}").text
    assert f'src="/photos/{photo_id}?size=thumb"' in ticket_page
    assert_clean(client.get(f"/photos/{photo_id}").content)
    # And so does the volunteer on it, signed in.
    client.cookies.clear()
    cookie_sign_in(client, "lijianguo")
    assert client.get(f"/photos/{photo_id}").status_code == 200
    assert client.get(f"/photos/{photo_id}?size=thumb").status_code == 200

    # Each full-size look by staff or a volunteer is in the audit log; thumbnails and the
    # resident's own looks are not.
    from server.audit_log import AuditEntry

    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        seen = db.scalars(select(AuditEntry).where(AuditEntry.action == "photo.view")
                          .order_by(AuditEntry.id)).all()
        assert [(e.subject_id, e.actor_label) for e in seen] == [
            (str(photo_id), "建国"), (str(photo_id), "社区工作人员"), (str(photo_id), "建国")]


def test_strangers_get_no_photo(client: TestClient) -> None:
    filed, ticket_id, link = _after_photo_by_link(client)
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        photo_id = db.scalars(select(Photo.id).where(Photo.ticket_id == ticket_id)).one()
    # Nobody signed in: the sign-in page, not the picture.
    anonymous = client.get(f"/photos/{photo_id}", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    # Another request's resident, with a real token of their own: not found.
    other = file_request(client, unit_code="C05-B01-U1", contact_phone="13900005678")
    assert client.get(f"/r/{other['phone_token']}/photos/{photo_id}").status_code == 404
    assert client.get(f"/r/{'x' * 43}/photos/{photo_id}").status_code == 404
    # A volunteer who is not on the job, and a squad leader of another grid: forbidden.
    cookie_sign_in(client, "chenguoqing")
    assert client.get(f"/photos/{photo_id}").status_code == 403
    client.cookies.clear()
    cookie_sign_in(client, "leader2")
    assert client.get(f"/photos/{photo_id}").status_code == 403
    # Another volunteer's task link opens its own task's photos only.
    other_id = ticket_id_of(client, str(other["number"]))
    advance(client, other_id, "accepted", volunteer="chenguoqing", given_name="国庆")
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        ticket = db.get(Ticket, other_id)
        assert ticket is not None and ticket.assignee is not None
        other_link = issue_task_link(db, ticket=ticket, volunteer=ticket.assignee,
                                     now=client.app.state.clock())  # type: ignore[attr-defined]
        db.commit()
    assert client.get(f"{other_link}/photos/{photo_id}").status_code == 404
    assert filed["number"]


@pytest.mark.parametrize("upload, words", [
    (("notes.txt", b"just some text", "text/plain"), "选的文件不是照片"),
    (("huge.png", _bomb(), "image/png"), "这张照片太大，打不开"),
])
def test_a_refused_after_photo_keeps_the_job_open_and_the_note_typed(
        client: TestClient, upload: tuple[str, bytes, str], words: str) -> None:
    filed = file_request(client)
    ticket_id = ticket_id_of(client, str(filed["number"]))
    advance(client, ticket_id, "accepted")
    cookie_sign_in(client, "lijianguo")
    page = client.get("/v")
    reply = client.post(f"/v/tasks/{ticket_id}/resolve",
                        data={"csrf_token": csrf_of(page.text), "note": "换了阀芯，试过不漏了"},
                        files={"photo": upload}, follow_redirects=False)
    assert reply.status_code == 422
    assert words in reply.text and "换了阀芯，试过不漏了" in reply.text
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        ticket = db.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "accepted"
        assert db.scalar(select(func.count()).select_from(Photo)) == 0
    assert list(getattr(client.app.state, "attachments", MemoryAttachmentStore()).keys()) == []


def test_done_without_a_photo_still_works_from_the_volunteers_page(client: TestClient) -> None:
    filed = file_request(client)
    ticket_id = ticket_id_of(client, str(filed["number"]))
    advance(client, ticket_id, "accepted")
    cookie_sign_in(client, "lijianguo")
    page = client.get("/v")
    assert 'enctype="multipart/form-data"' in page.text and 'accept="image/*"' in page.text
    reply = client.post(f"/v/tasks/{ticket_id}/resolve",
                        data={"csrf_token": csrf_of(page.text), "note": "好了"},
                        files={"photo": ("", b"", "application/octet-stream")},
                        follow_redirects=False)
    assert reply.status_code == 303, reply.text
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        assert db.scalar(select(func.count()).select_from(Photo)) == 0


def test_an_upload_form_takes_a_photo_larger_than_the_ordinary_body_limit(
        client: TestClient) -> None:
    noisy = Image.effect_noise((1400, 1400), 90).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "JPEG", quality=95)
    assert len(out.getvalue()) > 64 * 1024
    filed = file_request(client)
    ticket_id = ticket_id_of(client, str(filed["number"]))
    advance(client, ticket_id, "accepted")
    cookie_sign_in(client, "lijianguo")
    page = client.get("/v")
    reply = client.post(f"/v/tasks/{ticket_id}/resolve",
                        data={"csrf_token": csrf_of(page.text), "note": "好了"},
                        files={"photo": ("big.jpg", out.getvalue(), "image/jpeg")},
                        follow_redirects=False)
    assert reply.status_code == 303, reply.text
    # Elsewhere the ordinary limit still holds.
    assert client.post("/login", content=b"x" * (65 * 1024)).status_code == 413


# --- backups ----------------------------------------------------------------------------------

def test_backups_carry_the_photos_and_a_restore_puts_them_back(
        client: TestClient, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from server.attachments import attachment_folder
    from server.cli import db as db_command
    from server.settings import load_server_settings
    from tests.server.conftest import CONFIG

    for name, value in {"SERVICEPOINT_CONFIG": str(CONFIG / "servicepoint.toml"),
                        "SERVICEPOINT_DATABASE_URL": db_url,
                        "SERVICEPOINT_DATA_DIR": str(tmp_path / "data"),
                        "SERVICEPOINT_ENVIRONMENT": "test"}.items():
        monkeypatch.setenv(name, value)
    settings = load_server_settings()
    store = FileAttachmentStore(attachment_folder(settings))
    filed = file_request(client)
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        ticket = db.scalar(select(Ticket).where(Ticket.number == filed["number"]))
        assert ticket is not None
        attach_photos(db, store, ticket=ticket, photos=prepare_photos(
            [phone_photo()], limits=PhotoLimits()), kind=PhotoKind.RESIDENT,
            added_by="resident", now=utcnow())
    keys = list(store.keys())
    kept = {key: store.get(key).data for key in keys}
    assert len(kept) == 2

    backups = tmp_path / "backups"
    backups.mkdir()
    assert db_command(["backup", str(backups / "servicepoint-2026-12-03.db")]) == 0
    assert db_command(["backup", str(backups / "servicepoint-2026-12-04.db")]) == 0
    out = capsys.readouterr().out
    assert "2 new in" in out and "0 new in" in out  # the second night copies nothing again
    assert sorted(p.name for p in (backups / "attachments").rglob("*.jpg")) == sorted(kept)

    shutil.rmtree(attachment_folder(settings))  # the SD card died; a new one, and the backup
    assert db_command(["restore", "--force", str(backups / "servicepoint-2026-12-04.db")]) == 0
    keys = list(store.keys())
    assert {key: store.get(key).data for key in keys} == kept

    # A photo erased on purpose (retention, a resident's request) leaves the backups too.
    store.delete(keys[0])
    assert db_command(["backup", str(backups / "servicepoint-2026-12-05.db")]) == 0
    assert "1 erased since gone" in capsys.readouterr().out
    assert sorted(p.name for p in (backups / "attachments").rglob("*.jpg")) == keys[1:]


# --- the request forms (/new on a phone, /staff/new for 代办) ----------------------------------

def _form_photos(client: TestClient) -> list[Photo]:
    with client.app.state.sessions() as db:  # type: ignore[attr-defined]
        return list(db.scalars(select(Photo).order_by(Photo.id)))


def test_the_phone_form_files_with_photos_stored_clean_and_shown_to_the_resident(
        client: TestClient) -> None:
    from tests.web.test_new_request import _fields, _open

    page = client.get("/new?building=C01-B01&category=water_electric")
    assert 'type="file" id="photos" name="photos" accept="image/*" multiple' in page.text
    assert "照片（可不拍，最多 3 张）" in page.text
    english = client.get("/new?building=C01-B01&category=water_electric&lang=en").text
    assert "Photos (optional, up to 3)" in english
    reply = client.post("/new", data={**_open(client), **_fields()}, files=[
        ("photos", ("IMG_1.jpg", phone_photo(), "image/jpeg")),
        ("photos", ("IMG_2.jpg", phone_photo((300, 300), orientation=1), "image/jpeg"))],
        follow_redirects=False)
    assert reply.status_code == 303, reply.text
    photos = _form_photos(client)
    assert [(p.kind, p.added_by) for p in photos] == [("resident", "resident")] * 2
    status_page = client.get(reply.headers["location"]).text
    thumbs = re.findall(r'src="(/r/[^"]+/photos/\d+)\?size=thumb"', status_page)
    assert len(thumbs) == 2 and "报事时拍的照片" in status_page
    assert_clean(client.get(thumbs[0]).content)
    in_english = client.get(reply.headers["location"] + "&lang=en").text
    assert "Photos sent with the request:" in in_english


@pytest.mark.parametrize("files, words", [
    ([("photos", ("notes.txt", b"just text", "text/plain"))], "选的文件不是照片"),
    ([("photos", (f"IMG_{i}.jpg", phone_photo(), "image/jpeg")) for i in range(4)],
     "最多只能附 3 张照片"),
])
def test_a_refused_photo_files_nothing_and_keeps_what_was_typed(
        client: TestClient, files: list[tuple[str, tuple[str, bytes, str]]], words: str) -> None:
    from tests.web.test_new_request import _fields, _filed, _open

    before = _filed(client)
    reply = client.post("/new", data={**_open(client), **_fields(description="阳台水管裂了")},
                        files=files, follow_redirects=False)
    assert reply.status_code == 422
    assert 'id="photos-error"' in reply.text and words in reply.text
    assert 'aria-describedby="photos-error"' in reply.text
    assert "阳台水管裂了" in reply.text and "王女士" in reply.text
    assert _filed(client) == before and _form_photos(client) == []


def test_a_good_photo_with_another_field_wrong_is_asked_for_again(client: TestClient) -> None:
    from tests.web.test_new_request import _fields, _open

    reply = client.post("/new", data={**_open(client), **_fields(contact_phone="12")},
                        files=[("photos", ("IMG_1.jpg", phone_photo(), "image/jpeg"))],
                        follow_redirects=False)
    assert reply.status_code == 422
    assert "照片没有保存，请重新选择" in reply.text and _form_photos(client) == []


def test_staff_file_a_phoned_in_request_with_the_residents_photo(client: TestClient) -> None:
    from tests.web.test_new_request import _fields

    cookie_sign_in(client, "staff")
    page = client.get("/staff/new?building=C01-B01&category=water_electric")
    assert page.status_code == 200 and 'name="photos"' in page.text
    form_id = re.search(r'name="form_id" value="([A-Za-z0-9_-]+)"', page.text)
    assert form_id
    reply = client.post("/staff/new", data={
        "csrf_token": csrf_of(page.text), "form_id": form_id.group(1),
        "category": "water_electric", "building": "C01-B01", **_fields()},
        files=[("photos", ("wechat.jpg", phone_photo(), "image/jpeg"))], follow_redirects=False)
    assert reply.status_code == 303, reply.text
    assert [(p.kind, p.added_by) for p in _form_photos(client)] == [("resident", "staff")]
