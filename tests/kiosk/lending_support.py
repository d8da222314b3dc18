"""What the library's flow tests share: a reader, their loans, and a flow at a given point."""

from __future__ import annotations

from datetime import date

from kiosk.catalog import parse_categories, parse_places
from kiosk.flow import Flow
from kiosk.lending import Loan, Patron, Reader
from kiosk.tooling.demo import CATEGORIES, PLACES

CARD = "P1234567897"


def new_flow(clock):
    ids = iter(f"id-{n:04d}" for n in range(1, 1000))
    flow = Flow(idle_seconds=90, warning_seconds=30, staff_pin="2468", now=clock,
                new_id=lambda: next(ids))
    flow.set_catalog(categories=parse_categories(CATEGORIES), compounds=parse_places(PLACES))
    return flow


def loan(copy_id="LB-0001", title="老年常见病防治手册（大字版）", due=date(2026, 12, 25),
         renewals_left=2, overdue_days=0):
    return Loan(copy_id=copy_id, title=title, due_on=due, renewals_left=renewals_left,
                overdue_days=overdue_days)


def reader(*loans, session="session-wang", card=CARD, name="王阿姨"):
    return Reader(session=session,
                  patron=Patron(card_id=card, address_as=name, loans=len(loans), max_items=5,
                                can_borrow=5 - len(loans), blocked=False),
                  loans=tuple(loans), phone_url="http://sp.test/api/v1/library/phone/t/page")


def identified(flow, purpose="borrow", who=None):
    """Open the library, choose ``purpose`` and scan the card; the server knows the reader."""
    flow.open_library()
    assert flow.library_choose(purpose) is None
    call = flow.scan(CARD)
    flow.library_answered(call, who or reader())
    return call
