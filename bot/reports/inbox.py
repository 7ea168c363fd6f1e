"""The managers' feedback inbox: every feedback item and every survey comment in one list,
with filters and text search; each item can be marked reviewed, given an owner, a due date
and a note of the action taken."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import and_, func, literal, null, or_, select
from sqlalchemy.orm import Session, aliased

from bot.conversations.models import Conversation
from bot.db import contains_text, refuse_naive_time, utcnow
from bot.errors import Conflict, NotFound
from bot.feedback.models import SURVEY_COMMENT, Feedback, InboxReview
from bot.reports.kpis import within
from bot.reports.period import Period
from bot.surveys.models import SurveyAnswer, SurveyResponse
from bot.users.models import User
from bot.users.service import active_user

Kind = Literal["feedback", "survey"]
InboxStatus = Literal["new", "reviewed", "actioned"]


class InboxItem(BaseModel):
    kind: Kind
    id: int = Field(description="the feedback item's or the survey response's id")
    at: datetime
    text: str
    score: int | None = Field(description="survey comments: the headline (first-question) score")
    category: str = Field(description="the feedback category, or 'survey_comment'")
    channel: str = Field(description="where it came in: chat, or page (a survey answered on the ticket's page)")
    conversation_id: str | None = Field(description="never for anonymous feedback")
    customer: str | None = Field(description="name or e-mail; never for anonymous feedback")
    anonymous: bool = Field(description="feedback given anonymously")
    agent: str | None = Field(description="who handled the chat, if a person did")
    status: InboxStatus = Field(description="new; reviewed; actioned (an action note was written)")
    reviewed_at: datetime | None
    owner_id: int | None
    owner_name: str | None
    due_at: datetime | None
    action_note: str | None


class InboxPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[InboxItem]


class InboxError(Conflict):
    """A change that cannot be made."""


SEARCH_WORDS = 10  # at most this many words of `q` are used


def _parts(period: Period | None, *, kind: str | None, category: str | None, channel: str | None,
           min_score: int | None, max_score: int | None, q: list[str]):
    """The two kinds of item as one UNION ALL, filtered (`q`: words the text must all contain)."""
    parts = []
    if kind in (None, "feedback") and min_score is None and max_score is None and category != SURVEY_COMMENT:
        conditions = [within(Feedback.created_at, period)] if period else []
        if category:
            conditions.append(Feedback.category == category)
        if channel:
            conditions.append(Feedback.channel == channel)
        conditions += [contains_text(Feedback.text, word) for word in q]
        parts.append(select(
            literal("feedback").label("kind"), Feedback.id.label("id"), Feedback.created_at.label("at"),
            Feedback.text.label("text"), null().label("score"), Feedback.category.label("category"),
            Feedback.channel.label("channel"),
            Feedback.conversation_id.label("conversation_id"), Feedback.anonymous.label("anonymous"),
            func.coalesce(Feedback.customer_name, Feedback.customer_email).label("customer")).where(*conditions))
    if kind in (None, "survey") and category in (None, SURVEY_COMMENT):
        headline, comment = aliased(SurveyAnswer), aliased(SurveyAnswer)
        conditions = [comment.text.is_not(None), comment.text != ""]
        if period:
            conditions.append(within(comment.answered_at, period))
        if min_score is not None:
            conditions.append(headline.score >= min_score)
        if max_score is not None:
            conditions.append(headline.score <= max_score)
        if channel:
            conditions.append(SurveyResponse.channel == channel)
        conditions += [contains_text(comment.text, word) for word in q]
        parts.append(
            select(literal("survey").label("kind"), SurveyResponse.id.label("id"), comment.answered_at.label("at"),
                   comment.text.label("text"), headline.score.label("score"),
                   literal(SURVEY_COMMENT).label("category"), SurveyResponse.channel.label("channel"),
                   SurveyResponse.conversation_id.label("conversation_id"), literal(False).label("anonymous"),
                   SurveyResponse.customer_email.label("customer"))
            .join(comment, and_(comment.response_id == SurveyResponse.id, comment.question_type == "text"))
            .outerjoin(headline, and_(headline.response_id == SurveyResponse.id, headline.position == 0))
            .where(*conditions))
    if not parts:
        return None
    items = parts[0] if len(parts) == 1 else parts[0].union_all(parts[1])
    return items.subquery("items")


def list_inbox(*, session: Session, period: Period | None, kind: str | None = None, category: str | None = None,
               channel: str | None = None, min_score: int | None = None, max_score: int | None = None,
               agent_id: int | None = None, status: str | None = None, q: str | None = None, limit: int = 50,
               offset: int = 0, only: int | None = None) -> InboxPage:
    """Newest first. `q`: words the text contains, every one, anywhere and in any case (each as
    typed: % and _ are plain characters); `only`, one item of `kind` by id."""
    items = _parts(period, kind=kind, category=category, channel=channel, min_score=min_score, max_score=max_score,
                   q=(q or "").split()[:SEARCH_WORDS])
    if items is None:
        return InboxPage(total=0, limit=limit, offset=offset, items=[])
    owner, agent = aliased(User), aliased(User)
    query = (select(items, InboxReview, owner.name.label("owner_name"), agent.name.label("agent_name"))
             .outerjoin(InboxReview, and_(InboxReview.item_kind == items.c.kind, InboxReview.item_id == items.c.id))
             .outerjoin(owner, owner.id == InboxReview.owner_id)
             .outerjoin(Conversation, Conversation.id == items.c.conversation_id)
             .outerjoin(agent, agent.id == Conversation.agent_id))
    conditions = [items.c.id == only] if only is not None else []
    if agent_id is not None:
        conditions.append(Conversation.agent_id == agent_id)
    if status == "new":
        conditions.append(or_(InboxReview.id.is_(None), InboxReview.reviewed_at.is_(None)))
    elif status == "reviewed":
        conditions.append(and_(InboxReview.reviewed_at.is_not(None),
                               func.coalesce(InboxReview.action_note, "") == ""))
    elif status == "actioned":
        conditions.append(func.coalesce(InboxReview.action_note, "") != "")
    total = session.scalar(select(func.count()).select_from(query.where(*conditions).subquery())) or 0
    rows = session.execute(query.where(*conditions).order_by(items.c.at.desc(), items.c.kind, items.c.id.desc())
                           .limit(limit).offset(offset)).all()
    return InboxPage(total=total, limit=limit, offset=offset, items=[_item(row) for row in rows])


def item_of(*, session: Session, kind: str, item_id: int) -> InboxItem:
    """One item as the inbox shows it, whatever its date."""
    [item] = list_inbox(session=session, period=None, kind=kind, only=item_id).items
    return item


def _item(row) -> InboxItem:
    review: InboxReview | None = row.InboxReview
    note = review.action_note if review else None
    status = "actioned" if note else "reviewed" if review and review.reviewed_at else "new"
    anonymous = bool(row.anonymous)
    at = row.at if isinstance(row.at, datetime) else datetime.fromisoformat(row.at)
    return InboxItem(kind=row.kind, id=row.id, at=at, text=row.text, score=row.score, category=row.category,
                     channel=row.channel, conversation_id=None if anonymous else row.conversation_id,
                     customer=None if anonymous else row.customer, anonymous=anonymous, agent=row.agent_name,
                     status=status,
                     reviewed_at=review.reviewed_at if review else None, owner_id=review.owner_id if review else None,
                     owner_name=row.owner_name, due_at=review.due_at if review else None, action_note=note)


def review_item(*, session: Session, kind: str, item_id: int, by: User, reviewed: bool | None = None,
                owner_id: int | None = None, set_owner: bool = False, due_at: datetime | None = None,
                action_note: str | None = None, now: datetime | None = None) -> InboxReview:
    """Record what was done with an item (all the changes given, or none)."""
    refuse_naive_time(due_at, "due_at")
    now = now or utcnow()
    model = Feedback if kind == "feedback" else SurveyResponse
    item = session.get(model, item_id)
    # A survey answer with no comment and a good score exists but is not in the inbox: nothing to review.
    if item is None or not list_inbox(session=session, period=None, kind=kind, only=item_id).items:
        raise NotFound(f"no {kind} item {item_id} in the inbox")
    if set_owner and owner_id is not None and active_user(session=session, user_id=owner_id) is None:
        raise InboxError(f"no active staff member with id {owner_id}")
    review = session.scalar(select(InboxReview).where(InboxReview.item_kind == kind, InboxReview.item_id == item_id))
    if review is None:
        review = InboxReview(item_kind=kind, item_id=item_id)
        session.add(review)
    if reviewed is not None:
        review.reviewed_at, review.reviewed_by = (now, by.id) if reviewed else (None, None)
    if set_owner:
        review.owner_id = owner_id
    if due_at is not None:
        review.due_at = due_at
    if action_note is not None:
        review.action_note = action_note.strip() or None
        if review.action_note and review.reviewed_at is None:
            review.reviewed_at, review.reviewed_by = now, by.id
    review.updated_at = now
    if isinstance(item, Feedback):  # the feedback's own status follows
        item.status = "actioned" if review.action_note else "reviewed" if review.reviewed_at else "new"
    session.flush()
    return review
