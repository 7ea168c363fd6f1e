"""Who did something, as the `actor` of ticket and conversation events: built and read only here.

The stored forms (existing rows hold them; keep them as they are):
- "bot", "customer", "system" (the handoff machinery: timeouts, the queue, tickets it opens);
- "customer:<e-mail>": a customer who gave their ticket's reference and e-mail;
- "<role>:<user id>" ("agent:7", "manager:2"): a staff member on the staff pages' ticket routes;
- "agent:<user id>": a staff member in a live chat, whatever their role (a manager who takes a
  chat acts there as its agent), including a ticket status set while resolving a handoff.
For a user whose role is "agent" the last two are the same string."""

from __future__ import annotations

from bot.users.models import ROLES, User

BOT = "bot"
CUSTOMER = "customer"
SYSTEM = "system"


def staff_actor(user: User) -> str:
    """A staff member acting on the staff pages: "<role>:<user id>"."""
    return f"{user.role}:{user.id}"


def agent_actor(user: User) -> str:
    """A staff member acting in a live chat, as its agent: "agent:<user id>"."""
    return f"agent:{user.id}"


def customer_actor(email: str) -> str:
    """A customer known by the e-mail on their ticket: "customer:<e-mail>"."""
    return f"{CUSTOMER}:{email}"


def staff_id_of(actor: str) -> int | None:
    """The user id in a staff actor (either form above); None for the bot, customers, the system
    and anything else."""
    role, _, number = actor.partition(":")
    return int(number) if role in ROLES and number.isascii() and number.isdigit() else None
