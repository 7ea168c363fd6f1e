"""Routine / urgent / complex classification of a request, and the category it points at."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from bot.settings import TicketCategory
from bot.tickets.textcat import Reading

# The learned classifier decides where its best score is at least this; below, the keyword rules do.
LEARNED_SURE = 0.5

# Phrases that make a request urgent, by reason. Matched on lower-cased tokens, so
# "Can't log in" and "cant login" are caught alongside "cannot log in".
URGENCY_PHRASES: dict[str, list[str]] = {
    "customer says it is urgent": [
        "urgent", "urgently", "asap", "as soon as possible", "emergency", "immediately",
        "right now", "right away",
    ],
    "service outage": [
        "outage", "is down", "site down", "website down", "app is down", "not loading",
        "nothing works", "whole site", "service unavailable",
    ],
    "charged twice": [
        "charged twice", "double charged", "double charge", "charged me twice",
        "charged two times", "duplicate charge", "two charges", "billed twice",
        "charged double",
    ],
    "cannot log in": [
        "cannot log in", "can't log in", "cant log in", "can not log in", "unable to log in",
        "cannot login", "can't login", "cant login", "unable to login", "locked out",
        "can't sign in", "cannot sign in", "cant sign in", "unable to sign in",
        "can't access my account", "cannot access my account",
    ],
    "safety": [
        "fire", "caught fire", "smoke", "smoking", "sparks", "sparking", "electric shock",
        "shocked me", "burned", "burnt", "burn", "injured", "injury", "overheating",
        "overheated", "melting", "melted", "exploded", "explode", "dangerous", "unsafe",
    ],
}

# Bare "again" is not here: "I'd like to order again" is no repeat contact.
REPEAT_PHRASES = [
    "writing again", "write again", "asking again", "contacting you again", "contact you again",
    "happened again", "once again", "yet again", "again and again", "still not", "still haven't",
    "still have not", "still waiting", "second time",
    "third time", "already contacted", "already wrote", "already called", "contacted you before",
    "last time",
]


_NEGATIONS = {"not", "no", "n't", "never", "nothing", "without", "isnt", "isn't", "nt"}


def _negated(doc: Doc, start: int) -> bool:
    """Whether one of the three words before a phrase, in its own clause, negates it ("not urgent", "is
    not an emergency"; not "it won't charge, burnt smell")."""
    for token in reversed(doc[max(0, start - 3):start]):
        if token.is_punct:
            return False
        if token.lower_ in _NEGATIONS:
            return True
    return False


@dataclass(frozen=True)
class Classification:
    classification: str  # routine | urgent | complex
    reason: str
    categories_mentioned: tuple[str, ...]


@lru_cache
def _nlp() -> Language:
    return spacy.blank("en")


def _folded(text: str | None) -> str:
    """Lower-cased, with typographic apostrophes made plain, before tokenizing: the
    tokenizer splits "can't" but not "CAN'T", and phones type "can’t"."""
    return (text or "").replace("\u2019", "'").replace("\u2018", "'").lower()


@lru_cache
def _urgency_matcher() -> PhraseMatcher:
    nlp = _nlp()
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    for reason, phrases in URGENCY_PHRASES.items():
        matcher.add(reason, [nlp.make_doc(phrase) for phrase in phrases])
    matcher.add("repeat", [nlp.make_doc(phrase) for phrase in REPEAT_PHRASES])
    return matcher


def _category_matcher(categories: tuple[TicketCategory, ...]) -> PhraseMatcher:
    return _cached_category_matcher(tuple((c.key, tuple(c.keywords)) for c in categories))


@lru_cache(maxsize=8)
def _cached_category_matcher(spec: tuple[tuple[str, tuple[str, ...]], ...]) -> PhraseMatcher:
    nlp = _nlp()
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    for key, keywords in spec:
        if keywords:
            matcher.add(key, [nlp.make_doc(keyword) for keyword in keywords])
    return matcher


def categories_mentioned(text: str, categories: list[TicketCategory]) -> list[str]:
    """Category keys whose keywords occur in `text`, most mentioned first."""
    nlp = _nlp()
    matcher = _category_matcher(tuple(categories))
    counts: dict[str, int] = {}
    for match_id, _start, _end in matcher(nlp.make_doc(_folded(text))):
        key = nlp.vocab.strings[match_id]
        counts[key] = counts.get(key, 0) + 1
    order = {category.key: index for index, category in enumerate(categories)}
    return sorted(counts, key=lambda key: (-counts[key], order.get(key, 0)))


def guess_category(text: str, categories: list[TicketCategory], learned: Reading | None = None) -> str | None:
    """The learned classifier's category where it is sure and the company uses that category, else
    the one whose keywords the text mentions most. The catch-all "other" is never a guess (no
    keywords point at it): when nothing better fits, the customer is asked."""
    if learned is not None and learned.category_score >= LEARNED_SURE and learned.category != "other" and (
        learned.category in {category.key for category in categories}
    ):
        return learned.category
    mentioned = categories_mentioned(text, categories)
    return mentioned[0] if mentioned else None


def classify(
    text: str,
    *,
    category: str,
    categories: list[TicketCategory],
    earlier_tickets: int = 0,
    learned: Reading | None = None,
) -> Classification:
    """The learned classifier's reading (`learned`, from bot.tickets.textcat) decides where it is
    sure (a score of LEARNED_SURE or more); where it is not, or there is none, the keyword rules do:
    urgent when the customer says so or the text shows urgency; complex when the request spans
    categories or repeats an earlier contact; routine otherwise. A customer with earlier tickets
    within the repeat window is complex unless the request is urgent."""
    ruled = _by_rules(text, category=category, categories=categories, earlier_tickets=earlier_tickets)
    if learned is None or learned.classification_score < LEARNED_SURE:
        return ruled
    read = f"reads as {learned.classification} ({learned.classification_score:.0%})"
    if learned.classification == "urgent":
        why = ruled.reason if ruled.classification == "urgent" else ""
        return Classification("urgent", "; ".join(filter(None, [read, why])), ruled.categories_mentioned)
    if earlier_tickets:
        return Classification("complex", f"repeat contact ({earlier_tickets} earlier ticket(s))",
                              ruled.categories_mentioned)
    if learned.classification == "complex":
        why = ruled.reason if ruled.classification == "complex" else ""
        return Classification("complex", "; ".join(filter(None, [read, why])), ruled.categories_mentioned)
    return Classification("routine", read, ruled.categories_mentioned)


def _by_rules(text: str, *, category: str, categories: list[TicketCategory], earlier_tickets: int) -> Classification:
    nlp = _nlp()
    doc = nlp.make_doc(_folded(text))
    reasons: dict[str, str] = {}
    for match_id, start, end in _urgency_matcher()(doc):
        if _negated(doc, start):
            continue  # "not urgent", "this isn't an emergency"
        reasons.setdefault(nlp.vocab.strings[match_id], doc[start:end].text)
    mentioned = categories_mentioned(text, categories)
    spanned = sorted(set(mentioned) | ({category} if category != "other" else set()))

    urgent = {key: phrase for key, phrase in reasons.items() if key != "repeat"}
    if urgent:
        reason = "; ".join(f"{key} (\u201c{phrase}\u201d)" for key, phrase in urgent.items())
        return Classification("urgent", reason, tuple(mentioned))
    if earlier_tickets:
        return Classification(
            "complex", f"repeat contact ({earlier_tickets} earlier ticket(s))", tuple(mentioned)
        )
    if "repeat" in reasons:
        return Classification(
            "complex", f"repeat contact (\u201c{reasons['repeat']}\u201d)", tuple(mentioned)
        )
    if len(spanned) >= 2:
        return Classification("complex", "spans categories: " + ", ".join(spanned), tuple(mentioned))
    return Classification("routine", "", tuple(mentioned))


PRIORITY_FOR_CLASSIFICATION = {"urgent": "urgent", "complex": "high", "routine": "normal"}
