"""The feedback inbox: feedback and survey comments in one list with filters and search, and
what managers record on each item (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from bot.feedback.models import Feedback
from bot.reports.inbox import InboxError, item_of, list_inbox, review_item
from tests.bot.reports.world import WEEK, at, comment, feedback
from tests.factories import make_user


@pytest.fixture
def inbox_world(session, world):
    feedback(session, "FB-T", "complaint", at(5, 15), conversation="c3", text="100% rude_agent, never again")
    sad = comment(session, "cx1", 1, "Delivery was late", day=6)
    happy = comment(session, "cx2", 5, "Lovely and quick", day=7)
    return {"sad": sad, "happy": happy, **world}


def refs(page) -> list[tuple[str, int | str]]:
    return [(item.kind, item.id) for item in page.items]


def test_everything_newest_first_with_filters(session, inbox_world):
    everything = list_inbox(session=session, period=WEEK)
    assert everything.total == 7  # FB-1..4, FB-T, two comments
    assert [item.at for item in everything.items] == sorted((item.at for item in everything.items), reverse=True)
    surveys = list_inbox(session=session, period=WEEK, kind="survey")
    assert refs(surveys) == [("survey", inbox_world["happy"]), ("survey", inbox_world["sad"])]
    low = list_inbox(session=session, period=WEEK, max_score=2)
    assert refs(low) == [("survey", inbox_world["sad"])] and low.items[0].score == 1
    complaints = list_inbox(session=session, period=WEEK, category="complaint")
    assert [item.text for item in complaints.items] == ["x", "100% rude_agent, never again", "x"]  # FB-3, -T, -1
    by_ann = list_inbox(session=session, period=WEEK, agent_id=inbox_world["ann"].id)
    assert [(item.kind, item.agent) for item in by_ann.items] == [("feedback", "Ann")]  # FB-T, about c3


def test_each_items_channel_and_the_channel_filter(session, inbox_world):
    on_page = comment(session, "ticket:T9", 2, "Took a week by e-mail", day=6, channel="page")
    page = list_inbox(session=session, period=WEEK, channel="page")
    assert refs(page) == [("survey", on_page)] and page.items[0].channel == "page"
    chat = list_inbox(session=session, period=WEEK, channel="chat")
    assert chat.total == 7 and {item.channel for item in chat.items} == {"chat"}
    assert list_inbox(session=session, period=WEEK, channel="email").total == 0
    assert list_inbox(session=session, period=WEEK).total == 8


def test_search_takes_the_words_as_typed(session, inbox_world):
    assert [item.text for item in list_inbox(session=session, period=WEEK, q="LATE").items] == ["Delivery was late"]
    assert len(list_inbox(session=session, period=WEEK, q="100%").items) == 1   # % is not a wildcard
    assert len(list_inbox(session=session, period=WEEK, q="rude_agent").items) == 1
    assert list_inbox(session=session, period=WEEK, q="rude-agent").items == []
    assert list_inbox(session=session, period=WEEK, q="' OR 1=1 --").items == []


def test_search_finds_every_word_anywhere_in_any_order(session, inbox_world):
    assert [item.text for item in list_inbox(session=session, period=WEEK, q="late  delivery").items] == [
        "Delivery was late"]
    assert list_inbox(session=session, period=WEEK, q="late rude").items == []  # both words, not either
    assert list_inbox(session=session, period=WEEK, q="   ").total == list_inbox(session=session, period=WEEK).total


def test_anonymous_feedback_shows_no_customer_or_chat(session, inbox_world):
    anonymous = {item.id: item for item in list_inbox(session=session, period=WEEK, kind="feedback").items}
    fb2 = session.query(Feedback).filter_by(reference="FB-2").one()
    assert (anonymous[fb2.id].customer, anonymous[fb2.id].conversation_id, anonymous[fb2.id].anonymous) == (
        None, None, True)


def test_reviewing_owning_and_actioning_an_item(session, inbox_world):
    meg = make_user(session, name="Meg", role="manager")
    fb = session.query(Feedback).filter_by(reference="FB-T").one()
    review_item(session=session, kind="feedback", item_id=fb.id, by=meg, reviewed=True, owner_id=meg.id,
                set_owner=True, due_at=at(10))
    item = item_of(session=session, kind="feedback", item_id=fb.id)
    assert (item.status, item.owner_name, item.due_at) == ("reviewed", "Meg", at(10))
    assert fb.status == "reviewed"
    review_item(session=session, kind="feedback", item_id=fb.id, by=meg, action_note="Called; coaching booked.")
    assert item_of(session=session, kind="feedback", item_id=fb.id).status == "actioned" and fb.status == "actioned"
    assert refs(list_inbox(session=session, period=WEEK, status="actioned")) == [("feedback", fb.id)]
    assert ("feedback", fb.id) not in refs(list_inbox(session=session, period=WEEK, status="new"))
    sad = inbox_world["sad"]
    review_item(session=session, kind="survey", item_id=sad, by=meg, reviewed=True)
    assert refs(list_inbox(session=session, period=WEEK, status="reviewed")) == [("survey", sad)]
    with pytest.raises(InboxError):
        review_item(session=session, kind="survey", item_id=sad, by=meg, owner_id=9999, set_owner=True)
    with pytest.raises(LookupError):
        review_item(session=session, kind="feedback", item_id=9999, by=meg, reviewed=True)
