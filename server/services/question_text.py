"""A category's questions and answers as lines a community worker can type in one text box.

Pure (no database, no framework): the category page (server/web/admin_catalogue.py) shows a
category's questions with :func:`questions_to_text` and reads the box back with
:func:`parse_questions`, which answers each mistake with its line number::

    ? problem | 哪里出了问题？ | What is wrong? | 必答
    - leak | 漏水 | Water leak
    - other | 其他 | Something else

A line starting ``?`` is a question (key, Chinese, English, and ``必答``/``required`` when a
resident must answer it); each ``-`` line below it is one answer (key, Chinese, English). The
result is the JSON the kiosk, the phone form and Open311 already read (``Category.questions``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["QuestionLineError", "parse_questions", "questions_to_text"]

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
REQUIRED_WORDS = frozenset({"必答", "required", "*"})
MAX_TEXT = 60


@dataclass(frozen=True)
class QuestionLineError:
    """What is wrong on one line: ``problem`` is a code the page words for the reader."""

    line: int
    # bad_start | no_question | fields | bad_key | key_twice | empty | too_long | no_answers
    problem: str


def questions_to_text(questions: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for question in questions:
        head = [question["code"], question["label_zh"], question["label_en"]]
        if question.get("required"):
            head.append("必答")
        lines.append("? " + " | ".join(head))
        lines.extend(f"- {c['key']} | {c['zh']} | {c['en']}" for c in question["choices"])
    return "\n".join(lines)


def parse_questions(text: str) -> tuple[list[dict[str, Any]], list[QuestionLineError]]:
    """The questions in ``text``, or the first problem of each bad line."""
    questions: list[dict[str, Any]] = []
    errors: list[QuestionLineError] = []
    started_at: dict[int, int] = {}  # question index → its line, for "no answers"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        mark, body = line[0], line[1:]
        if mark in "?？":
            fields = [f.strip() for f in body.split("|")]
            problem = _question_problem(fields, {q["code"] for q in questions})
            if problem:
                errors.append(QuestionLineError(number, problem))
                continue
            started_at[len(questions)] = number
            questions.append({"code": fields[0], "label_zh": fields[1], "label_en": fields[2],
                              "required": len(fields) == 4, "choices": []})
        elif mark in "-－":
            if not questions:
                errors.append(QuestionLineError(number, "no_question"))
                continue
            fields = [f.strip() for f in body.split("|")]
            choices = questions[-1]["choices"]
            problem = _answer_problem(fields, {c["key"] for c in choices})
            if problem:
                errors.append(QuestionLineError(number, problem))
                continue
            choices.append({"key": fields[0], "zh": fields[1], "en": fields[2]})
        else:
            errors.append(QuestionLineError(number, "bad_start"))
    for index, question in enumerate(questions):
        if not question["choices"]:
            errors.append(QuestionLineError(started_at[index], "no_answers"))
    errors.sort(key=lambda e: e.line)
    return questions, errors


def _texts_problem(fields: list[str]) -> str:
    if not KEY.match(fields[0]):
        return "bad_key"
    if not fields[1] or not fields[2]:
        return "empty"
    if max(len(fields[1]), len(fields[2])) > MAX_TEXT:
        return "too_long"
    return ""


def _question_problem(fields: list[str], taken: set[str]) -> str:
    if len(fields) not in (3, 4) or (len(fields) == 4 and fields[3] not in REQUIRED_WORDS):
        return "fields"
    problem = _texts_problem(fields)
    if problem:
        return problem
    return "key_twice" if fields[0] in taken else ""


def _answer_problem(fields: list[str], taken: set[str]) -> str:
    if len(fields) != 3:
        return "fields"
    problem = _texts_problem(fields)
    if problem:
        return problem
    return "key_twice" if fields[0] in taken else ""
