"""How `make run` starts the processes (commands only; the real start is the e2e tests')."""

from __future__ import annotations

from pathlib import Path

from harness.stack import Stack


def test_a_rasa_token_starting_with_a_dash_is_not_taken_for_an_option():
    stack = Stack(model=Path("models/x.tar.gz"), rasa_token="-Ab_12")
    [rasa] = [service for service in stack._services() if service.name == "rasa"]
    assert "--auth-token=-Ab_12" in rasa.command
    assert "--auth-token" not in rasa.command  # never as a separate word followed by the value
    assert rasa.health_url.endswith("token=-Ab_12")
