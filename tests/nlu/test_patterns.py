"""The details the intent classifier reads as placeholder words (nlu.patterns.detail_spans)."""

from __future__ import annotations

import pytest

from nlu.patterns import asks_beside_request, detail_spans, explicit_request, two_requests


def placeholders(text: str) -> list[tuple[str, str]]:
    return [(text[start:end], word) for start, end, word in detail_spans(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("any update on TCK-7QK2MD?", [("TCK-7QK2MD", "ticketreference")]),
        ("whats the status of tck 4hf9zp", [("tck 4hf9zp", "ticketreference")]),
        # Mistyped codes (8 and 9 are never in a code) still read as a reference to the classifier.
        ("wat happend with tck7rr2kp", [("tck7rr2kp", "ticketreference")]),
        ("ticket 9TR3AX, any word?", [("9TR3AX", "ticketreference")]),
        ("my email is sara.k@example.com", [("sara.k@example.com", "emailaddress")]),
        ("refund of €64.99 please", [("€64.99", "moneyamount")]),
        ("two payments of 79,00 EUR", [("79,00 EUR", "moneyamount")]),
        ("you debited 2x 34.99", [("2x 34.99", "moneyamount")]),
        ("went out twice on 12/11", [("12/11", "numericdate")]),
        ("since 2024-11-30", [("2024-11-30", "numericdate")]),
        ("where is order 48213", [("48213", "longnumber")]),
        ("tracking for BS-51004 pls", [("BS-51004", "longnumber")]),
        ("order #55102 and no. 552019", [("#55102", "longnumber"), ("552019", "longnumber")]),
    ],
)
def test_details_are_found_with_their_kind(text, expected):
    assert placeholders(text) == expected


@pytest.mark.parametrize(
    "text",
    ["ticket status please", "case closed?", "trainers size 43, 2 t-shirts", "I'm 182 cm tall", "open a ticket"],
)
def test_ordinary_words_and_small_numbers_are_no_details(text):
    assert detail_spans(text) == []


def test_an_email_holding_a_code_is_one_email():
    assert placeholders("tck-7qk2md@example.com") == [("tck-7qk2md@example.com", "emailaddress")]


@pytest.mark.parametrize(("text", "expected"), [
    ("I need to open a ticket. Do you ship to Austria?", "open_ticket"),
    ("I'd like to file a complaint ticket", "open_ticket"),
    ("please raise a support ticket, how long do refunds take anyway", "open_ticket"),
    ("can you log a new case for me", "open_ticket"),
    ("make me a ticket, the lamp is broken", "open_ticket"),
    ("open ticket please, my order never came", "open_ticket"),
    ("create ticket: the app keeps crashing at checkout", "open_ticket"),
    ("I'd like a ticket opened for my broken lamp", "open_ticket"),
    ("can you get a support case raised for me? the invoice is wrong", "open_ticket"),
    ("I'd like to submit a service request, my washing machine leaks", "open_ticket"),
    ("let me talk to a person, what are your opening hours", "request_human"),
    ("connect me with an agent please", "request_human"),
    ("I want to speak to a real human about my refund", "request_human"),
])
def test_an_explicit_request_is_found_beside_anything_else_the_line_says(text, expected):
    assert explicit_request(text) == expected


@pytest.mark.parametrize("text", [
    "I have more info for my open ticket",            # a ticket the customer has
    "what's the status of my open ticket",
    "is there an open case for order 4471?",
    "the open ticket from Monday still has no answer",
    "my ticket opened on Monday has no answer yet",
    "I opened a ticket last week, any news?",
    "can you open the case TCK-7QK2MD again",        # a reference: a ticket that exists
    "I don't want to open a ticket, just tell me the return address",
    "no need to talk to a person, just tell me the price",
    "when can I talk to a real person?",             # the team's hours, an FAQ
    "how long does delivery to Scotland take",
    "the person who delivered it was rude",
])
def test_lines_that_do_not_ask_for_a_ticket_or_a_person_now_are_left_to_the_classifier(text):
    assert explicit_request(text) is None


@pytest.mark.parametrize("text", [
    "can I chat with a person on a Saturday afternoon",
    "could i still speak to a person at 21:00 or is that too late",
    "do I talk to a human or an algorithm",
])
def test_a_question_about_when_or_whether_a_person_answers_asks_for_no_one_now(text):
    assert explicit_request(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("I need to open a ticket. Do you deliver to Austria?", True),
    ("let me talk to a person, what are your opening hours?", True),
    ("Do you deliver to Austria? Also please open a ticket for my broken lamp", True),
    ("can you open a ticket? my parcel is late", False),       # the "?" is the request's own
    ("please open a ticket, the lamp from order 48213 is broken", False),
    ("do you deliver to Austria?", False),                    # no explicit request at all
])
def test_a_question_beside_an_explicit_request_is_told_from_the_request_itself(text, expected):
    assert asks_beside_request(text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("it's not working, please open a ticket", "open_ticket"),      # the "not" is in another clause
    ("my order never arrived, open a ticket", "open_ticket"),
    ("I'd rather not wait, talk to a person", "request_human"),
    ("I want to speak to someone today", "request_human"),
    ("I need to talk to someone about my 3 orders", "request_human"),
    ("Do I need to open a ticket to return an item?", None),        # a question about tickets
    ("Why do I have to open a ticket? I just want my money back", None),
    ("I tried to open a ticket yesterday but the page crashed", None),
    ("last week I had to open a ticket for the same problem", None),
])
def test_a_request_is_read_in_its_own_clause(text, expected):
    assert explicit_request(text) == expected


@pytest.mark.parametrize("text", [
    "Can you open a ticket, please?",
    "Could I talk to a person, please?",
    "Hello? I want to talk to a person",
])
def test_courtesy_around_a_request_is_no_second_question(text):
    assert asks_beside_request(text) is False


@pytest.mark.parametrize(("text", "first", "rest"), [
    ("can I return worn shoes? and how long does the refund take after that", "can I return worn shoes",
     "how long does the refund take after that"),
    ("where is order 48219 and also how do I return the shoes from order 47790?", "where is order 48219",
     "how do I return the shoes from order 47790?"),
    ("you charged me twice for order 48290, and btw where is your store in Munich?",
     "you charged me twice for order 48290", "where is your store in Munich?"),
    ("I need the invoice. Also what is the status of TCK-3GF8YU?", "I need the invoice",
     "what is the status of TCK-3GF8YU?"),
    ("refund pls. oh and by the way, store hours?", "refund pls", "store hours?"),
    ("the lamp is broken, plus the cable is missing", "the lamp is broken", "the cable is missing"),
    ("how much is express? oh and also, btw: do you ship to Norway", "how much is express", "do you ship to Norway"),
    ("where is my order? andrea here, ordered on monday", "where is my order", "andrea here, ordered on monday"),
])
def test_the_first_of_two_requests_in_a_line_is_found(text, first, rest):
    assert two_requests(text) == (first, rest)


@pytest.mark.parametrize("text", [
    "what is your return policy?",
    "my order also arrived damaged",                 # "also" inside one request
    "Hello? is anyone there",                       # one word before the mark
    "hi? where is my order",
    "can you help me? ",                             # nothing after the mark
    "the box was dented and the lamp inside is broken",
    "",
])
def test_a_line_that_asks_one_thing_has_no_first_request(text):
    assert two_requests(text) is None
