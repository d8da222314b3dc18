"""What the request journey's screens say: the home tiles' columns, the choice pages, the review.
Pure."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.flow import Flow, Step
from kiosk.i18n import format_phone, tr
from kiosk.pictograms import pictogram
from kiosk.presenters.appointment import appointment_text
from kiosk.presenters.shared import page_of

__all__ = ["SKIP", "ChoicePage", "choice_page", "choices", "home_columns", "review_lines"]

SKIP = "__skip__"


def home_columns(tiles: int) -> int:
    return 4 if tiles > 6 else 3


def choices(flow: Flow, lang: str) -> tuple[str, list[tuple[str, str]], int]:
    """(title, [(key, label)], columns) for the choice screen of the current step."""
    if flow.step is Step.QUESTION and flow.question is not None:
        question = flow.question
        items = [(c.key, c.label(lang)) for c in question.choices]
        if not question.required:
            items.append((SKIP, tr(lang, "skip")))
        return question.label(lang), items, 3
    if flow.step is Step.COMPOUND:
        return tr(lang, "where_compound"), [(c.code, c.name(lang)) for c in flow.compounds], 4
    if flow.step is Step.BUILDING and flow.compound is not None:
        return tr(lang, "where_building"), [
            (b.code, b.name) for b in flow.compound.buildings], 4
    if flow.step is Step.UNIT and flow.building is not None:
        return tr(lang, "where_unit"), [(u.code, u.name) for u in flow.building.units], 4
    return "", [], 3


@dataclass(frozen=True)
class ChoicePage:
    """One page of big buttons: two rows of ``cols``, and ``blanks`` empty cells after the
    buttons so a short last page keeps them the same size. ``pictures`` has each button's
    pictogram: an answer's, or "" for a place (its name is the picture a resident knows)."""

    title: str
    items: list[tuple[str, str]]
    cols: int
    page: int
    pages: int
    blanks: int
    pictures: tuple[str, ...] = ()


def picture_of(flow: Flow, key: str) -> str:
    """The pictogram of one button of the choice screen ("" for none)."""
    if key == SKIP:
        return pictogram("skip")
    if flow.step is Step.QUESTION:
        return pictogram(key)
    return ""


def choice_page(flow: Flow, lang: str, page: int) -> ChoicePage:
    title, items, cols = choices(flow, lang)
    per_page = cols * 2
    page, pages = page_of(len(items), per_page, page)
    shown = items[page * per_page:(page + 1) * per_page]
    return ChoicePage(title, shown, cols, page, pages, per_page - len(shown),
                      tuple(picture_of(flow, key) for key, _label in shown))


def review_lines(flow: Flow, lang: str) -> list[str]:
    draft, category = flow.draft, flow.category
    if draft is None or category is None:
        return []
    lines = [tr(lang, "review_service", value=category.name(lang))]
    if draft.slot_starts is not None:  # a booked service's time (kiosk/flow/appointment.py)
        lines.append(tr(lang, "review_appointment",
                        when=appointment_text(lang, draft.slot_starts, flow.site_zone)))
    for question in category.questions:
        choice = question.choice(draft.answers.get(question.code, ""))
        if choice is not None:
            lines.append(tr(lang, "review_answer", label=question.label(lang),
                            value=choice.label(lang)))
    if flow.compound and flow.building and flow.unit:
        place = f"{flow.compound.name(lang)} {flow.building.name} {flow.unit.name}"
        lines.append(tr(lang, "review_place", value=place))
    if draft.room:
        lines.append(tr(lang, "review_room", value=draft.room))
    if draft.contact == "phone":
        lines.append(tr(lang, "review_phone", value=format_phone(draft.phone)))
    else:
        lines.append(tr(lang, "review_no_phone"))
    return lines
