"""Request notices: the ticket history turned into messages to the people who must act.

A resident's request moves by history rows (``server.ticketing.record``), whatever moved it: the
kiosk's filing, Open311, a leader's dispatch, a volunteer's tap on a task link. The
:class:`NoticeDesk` reads those rows after the history cursor and writes one notice per row into
the alert book (:meth:`server.alerts.outbox.AlertBook.notice`), so every path is covered and no
route needs to know about notices:

=========  ============================================  ==========================================
history    notice                                        who hears it
=========  ============================================  ==========================================
file       number, category, place, age, ticket link     the squad (no squad yet: the duty staff)
           filed by staff (代办): the status link         and the resident by SMS, where configured
dispatch   the same, the leader's note, one-tap link     the volunteer (none: their squad, no link)
decline    the reason, a link to dispatch again          the squad leader (else the squad, …)
overdue    not accepted within the category's target     the squad leader; later the duty staff,
                                                         then up ``alerts.toml``'s ladder
resolve    please confirm and rate, the phone link       the resident by SMS, where configured
=========  ============================================  ==========================================

Each notice goes through the alert book of the request's own site (``book_for_site``): a district
centre's desk holds the home site's book, and site B's request is told with site B's id and name
in its words, its key and its alert row, to site B's squad and, up the overdue ladder, to site
B's duty staff in ``alerts.toml``. The home site's notices use the desk's own book unchanged.

The notice row names its history row (unique), so two server replicas reading the same history
make it once. Delivery, retries and quiet hours are the alert book's. The :class:`NoticeCourier`
is the server's loop that does all this every second: flag late requests, read the history,
climb the overdue ladder, deliver what is due.

    courier = NoticeCourier.from_settings(settings, sessions=sessions, notifier=notifier,
                                          clock=clock, metrics=metrics)
    courier.start(); ...; courier.stop()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from server.alerts import (
    NoticeKind,
    Notifier,
    Recipient,
    RequestFacts,
    compose_notice,
    due_levels,
    notice_key,
    release_at,
)
from server.alerts.outbox import AlertBook, Counters
from server.alerts.policy import SiteInfo
from server.alerts.rows import AlertRow, NoticeCursor
from server.appointments.reminders import remind_appointments
from server.lifecycle import HistoryAction, Status
from server.models import Ticket, TicketEvent, Volunteer
from server.services.requests import place_label
from server.services.sites import book_for_site
from server.services.task_links import issue_task_link
from server.services.tickets import flag_overdue
from server.settings import ServerSettings

__all__ = ["NoticeCourier", "NoticeDesk"]

log = logging.getLogger(__name__)

_TOLD = (HistoryAction.FILE, HistoryAction.DISPATCH, HistoryAction.DECLINE,
         HistoryAction.OVERDUE, HistoryAction.RESOLVE)
_WAITING = (Status.NEW.value, Status.DISPATCHED.value)


class NoticeDesk:
    """Turns the request history into notices, each in the alert book of its request's site
    (``book`` is the home site's)."""

    def __init__(self, *, book: AlertBook, public_url: str) -> None:
        self.book = book
        self.public_url = public_url.rstrip("/")
        # Other sites' books, by their id and names (a renamed site gets a fresh book).
        self._books: dict[SiteInfo, AlertBook] = {}

    def book_of(self, db: Session, ticket: Ticket) -> AlertBook:
        """The alert book of the ticket's site: the home site's (and a ticket without a site)
        is ``self.book`` itself."""
        site_id = ticket.site_id
        if site_id is None or site_id == self.book.site.id:
            return self.book
        fresh = book_for_site(db, self.book, site_id)
        return self._books.setdefault(fresh.site, fresh)

    # --- the history ----------------------------------------------------------------------

    def read_history(self, db: Session, *, now: datetime, limit: int = 200) -> int:
        """Make the notices of the history rows after the cursor; commits. Returns how many."""
        cursor = db.get(NoticeCursor, 1)
        if cursor is None:
            cursor = NoticeCursor(id=1, event_id=0)
            db.add(cursor)
        events = db.scalars(
            select(TicketEvent).join(Ticket)
            .where(TicketEvent.id > cursor.event_id, Ticket.kind == "request",
                   TicketEvent.action.in_([a.value for a in _TOLD]))
            .order_by(TicketEvent.id).limit(limit)).all()
        made = 0
        for event in events:
            try:
                with db.begin_nested():
                    made += self._tell(db, event, now=now)
            except IntegrityError:  # another replica told of this row first
                log.info("history row %s was already told", event.id)
            cursor.event_id = event.id
        db.commit()
        return made

    def _facts(self, ticket: Ticket, *, volunteer: str = "", note: str = "") -> RequestFacts:
        category = ticket.category
        return RequestFacts(ticket_id=ticket.id, number=ticket.number,
                            category_zh=category.name_zh, category_en=category.name_en,
                            place=place_label(ticket), filed_at=ticket.created_at,
                            urgent=ticket.priority == "urgent",
                            target_hours=category.target_hours, volunteer=volunteer, note=note)

    def _notice(self, db: Session, *, ticket: Ticket, kind: NoticeKind, facts: RequestFacts,
                link: str, recipients: tuple[Recipient, ...], now: datetime,
                event_id: int | None = None, level: int = 0) -> int:
        book = self.book_of(db, ticket)
        message = compose_notice(
            kind=kind, facts=facts, site=book.site, at=now, link=link, level=level,
            timezone=book.timezone,
            key=notice_key(book.site.id, ticket_id=ticket.id, kind=kind, level=level,
                           event_id=event_id))
        if not recipients:
            log.warning("ticket %s (%s): nobody can be told of %s: no channel, and no duty "
                        "staff channel in alerts.toml", ticket.id, ticket.number, kind.value)
        book.notice(db, ticket=ticket, message=message, recipients=recipients, now=now,
                    event_id=event_id)
        return 1

    def _staff_link(self, ticket: Ticket) -> str:
        return f"{self.public_url}/staff/tickets/{ticket.id}"

    def _tell(self, db: Session, event: TicketEvent, *, now: datetime) -> int:
        ticket = event.ticket
        urgent = ticket.priority == "urgent"
        volunteer = db.get(Volunteer, event.volunteer_id) if event.volunteer_id else None
        name = volunteer.given_name if volunteer is not None else ""
        contacts = self.book_of(db, ticket).contacts
        if event.action == HistoryAction.FILE:
            reach = contacts.for_squad(db, squad_id=ticket.squad_id, urgent=urgent)
            made = self._notice(db, ticket=ticket, kind=NoticeKind.NEW_REQUEST,
                                facts=self._facts(ticket), link=self._staff_link(ticket),
                                recipients=reach.recipients, now=now, event_id=event.id)
            # Filed by staff for a caller (代办): the resident has no QR code, so the status
            # link goes by message. Keyed by ticket (the history row names the squad's notice).
            request = ticket.request
            resident = (contacts.for_resident(request)
                        if request is not None and event.actor_kind == "user" else None)
            if request is not None and resident is not None:
                made += self._notice(db, ticket=ticket, kind=NoticeKind.RECEIVED,
                                     facts=self._facts(ticket),
                                     link=f"{self.public_url}/r/{request.phone_token}",
                                     recipients=(resident,), now=now)
            return made
        if event.action == HistoryAction.DISPATCH:
            if volunteer is None:
                return 0
            reach = contacts.for_volunteer(db, volunteer, urgent=urgent)
            # The one-tap link signs its holder in as this volunteer: it goes only to the
            # volunteer's own channel, never into a squad's group chat, where the volunteer's
            # own page (with their password) is linked instead.
            link = (f"{self.public_url}/v" if reach.fallback else
                    self.public_url + issue_task_link(db, ticket=ticket, volunteer=volunteer,
                                                      now=now))
            # The history's default note ("派给 建国") tells the volunteer nothing new.
            note = "" if event.note == f"派给 {name}" else event.note
            return self._notice(db, ticket=ticket, kind=NoticeKind.DISPATCHED,
                                facts=self._facts(ticket, volunteer=name, note=note),
                                link=link, recipients=reach.recipients, now=now,
                                event_id=event.id)
        if event.action == HistoryAction.DECLINE:
            reach = contacts.for_leaders(db, squad_id=ticket.squad_id, urgent=urgent)
            return self._notice(db, ticket=ticket, kind=NoticeKind.DECLINED,
                                facts=self._facts(ticket, volunteer=name, note=event.note),
                                link=self._staff_link(ticket), recipients=reach.recipients,
                                now=now, event_id=event.id)
        if event.action == HistoryAction.OVERDUE:
            if ticket.status not in _WAITING:
                return 0
            reach = contacts.for_leaders(db, squad_id=ticket.squad_id, urgent=urgent)
            return self._notice(db, ticket=ticket, kind=NoticeKind.OVERDUE,
                                facts=self._facts(ticket), link=self._staff_link(ticket),
                                recipients=reach.recipients, now=now, event_id=event.id)
        # RESOLVE: the resident is asked to confirm on their phone page; by SMS where configured.
        request = ticket.request
        resident = contacts.for_resident(request) if request is not None else None
        if request is None or resident is None:
            return 0
        return self._notice(db, ticket=ticket, kind=NoticeKind.RESOLVED,
                            facts=self._facts(ticket, volunteer=name),
                            link=f"{self.public_url}/r/{request.phone_token}",
                            recipients=(resident,), now=now, event_id=event.id)

    # --- the overdue ladder ----------------------------------------------------------------

    def climb_overdue(self, db: Session, *, now: datetime) -> int:
        """Requests still not accepted ``staff_after`` past the leader's overdue notice go to
        the duty staff, then up the escalation ladder, until someone accepts, the request
        leaves the queue, or staff acknowledge it; commits. Returns the notices made. Every
        site's requests climb, each to its own site's duty staff and in its quiet hours."""
        config = self.book.config
        made = 0
        late = db.scalars(select(Ticket).where(
            Ticket.kind == "request", Ticket.status.in_(_WAITING),
            Ticket.overdue_flagged_at.is_not(None)).order_by(Ticket.id)).all()
        for ticket in late:
            book = self.book_of(db, ticket)
            told = db.scalars(select(AlertRow).where(
                AlertRow.ticket_id == ticket.id,
                AlertRow.kind == NoticeKind.OVERDUE.value)).all()
            if any(row.acknowledged_at is not None for row in told):
                continue
            first = min((row.created_at for row in told if row.level == 0),
                        default=ticket.overdue_flagged_at)
            urgent = ticket.priority == "urgent"
            assert first is not None
            started = release_at(first + config.staff_after, urgent=urgent,
                                 quiet=book.quiet_hours(db))
            done = {row.level for row in told}
            for rung in due_levels(started_at=started, acknowledged=False, now=now,
                                   ladder=config.ladder(urgent)):
                if rung + 1 in done:
                    continue
                made += self._notice(db, ticket=ticket, kind=NoticeKind.OVERDUE,
                                     facts=self._facts(ticket), link=self._staff_link(ticket),
                                     recipients=book.contacts.duty(urgent=urgent,
                                                                   level=rung),
                                     now=now, level=rung + 1)
        db.commit()
        return made


# How often the courier looks for new history when idle: a new request reaches its squad
# within about this much plus the send (issue 21's target: 1 s at p99). An idle round is four
# small indexed reads, about 2 ms of CPU on a 2-core x86 (so under 1 % of a core at 4 a second).
COURIER_INTERVAL_S = 0.25


class NoticeCourier:
    """The server's notice loop, a thread: every ``interval_s`` it flags late requests, reads
    the history into notices, climbs the overdue ladder and delivers what is due (sensor alerts
    too: the claim in the outbox keeps a delivery single when the ingest's loop also runs)."""

    def __init__(self, *, desk: NoticeDesk, sessions: sessionmaker[Session], notifier: Notifier,
                 clock: Callable[[], datetime], interval_s: float = COURIER_INTERVAL_S) -> None:
        self.desk = desk
        self.sessions = sessions
        self.notifier = notifier
        self.clock = clock
        self.interval_s = interval_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: ServerSettings, *, sessions: sessionmaker[Session],
                      notifier: Notifier, clock: Callable[[], datetime], metrics: Counters,
                      interval_s: float = COURIER_INTERVAL_S) -> NoticeCourier:
        book = AlertBook.from_settings(settings, metrics=metrics)
        desk = NoticeDesk(book=book, public_url=settings.http.public_url)
        return cls(desk=desk, sessions=sessions, notifier=notifier, clock=clock,
                   interval_s=interval_s)

    def start(self) -> None:
        with self.sessions() as db:
            for line in self.desk.book.contacts.unreachable(db):
                log.warning("not reachable: %s", line)
        self._thread = threading.Thread(target=self._run, name="notice-courier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def run_once(self) -> int:
        """One round; how many history rows it read and notices it sent."""
        now = self.clock()
        with self.sessions() as db:
            flag_overdue(db, now=now)
        with self.sessions() as db:
            read = self.desk.read_history(db, now=now)
        with self.sessions() as db:
            self.desk.climb_overdue(db, now=now)
        with self.sessions() as db:  # visits by appointment: reminders, cancelled slots
            read += remind_appointments(db, book=self.desk.book,
                                        public_url=self.desk.public_url, now=now)
        return read + self.desk.book.deliver_due(self.sessions, self.notifier, now=now)

    def _run(self) -> None:
        busy = False
        # While a round finds work, the next starts at once: a burst of filings is worked off
        # without waiting out the interval between each batch (bench/notify_latency.py).
        while not self._stopping.wait(0 if busy else self.interval_s):
            try:
                busy = self.run_once() > 0
            except Exception:  # one bad round must never end the loop
                busy = False
                log.exception("notice round failed; will try again")

