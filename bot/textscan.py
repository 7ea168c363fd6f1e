"""Finds ticket references, e-mails, phones, order and card numbers in free text, and masks personal data.

Built on a blank spaCy English pipeline with a rule Matcher: no downloaded model,
so it works offline and loads in milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

TICKET_REF_PREFIX = "TCK-"
TICKET_CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
TICKET_CODE_LENGTH = 6

# Personal data is masked; references and order numbers are kept (they identify no one).
PERSONAL_LABELS = ("EMAIL", "PHONE", "CARD")

_CODE = f"[a-z2-7]{{{TICKET_CODE_LENGTH}}}"
_TICKET_IN_ONE_TOKEN = rf"^tck[-_#]?{_CODE}$"  # matched against the lower-cased token
_DIGITS = re.compile(r"\d")
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


@dataclass(frozen=True)
class Finding:
    label: str  # TICKET_REF | EMAIL | PHONE | ORDER_NUMBER | CARD
    text: str
    start: int  # character offsets in the scanned text
    end: int
    value: str  # normalised: TCK-ABC234, lower-case e-mail, digits only for numbers


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2 == 1:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


def _patterns() -> dict[str, list[list[dict]]]:
    digit_group = {"TEXT": {"REGEX": r"^\(?\+?\d{1,6}\)?$"}}
    separator = {"TEXT": {"IN": ["-", ".", "/"]}, "OP": "?"}
    return {
        "TICKET_REF": [
            [{"LOWER": {"REGEX": _TICKET_IN_ONE_TOKEN}}],
            [{"LOWER": "tck"}, {"TEXT": {"IN": ["-", "_", "#"]}, "OP": "?"},
             {"LOWER": {"REGEX": rf"^{_CODE}$"}}],
        ],
        "EMAIL": [[{"LIKE_EMAIL": True}]],
        "ORDER_NUMBER": [
            [{"LOWER": {"IN": ["order", "ord", "order#"]}},
             {"LOWER": {"IN": ["number", "no", "no.", "nr", "nr.", "#", "id", "num"]}, "OP": "?"},
             {"TEXT": {"REGEX": r"^#?\d{4,12}$"}}],
            [{"TEXT": "#"}, {"TEXT": {"REGEX": r"^\d{4,12}$"}}],
            [{"TEXT": {"REGEX": r"^#\d{4,12}$"}}],
        ],
        # Long digit runs, possibly split by spaces, dashes or dots: cards and phones
        # are told apart afterwards by length and checksum.
        "NUMBER_RUN": [
            [{"TEXT": {"REGEX": r"^\+?[\d\-\.]{7,23}$"}}],
            [digit_group, separator, digit_group],
            [digit_group, separator, digit_group, separator, digit_group],
            [digit_group, separator, digit_group, separator, digit_group, separator, digit_group],
            [digit_group, separator, digit_group, separator, digit_group, separator, digit_group,
             separator, digit_group],
        ],
    }


@lru_cache
def _pipeline() -> tuple[Language, Matcher]:
    nlp = spacy.blank("en")
    matcher = Matcher(nlp.vocab)
    for label, patterns in _patterns().items():
        matcher.add(label, patterns)
    return nlp, matcher


def _classify_number(span: Span) -> str | None:
    text = span.text
    if _DATE_LIKE.match(text.replace(" ", "")):
        return None
    digits = "".join(_DIGITS.findall(text))
    if 13 <= len(digits) <= 19 and _luhn_valid(digits) and not text.lstrip().startswith("+"):
        return "CARD"
    if 7 <= len(digits) <= 15:
        return "PHONE"
    return None


def _normalise(label: str, text: str) -> str:
    if label == "TICKET_REF":
        code = re.sub(r"[^a-z2-7]", "", text.lower()[3:])
        return TICKET_REF_PREFIX + code.upper()
    if label == "EMAIL":
        return text.lower()
    if label in ("PHONE", "CARD", "ORDER_NUMBER"):
        prefix = "+" if label == "PHONE" and text.lstrip().startswith("+") else ""
        return prefix + "".join(_DIGITS.findall(text))
    return text


def scan(text: str) -> list[Finding]:
    """Every ticket ref, e-mail, phone, order and card number in `text`, in order."""
    if not text:
        return []
    nlp, matcher = _pipeline()
    doc: Doc = nlp.make_doc(text)
    spans: list[Span] = []
    for match_id, start, end in matcher(doc):
        label = nlp.vocab.strings[match_id]
        span = Span(doc, start, end, label=label)
        if label == "NUMBER_RUN":
            resolved = _classify_number(span)
            if resolved is None:
                continue
            span = Span(doc, start, end, label=resolved)
        spans.append(span)
    # Longest span wins; an order cue ("order 123456") beats a bare number run
    # because it is longer.
    findings = [
        Finding(
            label=span.label_,
            text=span.text,
            start=span.start_char,
            end=span.end_char,
            value=_normalise(span.label_, span.text),
        )
        for span in filter_spans(spans)
    ]
    return sorted(findings, key=lambda finding: finding.start)


def first(text: str, label: str) -> str | None:
    """The normalised value of the first finding with `label`, if any."""
    return next((finding.value for finding in scan(text) if finding.label == label), None)


def redact(text: str, labels: tuple[str, ...] = PERSONAL_LABELS) -> str:
    """`text` with e-mails, phone and card numbers replaced by [EMAIL], [PHONE], [CARD]."""
    if not text:
        return text
    pieces: list[str] = []
    cursor = 0
    for finding in scan(text):
        if finding.label not in labels:
            continue
        pieces.append(text[cursor:finding.start])
        pieces.append(f"[{finding.label}]")
        cursor = finding.end
    pieces.append(text[cursor:])
    return "".join(pieces)


_EMAIL_SHAPE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def is_valid_email(value: str) -> bool:
    """A deliberately plain check: one @, a dotted domain, no spaces, at most 254 chars."""
    value = value.strip()
    return len(value) <= 254 and bool(_EMAIL_SHAPE.match(value))
