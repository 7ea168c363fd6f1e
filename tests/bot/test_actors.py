"""Actor labels on ticket and conversation events: the stored forms stay exactly as they are,
and a staff member's id is read back from either staff form, never from anything else."""

from __future__ import annotations

import pytest

from bot.actors import BOT, CUSTOMER, SYSTEM, agent_actor, customer_actor, staff_actor, staff_id_of
from bot.users.models import ROLES, User


def test_the_stored_forms_are_unchanged():
    assert (BOT, CUSTOMER, SYSTEM) == ("bot", "customer", "system")
    assert staff_actor(User(id=7, role="agent")) == "agent:7"
    assert staff_actor(User(id=2, role="manager")) == "manager:2"
    # In a live chat everyone acts as the chat's agent, managers included.
    assert agent_actor(User(id=2, role="manager")) == "agent:2"
    assert customer_actor("ada@example.com") == "customer:ada@example.com"


@pytest.mark.parametrize("role", ROLES)
def test_a_staff_members_id_is_read_back_from_either_form(role):
    user = User(id=41, role=role)
    assert staff_id_of(staff_actor(user)) == 41
    assert staff_id_of(agent_actor(user)) == 41


@pytest.mark.parametrize("actor", [BOT, CUSTOMER, SYSTEM, customer_actor("ada@example.com"), "customer:12",
                                   "", ":5", "agent:", "agent:x", "agent: 5", "agent:-5", "agent:²", "robot:5",
                                   "agent5"])
def test_anything_but_a_staff_actor_has_no_staff_id(actor):
    assert staff_id_of(actor) is None
