"""The KPIs: one service behind the dashboard, the reporting API and the exports. Every figure
is defined in bot/reports/schemas.py; every one is computed in SQL (aggregates, never rows
fetched into Python), so it holds on a million survey responses."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import ColumnElement, and_, case, exists, func, not_, or_, select, true
from sqlalchemy.orm import Session

from bot.conversations.models import Conversation, ConversationEvent, Handoff, Message
from bot.db import utcnow
from bot.feedback.models import Feedback
from bot.reports.period import Period, ReportFilters
from bot.reports.schemas import BotFigures, BreachingTicket, Satisfaction, Sla, Speed, Spread, Summary, Volume
from bot.surveys.models import SurveyAnswer, SurveyOfferDay, SurveyResponse, SurveyScoreDay
from bot.tickets.models import Ticket
from bot.users.models import User

TOP_UNRECOGNISED = 10


# --- filters ---------------------------------------------------------------------------------


def person_held(conversation_id: ColumnElement) -> ColumnElement[bool]:
    """A person held the conversation at some point (an event moved it to an agent)."""
    return exists().where(ConversationEvent.conversation_id == conversation_id, ConversationEvent.to_state == "agent")


def _ticket_match(conversation_id: ColumnElement, filters: ReportFilters) -> ColumnElement[bool] | None:
    fields = filters.ticket_fields()
    if not fields:
        return None
    return exists().where(Ticket.conversation_id == conversation_id,
                          *(getattr(Ticket, name) == value for name, value in fields.items()))


def _owner(conversation_id: ColumnElement, filters: ReportFilters) -> list[ColumnElement[bool]]:
    if filters.owner is None:
        return []
    held = person_held(conversation_id)
    return [conversation_id.is_not(None), held if filters.owner == "human" else not_(held)]


def chat_conditions(conversation_id: ColumnElement, filters: ReportFilters, *, agent: ColumnElement | None = None,
                    channel: ColumnElement | None = None) -> list[ColumnElement[bool]]:
    """Filters for anything that belongs to a chat (by its conversation id). `agent` is the
    column the agent filter compares with; by default, the conversation's agent. `channel`: the
    item's own channel column (surveys, feedback); without one the items are chats (conversations,
    their lines and handoffs)."""
    conditions = _owner(conversation_id, filters)
    if filters.channel is not None:
        if channel is not None:
            conditions.append(channel == filters.channel)
        elif filters.channel != "chat":
            # Never true (a chat's item has its chat), written so: SQLAlchemy would fold a plain false()
            # into the WHERE clause and drop the correlation of the queries around it.
            conditions.append(conversation_id.is_(None))
    if filters.agent_id is not None:
        if agent is None:
            conditions.append(exists().where(Conversation.id == conversation_id,
                                             Conversation.agent_id == filters.agent_id))
        else:
            conditions.append(agent == filters.agent_id)
    ticket = _ticket_match(conversation_id, filters)
    if ticket is not None:
        conditions.append(ticket)
    return conditions


def ticket_conditions(filters: ReportFilters) -> list[ColumnElement[bool]]:
    conditions = _owner(Ticket.conversation_id, filters)
    if filters.agent_id is not None:
        conditions.append(Ticket.assignee_id == filters.agent_id)
    if filters.channel is not None:
        conditions.append(Ticket.channel == filters.channel)
    conditions += [getattr(Ticket, name) == value for name, value in filters.ticket_fields().items()]
    return conditions


def within(column: ColumnElement, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


# --- arithmetic --------------------------------------------------------------------------------


def seconds_between(dialect: str, later: ColumnElement, earlier: ColumnElement) -> ColumnElement[float]:
    """`later` minus `earlier` in seconds, in SQL (`dialect`: the database's, e.g. "sqlite")."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def ratio(part: int | float, whole: int | float) -> float | None:
    return part / whole if whole else None


def spread(session: Session, value: ColumnElement, conditions: list[ColumnElement[bool]], source) -> Spread:
    """Count, p50 and p90 (nearest rank) of `value` over the rows of `source` meeting `conditions`
    (which leave out rows where `value` is null). PostgreSQL's percentile_disc is nearest rank;
    SQLite has no percentile aggregate, so the values are read in one pass and sorted here."""
    if session.get_bind().dialect.name == "postgresql":
        count, median, p90 = session.execute(
            select(func.count(), func.percentile_disc(0.5).within_group(value),
                   func.percentile_disc(0.9).within_group(value)).select_from(source).where(*conditions)).one()
    else:
        # Core, not the ORM: a plain list of numbers, read as fast as SQLite gives them.
        values = sorted(session.connection().execute(select(value).select_from(source).where(*conditions))
                        .scalars())
        count = len(values)
        median, p90 = (values[math.ceil(p / 100 * count) - 1] for p in (50, 90)) if count else (None, None)
    if not count:
        return Spread(count=0, median=None, p90=None)
    # To the millisecond: SQLite's julianday arithmetic is off by some microseconds.
    return Spread(count=count, median=round(float(median), 3), p90=round(float(p90), 3))


def counts_by(session: Session, column: ColumnElement, conditions: list[ColumnElement[bool]], source) -> dict:
    rows = session.execute(select(column, func.count()).select_from(source).where(*conditions)
                           .group_by(column).order_by(column))
    return {key: n for key, n in rows}


def sum_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows meet `condition` (0, never null, when there are none)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# --- survey answers ----------------------------------------------------------------------------

# (question key, question type, position, score) -> how many answers
ScoreCounts = Counter[tuple[str, str, int, int]]


def _utc_midnight(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def split_utc_days(start: datetime, end: datetime) -> tuple[list[tuple[datetime, datetime]], tuple[date, date] | None]:
    """[start, end) as the whole UTC days inside it (first day, day after the last) and the
    pieces left at either edge: a report day in another time zone straddles two UTC days."""
    first = _utc_midnight(start)
    if first < start:
        first += timedelta(days=1)
    last = _utc_midnight(end)
    if first >= last:
        return [(start, end)], None
    return [(a, b) for a, b in ((start, first), (last, end)) if a < b], (first.date(), last.date())


def _days_and_edges(period: Period, filters: ReportFilters) -> tuple[list[tuple[datetime, datetime]],
                                                                     tuple[date, date] | None]:
    """What to read from the per-day counts (whole UTC days, unfiltered only) and what from the
    rows themselves."""
    if filters.narrow():
        return [(period.start, period.end)], None
    return split_utc_days(period.start, period.end)


def offers(session: Session, period: Period, filters: ReportFilters) -> tuple[int, int]:
    """Surveys offered in the period, and of those completed."""
    offered = completed = 0
    edges, days = _days_and_edges(period, filters)
    for start, end in edges:
        n, done = session.execute(
            select(func.count(), sum_if(SurveyResponse.completed))
            .where(SurveyResponse.started_at >= start, SurveyResponse.started_at < end,
                   *chat_conditions(SurveyResponse.conversation_id, filters, channel=SurveyResponse.channel))).one()
        offered, completed = offered + n, completed + done
    if days is not None:
        n, done = session.execute(
            select(func.coalesce(func.sum(SurveyOfferDay.offered), 0),
                   func.coalesce(func.sum(SurveyOfferDay.completed), 0))
            .where(SurveyOfferDay.day >= days[0], SurveyOfferDay.day < days[1])).one()
        offered, completed = offered + n, completed + done
    return offered, completed


def score_counts(session: Session, period: Period, filters: ReportFilters) -> ScoreCounts:
    """The scored answers to surveys offered in the period, counted by question and score.
    Unfiltered, whole UTC days come from survey_score_days; the rest from the answers."""
    counts: ScoreCounts = Counter()
    edges, days = _days_and_edges(period, filters)
    for start, end in edges:
        rows = session.execute(
            select(SurveyAnswer.question_key, SurveyAnswer.question_type, SurveyAnswer.position, SurveyAnswer.score,
                   func.count())
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(SurveyResponse.started_at >= start, SurveyResponse.started_at < end, SurveyAnswer.score.is_not(None),
                   *chat_conditions(SurveyResponse.conversation_id, filters, channel=SurveyResponse.channel))
            .group_by(SurveyAnswer.question_key, SurveyAnswer.question_type, SurveyAnswer.position,
                      SurveyAnswer.score))
        counts.update({(key, kind, position, score): n for key, kind, position, score, n in rows})
    if days is not None:
        rows = session.execute(
            select(SurveyScoreDay.question_key, SurveyScoreDay.question_type, SurveyScoreDay.position,
                   SurveyScoreDay.score, func.sum(SurveyScoreDay.answers))
            .where(SurveyScoreDay.day >= days[0], SurveyScoreDay.day < days[1])
            .group_by(SurveyScoreDay.question_key, SurveyScoreDay.question_type, SurveyScoreDay.position,
                      SurveyScoreDay.score))
        counts.update({(key, kind, position, score): n for key, kind, position, score, n in rows})
    return counts


# --- the figures -------------------------------------------------------------------------------


def satisfaction(session: Session, period: Period, filters: ReportFilters) -> Satisfaction:
    offered, completed = offers(session, period, filters)
    counts = score_counts(session, period, filters)

    def tally(keep: Callable[[str, str, int, int], bool]) -> tuple[int, int, Counter[int]]:
        """How many answers `keep` accepts, the sum of their scores, and how many of each score."""
        by_score: Counter[int] = Counter()
        for (key, kind, position, score), n in counts.items():
            if keep(key, kind, position, score):
                by_score[score] += n
        return sum(by_score.values()), sum(score * n for score, n in by_score.items()), by_score

    csat_count, csat_sum, csat_scores = tally(lambda key, kind, position, score: position == 0
                                              and kind == "rating_1_5")
    dimension_keys = sorted({key for key, kind, position, _ in counts if position > 0 and kind == "rating_1_5"})
    dimensions = {}
    for dimension in dimension_keys:
        n, total, _ = tally(lambda key, kind, position, score, wanted=dimension: key == wanted and position > 0
                            and kind == "rating_1_5")
        if n:
            dimensions[dimension] = total / n
    nps_count, _, nps_scores = tally(lambda key, kind, position, score: kind == "nps_0_10")
    promoters = sum(n for score, n in nps_scores.items() if score >= 9)
    detractors = sum(n for score, n in nps_scores.items() if score <= 6)
    solved_count, solved_yes, _ = tally(lambda key, kind, position, score: key == "solved" and kind == "yes_no")
    return Satisfaction(
        surveys_offered=offered, surveys_completed=completed, response_rate=ratio(completed, offered),
        csat_answers=csat_count, csat_mean=csat_sum / csat_count if csat_count else None,
        csat_satisfied=ratio(sum(n for score, n in csat_scores.items() if score >= 4), csat_count),
        dimensions=dimensions,
        nps=100 * (promoters - detractors) / nps_count if nps_count else None, nps_answers=nps_count,
        solved_rate=ratio(solved_yes, solved_count), solved_answers=solved_count)


def speed(session: Session, period: Period, filters: ReportFilters) -> Speed:
    tickets = [within(Ticket.created_at, period), *ticket_conditions(filters)]
    handoffs = [within(Handoff.requested_at, period),
                *chat_conditions(Handoff.conversation_id, filters, agent=Handoff.agent_id)]
    dialect = session.get_bind().dialect.name
    queued, abandoned = session.execute(
        select(func.count(), sum_if(Handoff.status == "cancelled")).where(*handoffs, Handoff.status != "unavailable")
    ).one()
    return Speed(
        first_response=spread(session, Ticket.first_response_seconds,
                              [*tickets, Ticket.first_response_seconds.is_not(None)], Ticket),
        resolution=spread(session, Ticket.resolution_seconds, [*tickets, Ticket.resolution_seconds.is_not(None)],
                          Ticket),
        handoff_wait=spread(session, seconds_between(dialect, Handoff.claimed_at, Handoff.requested_at),
                            [*handoffs, Handoff.claimed_at.is_not(None)], Handoff),
        queue_abandonment_rate=ratio(abandoned, queued))


class SlaWatch:
    """An open ticket's SLA state at `now`, as SQL conditions: a due time passed and not met
    (breaching), or one coming within the hour (due soon). A reply counts as the first
    response; so does resolving without one. For queries that select `Ticket.is_open` only:
    there, late is overdue (Ticket.is_first_response_overdue and is_resolution_overdue), without
    testing the status again in every sum."""

    def __init__(self, now: datetime) -> None:
        soon = now + timedelta(hours=1)
        self.late_reply = Ticket.is_first_response_late(now)
        self.late_resolution = Ticket.is_resolution_late(now)
        self.breaching = or_(self.late_reply, self.late_resolution)
        self.reply_soon = and_(Ticket.first_answered_at.is_(None), Ticket.first_response_due >= now,
                               Ticket.first_response_due < soon)
        self.resolution_soon = and_(Ticket.resolution_due >= now, Ticket.resolution_due < soon)
        self.only_due_soon = and_(not_(self.breaching), or_(self.reply_soon, self.resolution_soon))


def sla_met(session: Session, period: Period, filters: ReportFilters, now: datetime) -> tuple[float | None,
                                                                                         float | None]:
    """The shares of first responses and of resolutions on time, for tickets opened in the period."""
    tickets = [within(Ticket.created_at, period), *ticket_conditions(filters)]

    def decided_and_met(done: ColumnElement, due: ColumnElement) -> list[ColumnElement[int]]:
        """Tickets whose due time has passed or that are done; of those, done by the due time."""
        return [sum_if(or_(done.is_not(None), due < now)), sum_if(and_(done.is_not(None), done <= due))]

    reply_decided, reply_met, resolution_decided, resolution_met = session.execute(
        select(*decided_and_met(Ticket.first_answered_at, Ticket.first_response_due),
               *decided_and_met(Ticket.resolved_at, Ticket.resolution_due)).where(*tickets)).one()
    return ratio(reply_met, reply_decided), ratio(resolution_met, resolution_decided)


def sla_now(session: Session, filters: ReportFilters, now: datetime) -> tuple[int, int]:
    """Open tickets (any age) breaching now, and those only due within the hour."""
    watch = SlaWatch(now)
    return tuple(session.execute(select(sum_if(watch.breaching), sum_if(watch.only_due_soon))
                                 .where(Ticket.is_open, *ticket_conditions(filters))).one())


def sla(session: Session, period: Period, filters: ReportFilters, now: datetime,
        open_now: tuple[int, int] | None = None) -> Sla:
    """`open_now`: sla_now's counts, when already known (they do not depend on the period)."""
    first_response_met, resolution_met = sla_met(session, period, filters, now)
    breaching_now, due_next_hour = open_now or sla_now(session, filters, now)
    return Sla(first_response_met=first_response_met, resolution_met=resolution_met,
               breaching_now=breaching_now, due_next_hour=due_next_hour)


def bot_figures(session: Session, period: Period, filters: ReportFilters) -> BotFigures:
    chats = [within(Conversation.created_at, period), Conversation.customer_lines > 0,
             *chat_conditions(Conversation.id, filters, agent=Conversation.agent_id)]
    total, contained, handed = session.execute(
        select(func.count(), sum_if(and_(not_(Conversation.asked_for_person), not_(Conversation.has_ticket))),
               sum_if(Conversation.asked_for_person)).where(*chats)).one()
    handoffs = [within(Handoff.requested_at, period),
                *chat_conditions(Handoff.conversation_id, filters, agent=Handoff.agent_id)]
    lines = [within(Message.created_at, period), Message.sender == "customer",
             *chat_conditions(Message.conversation_id, filters)]
    all_lines, not_understood = session.execute(select(func.count(), sum_if(Message.fallback)).where(*lines)).one()
    said = func.lower(func.trim(Message.text))
    top = session.execute(select(said, func.count()).where(*lines, Message.fallback == true())
                          .group_by(said).order_by(func.count().desc(), said).limit(TOP_UNRECOGNISED)).all()
    return BotFigures(conversations=total, containment_rate=ratio(contained, total), handoff_rate=ratio(handed, total),
                      handoffs_by_reason=counts_by(session, Handoff.reason, handoffs, Handoff),
                      fallback_rate=ratio(not_understood, all_lines),
                      top_unrecognised=[(text, n) for text, n in top])


def volume(session: Session, period: Period, filters: ReportFilters, conversations: int) -> Volume:
    tickets = [within(Ticket.created_at, period), *ticket_conditions(filters)]
    feedback = [within(Feedback.created_at, period),
                *chat_conditions(Feedback.conversation_id, filters, channel=Feedback.channel)]
    by_category = counts_by(session, Feedback.category, feedback, Feedback)
    fields = (Ticket.category, Ticket.priority, Ticket.classification, Ticket.channel)
    kinds = session.execute(select(*fields, func.count()).where(*tickets).group_by(*fields)).all()

    def tickets_by(field: int) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for row in kinds:
            totals[row[field]] += row[-1]
        return dict(sorted(totals.items()))

    return Volume(conversations=conversations, tickets=sum(row[-1] for row in kinds),
                  tickets_by_category=tickets_by(0), tickets_by_priority=tickets_by(1),
                  tickets_by_classification=tickets_by(2), tickets_by_channel=tickets_by(3),
                  feedback=sum(by_category.values()), feedback_by_category=by_category,
                  complaints=by_category.get("complaint", 0))


def summary(*, session: Session, period: Period, filters: ReportFilters | None = None,
            now: datetime | None = None, with_previous: bool = False,
            open_now: tuple[int, int] | None = None) -> Summary:
    """Every figure for the period; with `with_previous`, also for as many days just before."""
    filters = filters or ReportFilters()
    now = now or utcnow()
    open_now = open_now or sla_now(session, filters, now)
    bot = bot_figures(session, period, filters)
    return Summary(first=period.first, last=period.last, timezone=period.zone, generated_at=now, filters=filters,
                   satisfaction=satisfaction(session, period, filters), speed=speed(session, period, filters),
                   sla=sla(session, period, filters, now, open_now), bot=bot,
                   volume=volume(session, period, filters, bot.conversations),
                   previous=summary(session=session, period=period.previous(), filters=filters, now=now,
                                    open_now=open_now) if with_previous else None)


def sla_watch(*, session: Session, filters: ReportFilters | None = None, now: datetime | None = None,
              limit: int = 500) -> list[BreachingTicket]:
    """Open tickets breaching an SLA now, then those due within the hour; earliest due first."""
    filters, now = filters or ReportFilters(), now or utcnow()
    watch = SlaWatch(now)
    rows = session.execute(
        select(Ticket, User.name, watch.late_reply, watch.late_resolution, watch.reply_soon, watch.resolution_soon)
        .outerjoin(User, User.id == Ticket.assignee_id)
        .where(Ticket.is_open, *ticket_conditions(filters), or_(watch.breaching, watch.only_due_soon))
        .order_by(Ticket.first_response_due, Ticket.id).limit(limit)).all()
    out = []
    for ticket, name, late_reply, late_resolution, reply_soon, resolution_soon in rows:
        missed = [what for what, late in (("first_response", late_reply), ("resolution", late_resolution)) if late]
        soon = None if missed else ("first_response" if reply_soon else "resolution" if resolution_soon else None)
        unmet = [ticket.resolution_due] + ([ticket.first_response_due] if ticket.first_answered_at is None else [])
        out.append(BreachingTicket(reference=ticket.reference, subject=ticket.subject, priority=ticket.priority,
                                   status=ticket.status, assignee_id=ticket.assignee_id, assignee_name=name,
                                   missed=missed, due_soon=soon, next_due=min(unmet)))
    out.sort(key=lambda item: (not item.missed, item.next_due))
    return out



# One figure of the summary per day, for the trend charts: name -> (what it is, how to read it).
METRICS: dict[str, tuple[str, Callable[[Session, Period, ReportFilters, datetime], float | int | None]]] = {
    "csat_mean": ("mean headline score (1-5)", lambda s, p, f, n: satisfaction(s, p, f).csat_mean),
    "csat_satisfied": ("share of headline scores 4-5", lambda s, p, f, n: satisfaction(s, p, f).csat_satisfied),
    "response_rate": ("surveys completed / offered", lambda s, p, f, n: satisfaction(s, p, f).response_rate),
    "first_response_median": ("tickets' first response, median seconds",
                              lambda s, p, f, n: speed(s, p, f).first_response.median),
    "resolution_median": ("tickets' resolution, median seconds", lambda s, p, f, n: speed(s, p, f).resolution.median),
    "handoff_wait_median": ("wait for a person, median seconds",
                            lambda s, p, f, n: speed(s, p, f).handoff_wait.median),
    "sla_first_response_met": ("share of first responses on time",
                               lambda s, p, f, n: sla_met(s, p, f, n)[0]),
    "sla_resolution_met": ("share of resolutions on time", lambda s, p, f, n: sla_met(s, p, f, n)[1]),
    "conversations": ("chats the customer wrote in", lambda s, p, f, n: bot_figures(s, p, f).conversations),
    "containment_rate": ("share of chats without a person or a ticket",
                         lambda s, p, f, n: bot_figures(s, p, f).containment_rate),
    "tickets": ("tickets opened", lambda s, p, f, n: volume(s, p, f, 0).tickets),
    "feedback": ("feedback items", lambda s, p, f, n: volume(s, p, f, 0).feedback),
    "complaints": ("complaints", lambda s, p, f, n: volume(s, p, f, 0).complaints),
}


def timeseries(*, session: Session, metric: str, period: Period, filters: ReportFilters | None = None,
               now: datetime | None = None) -> list[tuple[date, float | int | None]]:
    """The metric for each day of the period: the summary's own figure over that one day."""
    filters, now = filters or ReportFilters(), now or utcnow()
    _, figure = METRICS[metric]
    days = [period.first + timedelta(days=n) for n in range(period.days)]
    return [(day, figure(session, Period(day, day, period.zone), filters, now)) for day in days]
