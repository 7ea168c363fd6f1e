"""Two agents claim the same waiting conversation at the same moment: exactly one wins.

Real concurrency: two threads, two connections, a barrier, on a SQLite file and on a
dedicated PostgreSQL database."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from bot import migrate
from bot.conversations.handoffs import AtCapacity, ClaimConflict, claim
from bot.conversations.models import Conversation, Handoff
from bot.conversations.schemas import SessionCreate
from bot.conversations.service import request_handoff, start_conversation
from bot.db import make_engine, transaction
from bot.users.models import User
from bot.users.schemas import UserCreate
from bot.users.service import create_user

ROUNDS = 8


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, sqlite_url) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url
        return
    admin_url = request.getfixturevalue("postgres_url")
    name = f"race_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url=url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def attempt(factory, handoff_id: int, agent_id: int, barrier: threading.Barrier, outcomes: dict[int, str]) -> None:
    with factory() as session:
        agent = session.get(User, agent_id)
        session.commit()  # end the read, as a request does before its claim transaction
        barrier.wait()
        try:
            with session.begin():
                claim(session=session, handoff_id=handoff_id, agent=agent)
            outcomes[agent_id] = "won"
        except ClaimConflict:
            outcomes[agent_id] = "409"


def test_exactly_one_of_two_simultaneous_claims_wins(database_url, configure):
    configure(agent_max_live_chats=ROUNDS)  # each winner keeps its chats
    engine = make_engine(database_url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with transaction(factory) as session:
        agents = [create_user(session=session, data=UserCreate(email=f"{name}@example.com", name=name, role="agent",
                                                              password="long enough password")).id
                  for name in ("ann", "ben")]
        handoff_ids = []
        for _ in range(ROUNDS):
            conversation, _ = start_conversation(session=session, data=SessionCreate())
            handoff_ids.append(request_handoff(session=session, conversation=conversation, reason="requested").id)

    for handoff_id in handoff_ids:
        barrier = threading.Barrier(2)
        outcomes: dict[int, str] = {}

        threads = [threading.Thread(target=attempt, args=(factory, handoff_id, agent_id, barrier, outcomes))
                   for agent_id in agents]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes.values()) == ["409", "won"], outcomes
        with factory() as session:
            handoff = session.get(Handoff, handoff_id)
            winner = next(agent_id for agent_id, outcome in outcomes.items() if outcome == "won")
            assert (handoff.status, handoff.agent_id) == ("active", winner)
            assert session.get(Conversation, handoff.conversation_id).agent_id == winner
    engine.dispose()


def test_one_agent_claiming_two_chats_at_once_stays_within_the_limit(database_url, configure):
    """Both claims win their own handoff; the capacity check must see the other's claim."""
    configure(agent_max_live_chats=1)
    engine = make_engine(database_url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with transaction(factory) as session:
        agent_id = create_user(session=session, data=UserCreate(email="cy@example.com", name="Cy", role="agent",
                                                                password="long enough password")).id
    for round_number in range(ROUNDS):
        with transaction(factory) as session:
            handoff_ids = []
            for _ in range(2):
                conversation, _ = start_conversation(session=session, data=SessionCreate())
                handoff_ids.append(request_handoff(session=session, conversation=conversation, reason="requested").id)
        barrier = threading.Barrier(2)
        outcomes: dict[int, str] = {}

        def attempt_one(handoff_id: int, barrier=barrier, outcomes=outcomes) -> None:
            with factory() as session:
                agent = session.get(User, agent_id)
                session.commit()
                barrier.wait()
                try:
                    with session.begin():
                        claim(session=session, handoff_id=handoff_id, agent=agent)
                    outcomes[handoff_id] = "won"
                except AtCapacity:
                    outcomes[handoff_id] = "full"

        threads = [threading.Thread(target=attempt_one, args=(handoff_id,)) for handoff_id in handoff_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes.values()) == ["full", "won"], (round_number, outcomes)
        with factory() as session:
            statuses = sorted(session.get(Handoff, handoff_id).status for handoff_id in handoff_ids)
            assert statuses == ["active", "queued"]  # the refused claim left its customer waiting
            # Free the agent for the next round.
            for handoff_id in handoff_ids:
                handoff = session.get(Handoff, handoff_id)
                if handoff.status == "active":
                    handoff.status = "resolved"
            session.commit()
    engine.dispose()
