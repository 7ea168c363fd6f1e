"""With the action server down, Rasa still answers: politely, never with silence.

It stops the shared action server and starts it again, waiting until it answers its health
check, so the tests after it (in any order) find it as before.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_customer_gets_an_apology_not_silence_when_the_action_server_is_down(stack, chat):
    chat.say("hello")
    stack.stop_service("actions")
    try:
        replies = chat.say("I want to open a support ticket")
        assert replies, "the customer got no reply at all"
        assert "something went wrong on our side" in chat.text(replies)
        # Responses that need no custom action still work.
        assert "business days" in chat.text(chat.say("how long does delivery take?"))
    finally:
        stack.restart_service("actions")
    assert "name" in chat.text(chat.say("I want to open a support ticket")).lower()
