"""The library's back office in the browser (issue 16): add a book by ISBN with its title,
author and publisher typed, add copies, withdraw one (the kiosk no longer lends it), print its
labels and a reader's card, enrol and block a reader (the kiosk refuses the card). Mistakes are
answered beside the field; a stale change is refused; each change is in the audit log; only an
admin with the page's token changes anything."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.audit_log import AuditEntry
from server.library.models import Book, Copy
from tests.web.conftest import cookie_sign_in, csrf_of

VERSION = re.compile(r'name="version" value="([0-9a-f]+)"')
ISBN = "9787020002207"  # 红楼梦, 人民文学出版社


def _add_book(client: TestClient, **fields: str) -> object:
    page = client.get("/admin/library")
    data = {"csrf_token": csrf_of(page.text), "isbn": "978-7-02-000220-7", "title": "红楼梦",
            "author": "曹雪芹", "publisher": "人民文学出版社", "category": "文学",
            "shelf": "B-2", "copies": "2", **fields}
    return client.post("/admin/library/books", data=data, follow_redirects=False)


def test_a_book_added_by_isbn_gets_copies_labels_and_is_withdrawn_copy_by_copy(
        client: TestClient, settings) -> None:  # type: ignore[no-untyped-def]
    cookie_sign_in(client, "admin")
    added = _add_book(client)
    assert added.status_code == 303, added.text
    page = client.get(added.headers["location"])
    assert "红楼梦" in page.text and "人民文学出版社" in page.text and ISBN in page.text
    with client.app.state.sessions() as db:
        book = db.scalar(select(Book).where(Book.isbn == ISBN))
        assert book is not None and book.publisher == "人民文学出版社"
        labels = [c.label for c in book.copies]
        assert len(labels) == 2 and all(c.shelf == "B-2" for c in book.copies)
    printed = client.get(f"/admin/library/labels?book={book.id}")
    assert printed.status_code == 200 and printed.text.count('src="data:image/png;base64,') == 1
    # Withdraw the first copy: the kiosk can no longer lend it.
    version = re.search(rf'copies/{labels[0]}/withdraw".*?name="version" value="([0-9a-f]+)"',
                        page.text, re.S).group(1)  # type: ignore[union-attr]
    withdrawn = client.post(f"/admin/library/copies/{labels[0]}/withdraw", data={
        "csrf_token": csrf_of(page.text), "version": version}, follow_redirects=False)
    assert withdrawn.status_code == 303
    with client.app.state.sessions() as db:
        copy = db.scalar(select(Copy).where(Copy.label == labels[0]))
        assert copy is not None and copy.status == "withdrawn"
        actions = [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))
                   if e.subject_kind in ("book", "copy")]
        assert actions == ["book.add", "copy.withdraw"]
    # The same form again is stale: refused, nothing changes twice.
    again = client.post(f"/admin/library/copies/{labels[0]}/withdraw", data={
        "csrf_token": csrf_of(page.text), "version": version})
    assert again.status_code == 409 and "别人已经改过这一册" in again.text
    more = client.post(f"/admin/library/books/{book.id}/copies", data={
        "csrf_token": csrf_of(page.text), "copies": "1", "shelf": "B-3"}, follow_redirects=False)
    assert more.status_code == 303
    assert "LB-" in client.get(f"/admin/library/books/{book.id}").text


def test_mistakes_are_answered_beside_each_field_keeping_what_was_typed(
        client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    reply = client.post("/admin/library/books?lang=en", data={
        "csrf_token": csrf_of(client.get("/admin/library").text), "isbn": "978-7-02-000220-8",
        "title": "", "author": "曹雪芹", "copies": "many"})
    assert reply.status_code == 422
    assert 'value="978-7-02-000220-8"' in reply.text and 'value="曹雪芹"' in reply.text
    assert "The ISBN is wrong" in reply.text
    assert "Please fill this in" in reply.text
    assert "from 0 to 50" in reply.text
    assert _add_book(client).status_code == 303
    twice = _add_book(client)
    assert twice.status_code == 422 and "这个 ISBN 的书已经有了" in twice.text  # type: ignore[attr-defined]


def test_a_reader_enrolled_here_gets_a_card_and_a_blocked_one_cannot_borrow(
        client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    page = client.get("/admin/library")
    wrong = client.post("/admin/library/readers", data={
        "csrf_token": csrf_of(page.text), "address_as": "李奶奶", "phone": "12345"})
    assert wrong.status_code == 422 and 'value="12345"' in wrong.text
    assert "请填写 11 位手机号码" in wrong.text
    enrolled = client.post("/admin/library/readers", data={
        "csrf_token": csrf_of(page.text), "address_as": "李奶奶", "phone": "13912345678"},
        follow_redirects=False)
    assert enrolled.status_code == 303
    listing = client.get(enrolled.headers["location"])
    assert "李奶奶" in listing.text and "13912345678" not in listing.text  # no phone listed
    card_id = re.search(r"(P\d{10})", listing.text).group(1)  # type: ignore[union-attr]
    reader = re.search(r"/admin/library/readers/(\d+)/block", listing.text).group(1)  # type: ignore[union-attr]
    card = client.get(f"/admin/library/cards?reader={reader}")
    assert card.status_code == 200 and 'src="data:image/png;base64,' in card.text
    kiosk = {"X-Kiosk-Key": client.app.state.settings.security.kiosk_key}
    assert client.post("/api/v1/library/sessions", json={"card_id": card_id},
                       headers=kiosk).status_code == 201
    version = VERSION.search(listing.text).group(1)  # type: ignore[union-attr]
    blocked = client.post(f"/admin/library/readers/{reader}/block", data={
        "csrf_token": csrf_of(listing.text), "version": version}, follow_redirects=False)
    assert blocked.status_code == 303
    refused = client.post("/api/v1/library/sessions", json={"card_id": card_id}, headers=kiosk)
    assert refused.status_code in (403, 409, 422), refused.text
    assert "已停借" in client.get(blocked.headers["location"]).text
    with client.app.state.sessions() as db:
        actions = [e.action for e in db.scalars(select(AuditEntry).where(
            AuditEntry.subject_kind == "reader").order_by(AuditEntry.id))]
        assert actions == ["reader.enrol", "reader.block"]


def test_only_an_admin_with_the_pages_token_changes_the_library(client: TestClient) -> None:
    cookie_sign_in(client, "admin")
    token = csrf_of(client.get("/admin/library").text)
    assert client.post("/admin/library/books", data={"title": "无令牌"}).status_code == 403
    for who in ("staff", "leader1", "lijianguo"):
        cookie_sign_in(client, who)
        assert client.get("/admin/library").status_code == 403
        assert client.post("/admin/library/books", data={"csrf_token": token,
                                                         "title": "越权"}).status_code == 403
    with client.app.state.sessions() as db:
        assert db.scalar(select(Book).where(Book.title.in_(["无令牌", "越权"]))) is None
