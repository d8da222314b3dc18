"""What the slot step (选时间) and the booked time say: day tabs, slot buttons, the time's words.

Times come from the server in UTC and are shown in the site's time zone (``[site] timezone``),
written the way a resident reads a date in each language: "12月9日 周三 9:00", "Wed 9 Dec 9:00".
The days are tabs (今天, 明天, 周三 12月9日), a few at a time; each slot is a big button with the
part of the day, the times and the places left ("上午 9:00-10:00 / 还剩2位"), a full one shown
greyed with 已满 so a resident sees the day is not empty but cannot tap it. Pure::

    view = slot_view(flow, "zh_CN", zone=ZoneInfo("Asia/Shanghai"), today=date(2026, 11, 25))
    appointment_text("en", receipt.appointment_at, zone)     # "Wed 9 Dec 9:00"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from kiosk.catalog import Slot
from kiosk.flow import Flow, Receipt
from kiosk.i18n import tr
from kiosk.presenters.shared import page_of, problem_text

__all__ = ["DAYS_SHOWN", "SLOT_COLUMNS", "DayTab", "SlotButton", "SlotView", "appointment_text",
           "day_label", "done_appointment", "slot_days", "slot_label", "slot_view"]

DAYS_SHOWN = 4  # day tabs in the row; more days are reached with 后几天
SLOT_COLUMNS = 3  # slot buttons in a row; two rows a page
_WEEKDAYS_ZH = "一二三四五六日"
# Written out, not strftime's %a and %b, which follow the process's locale.
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _local(moment: datetime, zone: tzinfo) -> datetime:
    return moment.astimezone(zone)


def _clock(moment: datetime) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def _date_words(lang: str, day: date) -> str:
    if lang == "en":
        return f"{_WEEKDAYS_EN[day.weekday()]} {day.day} {_MONTHS_EN[day.month - 1]}"
    return f"{day.month}月{day.day}日 周{_WEEKDAYS_ZH[day.weekday()]}"


def day_label(lang: str, day: date, today: date) -> str:
    """A day tab's words: 今天, 明天 or the weekday, over the date ("周三" / "12月9日")."""
    if day == today:
        first = tr(lang, "slot_today")
    elif day == today + timedelta(days=1):
        first = tr(lang, "slot_tomorrow")
    else:
        first = (_WEEKDAYS_EN[day.weekday()] if lang == "en"
                 else f"周{_WEEKDAYS_ZH[day.weekday()]}")
    second = (f"{day.day} {_MONTHS_EN[day.month - 1]}" if lang == "en"
              else f"{day.month}月{day.day}日")
    return f"{first}\n{second}"


def appointment_text(lang: str, moment: datetime, zone: tzinfo) -> str:
    """The booked time, for the review, the done screen, the slip and the voice."""
    local = _local(moment, zone)
    return tr(lang, "slot_when", date=_date_words(lang, local.date()), time=_clock(local))


def done_appointment(lang: str, receipt: Receipt, zone: tzinfo) -> str:
    """The done screen's line for a booked service ("" for any other request)."""
    when = receipt.appointment_at
    return tr(lang, "done_appointment", when=appointment_text(lang, when, zone)) if when else ""


def _part_of_day(local: datetime) -> str:
    """The part of the day a slot starts in (the end of its words' key). Said in words, not
    drawn: a pictogram beside the times pushed them down to the smallest size at 大字."""
    if local.hour < 11:
        return "morning"
    if local.hour < 13:
        return "noon"
    if local.hour < 18:
        return "afternoon"
    return "evening"


def slot_label(lang: str, slot: Slot, zone: tzinfo, *, chosen: bool = False) -> str:
    """A slot's button: "上午 9:00-10:00" over "还剩2位" (or 已满)."""
    start, end = _local(slot.starts_at, zone), _local(slot.ends_at, zone)
    first = tr(lang, "slot_time", part=tr(lang, f"slot_{_part_of_day(start)}"),
               start=_clock(start),
               end=_clock(end))
    second = tr(lang, "slot_full") if slot.full else tr(lang, "slot_left", count=slot.remaining)
    if chosen:
        second += tr(lang, "slot_chosen")
    return f"{first}\n{second}"


def slot_days(slots: Sequence[Slot], zone: tzinfo) -> list[date]:
    """The days that have slots, in order, in the site's time zone."""
    return sorted({_local(s.starts_at, zone).date() for s in slots})


@dataclass(frozen=True)
class DayTab:
    key: str  # the ISO date, or the day a 前几天 / 后几天 tab leads to
    label: str
    chosen: bool


@dataclass(frozen=True)
class SlotButton:
    key: str  # the slot's id
    label: str
    full: bool


@dataclass(frozen=True)
class SlotView:
    """The slot screen: a ``message`` (loading, none, unreachable) instead of the slots when
    there are none to show; ``earlier`` / ``later`` are tabs to the other days, or None."""

    title: str
    message: str
    retry: bool  # the slots could not be read: offer 再试一次
    call_staff: bool  # nothing to book: offer 呼叫工作人员
    problem: str
    days: tuple[DayTab, ...] = ()
    earlier: DayTab | None = None
    later: DayTab | None = None
    buttons: tuple[SlotButton, ...] = ()
    page: int = 0
    pages: int = 1
    blanks: int = 0


def slot_view(flow: Flow, lang: str, *, zone: tzinfo, today: date, page: int = 0) -> SlotView:
    """What the slot step shows now."""
    title, problem = tr(lang, "slot_title"), problem_text(flow, lang)
    state = flow.slots_state
    if state in ("wanted", "loading"):
        return SlotView(title, tr(lang, "slot_loading"), False, False, problem)
    if state == "unreachable":
        return SlotView(title, tr(lang, "slot_unreachable"), True, True, problem)
    days = slot_days(flow.slots, zone)
    if not days:
        return SlotView(title, tr(lang, "slot_none"), False, True, problem)
    keys = [d.isoformat() for d in days]
    at = keys.index(flow.slot_day) if flow.slot_day in keys else 0
    first = at - at % DAYS_SHOWN
    shown = days[first:first + DAYS_SHOWN]
    tabs = tuple(DayTab(d.isoformat(), day_label(lang, d, today), first + i == at)
                 for i, d in enumerate(shown))
    earlier = (DayTab(keys[first - 1], tr(lang, "slot_earlier_days"), False)
               if first > 0 else None)
    later = (DayTab(keys[first + DAYS_SHOWN], tr(lang, "slot_later_days"), False)
             if first + DAYS_SHOWN < len(keys) else None)
    draft = flow.draft
    chosen_id = draft.slot_id if draft is not None else None
    on_day = [s for s in flow.slots if _local(s.starts_at, zone).date() == days[at]]
    per_page = SLOT_COLUMNS * 2
    page, pages = page_of(len(on_day), per_page, page)
    buttons = tuple(SlotButton(str(s.id), slot_label(lang, s, zone, chosen=s.id == chosen_id),
                               s.full)
                    for s in on_day[page * per_page:(page + 1) * per_page])
    return SlotView(title, "", False, False, problem, tabs, earlier, later, buttons, page, pages,
                    per_page - len(buttons))
