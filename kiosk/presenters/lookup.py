"""What the 查进度 screens say (kiosk/flow/lookup.py): the two keypads and the answer. Pure.

    view = lookup_keypad_view(flow, "zh_CN")     # title, the number as typed, the hint
    shown = lookup_result_view(flow, "zh_CN", phone="0731-8888 0000")
    shown.spoken                                 # what the kiosk says aloud once the answer is in
    shown.appointment                            # "预约时间 12月9日 周三 9:00", shown big; or ""

A booked time is shown in the site's time zone (``flow.site_zone``), as on the done screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kiosk.flow import Flow, Step
from kiosk.flow.lookup import LookupOutcome
from kiosk.i18n import format_date, tr
from kiosk.presenters.appointment import appointment_text
from kiosk.presenters.shared import KeypadView, problem_text
from kiosk.presenters.speech import spoken_number

__all__ = ["LookupResultView", "lookup_keypad_view", "lookup_result_view"]


def lookup_keypad_view(flow: Flow, lang: str) -> KeypadView:
    """The number (shown with this kiosk's letters in front) or the phone's last four digits."""
    problem = problem_text(flow, lang)
    if flow.step is Step.LOOKUP_PHONE:
        return KeypadView(tr(lang, "lookup_phone_title"), flow.lookup_last4,
                          problem or tr(lang, "lookup_phone_hint"), bool(problem))
    return KeypadView(tr(lang, "lookup_number_title"), flow.lookup_shown_number,
                      problem or tr(lang, "lookup_number_hint",
                                    prefix=f"{flow.lookup_prefix}-"), bool(problem))


@dataclass(frozen=True)
class LookupResultView:
    """The answer screen: a heading, the lines under it, whether it is a problem (red), whether
    to offer "type again", the words to speak, and the booked time of a service by
    appointment (shown in big type under the status; "" for any other request)."""

    title: str
    lines: tuple[str, ...]
    is_problem: bool
    can_retry: bool
    spoken: str
    appointment: str = ""


def _filed_on(lang: str, iso: str) -> str:
    try:
        return format_date(lang, date.fromisoformat(iso))
    except ValueError:
        return iso


def lookup_result_view(flow: Flow, lang: str, *, phone: str) -> LookupResultView:
    outcome, result = flow.lookup_outcome, flow.lookup_result
    if outcome is LookupOutcome.FOUND and result is not None:
        status = result.status_label(lang)
        volunteer = (tr(lang, "lookup_volunteer", name=result.volunteer) if result.volunteer
                     else tr(lang, "lookup_no_volunteer"))
        lines = [tr(lang, "lookup_status", status=status),
                 tr(lang, "lookup_service", name=result.category(lang)), volunteer]
        if result.filed_on:
            lines.append(tr(lang, "lookup_filed", date=_filed_on(lang, result.filed_on)))
        # The number read sign by sign, as on the done screen, so it can be checked by ear.
        spoken = tr(lang, "say_lookup_found", number=spoken_number(lang, result.number),
                    status=status, volunteer=volunteer)
        appointment = ""
        if result.appointment_at is not None:
            when = appointment_text(lang, result.appointment_at, flow.site_zone)
            appointment = tr(lang, "lookup_appointment", when=when)
            spoken += tr(lang, "say_done_appointment", when=when)
        return LookupResultView(tr(lang, "lookup_found_title", number=result.number),
                                tuple(lines), False, False, spoken, appointment)
    if outcome is LookupOutcome.NOT_FOUND:
        return LookupResultView(tr(lang, "lookup_not_found_title"),
                                (tr(lang, "lookup_not_found"),), True, True,
                                tr(lang, "say_lookup_not_found"))
    if outcome is LookupOutcome.UNREACHABLE:
        return LookupResultView(tr(lang, "lookup_unreachable_title"),
                                (tr(lang, "lookup_unreachable", phone=phone),), True, True,
                                tr(lang, "say_lookup_unreachable"))
    return LookupResultView(tr(lang, "lookup_searching"), (), False, False, "")
