"""What every journey's screens share: why a tap did nothing, the step counter, paging, and the
keypad (a phone number, the staff PIN, the library PIN, a book's number). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.flow import Flow, Step
from kiosk.i18n import format_phone, tr
from kiosk.lending import COPY_PREFIX, typed_copy_id

__all__ = ["KEYPAD", "KeypadView", "keypad_label", "keypad_view", "page_of", "problem_text",
           "progress_text"]

KEYPAD = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "delete", "0", "clear"]


def problem_text(flow: Flow, lang: str) -> str:
    """Why the last tap did nothing, in words ("" when it did something)."""
    return tr(lang, flow.problem) if flow.problem else ""


def progress_text(flow: Flow, lang: str) -> str:
    """"Step 2 of 5" while filing a request, else ""."""
    progress = flow.progress()
    return tr(lang, "step_of", at=progress[0], total=progress[1]) if progress else ""


def page_of(count: int, per_page: int, wanted: int) -> tuple[int, int]:
    """(the page to show, how many pages) for ``count`` items; the last page if ``wanted`` is
    past it, and always at least one page."""
    pages = max(1, -(-count // per_page))
    return min(wanted, pages - 1), pages


def keypad_label(lang: str, key: str) -> str:
    return key if key.isdigit() else tr(lang, f"keypad_{key}")


@dataclass(frozen=True)
class KeypadView:
    title: str
    display: str
    hint: str
    hint_is_problem: bool


def keypad_view(flow: Flow, lang: str, *, contact_days: int = 180) -> KeypadView:
    """What the keypad screen of the current step shows above and beside the keys. Where a
    request's phone is asked, the hint also says who sees it and when it is erased
    (``contact_days``, the server's [retention])."""
    step, visit = flow.step, flow.visit
    problem = problem_text(flow, lang)
    if step is Step.PHONE:
        digits = flow.draft.phone if flow.draft else ""
        kept = tr(lang, "privacy_phone", days=contact_days)
        return KeypadView(tr(lang, "phone_title"), format_phone(digits),
                          problem or tr(lang, "phone_hint") + "\n" + kept, bool(problem))
    if step is Step.DOOR:
        room = flow.draft.room if flow.draft else ""
        return KeypadView(tr(lang, "door_title"), room, tr(lang, "door_hint"), False)
    if step is Step.LIB_PHONE and visit is not None:
        return KeypadView(tr(lang, "phone_title"), format_phone(visit.phone),
                          problem or tr(lang, "phone_hint"), bool(problem))
    if step is Step.LIB_PIN and visit is not None:
        if not problem and visit.last is not None and visit.last.refusal is not None:
            problem = visit.last.refusal.text(lang)
        if not problem and visit.in_flight:
            return KeypadView(tr(lang, "lib_pin_title"), "●" * len(visit.pin),
                              tr(lang, "lib_checking"), False)
        return KeypadView(tr(lang, "lib_pin_title"), "●" * len(visit.pin),
                          problem or tr(lang, "lib_pin_hint"), bool(problem))
    if step is Step.LIB_COPY and visit is not None:
        # As on the label (LB-0012), which is what is looked up, not the bare digits.
        shown = typed_copy_id(visit.copy_digits) if visit.copy_digits else ""
        return KeypadView(tr(lang, "lib_copy_title"), shown,
                          problem or tr(lang, "lib_copy_hint", prefix=COPY_PREFIX), bool(problem))
    return KeypadView(tr(lang, "pin_title"), "●" * len(flow.pin), problem, bool(problem))
