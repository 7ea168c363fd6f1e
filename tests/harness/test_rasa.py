"""Which `rasa data validate` warnings are named as Rasa 3.6 false positives, and which fail."""

from __future__ import annotations

import pytest

from harness.rasa import classify_warning, warnings_in, write_figures

FORM_SLOTS = {"customer_name", "ticket_ref"}


def test_retrieval_intent_duplicate_is_a_known_false_positive():
    finding = classify_warning(
        "The following duplicated intents have been found across multiple domain files: faq", FORM_SLOTS
    )
    assert finding.false_positive_reason


def test_form_question_utterance_is_a_known_false_positive():
    finding = classify_warning("The utterance 'utter_ask_customer_name' is not used in any story or rule.", FORM_SLOTS)
    assert finding.false_positive_reason


def test_unused_ordinary_utterance_is_a_real_warning():
    finding = classify_warning("The utterance 'utter_cheer_up' is not used in any story or rule.", FORM_SLOTS)
    assert finding.false_positive_reason is None


def test_ask_utterance_for_a_slot_no_form_asks_is_a_real_warning():
    finding = classify_warning("The utterance 'utter_ask_weather' is not used in any story or rule.", FORM_SLOTS)
    assert finding.false_positive_reason is None


def test_other_duplicates_are_real_warnings():
    finding = classify_warning(
        "The following duplicated intents have been found across multiple domain files: greet", FORM_SLOTS
    )
    assert finding.false_positive_reason is None


def test_warnings_are_read_from_rasa_output():
    output = (
        "/x/io.py:100: UserWarning: The utterance 'utter_default' is not used in any story or rule.\n"
        "\x1b[0m/x/io.py:100: UserWarning: Issue found in 'data/rules.yml': \n"
        "Found intent 'faq' in stories which is not part of the domain.\n"
        "  More info at https://rasa.com/docs/rasa/stories\n"
        "2026-11-22 INFO rasa.validator - Validating intents...\n"
    )
    assert warnings_in(output) == [
        "The utterance 'utter_default' is not used in any story or rule.",
        "Issue found in 'data/rules.yml': Found intent 'faq' in stories which is not part of the domain.",
    ]


def test_external_intent_without_examples_is_a_known_false_positive_but_others_are_not():
    external = ("The intent 'EXTERNAL_handoff_done' is listed in the domain file, "
                "but is not found in the NLU training data.")
    assert classify_warning(external, set()).false_positive_reason
    typed = "The intent 'greet' is listed in the domain file, but is not found in the NLU training data."
    assert classify_warning(typed, set()).false_positive_reason is None


def test_figures_writer_replaces_only_the_named_section(tmp_path):
    page = tmp_path / "performance.md"
    page.write_text(
        "# Performance\n\nintro\n"
        "<!-- figures:nlu -->\nold nlu table\n<!-- /figures:nlu -->\n\nbetween\n\n"
        "<!-- figures:bench -->\nold bench table\n<!-- /figures:bench -->\n\nnotes after\n",
        encoding="utf-8",
    )
    write_figures("bench", "| new | table |\n", path=page)
    assert page.read_text(encoding="utf-8") == (
        "# Performance\n\nintro\n"
        "<!-- figures:nlu -->\nold nlu table\n<!-- /figures:nlu -->\n\nbetween\n\n"
        "<!-- figures:bench -->\n| new | table |\n<!-- /figures:bench -->\n\nnotes after\n"
    )


def test_figures_writer_leaves_a_page_without_the_markers_alone(tmp_path):
    page = tmp_path / "performance.md"
    page.write_text("no markers here\n", encoding="utf-8")
    write_figures("nlu", "table", path=page)
    assert page.read_text(encoding="utf-8") == "no markers here\n"


def test_nlu_figures_count_a_wrong_faq_topic_as_wrong_and_name_it():
    from harness.rasa import nlu_figures

    examples = [("faq/track_order", "where is 48213"), ("faq/order_missing", "parcel says delivered, nothing here"),
                ("open_ticket", "open a ticket pls"), ("open_ticket", "charged 2x 34.99")]
    parsed = [{"intent": "faq", "topic": "faq/track_order"}, {"intent": "faq", "topic": "faq/track_order"},
              {"intent": "open_ticket", "topic": "faq/track_order"}, {"intent": "inform", "topic": None}]
    figures = nlu_figures(examples, parsed)
    assert (figures.examples, figures.intent_accuracy, figures.faq_key_accuracy) == (4, 0.75, 0.5)
    assert figures.full_accuracy == 0.5  # the wrong topic and the wrong intent
    assert sorted(figures.confusions) == [("faq/order_missing", "faq/track_order", 1), ("open_ticket", "inform", 1)]


def test_a_line_sent_to_the_fallback_is_declined_right_for_out_of_scope_and_a_miss_for_the_rest(tmp_path):
    from harness.rasa import near_domain_texts, nlu_figures

    examples = [("out_of_scope", "parking at the store?"), ("out_of_scope", "capital of norway"),
                ("out_of_scope", "do staff speak turkish"), ("faq/track_order", "wher parcel")]
    parsed = [{"intent": "nlu_fallback", "topic": "faq/store_locations"}, {"intent": "out_of_scope", "topic": None},
              {"intent": "faq", "topic": "faq/store_locations"}, {"intent": "nlu_fallback", "topic": "faq/track_order"}]
    held_out = tmp_path / "set.yml"
    held_out.write_text(
        "version: '3.1'\nnlu:\n- intent: out_of_scope\n  metadata:\n    kind: near_domain\n  examples: |\n"
        "    - parking at the store?\n    - do staff speak turkish\n- intent: out_of_scope\n  examples: |\n"
        "    - capital of norway\n", encoding="utf-8")

    figures = nlu_figures(examples, parsed, near_domain_texts(held_out))

    assert figures.oos_recognised == pytest.approx(2 / 3)
    assert figures.oos_precision == pytest.approx(2 / 3)  # the fallback on an FAQ line was declined wrongly
    assert figures.intent_accuracy == figures.full_accuracy == 0.5
    assert figures.faq_key_accuracy == 0.0  # the right topic, but the customer got the fallback, not the answer
    assert sorted(figures.confusions) == [("faq/track_order", "nlu_fallback", 1),
                                          ("out_of_scope", "faq/store_locations", 1)]
    assert (figures.near_domain_examples, figures.near_domain_recognised) == (2, 0.5)
