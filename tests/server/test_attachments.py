"""The attachment store seam (server/attachments.py): the real file store on disk and the fake
behave the same, a file is stored whole or not at all, and files stored together go together."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from server.attachments import (
    AttachmentStore,
    BadAttachmentKey,
    FileAttachmentStore,
    MemoryAttachmentStore,
    StoredTogether,
    UnknownAttachment,
    attachment_folder,
)
from server.settings import load_server_settings


@pytest.fixture(params=["file", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> AttachmentStore:
    if request.param == "file":
        return FileAttachmentStore(tmp_path / "attachments")
    return MemoryAttachmentStore()


def test_a_file_comes_back_by_its_key_with_its_media_type(store: AttachmentStore) -> None:
    photo = store.put(b"\xff\xd8 a jpeg", media_type="image/jpeg")
    report = store.put(b"%PDF-1.7 a lab report", media_type="application/pdf")
    assert photo != report and photo.endswith(".jpg") and report.endswith(".pdf")
    assert store.get(photo).data == b"\xff\xd8 a jpeg"
    assert store.get(photo).media_type == "image/jpeg"
    assert store.get(report).media_type == "application/pdf"
    assert sorted(store.keys()) == sorted([photo, report])


def test_a_deleted_file_is_gone_and_deleting_twice_is_fine(store: AttachmentStore) -> None:
    key = store.put(b"OggS voice", media_type="audio/ogg")
    store.delete(key)
    store.delete(key)
    with pytest.raises(UnknownAttachment):
        store.get(key)
    assert list(store.keys()) == []


@pytest.mark.parametrize("key", ["../../etc/passwd", "ab/../../x.jpg", "", "A" * 32 + ".jpg",
                                 "0" * 32 + ".exe", "0" * 32])
def test_a_key_the_store_did_not_make_is_refused(store: AttachmentStore, key: str) -> None:
    with pytest.raises(BadAttachmentKey):
        store.get(key)
    with pytest.raises(BadAttachmentKey):
        store.delete(key)


def test_the_file_store_leaves_no_half_written_file_when_the_write_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileAttachmentStore(tmp_path / "attachments")
    kept = store.put(b"first", media_type="image/jpeg")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        store.put(b"second" * 1000, media_type="image/jpeg")
    monkeypatch.undo()
    files = [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]
    assert files == [store.path_of(kept)]  # no temporary file, no partial photo
    assert list(store.keys()) == [kept]


def test_files_stored_together_are_all_removed_when_a_later_step_fails(
        store: AttachmentStore) -> None:
    earlier = store.put(b"someone else's", media_type="image/jpeg")
    with pytest.raises(RuntimeError), StoredTogether(store) as batch:
        batch.put(b"one", media_type="image/jpeg")
        batch.put(b"two", media_type="image/jpeg")
        raise RuntimeError("the database commit failed")
    assert list(store.keys()) == [earlier]
    with StoredTogether(store) as batch:
        kept = [batch.put(b"three", media_type="image/png")]
    assert sorted(store.keys()) == sorted([earlier, *kept])


def test_the_fake_fails_like_a_full_disk_when_asked() -> None:
    store = MemoryAttachmentStore()
    store.fail_after = 1
    with pytest.raises(OSError), StoredTogether(store) as batch:
        batch.put(b"one", media_type="image/jpeg")
        batch.put(b"two", media_type="image/jpeg")
    assert list(store.keys()) == []


def test_the_store_sits_in_the_data_folder_unless_the_settings_say_otherwise(
        tmp_path: Path) -> None:
    default = load_server_settings(env={"SERVICEPOINT_DATA_DIR": str(tmp_path / "data")})
    assert attachment_folder(default) == tmp_path / "data" / "attachments"
    moved = load_server_settings(env={"SERVICEPOINT_DATA_DIR": str(tmp_path / "data"),
                                      "SERVICEPOINT_ATTACHMENTS__DIR": str(tmp_path / "big")})
    assert attachment_folder(moved) == tmp_path / "big"
