"""Service categories in the browser: edit the names, skill, target time, kiosk tile and
questions of a category, add one, retire one (never delete: its old requests keep it).

The file seeds and the database is the truth (server/site_profile.py ``CategoryEdit``): a
category saved here is no longer overwritten by config/categories.toml at start, and the
kiosk's list (``GET /api/v1/categories``, read per request) follows the change at once.
Every change is in the audit log (server/services/audit.py). Pages: server/web/admin_catalogue.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.errors import NotFound
from server.models import Category, Ticket, User
from server.services import audit
from server.services.admin_forms import FormRefused, check_version, version_of
from server.services.question_text import parse_questions, questions_to_text
from server.site_profile import CategoryEdit

__all__ = ["CategoryRow", "FIELDS", "PRIORITIES", "category_form", "category_rows",
           "category_version", "get_category", "save_category", "set_retired"]

log = logging.getLogger(__name__)
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PRIORITIES = ("low", "normal", "high", "urgent")
# What the form shows and the audit log compares (questions as the JSON the kiosk reads).
FIELDS = ("name_zh", "name_en", "skill", "target_hours", "priority", "kiosk", "public",
          "group_zh", "group_en", "active", "questions", "by_appointment")


@dataclass(frozen=True)
class CategoryRow:
    category: Category
    requests: int  # tickets filed under it: a category in use is retired, never deleted
    taken_over: bool  # edited here, so the file no longer overrides it


def category_rows(db: Session) -> list[CategoryRow]:
    used = dict(db.execute(select(Ticket.category_code, func.count())
                           .group_by(Ticket.category_code)).tuples().all())
    edited = set(db.scalars(select(CategoryEdit.code)))
    return [CategoryRow(c, used.get(c.code, 0), c.code in edited)
            for c in db.scalars(select(Category).order_by(Category.active.desc(),
                                                          Category.sort_order, Category.code))]


def get_category(db: Session, *, code: str) -> Category:
    category = db.get(Category, code)
    if category is None:
        raise NotFound("no such category")
    return category


def _snapshot(category: Category) -> dict[str, Any]:
    return audit.snapshot(category, *FIELDS)


def category_version(category: Category) -> str:
    return version_of(_snapshot(category))


def category_form(category: Category) -> dict[str, str]:
    """The category as the form's fields."""
    return {"code": category.code, "name_zh": category.name_zh, "name_en": category.name_en,
            "skill": category.skill, "target_hours": str(category.target_hours),
            "priority": category.priority, "kiosk": "1" if category.kiosk else "",
            "public": "1" if category.public else "", "group_zh": category.group_zh,
            "group_en": category.group_en,
            "questions": questions_to_text(category.questions),
            "by_appointment": "1" if category.by_appointment else ""}


def _text(form: Mapping[str, str], name: str) -> str:
    return form.get(name, "").strip()


def _read(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str], Any]:
    problems: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, limit in (("name_zh", 60), ("name_en", 80)):
        values[name] = _text(form, name)
        if not values[name]:
            problems[name] = "required"
        elif len(values[name]) > limit:
            problems[name] = "too_long"
    for name, limit in (("group_zh", 40), ("group_en", 60)):
        values[name] = _text(form, name)
        if len(values[name]) > limit:
            problems[name] = "too_long"
    values["skill"] = _text(form, "skill")
    if not values["skill"]:
        problems["skill"] = "required"
    elif not KEY.match(values["skill"]):
        problems["skill"] = "bad_key"
    hours = _text(form, "target_hours")
    if not hours.isdigit():
        problems["target_hours"] = "not_number" if hours else "required"
    elif not 1 <= int(hours) <= 24 * 30:
        problems["target_hours"] = "hours_range"
    else:
        values["target_hours"] = int(hours)
    values["priority"] = _text(form, "priority")
    if values["priority"] not in PRIORITIES:
        problems["priority"] = "choose"
    values["kiosk"] = bool(_text(form, "kiosk"))
    values["public"] = bool(_text(form, "public"))
    values["by_appointment"] = bool(_text(form, "by_appointment"))  # server/appointments/
    questions, line_errors = parse_questions(form.get("questions", ""))
    values["questions"] = questions
    if line_errors:
        problems["questions"] = "lines"
    return values, problems, line_errors


def save_category(db: Session, *, code: str | None, form: Mapping[str, str], seen: str,
                  actor: User, now: datetime) -> Category:
    """Save the form over the category ``code`` (None: a new one, its code in the form).

    FormRefused names each bad field; StaleEdit when someone saved it since ``seen``."""
    values, problems, line_errors = _read(form)
    if code is None:
        code = _text(form, "code")
        if not code:
            problems["code"] = "required"
        elif not KEY.match(code):
            problems["code"] = "bad_key"
        elif db.get(Category, code) is not None:
            problems["code"] = "taken"
        category, before = None, None
    else:
        category = get_category(db, code=code)
        before = _snapshot(category)
        check_version(before, seen)
    if problems:
        raise FormRefused(problems, detail=line_errors)
    if category is None:
        last = db.scalar(select(func.max(Category.sort_order))) or 0
        category = Category(code=code, sort_order=last + 1, active=True)
        db.add(category)
    for name, value in values.items():
        setattr(category, name, value)
    _take_over(db, code=category.code, actor=actor, now=now)
    db.flush()
    audit.record(db, actor=actor, action="category.add" if before is None else "category.edit",
                 subject=("category", category.code), before=before,
                 after=_snapshot(category), now=now)
    db.commit()
    log.info("category %s saved by user %s", category.code, actor.id)
    return category


def set_retired(db: Session, *, code: str, retired: bool, seen: str, actor: User,
                now: datetime) -> Category:
    """Retire a category (no longer offered on the kiosk, the phone form or Open311; its
    requests keep it) or bring it back."""
    category = get_category(db, code=code)
    before = _snapshot(category)
    check_version(before, seen)
    category.active = not retired
    _take_over(db, code=code, actor=actor, now=now)
    audit.record(db, actor=actor, action="category.retire" if retired else "category.restore",
                 subject=("category", code), before=before, after=_snapshot(category), now=now)
    db.commit()
    log.info("category %s %s by user %s", code, "retired" if retired else "restored", actor.id)
    return category


def _take_over(db: Session, *, code: str, actor: User, now: datetime) -> None:
    edit = db.get(CategoryEdit, code) or CategoryEdit(code=code)
    edit.edited_at, edit.edited_by = now, actor.id
    db.add(edit)
