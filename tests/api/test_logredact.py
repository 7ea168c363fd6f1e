"""Tokens never reach the logs: WebSocket paths logged by uvicorn, errors naming Rasa's URL."""

from __future__ import annotations

import logging

from api import logredact


def test_tokens_in_logged_urls_are_redacted(caplog):
    logredact.install()
    logredact.install()  # twice: still one filter
    assert sum(isinstance(f, logredact.RedactTokens) for f in logging.getLogger("uvicorn.error").filters) == 1
    with caplog.at_level(logging.INFO):
        logging.getLogger("uvicorn.error").info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000",
                                                "/api/v1/chat/sessions/abc/ws?token=s3cr3t-Value_1&after=5")
        logging.getLogger("api.rasa_client").error("trigger_intent failed: %s",
                                                   "Client error for url http://rasa/x?token=RASA-TOKEN")
    assert "s3cr3t" not in caplog.text and "RASA-TOKEN" not in caplog.text
    assert "token=[redacted]&after=5" in caplog.text and "token=[redacted]" in caplog.text
