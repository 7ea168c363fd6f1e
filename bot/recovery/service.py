"""Opening recovery items for unhappy customers, and moving them on (open -> contacted -> closed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.actors import staff_actor
from bot.conversations.models import Conversation
from bot.db import refuse_naive_time, utcnow
from bot.errors import Conflict, Forbidden, NotFound
from bot.feedback.models import Feedback
from bot.mail.models import OutboxMail
from bot.mail.service import tell_address
from bot.recovery.models import RECOVERY_TRANSITIONS, RecoveryItem
from bot.settings import Settings, get_settings
from bot.surveys.models import SurveyResponse
from bot.tickets.models import Ticket
from bot.tickets.service import add_comment
from bot.users.models import User
from bot.users.service import active_user


class RecoveryError(Conflict):
    """A change the item's workflow does not allow."""


def default_owner(*, session: Session, conversation_id: str | None, settings: Settings) -> int | None:
    """The agent who handled the conversation, else the manager on duty (MANAGER_ON_DUTY), else
    nobody (the item shows as unowned)."""
    if conversation_id:
        agent_id = session.scalar(select(Conversation.agent_id).where(Conversation.id == conversation_id))
        if agent_id is not None and active_user(session=session, user_id=agent_id):
            return agent_id
    if settings.manager_on_duty:
        return session.scalar(select(User.id).where(User.email == settings.manager_on_duty.lower(),
                                                    User.active.is_(True)))
    return None


def _open(*, session: Session, settings: Settings, now: datetime, **values) -> RecoveryItem:
    item = RecoveryItem(owner_id=default_owner(session=session, conversation_id=values.get("conversation_id"),
                                               settings=settings),
                        status="open", due_at=now + timedelta(hours=settings.recovery_due_hours),
                        created_at=now, updated_at=now, **values)
    session.add(item)
    session.flush()
    return item


def open_for_survey(*, session: Session, response: SurveyResponse, score: int, ticket_id: int | None = None,
                    settings: Settings | None = None, now: datetime | None = None) -> RecoveryItem:
    """The item for a low headline score (at most one per response)."""
    existing = session.scalar(select(RecoveryItem).where(RecoveryItem.survey_response_id == response.id))
    if existing is not None:
        return existing
    return _open(session=session, settings=settings or get_settings(), now=now or utcnow(), source="survey",
                 survey_response_id=response.id, conversation_id=response.conversation_id, ticket_id=ticket_id,
                 reason=f"satisfaction score {score}")


def open_for_complaint(*, session: Session, feedback: Feedback, settings: Settings | None = None,
                       now: datetime | None = None) -> RecoveryItem:
    """The item for a complaint (at most one per feedback item). Anonymous complaints have no
    chat to follow up in, but still get an owner who reviews them."""
    existing = session.scalar(select(RecoveryItem).where(RecoveryItem.feedback_id == feedback.id))
    if existing is not None:
        return existing
    return _open(session=session, settings=settings or get_settings(), now=now or utcnow(), source="feedback",
                 feedback_id=feedback.id, conversation_id=feedback.conversation_id,
                 reason=f"complaint {feedback.reference}")


def _item_for(session: Session, item_id: int, by: User, *, assigning: bool = False) -> RecoveryItem:
    item = session.get(RecoveryItem, item_id)
    if item is None:
        raise NotFound("no such recovery item")
    if by.role == "agent" and (item.owner_id != by.id or assigning):
        raise Forbidden("agents move on their own recovery items only, and managers assign them")
    return item


def change_item(*, session: Session, item_id: int, by: User, status: str | None = None, owner_id: int | None = None,
                set_owner: bool = False, due_at: datetime | None = None, outcome: str | None = None) -> RecoveryItem:
    """`update_item` on a staff member's behalf: an agent may move on the items they own; only
    managers give items to someone else."""
    item = _item_for(session, item_id, by, assigning=set_owner)
    refuse_naive_time(due_at, "due_at")
    return update_item(session=session, item=item, status=status, owner_id=owner_id, set_owner=set_owner,
                       due_at=due_at, outcome=outcome)


def update_item(*, session: Session, item: RecoveryItem, status: str | None = None, owner_id: int | None = None,
                set_owner: bool = False, due_at: datetime | None = None, outcome: str | None = None,
                now: datetime | None = None) -> RecoveryItem:
    """Apply the changes given, all or none. Closing needs an outcome (given now or before)."""
    now = now or utcnow()
    if status is not None and status != item.status:
        if (item.status, status) not in RECOVERY_TRANSITIONS:
            raise RecoveryError(f"a recovery item that is {item.status} cannot become {status}")
        if status == "closed" and not (outcome or item.outcome):
            raise RecoveryError("say what the outcome was before closing")
    if set_owner and owner_id is not None and active_user(session=session, user_id=owner_id) is None:
        raise RecoveryError(f"no active staff member with id {owner_id}")
    if outcome is not None:
        item.outcome = outcome
    if due_at is not None:
        item.due_at = due_at
    if set_owner:
        item.owner_id = owner_id
    if status is not None and status != item.status:
        item.status = status
        if status == "contacted":
            item.contacted_at = now
        if status == "closed":
            item.closed_at = now
    item.updated_at = now
    session.flush()
    return item


