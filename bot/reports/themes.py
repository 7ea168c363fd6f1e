"""What unhappy customers write about: the commonest lemmas and two-word phrases in the
comments of low-score surveys (stop words and punctuation left out), each with the comments
it comes from. spaCy's lookup lemmatizer (tables from spacy-lookups-data): no model download."""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import lru_cache

import spacy
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from bot.reports.kpis import chat_conditions, within
from bot.reports.period import Period, ReportFilters
from bot.surveys.models import SurveyAnswer, SurveyResponse

MAX_COMMENTS = 5000  # the latest ones, when there are more
TOP = 15


class Comment(BaseModel):
    response_id: int
    conversation_id: str
    score: int = Field(description="the headline (first-question) score")
    text: str
    answered_at: str


class Theme(BaseModel):
    term: str = Field(description="a lemma, or two lemmas that follow each other")
    comments: int = Field(description="how many comments use it")
    response_ids: list[int] = Field(description="the survey responses whose comments use it")


class Themes(BaseModel):
    max_score: int = Field(description="comments of responses scoring this or less on the first question")
    comments: list[Comment]
    themes: list[Theme] = Field(description="commonest first; a term must appear in two comments or more")


@lru_cache
def _nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def low_score_comments(session: Session, period: Period, filters: ReportFilters, max_score: int) -> list[Comment]:
    headline = aliased(SurveyAnswer)
    comment = aliased(SurveyAnswer)
    rows = session.execute(
        select(SurveyResponse.id, SurveyResponse.conversation_id, headline.score, comment.text, comment.answered_at)
        .join(headline, (headline.response_id == SurveyResponse.id) & (headline.position == 0))
        .join(comment, (comment.response_id == SurveyResponse.id) & (comment.question_type == "text"))
        .where(within(SurveyResponse.started_at, period),
               *chat_conditions(SurveyResponse.conversation_id, filters, channel=SurveyResponse.channel),
               headline.score <= max_score, comment.text.is_not(None), comment.text != "")
        .order_by(SurveyResponse.started_at.desc(), SurveyResponse.id.desc()).limit(MAX_COMMENTS)).all()
    return [Comment(response_id=rid, conversation_id=cid, score=score, text=text, answered_at=at.isoformat())
            for rid, cid, score, text, at in rows]


def terms(text: str) -> set[str]:
    """The lemmas (and adjacent pairs of them) a comment uses, stop words and punctuation out."""
    words = [token.lemma_ for token in _nlp()(text.lower())
             if token.is_alpha and not token.is_stop and len(token.text) > 2]
    return set(words) | {f"{first} {second}" for first, second in zip(words, words[1:], strict=False)
                          if first != second}


def find_themes(*, session: Session, period: Period, filters: ReportFilters | None = None, max_score: int = 2,
                top: int = TOP) -> Themes:
    comments = low_score_comments(session, period, filters or ReportFilters(), max_score)
    uses: dict[str, list[int]] = defaultdict(list)
    for comment in comments:
        for term in terms(comment.text):
            uses[term].append(comment.response_id)
    counts = Counter({term: len(ids) for term, ids in uses.items() if len(ids) >= 2})
    # A phrase hides the single words it is made of when they never appear apart from it.
    ranked = sorted(counts.items(), key=lambda item: (-item[1], -len(item[0].split()), item[0]))
    chosen: list[Theme] = []
    for term, count in ranked:
        if " " not in term and any(term in theme.term.split() and theme.comments == count for theme in chosen):
            continue
        chosen.append(Theme(term=term, comments=count, response_ids=sorted(uses[term])))
        if len(chosen) == top:
            break
    return Themes(max_score=max_score, comments=comments, themes=chosen)
