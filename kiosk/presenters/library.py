"""What the library's screens say: the answer to the last scan, the reader's status while
borrowing, the receipt, and the loans with their renew buttons. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.flow import Flow
from kiosk.i18n import format_date, tr
from kiosk.lending import OutcomeKind, Refusal, Visit
from kiosk.presenters.shared import page_of

__all__ = ["LoanLine", "LoansView", "OutcomeView", "borrow_status", "hello", "loans_view",
           "outcome_view", "receipt_lines", "returned_count", "visit_lines"]

# Each book on the receipt takes two lines (its title, then its due date); more than this and
# the last line says how many more (all of them are on the phone page behind the QR code).
RECEIPT_BOOKS = 3
VISIT_LINES = 2
LOANS_PER_PAGE = 3


@dataclass(frozen=True)
class OutcomeView:
    """The answer to the last scan: a mark, a headline, a detail and a tone (ok, warn, refused,
    plain), so colour is never the only cue."""

    mark: str = ""
    headline: str = ""
    detail: str = ""
    tone: str = "plain"


def outcome_view(lang: str, visit: Visit | None, waiting: str = "") -> OutcomeView:
    """``waiting`` is shown before the first scan, so the space is never a blank box."""
    if visit is None:
        return OutcomeView(headline=waiting)
    if visit.in_flight:
        return OutcomeView(headline=tr(lang, "lib_checking"))
    last = visit.last
    if last is None:
        return OutcomeView(headline=waiting)
    if last.refusal is not None:
        return OutcomeView("✘", tr(lang, "lib_refused"), last.refusal.text(lang), "refused")
    if last.loan is not None:
        key = "lib_borrowed_ok" if last.kind is OutcomeKind.BORROWED else "lib_renewed_ok"
        due = format_date(lang, last.loan.due_on)
        return OutcomeView("✔", tr(lang, key, title=last.loan.title, date=due),
                           tr(lang, "lib_due", date=due), "ok")
    check_in = last.check_in
    if check_in is None:
        return OutcomeView()
    if check_in.queued:
        return OutcomeView("✔", tr(lang, "lib_returned_ok", title=check_in.copy_id),
                           tr(lang, "lib_queued", copy=check_in.copy_id), "ok")
    headline = tr(lang, "lib_returned_ok", title=check_in.title or check_in.copy_id)
    if check_in.hand_to_staff:
        return OutcomeView("!", headline, tr(lang, "lib_hand_to_staff"), "warn")
    detail = tr(lang, "lib_put_away")
    if check_in.overdue_days > 0:
        late = tr(lang, "lib_late", days=check_in.overdue_days)
        detail = f"{late}. {detail}" if lang == "en" else f"{late}。{detail}"
    return OutcomeView("✔", headline, detail, "ok")


def hello(flow: Flow, lang: str) -> str:
    """The library menu's greeting of a reader it already knows."""
    reader = flow.visit.reader if flow.visit else None
    return (tr(lang, "lib_hello", name=reader.patron.address_as)
            if reader and reader.patron.address_as else "")


def borrow_status(flow: Flow, lang: str) -> tuple[str, bool]:
    """(the line above the scan answer, whether it says the reader cannot borrow now)."""
    visit = flow.visit
    reader = visit.reader if visit else None
    status = ""
    if flow.problem:
        status = tr(lang, flow.problem)
    elif reader is not None and reader.patron.blocked:
        status = Refusal.from_error("overdue_block").text(lang)
    elif reader is not None:
        status = tr(lang, "lib_can_borrow", name=reader.patron.address_as,
                    count=reader.patron.can_borrow)
    return status, bool(flow.problem) or bool(reader and reader.patron.blocked)


def visit_lines(visit: Visit | None, lang: str) -> str:
    """The books borrowed on this visit, the last few: one a line, so a title and its date are
    never split across lines."""
    borrowed = visit.borrowed if visit else []
    lines = [tr(lang, "lib_book_due", title=x.title, date=format_date(lang, x.due_on))
             for x in borrowed[-VISIT_LINES:]]
    return tr(lang, "lib_this_visit") + " " + "\n".join(lines) if lines else ""


def returned_count(visit: Visit | None, lang: str) -> str:
    count = len(visit.returned) if visit else 0
    return tr(lang, "lib_returned_count", count=count) if count else ""


def receipt_lines(visit: Visit | None, lang: str) -> str:
    borrowed = visit.borrowed if visit else []
    if not borrowed:
        return tr(lang, "lib_receipt_none")
    lines = [tr(lang, "lib_receipt_count", count=len(borrowed))]
    shown = borrowed[:RECEIPT_BOOKS]
    for loan in shown:
        lines += [loan.title, "    " + tr(lang, "lib_due", date=format_date(lang, loan.due_on))]
    if len(shown) < len(borrowed):
        lines.append(tr(lang, "lib_and_more", count=len(borrowed) - len(shown)))
    return "\n".join(lines)


@dataclass(frozen=True)
class LoanLine:
    """One row of the reader's loans: the renewals left are on the button itself, so one look
    says whether a tap can help."""

    title: str
    line: str
    copy_id: str
    late: bool
    renew_text: str
    can_renew: bool


@dataclass(frozen=True)
class LoansView:
    status: str
    result: str
    result_is_refusal: bool
    page: int
    pages: int
    rows: list[LoanLine]
    none_left: bool  # the reader has no loans: say so instead of an empty list


def loans_view(visit: Visit | None, lang: str, *, page: int, sp: float) -> LoansView:
    reader = visit.reader if visit else None
    loans = visit.loans if visit else ()
    status = (tr(lang, "lib_loans_count", name=reader.patron.address_as, count=len(loans))
              if reader else "")
    outcome = outcome_view(lang, visit)
    refused = outcome.tone == "refused"
    if not refused:
        result = f"{outcome.mark} {outcome.headline}".strip()
    elif visit and visit.last and visit.last.refusal:
        result = f"{outcome.mark} {visit.last.refusal.text(lang)}"
    else:
        result = ""
    page, pages = page_of(len(loans), LOANS_PER_PAGE, page)
    small = int(18 * sp)
    rows = []
    for loan in loans[page * LOANS_PER_PAGE:(page + 1) * LOANS_PER_PAGE]:
        line = tr(lang, "lib_loan_line", date=format_date(lang, loan.due_on))
        if loan.overdue_days > 0:
            line = tr(lang, "lib_loan_late", days=loan.overdue_days) + line
        if loan.renewals_left > 0:
            renew = (tr(lang, "lib_renew") + f"\n[size={small}]"
                     + tr(lang, "lib_renew_left", count=loan.renewals_left) + "[/size]")
        else:
            renew = f"[size={int(20 * sp)}]" + tr(lang, "lib_renew_none") + "[/size]"
        rows.append(LoanLine(loan.title, line, loan.copy_id, loan.overdue_days > 0, renew,
                             loan.renewals_left > 0))
    none_left = not loans and reader is not None and not (visit and visit.in_flight)
    return LoansView(status, result, refused, page, pages, rows, none_left)