def customer_address(*, session: Session, item: RecoveryItem) -> tuple[str | None, str | None]:
    """The unhappy customer's e-mail address and name, from what the item is about: the complaint, the
    survey, or the chat (never for anonymous feedback, which keeps none)."""
    found: list[tuple[str | None, str | None]] = []
    if item.feedback_id is not None and (feedback := session.get(Feedback, item.feedback_id)) is not None:
        found.append((feedback.customer_email, feedback.customer_name))
    if item.survey_response_id is not None and (response := session.get(SurveyResponse, item.survey_response_id)):
        found.append((response.customer_email, None))
    if item.conversation_id and (chat := session.get(Conversation, item.conversation_id)) is not None:
        found.append((chat.customer_email, chat.customer_name))
    email = next((address for address, _ in found if address), None)
    name = next((name for _, name in found if name), None)
    return email, name


def follow_up(*, session: Session, item_id: int, by: User, message: str, settings: Settings | None = None,
              now: datetime | None = None) -> RecoveryItem:
    """The owner's follow-up of an unhappy customer: `message` e-mailed to them from `by`, and the item
    marked contacted. On the item's ticket when it has one with an address (a public reply there, so the
    customer's answer comes back to that ticket); else the e-mail alone, to the address the complaint,
    the survey or the chat gave."""
    settings = settings or get_settings()
    now = now or utcnow()
    item = _item_for(session, item_id, by)
    if not item.is_open:
        raise RecoveryError("this recovery item is closed")
    text = message.strip()
    if not text:
        raise RecoveryError("the message is empty")
    ticket = session.get(Ticket, item.ticket_id) if item.ticket_id is not None else None
    if ticket is not None and ticket.customer_email:
        add_comment(session=session, ticket=ticket, text=text, public=True, actor=staff_actor(by), now=now)
    else:
        address, name = customer_address(session=session, item=item)
        if address is None:
            raise RecoveryError("we have no e-mail address for this customer: reach them another way, then "
                                "record the outcome")
        tell_address(session=session, kind="recovery", to_address=address, name=name, actor=staff_actor(by),
                     reply=text, recovery_item_id=item.id, settings=settings, now=now)
    return update_item(session=session, item=item, status="contacted" if item.status == "open" else None, now=now)


def follow_up_mails(*, session: Session, items: list[RecoveryItem]) -> dict[int, list[OutboxMail]]:
    """Each item's follow-up e-mails, oldest first: those sent from it, and the follow-ups written on its
    ticket (a public reply there from the recovery item or the agent console)."""
    by_ticket = {item.ticket_id: item.id for item in items if item.ticket_id is not None}
    ids = [item.id for item in items]
    found: dict[int, list[OutboxMail]] = {item_id: [] for item_id in ids}
    if not ids:
        return found
    mails = session.scalars(select(OutboxMail).where(or_(
        OutboxMail.recovery_item_id.in_(ids),
        and_(OutboxMail.kind == "recovery", OutboxMail.ticket_id.in_(list(by_ticket))))).order_by(OutboxMail.id))
    for mail in mails:
        owner = mail.recovery_item_id if mail.recovery_item_id in found else by_ticket.get(mail.ticket_id)
        if owner is not None:
            found[owner].append(mail)
    return found


def list_items(*, session: Session, status: str | None = None, owner_id: int | None = None,
               unowned: bool = False, overdue_only: bool = False, now: datetime | None = None,
               limit: int = 500) -> list[RecoveryItem]:
    """Items not closed by default (status "all" for every one); overdue first, then by due time."""
    now = now or utcnow()
    query = select(RecoveryItem)
    if status is None:
        query = query.where(RecoveryItem.is_open)
    elif status != "all":
        query = query.where(RecoveryItem.status == status)
    if owner_id is not None:
        query = query.where(RecoveryItem.owner_id == owner_id)
    if unowned:
        query = query.where(RecoveryItem.owner_id.is_(None))
    if overdue_only:
        query = query.where(RecoveryItem.is_overdue(now))
    return list(session.scalars(query.order_by(RecoveryItem.due_at, RecoveryItem.id).limit(limit)))
