"""Routine / urgent / complex classification and the category a request points at."""

from __future__ import annotations

import pytest

from bot.settings import DEFAULT_CATEGORIES, TicketCategory
from bot.tickets.classification import PRIORITY_FOR_CLASSIFICATION, classify, guess_category

CATEGORIES = list(DEFAULT_CATEGORIES)


def classified(text: str, category: str = "other", earlier_tickets: int = 0):
    return classify(text, category=category, categories=CATEGORIES, earlier_tickets=earlier_tickets)


@pytest.mark.parametrize(
    "text",
    ["I need this sorted urgently", "URGENT: please call me", "Please reply asap", "This is an emergency"],
)
def test_customer_saying_it_is_urgent_makes_the_request_urgent(text):
    verdict = classified(text)

    assert verdict.classification == "urgent"
    assert verdict.reason.startswith("customer says it is urgent")


@pytest.mark.parametrize(
    ("text", "reason", "phrase"),
    [
        ("Your website is down and I can't pay", "service outage", "is down"),
        ("There seems to be an outage in my area", "service outage", "outage"),
        ("You charged twice for one order", "charged twice", "charged twice"),
        ("I was double charged this morning", "charged twice", "double charged"),
        ("My charger caught fire last night", "safety", "caught fire"),
        ("The kettle is overheating and sparking", "safety", "overheating"),
    ],
)
def test_outage_double_charge_and_safety_make_the_request_urgent_and_name_the_trigger(text, reason, phrase):
    verdict = classified(text)

    assert verdict.classification == "urgent"
    assert verdict.reason.startswith(reason)
    assert f"\u201c{phrase}\u201d" in verdict.reason


@pytest.mark.parametrize(
    "text",
    [
        "I cannot log in",
        "I can't log in to my account",
        "cant login since yesterday",
        "Cant log in!!",
        "I can\u2019t log in",  # typographic apostrophe, as phones type it
        "I CAN'T LOG IN",
        "CANNOT LOGIN",
        "I'm locked out",
    ],
)
def test_customer_who_cannot_log_in_is_urgent(text):
    verdict = classified(text, category="account_login")

    assert verdict.classification == "urgent"
    assert verdict.reason.startswith("cannot log in")


def test_several_urgency_triggers_are_all_named():
    verdict = classified("Urgent! You charged me twice and now I can't log in")

    assert verdict.classification == "urgent"
    assert "customer says it is urgent" in verdict.reason
    assert "charged twice" in verdict.reason
    assert "cannot log in" in verdict.reason


def test_request_spanning_two_categories_is_complex():
    verdict = classified("The parcel never arrived and I want a refund", category="orders_shipping")

    assert verdict.classification == "complex"
    assert verdict.reason == "spans categories: orders_shipping, returns_refunds"
    assert verdict.categories_mentioned == ("orders_shipping", "returns_refunds")


def test_text_about_another_category_than_the_chosen_one_is_complex():
    verdict = classified("I want a refund", category="billing_payments")

    assert verdict.classification == "complex"
    assert verdict.reason == "spans categories: billing_payments, returns_refunds"


def test_customer_with_earlier_tickets_is_a_complex_repeat_contact():
    verdict = classified("Where is my parcel?", category="orders_shipping", earlier_tickets=2)

    assert verdict.classification == "complex"
    assert verdict.reason == "repeat contact (2 earlier ticket(s))"


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("This is the third time I ask about my parcel", "third time"),
        ("I already contacted you about my parcel", "already contacted"),
        ("My parcel is still not here", "still not"),
    ],
)
def test_customer_saying_they_wrote_before_is_a_complex_repeat_contact(text, phrase):
    verdict = classified(text, category="orders_shipping")

    assert verdict.classification == "complex"
    assert verdict.reason == f"repeat contact (\u201c{phrase}\u201d)"


def test_urgency_outranks_a_repeat_contact():
    verdict = classified("Third time asking: my website login is down, urgent", earlier_tickets=3)

    assert verdict.classification == "urgent"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Where is my parcel?", "orders_shipping"),
        ("How do I change my password?", "account_login"),
        ("Can I get a copy of my invoice?", "billing_payments"),
        ("Hello, I have a question", "other"),
    ],
)
def test_ordinary_single_topic_request_is_routine(text, category):
    verdict = classified(text, category=category)

    assert verdict.classification == "routine"
    assert verdict.reason == ""


def test_empty_text_is_routine():
    assert classified("", category="other").classification == "routine"


def test_each_classification_maps_to_a_priority():
    assert PRIORITY_FOR_CLASSIFICATION == {"urgent": "urgent", "complex": "high", "routine": "normal"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My parcel never arrived", "orders_shipping"),
        ("The courier left the package at the wrong address", "orders_shipping"),
        ("I'd like to return these shoes and get my money back", "returns_refunds"),
        ("Why is there a charge on my credit card?", "billing_payments"),
        ("I forgot my password", "account_login"),
        ("The app keeps crashing with an error", "product_technical"),
        ("MY PARCEL IS LATE", "orders_shipping"),
    ],
)
def test_guess_category_points_typical_requests_at_their_category(text, expected):
    assert guess_category(text, CATEGORIES) == expected


def test_guess_category_prefers_the_most_mentioned_category():
    text = "I sent the return in its parcel and asked for a refund"

    assert guess_category(text, CATEGORIES) == "returns_refunds"


def test_guess_category_has_no_guess_for_small_talk():
    assert guess_category("Hello, how are you?", CATEGORIES) is None


def test_guess_category_uses_the_configured_keywords():
    categories = [
        TicketCategory(key="gardening", label="Gardening", keywords=["lawnmower", "hedge trimmer"]),
        TicketCategory(key="other", label="Other"),
    ]

    assert guess_category("My hedge trimmer is blunt", categories) == "gardening"
    assert guess_category("My parcel is late", categories) is None


@pytest.mark.parametrize(
    "text",
    ["This is not urgent, just a question about my invoice", "no emergency, the parcel can wait",
     "It isn't urgent at all"],
)
def test_negated_urgency_is_not_urgent(text):
    assert classified(text, category="billing_payments").classification != "urgent"


@pytest.mark.parametrize("text", ["I'd like to order again, can I use the same address?", "I will buy again"])
def test_ordering_again_is_not_a_repeat_contact(text):
    assert classified(text, category="orders_shipping").classification == "routine"


@pytest.mark.parametrize("text", ["Didn't order, charged twice for it",
                                  "Not received. Urgent please"])
def test_a_negation_in_another_clause_does_not_cancel_the_urgency(text):
    assert classified(text, category="billing_payments").classification == "urgent"
