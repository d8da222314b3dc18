"""The request form both ways in share: the resident's own phone (/new, server/web/new_request.py)
and the staff taking a call (/staff/new, server/web/staff_filing.py). Reading the posted fields,
checking them into per-field messages, and turning them into the same ``NewRequest`` the kiosk
files (server/services/requests.py).

Two steps, so the form works with JavaScript off: a GET form chooses the building (grouped by
compound) and the service, and the page that opens (``?building=…&category=…``, what a building
poster's QR opens with the building already chosen) asks that service's questions, the unit,
floor, room, a description, whose home it is and who to call. Every error is shown beside its
field, in the reader's language, with what was typed kept.

The client id that makes filing idempotent is derived, never sent: HMAC(secret, the browser's
CSRF cookie | the form's random id). A double tap or a reload files once and lands on the same
status page; another browser holding the same page source cannot replay it into that status
page, because it has another cookie (the client id is a capability, issue 14).

    f = read_form(form)
    errors = check(f, category=..., building=..., phone_required=True)
    new = to_new_request(f, category=..., building=..., client_id=..., channel="phone")
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData

from server.models import Building, Category, User
from server.services.requests import NewRequest
from server.settings import ServerSettings
from server.web.common import CSRF_COOKIE
from server.web.photos import PHOTO_ERROR_WORDS
from server.web.words import N_, Words

__all__ = ["ERROR_WORDS", "FORM_ID", "RequestForm", "check", "client_id_for", "messages",
           "new_form_id", "normalise_phone", "read_form", "to_new_request"]

FORM_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MOBILE = re.compile(r"^1\d{10}$")
UNIT_UNKNOWN = "unknown"  # "I don't know the unit": filed at the building
WHOSE = ("mine", "other")
MAX_DESCRIPTION = 500
MAX_NAME = 40
MAX_FLOOR = 10
MAX_ROOM = 20
QUESTION_PREFIX = "q_"
# The honeypot's name: a field people never see (hidden by site.css, not inline), which
# form-filling scripts fill in.
HONEYPOT = "website"

ERROR_WORDS = {
    "category": N_("请选择要办的事。"),
    "building": N_("请选择楼栋。"),
    "building_unknown": N_("找不到这栋楼，请从列表里选。"),
    "unit": N_("请选择单元；不清楚就选“不清楚”。"),
    "question": N_("请回答这个问题。"),
    "floor": N_("楼层最多 10 个字。"),
    "room": N_("房号最多 20 个字。"),
    "description": N_("说明最多 500 个字，请删短一些。"),
    "whose": N_("请选择这是谁的家。"),
    "name_long": N_("称呼最多 40 个字。"),
    "contact_name": N_("请写上怎么称呼联系人。"),
    "contact_phone": N_("请填写联系电话，服务站用它联系您。"),
    "contact_phone_bad": N_("电话号码应是 11 位手机号，例如 13800001234。"),
    "honeypot": N_("请把标着“请留空”的一栏清空后再提交。"),
    # A service by appointment (server/appointments/): the time chosen.
    "slot_required": N_("请选一个上门时间。"),
    "slot_full": N_("您选的时间刚刚约满了，请另选一个时间。"),
    "slot_invalid": N_("您选的时间已经不能约了，请另选一个时间。"),
    **PHOTO_ERROR_WORDS,  # the photo field (server/web/photos.py)
}


@dataclass
class RequestForm:
    """What was typed, as typed (kept on the page when something needs fixing)."""

    form_id: str = ""
    category: str = ""
    building: str = ""
    unit: str = ""
    floor: str = ""
    room: str = ""
    description: str = ""
    whose: str = "mine"
    resident_name: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    honeypot: str = ""
    answers: dict[str, str] = field(default_factory=dict)
    slot: str = ""  # the appointment slot's id, for a service by appointment

    def answer(self, code: str) -> str:
        return self.answers.get(code, "")


def new_form_id() -> str:
    return secrets.token_urlsafe(18)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def read_form(form: FormData) -> RequestForm:
    answers = {key[len(QUESTION_PREFIX):]: value.strip() for key, value in form.multi_items()
               if key.startswith(QUESTION_PREFIX) and isinstance(value, str) and value.strip()}
    return RequestForm(
        form_id=_text(form, "form_id"), category=_text(form, "category"),
        building=_text(form, "building"), unit=_text(form, "unit"),
        floor=_text(form, "floor"), room=_text(form, "room"),
        description=_text(form, "description"), whose=_text(form, "whose"),
        resident_name=_text(form, "resident_name"), contact_name=_text(form, "contact_name"),
        contact_phone=_text(form, "contact_phone"), honeypot=_text(form, HONEYPOT),
        answers=answers, slot=_text(form, "slot")[:12])


def normalise_phone(typed: str) -> str:
    """138 0000 1234, 138-0000-1234 and +86 13800001234 are all 13800001234."""
    digits = re.sub(r"[\s\-()（）]", "", typed)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def check(f: RequestForm, *, category: Category | None, building: Building | None,
          phone_required: bool) -> dict[str, str]:
    """The fields that need fixing: field name → a key of ERROR_WORDS."""
    errors: dict[str, str] = {}
    if category is None:
        errors["category"] = "category"
    if building is None:
        errors["building"] = "building_unknown" if f.building else "building"
    elif building.units and f.unit != UNIT_UNKNOWN and f.unit not in {
            u.code for u in building.units}:
        errors["unit"] = "unit"
    if category is not None:
        for question in category.questions:
            given = f.answer(question["code"])
            keys = {c["key"] for c in question["choices"]}
            if (given and given not in keys) or (question["required"] and not given):
                errors[QUESTION_PREFIX + question["code"]] = "question"
    for name, limit, key in (("floor", MAX_FLOOR, "floor"), ("room", MAX_ROOM, "room"),
                             ("description", MAX_DESCRIPTION, "description"),
                             ("resident_name", MAX_NAME, "name_long"),
                             ("contact_name", MAX_NAME, "name_long")):
        if len(getattr(f, name)) > limit:
            errors[name] = key
    if category is not None and category.by_appointment and not f.slot.isdigit():
        errors["slot"] = "slot_required"
    if f.whose not in WHOSE:
        errors["whose"] = "whose"
    if not f.contact_name:
        errors["contact_name"] = "contact_name"
    phone = normalise_phone(f.contact_phone)
    if not phone:
        if phone_required:
            errors["contact_phone"] = "contact_phone"
    elif not MOBILE.match(phone):
        errors["contact_phone"] = "contact_phone_bad"
    return errors


def messages(errors: dict[str, str], words: Words) -> dict[str, str]:
    """The errors in the reader's words, per field."""
    return {name: words.gettext(ERROR_WORDS[key]) for name, key in errors.items()}


