"""A category's questions typed as lines on the admin page (server/services/question_text.py):
read back into the JSON the kiosk shows, and each bad line named by its number."""

from __future__ import annotations

from server.services.question_text import QuestionLineError, parse_questions, questions_to_text

TYPED = """? problem | 哪里出了问题？ | What is wrong? | 必答
- leak | 漏水 | Water leak
- other | 其他 | Something else

？ floor | 几楼？ | Which floor?
－ low | 一到三楼 | Floors 1-3
"""


def test_typed_lines_become_the_questions_the_kiosk_shows_and_read_back_the_same() -> None:
    questions, errors = parse_questions(TYPED)
    assert errors == []
    assert [q["code"] for q in questions] == ["problem", "floor"]
    assert questions[0]["required"] is True and questions[1]["required"] is False
    assert questions[0]["choices"][0] == {"key": "leak", "zh": "漏水", "en": "Water leak"}
    again, errors = parse_questions(questions_to_text(questions))
    assert errors == [] and again == questions


def test_each_bad_line_is_named_by_its_number() -> None:
    _questions, errors = parse_questions(
        "- early | 早 | Early\n"           # 1: an answer before any question
        "? when | 什么时候？\n"              # 2: two parts, not three
        "? Day | 哪天？ | Which day?\n"     # 3: a key with a capital
        "? day | 哪天？ | Which day?\n"     # 4: fine, but no answers follow
        "note: call first\n"                # 5: neither ? nor -
        "? time | 几点？ | What time?\n"
        "- am | 上午 | Morning\n"
        "- am | 上午 | AM\n"                # 8: the same key twice
        "- pm |  | Afternoon\n")            # 9: the Chinese left empty
    assert errors == [QuestionLineError(1, "no_question"), QuestionLineError(2, "fields"),
                      QuestionLineError(3, "bad_key"), QuestionLineError(4, "no_answers"),
                      QuestionLineError(5, "bad_start"), QuestionLineError(8, "key_twice"),
                      QuestionLineError(9, "empty")]


def test_no_lines_is_no_questions() -> None:
    assert parse_questions("  \n\n") == ([], [])
