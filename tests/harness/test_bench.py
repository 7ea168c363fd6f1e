"""The benchmark's own logic: what counts as an error, where visits start, percentiles."""

from actions.common import DATABASE_TROUBLE
from bot.settings import PROJECT_ROOT
from harness.bench import FAILURE_MARKERS, PHASE_STARTS, is_failure, mixed_script, percentile


def test_empty_or_malformed_replies_are_failures():
    assert is_failure([])
    assert is_failure(None)
    assert is_failure({"text": "hi"})


def test_apologies_for_a_broken_system_are_failures():
    assert is_failure([{"recipient_id": "x", "text": DATABASE_TROUBLE}])
    assert is_failure([{"text": "Here you go."}, {"text": FAILURE_MARKERS[0] + " and more"}])


def test_ordinary_answers_and_custom_payloads_are_not_failures():
    assert not is_failure([{"recipient_id": "x", "text": "Standard delivery takes 2-4 working days."}])
    assert not is_failure([{"recipient_id": "x", "custom": {"handoff": {"reason": "customer_asked"}}}])


def test_failure_markers_match_the_texts_the_system_sends():
    channel_source = (PROJECT_ROOT / "channels" / "rest.py").read_text(encoding="utf-8")
    assert FAILURE_MARKERS[0] in channel_source
    assert DATABASE_TROUBLE.startswith(FAILURE_MARKERS[1])


def test_visits_are_joined_at_the_start_of_a_phase():
    script = mixed_script("TCK-ABC234", "someone@example.com")
    assert [script[index] for index in PHASE_STARTS] == [
        "hi", "I want to open a ticket", "what's the status of my ticket?"]


def test_percentile_picks_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 51.0
    assert percentile(values, 95) == 95.0
    assert percentile([7.0], 95) == 7.0
