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


# An explicit request the bot must honour whatever else the line says or asks (issue 14): "I need to
# open a ticket. Do you ship to Austria?" opens a ticket, "file a complaint ticket" is a ticket too, and so
# is "open a support request".
# The verb must be followed by an article ("my open ticket" is a ticket the customer has), and a line
# with a ticket reference is about a ticket that exists.
# "open a ticket", "open ticket pls" (not "my open ticket": an adjective after a determiner), and
# "I need a ticket opened".
_TICKET_REQUEST = re.compile(
    r"(?<!\bmy )(?<!\bthe )(?<!\ban )(?<!\byour )(?<!\bour )(?<!\bthis )(?<!\bthat )(?<!\bany )"
    r"\b(?:(?:open|file|raise|log|create|submit|start|make|lodge|register|put in)\s+(?:me\s+|us\s+)?"
    r"(?:(?:a|an|one|another|new)\s+(?:[\w-]+\s+){0,2}?)?(?:ticket|case|(?:support|service)\s+request)\b"
    r"|(?:a|an|one)\s+(?:new\s+|support\s+)?(?:ticket|case)\s+(?:opened|raised|created|filed|logged|started)\b)",
    re.IGNORECASE,
)
# "let me talk to a person", "connect me with an agent", "speak to a real human".
_PERSON = (r"(?:real\s+|live\s+|actual\s+)?"
           r"(?:person|human|human being|agent|representative|somebody|someone|staff member|employee)")
_HUMAN_REQUEST = re.compile(
    rf"\b(?:(?:talk|speak|chat)\s+(?:to|with)|(?:connect|transfer|put)\s+me\s+(?:through\s+)?(?:to|with))\s+"
    rf"(?:a|an|some|one of your|your)?\s*{_PERSON}\b",
    re.IGNORECASE,
)
# Read in the request's own clause, just before its verb:
# "don't want to open a ticket", "no need to talk to a person": the request is declined, not made
# ("it's not working, please open a ticket" is made: the "not" is in another clause).
_DECLINED = re.compile(r"\b(?:don'?t|do not|doesn'?t|not|no need to|never|without)\b(?:\s+\S+){0,4}\s*$", re.IGNORECASE)
# "do I need to open a ticket to return it?", "I tried to open a ticket yesterday": a question or a story
# about a ticket, not a request for one now.
_NOT_NOW = re.compile(
    r"(?:\b(?:do|does|did|would|will|should|must)\s+(?:i|we|you)\s+(?:really\s+)?(?:need|have)\s+to"
    r"|\b(?:how|where|why)\s+(?:do|can|could|should|would)\s+(?:i|we)"
    r"|\b(?:tried|trying|had|already|was going|were going)\s+to|\balready)\s*$",
    re.IGNORECASE,
)
# "when can I talk to a person?" or "can I chat with someone on a Saturday?" asks about the team's hours
# (an FAQ), and "do I talk to a human or a bot?" who is answering; neither asks for a person now (read
# in the whole clause: "let me talk to a person, what are your opening hours" asks for one).
_ASKS_WHEN = re.compile(
    r"\b(?:when|what time|times?|hours|until|late|early|available|tonight|tomorrow|morning|afternoon|evening"
    r"|night|weekends?|(?:mon|tues|wednes|thurs|fri|satur|sun)days?|at\s+\d{1,2}|\d{1,2}(?::\d\d|\s?[ap]m)"
    r"|or\s+(?:a\s+|an\s+)?(?:bot|robot|machine|algorithm|ai|computer|program))\b",
    re.IGNORECASE,
)
# Words that make no second question of their own: "Can you open a ticket, please?", "Hello? ...".
_COURTESY = {"please", "pls", "plz", "hello", "hi", "hey", "thanks", "thank", "you", "ok", "okay", "asap",
             "now", "quickly", "urgently", "sorry", "excuse", "me", "thx"}


def _clause_bounds(text: str, match: re.Match[str]) -> tuple[int, int]:
    """Where the part of `text` between the punctuation around `match` starts and ends."""
    start = max(text.rfind(mark, 0, match.start()) for mark in ".?!;,") + 1
    ends = [i for i in (text.find(mark, match.end()) for mark in ".?!;,") if i != -1]
    return start, min(ends, default=len(text))


def _clause(text: str, match: re.Match[str]) -> str:
    start, end = _clause_bounds(text, match)
    return text[start:end]


def _request(text: str) -> tuple[str, re.Match[str]] | None:
    def made(match: re.Match[str] | None) -> bool:
        if match is None:
            return False
        before = text[_clause_bounds(text, match)[0]: match.start()]
        return not _DECLINED.search(before) and not _NOT_NOW.search(before)

    match = _TICKET_REQUEST.search(text)
    if made(match) and not TICKET_REF_SHAPE.search(text) and not TICKET_CODE_SHAPE_AFTER_CUE.search(text):
        return "open_ticket", match
    match = _HUMAN_REQUEST.search(text)
    if made(match) and not _ASKS_WHEN.search(_clause(text, match)):
        return "request_human", match
    return None


# Where a line goes on to ask a second thing (issue 14): "can I return worn shoes? and how long does the
# refund take", "where is order 48219, and also how do I return the shoes", "you charged me twice, btw
# where is your Munich store". Plain "and" or "also" inside a clause is no such mark: "my order also
# arrived damaged" asks one thing.
_NEXT_REQUEST = re.compile(
    r"\?\s+(?=\S)"
    r"|(?:[,;.!]\s*(?:and\s+)?|\s+and\s+)(?:also|plus|additionally)\b"
    r"|(?:[,;.!]\s*|\s+)(?:oh\s+)?(?:and\s+)?(?:btw|by the way|one more thing|another question)\b",
    re.IGNORECASE,
)


# Words that lead into the second request and are not part of it: "...? and also, how do I ...".
_LEAD_IN = re.compile(
    r"^(?:(?:and|also|plus|additionally|oh|btw|by the way|one more thing|another question)\b[\s,:;.!-]*)+",
    re.IGNORECASE)


def two_requests(text: str) -> tuple[str, str] | None:
    """The part of `text` before a second request in the same line and the rest of the line (the
    second request), or None where the line asks one thing (or what comes before the mark is a
    single word: "Hello? ...", "Hi, quick one? ...")."""
    match = _NEXT_REQUEST.search(text or "")
    if match is None or not text[match.end():].strip(" ?.!,;"):
        return None
    head = text[:match.start()].strip(" ,;.!?")
    rest = _LEAD_IN.sub("", text[match.end():].lstrip(" ,;:.!")).rstrip()
    return (head, rest) if len(head.split()) >= 2 else None


def explicit_request(text: str) -> str | None:
    """The intent a customer explicitly asks for in `text` (open_ticket, request_human), or None."""
    found = _request(text or "")
    return found[0] if found else None


def asks_beside_request(text: str) -> bool:
    """Whether `text` asks a question besides its explicit request: "I need to open a ticket. Do you
    ship to Austria?" does, "can you open a ticket? my parcel is late" does not."""
    found = _request(text or "")
    if not found:
        return False
    start, end = _clause_bounds(text, found[1])
    rest = text[:start] + text[end:].lstrip(".?!;,")
    words = [w for w in re.findall(r"[^\W\d_]+", rest.lower()) if w not in _COURTESY]
    return "?" in rest and len(words) >= 2
