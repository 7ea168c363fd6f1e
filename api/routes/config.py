"""What the web pages need to know about this installation (labels, limits), defined once on the
server so no page keeps its own copy. Public: nothing here is secret, and the widget needs it."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from bot.db import MAX_SEARCH_CHARS
from bot.feedback.models import FEEDBACK_CATEGORY_LABELS, SURVEY_COMMENT
from bot.reports.schemas import MAX_NOTE_CHARS
from bot.settings import get_settings
from bot.tickets.schemas import MAX_DESCRIPTION

router = APIRouter(prefix="/api/v1", tags=["config"])


class Label(BaseModel):
    key: str
    label: str


class PageConfig(BaseModel):
    company_name: str
    max_message_chars: int
    max_description_chars: int
    max_note_chars: int
    max_search_chars: int
    ticket_categories: list[Label]
    feedback_categories: list[Label]


@router.get("/config", response_model=PageConfig)
def page_config() -> PageConfig:
    """The company's name; the longest chat line accepted (`CHAT_MAX_MESSAGE_CHARS`), ticket
    description, follow-up note (a recovery outcome, an inbox action) and search; the ticket
    categories (`TICKET_CATEGORIES`) and the feedback categories, each with its label. The
    feedback list ends with `survey_comment`, the category of survey comments in the inbox."""
    settings = get_settings()
    feedback = {**FEEDBACK_CATEGORY_LABELS, SURVEY_COMMENT: "Survey comment"}
    return PageConfig(company_name=settings.company_name, max_message_chars=settings.chat_max_message_chars,
                      max_description_chars=MAX_DESCRIPTION, max_note_chars=MAX_NOTE_CHARS,
                      max_search_chars=MAX_SEARCH_CHARS,
                      ticket_categories=[Label(key=c.key, label=c.label) for c in settings.ticket_categories],
                      feedback_categories=[Label(key=key, label=label) for key, label in feedback.items()])
