"""The survey definition file, and how typed answers are understood."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import PROJECT_ROOT
from bot.surveys.definition import (
    SurveyDefinition,
    SurveyQuestion,
    SurveySkipped,
    load_survey,
    parse_answer,
)

RATING = SurveyQuestion(key="csat", type="rating_1_5", text="How satisfied are you?")
YES_NO = SurveyQuestion(key="solved", type="yes_no", text="Did we solve your problem?")
NPS = SurveyQuestion(key="nps", type="nps_0_10", text="How likely are you to recommend us?")
OPTIONAL_TEXT = SurveyQuestion(key="comment", type="text", text="Anything to add?", required=False)
REQUIRED_TEXT = SurveyQuestion(key="why", type="text", text="Why?", required=True)


# --- the definition -------------------------------------------------------------------------


def test_default_survey_asks_csat_first_then_solved_ratings_and_an_optional_comment():
    survey = load_survey(PROJECT_ROOT / "bot" / "surveys" / "default_survey.yml")

    assert survey.key == "default"
    assert survey.version == 1
    assert [(q.key, q.type, q.required) for q in survey.questions] == [
        ("csat", "rating_1_5", True),
        ("solved", "yes_no", True),
        ("speed", "rating_1_5", True),
        ("solution", "rating_1_5", True),
        ("courtesy", "rating_1_5", True),
        ("comment", "text", False),
    ]
    assert "satisfied" in survey.questions[0].text
    assert survey.question(0).key == "csat"
    assert survey.question(6) is None
    assert survey.question(-1) is None


def test_survey_file_written_by_an_operator_is_loaded(tmp_path):
    path = tmp_path / "survey.yml"
    path.write_text(
        "key: short\nversion: 2\nquestions:\n"
        "  - {key: nps, type: nps_0_10, text: 'Would you recommend us?'}\n"
        "  - {key: comment, type: text, text: 'Why?', required: false}\n",
        encoding="utf-8",
    )

    survey = load_survey(path)

    assert (survey.key, survey.version) == ("short", 2)
    assert [q.key for q in survey.questions] == ["nps", "comment"]
    assert survey.questions[1].required is False


@pytest.mark.parametrize("first_type", ["yes_no", "text"])
def test_survey_whose_first_question_is_not_a_rating_is_refused(first_type):
    with pytest.raises(ValidationError, match="first survey question must be a rating"):
        SurveyDefinition(
            key="bad",
            questions=[
                {"key": "first", "type": first_type, "text": "Hello?"},
                {"key": "csat", "type": "rating_1_5", "text": "How satisfied are you?"},
            ],
        )


def test_survey_with_duplicate_question_keys_is_refused():
    with pytest.raises(ValidationError, match="keys must be unique"):
        SurveyDefinition(
            key="bad",
            questions=[
                {"key": "csat", "type": "rating_1_5", "text": "How satisfied are you?"},
                {"key": "csat", "type": "yes_no", "text": "Solved?"},
            ],
        )


def test_survey_without_questions_is_refused():
    with pytest.raises(ValidationError):
        SurveyDefinition(key="empty", questions=[])


@pytest.mark.parametrize("bad", [{"key": "Bad Key", "type": "yes_no"}, {"key": "ok", "type": "stars"}])
def test_question_with_a_bad_key_or_unknown_type_is_refused(bad):
    with pytest.raises(ValidationError):
        SurveyQuestion(text="Question?", **bad)


# --- ratings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "score"),
    [
        ("5", 5),
        ("1", 1),
        ("five", 5),
        ("Four", 4),
        ("5/5", 5),
        ("3 out of 5", 3),
        ("4 stars", 4),
        ("I'd say 4!", 4),
        ("very good", 5),
        ("Very good.", 5),
        ("excellent", 5),
        ("good", 4),
        ("not bad", 4),
        ("ok", 3),
        ("OK!", 3),
        ("okay", 3),
        ("not good", 2),
        ("not very good", 2),
        ("poor", 2),
        ("terrible", 1),
        ("very dissatisfied", 1),
    ],
)
def test_rating_understands_numbers_words_and_phrases(typed, score):
    assert parse_answer(RATING, typed) == score


@pytest.mark.parametrize("typed", ["0", "6", "10", "-1", "4.5", "100", "4/10", "8 out of 10"])
def test_rating_out_of_range_or_on_another_scale_is_asked_again(typed):
    assert parse_answer(RATING, typed) is None


@pytest.mark.parametrize("typed", ["", "   ", "asdf", "purple", "unhappy about it", "\u2605\u2605\u2605"])
def test_rating_gibberish_is_asked_again(typed):
    assert parse_answer(RATING, typed) is None


# --- yes / no -------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["yes", "Yes!", "y", "yeah", "yep it did", "sure", "Yes, thanks", "absolutely"])
def test_yes_answers_are_stored_as_1(typed):
    assert parse_answer(YES_NO, typed) == 1


@pytest.mark.parametrize("typed", ["no", "No.", "n", "nope", "nah", "not really", "not yet", "no, it didn't",
                                   "It didn't"])
def test_no_answers_are_stored_as_0(typed):
    assert parse_answer(YES_NO, typed) == 0


@pytest.mark.parametrize("typed", ["maybe", "kind of", "nothing", "5", ""])
def test_unclear_yes_no_answers_are_asked_again(typed):
    assert parse_answer(YES_NO, typed) is None


# --- NPS ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "score"),
    [("0", 0), ("zero", 0), ("7", 7), ("10", 10), ("ten", 10), ("10/10", 10), ("9 out of 10", 9),
     ("nine out of ten", 9)],
)
def test_nps_accepts_the_whole_0_to_10_scale(typed, score):
    assert parse_answer(NPS, typed) == score


@pytest.mark.parametrize("typed", ["11", "-1", "100", "4/5", "eleven", "great"])
def test_nps_out_of_range_or_words_are_asked_again(typed):
    assert parse_answer(NPS, typed) is None


# --- text -----------------------------------------------------------------------------------


def test_comment_is_kept_as_typed_without_surrounding_spaces():
    assert parse_answer(OPTIONAL_TEXT, "  Great service, thanks!  ") == "Great service, thanks!"


@pytest.mark.parametrize("typed", ["skip", "Skip.", "no comment", "No comment!", "n/a", "nothing to add"])
def test_optional_comment_can_be_skipped(typed):
    with pytest.raises(SurveySkipped):
        parse_answer(OPTIONAL_TEXT, typed)


def test_required_text_question_cannot_be_skipped():
    assert parse_answer(REQUIRED_TEXT, "skip") is None
    assert parse_answer(REQUIRED_TEXT, "The wait was long") == "The wait was long"
