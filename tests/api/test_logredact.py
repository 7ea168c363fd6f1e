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


def test_an_access_log_line_with_a_token_is_kept_with_the_token_redacted():
    """uvicorn's access formatter reads the request line from the record's arguments: a filter that
    flattened the record made uvicorn drop the whole line (issue 17)."""
    from uvicorn.logging import AccessFormatter

    logredact.install()
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("203.0.113.5:4000", "GET", "/api/v1/agent/ws?token=s3cr3t&x=1", "1.1", 101), None)
    assert logging.getLogger("uvicorn.access").filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert line == '203.0.113.5:4000 - "GET /api/v1/agent/ws?token=[redacted]&x=1 HTTP/1.1" 101 Switching Protocols'


def test_a_logged_database_error_loses_its_detail_line(caplog):
    logredact.install()

    class UniqueViolation(Exception):
        pass

    with caplog.at_level(logging.ERROR):
        try:
            raise UniqueViolation('duplicate key value violates unique constraint "uq_users_email"\n'
                                  'DETAIL:  Key (email)=(private.person@example.com) already exists.')
        except UniqueViolation:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    assert "uq_users_email" in caplog.text and "DETAIL: [redacted]" in caplog.text
    assert "private.person" not in caplog.text
