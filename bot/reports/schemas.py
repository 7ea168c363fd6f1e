"""The KPI summary: every figure with its definition (shown in the API docs). Rates are
fractions (0.0-1.0), times are seconds; a figure with nothing to measure is null.

Percentiles are by nearest rank: p50 (the median) and p90 are the smallest measured values with
at least 50% / 90% of the values at or below them."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from bot.reports.period import ReportFilters
from bot.tickets.schemas import MailOut

# The longest note staff may keep on a follow-up: a recovery item's outcome, an inbox item's action.
MAX_NOTE_CHARS = 5000


class Spread(BaseModel):
    count: int = Field(description="how many values were measured")
    median: float | None = Field(description="p50 by nearest rank, in seconds")
    p90: float | None = Field(description="p90 by nearest rank, in seconds")


class Satisfaction(BaseModel):
    surveys_offered: int = Field(description="survey responses opened in the period (one per offer; a declined "
                                 "offer is a response without answers)")
    surveys_completed: int = Field(description="of those, the ones answered to the end")
    response_rate: float | None = Field(description="surveys_completed / surveys_offered")
    csat_answers: int = Field(description="answers to the headline (first) question, when it is a 1-5 rating")
    csat_mean: float | None = Field(description="mean of those answers (1-5)")
    csat_satisfied: float | None = Field(description="share of those answers that are 4 or 5")
    dimensions: dict[str, float] = Field(description="mean of every other 1-5 rating question, by question key "
                                         "(the default survey: speed, solution, courtesy)")
    nps: float | None = Field(description="Net Promoter Score over 0-10 answers: % answering 9-10 minus % "
                                          "answering 0-6 (-100..100); null when the survey asks none")
    nps_answers: int = Field(description="how many 0-10 answers the NPS is over")
    solved_rate: float | None = Field(description="share of 'yes' answers to the yes/no question keyed 'solved'")
    solved_answers: int = Field(description="how many answers solved_rate is over")


class Speed(BaseModel):
    first_response: Spread = Field(description="tickets opened in the period and answered: first public reply "
                                   "minus opening")
    resolution: Spread = Field(description="tickets opened in the period and resolved: resolution minus opening")
    handoff_wait: Spread = Field(description="requests for a person in the period that were taken: taken minus "
                                 "asked")
    queue_abandonment_rate: float | None = Field(description="requests for a person that queued in the period and "
                                                 "that the customer left before anyone came (cancelled) / all "
                                                 "that queued")


class Sla(BaseModel):
    first_response_met: float | None = Field(description="tickets opened in the period whose first-response due "
                                             "time has passed or that were answered: share answered (first public "
                                             "reply, else resolution) by the due time")
    resolution_met: float | None = Field(description="tickets opened in the period whose resolution due time has "
                                         "passed or that were resolved: share resolved by the due time")
    breaching_now: int = Field(description="open tickets (new, open, pending; any age) now past a due time they "
                               "have not met")
    due_next_hour: int = Field(description="open tickets not breaching now with a due time in the next hour")


class BotFigures(BaseModel):
    conversations: int = Field(description="chats started in the period in which the customer wrote at least once")
    containment_rate: float | None = Field(description="share of those chats with no request for a person and "
                                           "no ticket")
    handoff_rate: float | None = Field(description="share of those chats with at least one request for a person")
    handoffs_by_reason: dict[str, int] = Field(description="requests for a person in the period, by reason "
                                               "(requested, fallback, recovery); ones refused because nobody "
                                               "could come included")
    fallback_rate: float | None = Field(description="customer lines in the period that the bot did not understand "
                                        "(its fallback answered) / all customer lines in the period")
    top_unrecognised: list[tuple[str, int]] = Field(description="the 10 commonest lines the bot did not understand "
                                                    "(lower-cased, trimmed), with counts")


class Volume(BaseModel):
    conversations: int = Field(description="as in bot.conversations")
    tickets: int = Field(description="tickets opened in the period")
    tickets_by_category: dict[str, int]
    tickets_by_priority: dict[str, int]
    tickets_by_classification: dict[str, int] = Field(description="the routine / urgent / complex split")
    tickets_by_channel: dict[str, int] = Field(description="where they came in: chat or email")
    feedback: int = Field(description="feedback items given in the period")
    feedback_by_category: dict[str, int]
    complaints: int = Field(description="feedback items of category complaint")


class Summary(BaseModel):
    first: date = Field(description="first day of the period (in `timezone`)")
    last: date = Field(description="last day of the period, included")
    timezone: str
    generated_at: datetime = Field(description="'now' for the point-in-time figures (SLA breaching and due)")
    filters: ReportFilters
    satisfaction: Satisfaction
    speed: Speed
    sla: Sla
    bot: BotFigures
    volume: Volume
    previous: Summary | None = Field(default=None, description="the same figures for as many days just before "
                                     "(for the change against the previous period)")


class BreachingTicket(BaseModel):
    reference: str
    subject: str
    priority: str
    status: str
    assignee_id: int | None
    assignee_name: str | None
    missed: list[str] = Field(description="'first_response' and/or 'resolution': due times passed and not met")
    due_soon: str | None = Field(description="the due time coming up within the hour, when not breaching")
    next_due: datetime = Field(description="the earliest due time not met (passed or coming)")


class RecoveryOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    source: str
    reason: str
    conversation_id: str | None
    ticket_id: int | None
    survey_response_id: int | None
    feedback_id: int | None
    owner_id: int | None
    owner_name: str | None = None
    status: str
    due_at: datetime
    overdue: bool = False
    outcome: str | None
    created_at: datetime
    contacted_at: datetime | None
    closed_at: datetime | None
    follow_ups: list[MailOut] = Field(default_factory=list, description="the e-mails the customer was sent "
                                           "from this item or on its ticket, oldest first")


class Breaches(BaseModel):
    generated_at: datetime
    tickets: list[BreachingTicket] = Field(description="open tickets breaching an SLA now, then those due within "
                                           "the hour; earliest due first")
    recovery: list[RecoveryOut] = Field(description="recovery items not closed, overdue first, then by due time")
