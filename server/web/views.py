"""Small pure helpers that turn rows into what a page shows (no database, no framework)."""

from __future__ import annotations

from typing import Any

from server.models import Ticket

__all__ = ["answer_lines"]


def answer_lines(ticket: Ticket, lang: str) -> list[tuple[str, str]]:
    """The resident's answers as (question, answer) in the page's language."""
    request = ticket.request
    if request is None:
        return []
    questions: dict[str, dict[str, Any]] = {q["code"]: q for q in ticket.category.questions}
    lines = []
    for code, value in request.answers.items():
        question = questions.get(code)
        if question is None:
            lines.append((code, str(value)))
            continue
        label = question.get("label_en" if lang == "en" else "label_zh") or code
        choice = next((c for c in question.get("choices", []) if c.get("key") == value), None)
        shown = (choice.get("en" if lang == "en" else "zh") or value) if choice else str(value)
        lines.append((str(label), str(shown)))
    return lines
