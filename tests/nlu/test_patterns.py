"""The details the intent classifier reads as placeholder words (nlu.patterns.detail_spans)."""

from __future__ import annotations

import pytest

from nlu.patterns import detail_spans


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
