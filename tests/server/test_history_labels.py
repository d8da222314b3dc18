"""A ticket's history shows words, not keys: every history action, in both languages, on the
staff's ticket page (a sensor ticket's ``raise`` once showed as "raise")."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.lifecycle import Action, HistoryAction
from server.models import Ticket, TicketEvent
from server.web.common import ACTION_WORDS
from server.web.words import words_for
from tests.server.conftest import file_request
from tests.web.conftest import web_sign_in

HISTORY = re.compile(r'<section class="card t-history".*?</section>', re.S)
LABEL = re.compile(r"<strong>(.*?)</strong>", re.S)


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    # The page is the same on both databases; SQLite keeps this fast.
    target = tmp_path / "servicepoint.db"
    shutil.copy(sqlite_template, target)
    yield f"sqlite:///{target}"


def test_every_lifecycle_action_is_a_history_action() -> None:
    assert {a.value for a in Action} <= {h.value for h in HistoryAction}
    assert all(HistoryAction.of(a) == a.value for a in Action)


def test_every_history_action_has_a_label_in_both_languages() -> None:
    missing = [h.value for h in HistoryAction if h.value not in ACTION_WORDS]
    assert missing == [], missing
    english = words_for("en")  # the catalog's: an untranslated label would stay Chinese
    untranslated = [h.value for h in HistoryAction
                    if english.pgettext(*ACTION_WORDS[h.value]) == ACTION_WORDS[h.value][1]]
    assert untranslated == [], untranslated


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_ticket_page_shows_every_history_action_as_words(client: TestClient, app, lang: str
                                                             ) -> None:  # type: ignore[no-untyped-def]
    file_request(client)
    with app.state.sessions() as db:
        ticket = db.query(Ticket).order_by(Ticket.id.desc()).first()
        assert ticket is not None
        start = ticket.created_at
        # One row of each kind, as the services write them (the sensor's "raise" and
        # "condition_cleared" among them).
        for n, action in enumerate(HistoryAction):
            db.add(TicketEvent(ticket=ticket, at=start + timedelta(minutes=n + 1),
                               action=action.value, from_status=ticket.status,
                               to_status=ticket.status, actor_kind="system", actor_label="系统",
                               note=""))
        db.commit()
        ticket_id = ticket.id
    web_sign_in(client, "staff")
    page = client.get(f"/staff/tickets/{ticket_id}?lang={lang}")
    assert page.status_code == 200, page.text
    history = HISTORY.search(page.text)
    assert history, "the page has no history"
    shown = [html.unescape(label).strip() for label in LABEL.findall(history.group(0))]
    words = words_for(lang)
    assert set(shown) == {words.pgettext(*ACTION_WORDS[h.value]) for h in HistoryAction}
    assert not set(shown) & {h.value for h in HistoryAction}  # no raw key anywhere
