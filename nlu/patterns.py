"""The details customers put in a message, as plain regular expressions.

One definition for the two readers: bot.textscan (slot values, masking personal data) and
nlu.components (what the intent classifier sees). No Rasa or spaCy imports here.
"""

from __future__ import annotations

import re

TICKET_REF_PREFIX = "TCK-"
TICKET_CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
TICKET_CODE_LENGTH = 6

_CODE = f"[a-z2-7]{{{TICKET_CODE_LENGTH}}}"
# "TCK-7QK2MD", "tck 7qk2md", "TCK7QK2MD", "tck_7qk2md", "#TCK-7QK2MD".
TICKET_REF = re.compile(rf"(?<![a-z0-9])tck[\s\-_#:]{{0,2}}({_CODE})(?![a-z0-9])", re.IGNORECASE)
# What a reference looks like to the intent classifier: customers mistype codes (an 8 for a B,
# a 0 for an O), and "any news on TCK-P2D8XE" is still a status question, even though no ticket
# can have that code (bot.textscan keeps to TICKET_REF, so the form asks for a valid one).
TICKET_REF_SHAPE = re.compile(
    rf"(?<![a-z0-9])tck[\s\-_#:]{{0,2}}([a-z0-9]{{{TICKET_CODE_LENGTH}}})(?![a-z0-9])", re.IGNORECASE
)


def _after_cue(letters: str, digits: str) -> re.Pattern[str]:
    """The bare code after a cue word: "ticket 3MZ7QA", "case no. 7qk2md", "ref: P2D8XE". The
    code must mix letters and digits, so "ticket status" or "case closed" are not references."""
    return re.compile(
        rf"(?<![a-z0-9])(?:ticket|case|ref|reference|request)(?:\s*(?:number|no\.?|nr\.?|id|#|:))?(?:\s+is)?[\s#:]*"
        rf"(?=[{letters}{digits}]*[{digits}])(?=[{digits}]*[{letters}])([{letters}{digits}]{{{TICKET_CODE_LENGTH}}})"
        rf"(?![a-z0-9])",
        re.IGNORECASE,
    )


TICKET_CODE_AFTER_CUE = _after_cue("a-z", "2-7")
TICKET_CODE_SHAPE_AFTER_CUE = _after_cue("a-z", "0-9")
# An e-mail is found on the raw text: tokenizers cut "John.Doe@Example.COM" at ".D" and ".C".
EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][\w.!#$%&'*+/=?^`{|}~-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"
)
_CURRENCY = r"(?:€|\$|£|eur|euro|euros|chf|usd|gbp)"
_NUMBER = r"\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
# "€64.99", "64,99 €", "79,00 EUR", "2x 34.99", "EUR 120": a sum of money.
AMOUNT = re.compile(
    rf"(?<![\w.,])(?:{_CURRENCY}\s?(?:{_NUMBER})|(?:\d+\s?x\s?)?(?:{_NUMBER})\s?{_CURRENCY}(?![a-z])"
    rf"|(?:\d+\s?x\s?)?\d+[.,]\d\d)(?![\w])",
    re.IGNORECASE,
)
# "12.11.", "2/4", "14/03/2024", "2024-11-30": a date written in digits.
NUMERIC_DATE = re.compile(r"(?<![\w./-])(?:\d{1,2}[./]\d{1,2}(?:[./](?:\d{4}|\d{2}))?\.?|\d{4}-\d{2}-\d{2})(?![\w/-])")
# "order 48213", "#48213", "BS-48213", "no. 552019", or a bare run of 4-12 digits.
ORDER_NUMBER = re.compile(r"(?<![\w-])(?:bs-?|#)?\d{4,12}(?![\w])", re.IGNORECASE)

# Each kind of detail, and the made-up word the intent classifier reads in its place
# (nlu.components.DetailsTokenizer). Earlier kinds win where two overlap.
PLACEHOLDERS = (
    (EMAIL, "emailaddress"),
    (TICKET_REF_SHAPE, "ticketreference"),
    (TICKET_CODE_SHAPE_AFTER_CUE, "ticketreference"),
    (AMOUNT, "moneyamount"),
    (NUMERIC_DATE, "numericdate"),
    (ORDER_NUMBER, "longnumber"),
)


def detail_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, placeholder) for each detail in `text`, in order, none overlapping."""
    spans: list[tuple[int, int, str]] = []
    for pattern, word in PLACEHOLDERS:
        for match in pattern.finditer(text or ""):
            # After a cue ("ticket 3MZ7QA") only the code is the detail; the cue stays a word.
            start, end = match.span(1) if pattern is TICKET_CODE_SHAPE_AFTER_CUE else match.span()
            if not any(start < taken_end and taken_start < end for taken_start, taken_end, _ in spans):
                spans.append((start, end, word))
    return sorted(spans)
