"""Which `rasa data validate` warnings are named as Rasa 3.6 false positives, and which fail."""

from __future__ import annotations

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


def test_nlu_figures_count_a_wrong_faq_topic_as_wrong_and_name_it(tmp_path):
    import json

    from harness.rasa import nlu_figures

    def write(name, rows):
        (tmp_path / name).write_text(json.dumps(rows), encoding="utf-8")

    write("intent_successes.json", [
        {"text": "where is 48213", "intent": "faq", "intent_prediction": {"name": "faq"}},
        {"text": "parcel says delivered, nothing here", "intent": "faq", "intent_prediction": {"name": "faq"}},
        {"text": "open a ticket pls", "intent": "open_ticket", "intent_prediction": {"name": "open_ticket"}},
    ])
    write("intent_errors.json", [
        {"text": "charged 2x 34.99", "intent": "open_ticket", "intent_prediction": {"name": "inform"}},
    ])
    write("response_selection_successes.json", [
        {"text": "where is 48213", "intent_response_key_target": "faq/track_order"}])
    write("response_selection_errors.json", [
        {"text": "parcel says delivered, nothing here", "intent_response_key_target": "faq/order_missing",
         "intent_response_key_prediction": {"name": "faq/track_order"}}])
    figures = nlu_figures(tmp_path)
    assert (figures.examples, figures.intent_accuracy, figures.faq_key_accuracy) == (4, 0.75, 0.5)
    assert figures.full_accuracy == 0.5  # the wrong topic and the wrong intent
    assert sorted(figures.confusions) == [("faq/order_missing", "faq/track_order", 1), ("open_ticket", "inform", 1)]
