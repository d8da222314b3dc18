"""Service categories: loaded from config/categories.toml and kept in step in the database."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation.errors import ConfigError
from foundation.tomlfile import read_toml
from server.models import Category
from server.site_profile import CategoryEdit

__all__ = ["CategorySpec", "load_category_specs", "sync_categories"]

log = logging.getLogger(__name__)


class QuestionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label_zh: str
    label_en: str
    required: bool = False
    choices: list[tuple[str, str, str]] = Field(min_length=1)

    @field_validator("choices")
    @classmethod
    def _unique_keys(cls, value: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
        # A resident's answer is stored by its key: two choices with one key are one answer.
        keys = [key for key, _zh, _en in value]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:
            raise ValueError(f"answer key {twice[0]!r} is used twice")
        return value

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code, "label_zh": self.label_zh, "label_en": self.label_en,
            "required": self.required,
            "choices": [{"key": k, "zh": zh, "en": en} for k, zh, en in self.choices],
        }


class CategorySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    skill: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    target_hours: int = Field(ge=1, le=24 * 30)
    priority: str = Field(default="normal", pattern=r"^(low|normal|high|urgent)$")
    kiosk: bool = True
    # Residents and outside systems (Open311) may file it; None: the same as ``kiosk``.
    public: bool | None = None
    group_zh: str = Field(default="", max_length=40)
    group_en: str = Field(default="", max_length=60)
    question: list[QuestionSpec] = Field(default_factory=list)
    # Residents pick a published time (server/appointments/); staff may switch it in the browser.
    by_appointment: bool = False

    @field_validator("question")
    @classmethod
    def _unique_questions(cls, value: list[QuestionSpec]) -> list[QuestionSpec]:
        codes = [q.code for q in value]
        if len(codes) != len(set(codes)):
            raise ValueError("question codes must be unique within a category")
        return value


def load_category_specs(path: Path) -> list[CategorySpec]:
    """Read and validate the categories file; ConfigError names the bad key."""
    source = str(path)
    raw = read_toml(path, key='categories_file')
    entries = raw.get("category")
    if not isinstance(entries, list) or not entries:
        raise ConfigError("category", "needs at least one [[category]] table", source)
    specs: list[CategorySpec] = []
    for index, entry in enumerate(entries):
        try:
            specs.append(CategorySpec.model_validate(entry))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            name = entry.get("code", index) if isinstance(entry, dict) else index
            raise ConfigError(f"category[{name}].{where}", first["msg"], source) from None
    codes = [s.code for s in specs]
    for code in codes:
        if codes.count(code) > 1:
            raise ConfigError(f"category[{code}].code", "is used twice", source)
    return specs


def sync_categories(db: Session, *, specs: list[CategorySpec]) -> None:
    """Make the database's categories match the file; a removed one is hidden, never deleted.

    The file seeds; the database is the truth for a category staff took over in the browser
    (a :class:`CategoryEdit` row): the file neither overwrites, retires nor revives it."""
    existing = {c.code: c for c in db.scalars(select(Category))}
    taken_over = set(db.scalars(select(CategoryEdit.code)))
    for order, spec in enumerate(specs):
        if spec.code in taken_over:
            existing.pop(spec.code, None)
            continue
        row = existing.pop(spec.code, None) or Category(code=spec.code)
        row.name_zh, row.name_en, row.skill = spec.name_zh, spec.name_en, spec.skill
        row.target_hours, row.priority, row.kiosk = spec.target_hours, spec.priority, spec.kiosk
        row.active, row.sort_order = True, order
        row.public = spec.kiosk if spec.public is None else spec.public
        row.group_zh, row.group_en = spec.group_zh, spec.group_en
        row.questions = [q.as_json() for q in spec.question]
        row.by_appointment = spec.by_appointment
        db.add(row)
    for gone in existing.values():
        if gone.code not in taken_over:
            gone.active = False
    kept = sorted(taken_over & {s.code for s in specs})
    if kept:  # an installer editing the file should learn why their change did not show
        log.info("categories edited in the browser keep their own settings over the file: %s",
                 ", ".join(kept))
    db.commit()
    log.info("service categories in step with the file: %d active", len(specs))
