"""A small world for the report tests, whose figures were worked out by hand (see
test_kpis.py). The period is Mon 2 - Sun 8 March 2026 (UTC); "now" is Mon 9 March 12:00 UTC.
Rows are written directly, with exact times, so each figure is known."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from bot.conversations.models import Conversation, ConversationEvent, Handoff, Message
from bot.feedback.models import Feedback
from bot.reports.period import Period
from bot.surveys.models import SurveyAnswer, SurveyResponse
from bot.tickets.models import Ticket
from tests.factories import make_user


def at(day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=timezone.utc)


NOW = at(9, 12)
WEEK = Period(date(2026, 3, 2), date(2026, 3, 8), "UTC")


def chat(session, cid: str, created: datetime, *lines: tuple[str, bool], agent=None, held=False) -> None:
    session.add(Conversation(id=cid, token_hash="x" * 64, created_at=created, updated_at=created,
                             agent_id=agent.id if agent else None))
    session.add(Message(conversation_id=cid, sender="bot", text="Hello!", created_at=created))
    for n, (text, fallback) in enumerate(lines, start=1):
        session.add(Message(conversation_id=cid, sender="customer", text=text, fallback=fallback,
                            created_at=created + timedelta(minutes=n)))
    if held:
        session.add(ConversationEvent(conversation_id=cid, from_state="queued", to_state="agent",
                                      actor=f"agent:{agent.id}", created_at=created + timedelta(minutes=5)))
    session.flush()


def handoff(session, cid: str, reason: str, status: str, requested: datetime, wait: int | None = None,
            agent=None) -> None:
    session.add(Handoff(conversation_id=cid, reason=reason, status=status, requested_at=requested,
                        agent_id=agent.id if agent else None,
                        claimed_at=requested + timedelta(seconds=wait) if wait is not None else None))
    session.flush()


def ticket(session, reference: str, created: datetime, *, category: str, priority: str, classification: str,
           status: str = "open", reply: int | None = None, resolve: int | None = None, reply_due: int = 3600,
           resolve_due: int = 86400, conversation: str | None = None, assignee=None, channel: str = "chat") -> None:
    """`reply`/`resolve`: seconds after opening; `*_due`: seconds after opening."""
    session.add(Ticket(
        reference=reference, subject=reference, description="x", category=category, priority=priority,
        classification=classification, status=status, created_at=created, updated_at=created,
        first_response_due=created + timedelta(seconds=reply_due),
        resolution_due=created + timedelta(seconds=resolve_due),
        first_responded_at=created + timedelta(seconds=reply) if reply is not None else None,
        resolved_at=created + timedelta(seconds=resolve) if resolve is not None else None,
        conversation_id=conversation, assignee_id=assignee.id if assignee else None, channel=channel))
    session.flush()


def survey(session, cid: str, started: datetime, completed: bool, channel: str = "chat", **scores: int) -> None:
    types = {"csat": "rating_1_5", "solved": "yes_no", "speed": "rating_1_5", "solution": "rating_1_5",
             "courtesy": "rating_1_5", "recommend": "nps_0_10"}
    response = SurveyResponse(conversation_id=cid, survey_key="default", survey_version=1, started_at=started,
                              completed=completed, channel=channel)
    session.add(response)
    session.flush()
    for position, (key, score) in enumerate(scores.items()):
        session.add(SurveyAnswer(response_id=response.id, question_key=key, question_type=types[key],
                                 question_text=key, position=position, score=score, answered_at=started))
    session.flush()


def feedback(session, reference: str, category: str, created: datetime, conversation: str | None = None,
             text: str = "x") -> None:
    session.add(Feedback(reference=reference, category=category, text=text, anonymous=conversation is None,
                         conversation_id=conversation, created_at=created))
    session.flush()


def build_world(session) -> dict:
    ann, ben = make_user(session, name="Ann"), make_user(session, name="Ben")
    # Chats (customer lines: text, not understood?).
    chat(session, "c1", at(2), ("hello", False), ("where is my order", False))                 # contained
    chat(session, "c2", at(2, 11), ("asdf", True), ("ASDF ", True), ("what?", False))          # contained
    chat(session, "c3", at(3), ("a person please", False), agent=ann, held=True)
    chat(session, "c4", at(4), ("blorp", True), agent=ben, held=True)
    chat(session, "c5", at(5), ("a person", False))                                             # left the queue
    chat(session, "c6", at(6), ("a person", False))                                             # nobody online
    chat(session, "c7", at(6, 12))                                                              # greeting only
    chat(session, "c8", at(1), ("too early", True))                                             # before the period
    chat(session, "c9", at(7), ("I rated you 1", False), agent=ann, held=True)
    handoff(session, "c3", "requested", "resolved", at(3, 10, 2), wait=120, agent=ann)
    handoff(session, "c4", "fallback", "resolved", at(4, 10, 2), wait=300, agent=ben)
    handoff(session, "c5", "requested", "cancelled", at(5, 10, 2))
    handoff(session, "c6", "requested", "unavailable", at(6, 10, 2))
    handoff(session, "c9", "recovery", "resolved", at(7, 10, 2), wait=60, agent=ann)
    handoff(session, "c8", "requested", "cancelled", at(1, 10, 2))                              # before the period
    # Tickets (due and done times in seconds after opening).
    ticket(session, "T0", at(1), category="billing", priority="normal", classification="routine")  # old, breaching
    ticket(session, "T1", at(3), category="billing", priority="high", classification="urgent", status="resolved",
           reply=1800, resolve=7200, reply_due=3600, resolve_due=8 * 3600, conversation="c3", assignee=ann)
    ticket(session, "T2", at(6), category="orders_shipping", priority="normal", classification="routine",
           reply_due=4 * 3600, resolve_due=3 * 86400, conversation="c6")
    ticket(session, "T3", at(3, 9), category="account", priority="low", classification="complex",
           status="resolved", reply=7200, resolve=18000, reply_due=3600, resolve_due=86400, assignee=ben)
    ticket(session, "T4", at(8, 12), category="billing", priority="normal", classification="routine", status="new",
           reply_due=int((NOW + timedelta(minutes=30) - at(8, 12)).total_seconds()), resolve_due=2 * 86400)
    ticket(session, "T5", at(4), category="billing", priority="normal", classification="routine", status="closed",
           resolve=3600, reply_due=4 * 3600, resolve_due=86400)
    # Surveys.
    survey(session, "c3", at(3, 11), True, csat=5, solved=1, speed=4, solution=5, courtesy=5, recommend=10)
    survey(session, "c4", at(4, 11), True, csat=2, solved=0, speed=2, solution=1, courtesy=4, recommend=3)
    survey(session, "c1", at(2, 10, 30), False, csat=4)
    survey(session, "c2", at(2, 11, 30), False)                                                 # declined
    survey(session, "c9", at(7, 11), True, csat=3, solved=1, speed=3, solution=3, courtesy=3, recommend=9)
    survey(session, "c8", at(1, 11), True, csat=1)                                              # before the period
    # Feedback.
    feedback(session, "FB-1", "complaint", at(4, 12), conversation="c4")
    feedback(session, "FB-2", "suggestion", at(5, 12))
    feedback(session, "FB-3", "complaint", at(6, 12))
    feedback(session, "FB-4", "service_quality", at(2, 12), conversation="c1")
    feedback(session, "FB-0", "complaint", at(1, 12))                                           # before the period
    return {"ann": ann, "ben": ben}


def comment(session, cid: str, score: int, text: str, day: int = 3, channel: str = "chat") -> int:
    response = SurveyResponse(conversation_id=cid, survey_key="default", survey_version=1, started_at=at(day),
                              completed=True, channel=channel)
    session.add(response)
    session.flush()
    session.add_all([SurveyAnswer(response_id=response.id, question_key="csat", question_type="rating_1_5",
                                  question_text="?", position=0, score=score, answered_at=at(day)),
                     SurveyAnswer(response_id=response.id, question_key="comment", question_type="text",
                                  question_text="?", position=1, text=text, answered_at=at(day))])
    session.flush()
    return response.id
