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

from nlu.patterns import (  # noqa: F401  (the prefix and alphabet are re-exported for bot.tickets)
    EMAIL,
    TICKET_CODE_AFTER_CUE,
    TICKET_CODE_ALPHABET,
    TICKET_CODE_LENGTH,
    TICKET_REF,
    TICKET_REF_PREFIX,
)

# Personal data is masked; references and order numbers are kept (they identify no one).
PERSONAL_LABELS = ("EMAIL", "PHONE", "CARD")

# References and e-mails are found on the raw text, not on tokens: spaCy's tokenizer cuts codes
# such as "tck-6he35k" or "TCK-BUXD5D." in places that differ from code to code, and splits
# "John.Doe@Example.COM" at ".D" and ".C". The patterns are shared with the NLU pipeline.
_TICKET_REFS = (TICKET_REF, TICKET_CODE_AFTER_CUE)
_DIGITS = re.compile(r"\d")
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


@dataclass(frozen=True)
class Finding:
    label: str  # TICKET_REF | EMAIL | PHONE | ORDER_NUMBER | CARD
    text: str
    start: int  # character offsets in the scanned text
    end: int
    value: str  # normalised: TCK-ABC234, lower-case e-mail, digits only for numbers


def _patterns() -> dict[str, list[list[dict]]]:
    return {
        "ORDER_NUMBER": [
            [{"LOWER": {"IN": ["order", "ord", "order#"]}},
             {"LOWER": {"IN": ["number", "no", "no.", "nr", "nr.", "#", "id", "num"]}, "OP": "?"},
             {"TEXT": ".", "OP": "?"},  # the tokenizer splits "no." into "no" + "."
             {"TEXT": {"REGEX": r"^#?\d{4,12}$"}}],
            [{"TEXT": "#"}, {"TEXT": {"REGEX": r"^\d{4,12}$"}}],
            [{"TEXT": {"REGEX": r"^#\d{4,12}$"}}],
        ],
        # Digit groups, possibly split by spaces, dashes, dots, slashes or brackets:
        # cards and phones are told apart afterwards by length and a leading "+".
        "NUMBER_RUN": [
            [{"TEXT": {"IN": ["(", "+", "(+"]}, "OP": "?"},
             {"TEXT": {"REGEX": r"^[(+]?[\d\-./()]*\d[\d\-./()]*$"}},
             {"TEXT": {"REGEX": r"^[\d\-./()]+$"}, "OP": "*"}],
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
    """Card-like: 13-19 digits (no checksum test: a mistyped card number is still
    personal data). Phone: 7-12 digits, or up to 15 after a leading "+"."""
    text = span.text.strip()
    if _DATE_LIKE.match(text.replace(" ", "")):
        return None
    digits = "".join(_DIGITS.findall(text))
    if text.startswith("+"):
        return "PHONE" if 7 <= len(digits) <= 15 else None
    if 13 <= len(digits) <= 19:
        return "CARD"
    if 7 <= len(digits) <= 12:
        return "PHONE"
    return None


def _normalise(label: str, text: str) -> str:
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
    findings = [
        Finding("EMAIL", match.group(0), match.start(), match.end(), match.group(0).lower())
        for match in EMAIL.finditer(text)
    ]
    # An e-mail is personal data: it wins over a reference inside it ("tck-7qk2md@...").
    for pattern in _TICKET_REFS:
        for match in pattern.finditer(text):
            start, end = match.span() if pattern is TICKET_REF else match.span(1)
            if not any(start < found.end and found.start < end for found in findings):
                findings.append(Finding("TICKET_REF", text[start:end], start, end,
                                        TICKET_REF_PREFIX + match.group(1).upper()))
    nlp, matcher = _pipeline()
    doc: Doc = nlp.make_doc(text)
    matches = [
        Span(doc, start, end, label=nlp.vocab.strings[match_id]) for match_id, start, end in matcher(doc)
    ]
    spans: list[Span] = []
    # Longest span wins, before numbers are judged: a whole card number is one run,
    # never a phone number inside it; an order cue ("order 123456") is longer than
    # the bare number it holds.
    for span in filter_spans(matches):
        if span.label_ == "NUMBER_RUN":
            end = span.end
            while end > span.start and not any(ch.isdigit() for ch in doc[end - 1].text):
                end -= 1  # a full stop or bracket after the number is not part of it
            span = Span(doc, span.start, end, label="NUMBER_RUN")
            resolved = _classify_number(span)
            if resolved is None:
                continue
            span = Span(doc, span.start, span.end, label=resolved)
        if not any(span.start_char < ref.end and ref.start < span.end_char for ref in findings):
            spans.append(span)
    findings += [
        Finding(
            label=span.label_,
            text=span.text,
            start=span.start_char,
            end=span.end_char,
            value=_normalise(span.label_, span.text),
        )
        for span in spans
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


_EMAIL_SHAPE_TEXT = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_EMAIL_SHAPE = re.compile(f"^{_EMAIL_SHAPE_TEXT}$")
EMAIL_MAX_CHARS = 254

# Every character str.strip() removes (the highest is U+3000), spelled out: the OpenAPI patterns below
# then mean what our validators do in Python, in pydantic's Rust regex and in a client's ECMAScript.
_SPACE = "".join(f"\\u{code:04x}" for code in range(0x3001) if chr(code).isspace())
# What the API's validators accept, for its OpenAPI document (the validators keep their own words
# for a refusal): some text that is not all white space; an e-mail address as clean_email takes it.
NOT_BLANK = f"[^{_SPACE}]"
NOT_BLANK_OR_SLASHES = f"[^{_SPACE}/]"  # a chat line: "/" alone says nothing either
# Marks a schema node whose values are the configured ticket categories (api.errors adds them as its enum).
TICKET_CATEGORY = "x-ticket-category"
EMAIL_PATTERN = f"^[{_SPACE}]*{_EMAIL_SHAPE_TEXT}[{_SPACE}]*$"
EMAIL_OR_BLANK_PATTERN = f"^[{_SPACE}]*({_EMAIL_SHAPE_TEXT}[{_SPACE}]*)?$"


def clean_email(value: str) -> str:
    """The address trimmed and lower-cased; ValueError (for a validator) when it is not one."""
    value = value.strip().lower()
    if not is_valid_email(value):
        raise ValueError("that is not a valid e-mail address")
    return value


def is_valid_email(value: str) -> bool:
    """A deliberately plain check: one @, a dotted domain, no spaces, at most 254 chars."""
    value = value.strip()
    return len(value) <= 254 and bool(_EMAIL_SHAPE.match(value))
