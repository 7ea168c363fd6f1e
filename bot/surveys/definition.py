"""The survey as data: loading its definition and understanding typed answers."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, model_validator

QuestionType = Literal["rating_1_5", "yes_no", "nps_0_10", "text"]


class SurveyQuestion(BaseModel):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: QuestionType
    text: str = Field(min_length=1)
    required: bool = True


class SurveyDefinition(BaseModel):
    key: str
    version: int = 1
    questions: list[SurveyQuestion] = Field(min_length=1)

    @model_validator(mode="after")
    def _keys_unique_and_headline_scored(self) -> SurveyDefinition:
        keys = [question.key for question in self.questions]
        if len(keys) != len(set(keys)):
            raise ValueError("survey question keys must be unique")
        if self.questions[0].type not in ("rating_1_5", "nps_0_10"):
            raise ValueError("the first survey question must be a rating (it is the headline score)")
        return self

    def question(self, index: int) -> SurveyQuestion | None:
        return self.questions[index] if 0 <= index < len(self.questions) else None


@lru_cache(maxsize=4)
def load_survey(path: Path) -> SurveyDefinition:
    with open(path, encoding="utf-8") as handle:
        return SurveyDefinition.model_validate(yaml.safe_load(handle))


class SurveySkipped(Exception):
    """The customer chose not to answer an optional question."""


_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}
# Words people use instead of a number on a 1-5 scale. Longer phrases are matched first.
_RATING_WORDS = [
    ("not bad", 4), ("not satisfied", 2), ("not happy", 2), ("not very good", 2),
    ("not at all satisfied", 1), ("not great", 2),
    ("very dissatisfied", 1), ("extremely dissatisfied", 1), ("very bad", 1), ("very poor", 1),
    ("terrible", 1), ("awful", 1), ("horrible", 1), ("worst", 1), ("useless", 1), ("appalling", 1),
    ("not good", 2), ("dissatisfied", 2), ("unsatisfied", 2), ("poor", 2),
    ("bad", 2), ("disappointing", 2), ("disappointed", 2), ("meh", 3),
    ("okay", 3), ("ok", 3), ("average", 3), ("fine", 3), ("so-so", 3), ("so so", 3),
    ("neutral", 3), ("alright", 3), ("decent", 3),
    ("very good", 5), ("very satisfied", 5), ("extremely satisfied", 5), ("excellent", 5),
    ("amazing", 5), ("perfect", 5), ("outstanding", 5), ("fantastic", 5), ("great", 5),
    ("brilliant", 5), ("superb", 5), ("wonderful", 5), ("awesome", 5),
    ("satisfied", 4), ("good", 4), ("pretty good", 4), ("happy", 4), ("nice", 4),
]
_YES = {"yes", "y", "yeah", "yep", "yup", "sure", "it did", "solved", "yes it did", "definitely",
        "absolutely", "of course", "correct", "indeed", "affirmative", "true", "totally"}
_NO = {"no", "n", "nope", "nah", "not really", "it didn't", "it did not", "didn't", "not at all",
       "unsolved", "not solved", "no it didn't", "negative", "false", "not yet"}
_SKIP = {"skip", "no comment", "nothing", "none", "no", "nope", "nah", "n/a", "na", "pass",
         "no thanks", "nothing to add", "-", "no thank you", "all good", "that's all"}

# A leading minus is part of the number: "-1" is out of range, not 1.
_INT_IN_TEXT = re.compile(r"(?<![\d.\-])(\d{1,2})(?:\s*(?:/|out of|of)\s*(\d{1,2}))?(?![\d.])")
_NO_START = re.compile(r"^(?:no|nope|nah|not)\b")


def _clean(text: str) -> str:
    text = (text or "").strip().lower()
    text = re.sub(r"[!?.,;:]+$", "", text)
    return re.sub(r"\s+", " ", text)


def _number(text: str) -> tuple[int, int | None] | None:
    """The number in `text`, and the scale it was given on ("4/10" → (4, 10)), if any."""
    match = _INT_IN_TEXT.search(text)
    if match:
        return int(match.group(1)), int(match.group(2)) if match.group(2) else None
    for word, value in _NUMBER_WORDS.items():
        if re.search(rf"\b{word}\b", text):
            return value, None
    return None


def parse_answer(question: SurveyQuestion, raw: str) -> int | str | None:
    """The answer as stored: an int for scales and yes/no (1/0), a string for text.

    Returns None when the answer cannot be understood for this question (ask again);
    raises SurveySkipped when an optional question is skipped.
    """
    text = _clean(raw)
    if not text:
        return None
    if question.type == "text":
        if text in _SKIP:
            if question.required:
                return None
            raise SurveySkipped
        return raw.strip()
    if question.type == "yes_no":
        if text in _YES or text.startswith(("yes", "yeah", "yep")):
            return 1
        if text in _NO or _NO_START.match(text):  # also "no, it didn't"
            return 0
        return None
    low, high = (1, 5) if question.type == "rating_1_5" else (0, 10)
    found = _number(text)
    if found is not None:
        number, scale = found
        # "4/10" on a 1-5 question is not a 4 out of 5: ask again rather than guess.
        if scale is not None and scale != high:
            return None
        return number if low <= number <= high else None
    if question.type == "rating_1_5":
        for phrase, value in _RATING_WORDS:
            if re.search(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", text):
                return value
    return None