def client_id_for(request: Request, settings: ServerSettings, form_id: str) -> str:
    """The filing's client id: bound to this browser's CSRF cookie and this form."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    digest = hmac.new(settings.security.secret_key.encode(),
                      f"request-form|{cookie}|{form_id}".encode(), hashlib.sha256)
    return "web-" + digest.hexdigest()[:40]


def to_new_request(f: RequestForm, *, category: Category, building: Building,
                   client_id: str, channel: str, filed_by: User | None = None) -> NewRequest:
    """The checked form as the filing the kiosk would send."""
    place = f.unit if f.unit and f.unit != UNIT_UNKNOWN else building.code
    asked = {q["code"] for q in category.questions}
    other = f.whose == "other"
    return NewRequest(
        client_id=client_id, category=category.code, place_code=place,
        answers={code: value for code, value in f.answers.items() if code in asked},
        description=f.description, contact_name=f.contact_name,
        contact_phone=normalise_phone(f.contact_phone) or None, channel=channel,
        floor=f.floor, room=f.room, for_someone_else=other,
        resident_name=f.resident_name if other else "", filed_by=filed_by,
        slot_id=int(f.slot) if category.by_appointment and f.slot.isdigit() else None)


def step_of(category: Category | None, building: Building | None) -> int:
    """1: choose the building and the service; 2: the rest of the form."""
    return 2 if category is not None and building is not None else 1


def form_context(*, f: RequestForm, errors: dict[str, str], words: Words,
                 categories: list[Category], compounds: list[Any],
                 category: Category | None, building: Building | None, action: str,
                 staff: bool, notice: str = "") -> dict[str, Any]:
    """What _request_form.html reads."""
    return {"f": f, "errors": messages(errors, words), "categories": categories,
            "compounds": compounds, "category": category, "building": building,
            "step": step_of(category, building), "action": action, "staff": staff,
            "notice": notice, "unit_unknown": UNIT_UNKNOWN, "honeypot_name": HONEYPOT,
            "max_description": MAX_DESCRIPTION}
