"""Domain errors become status codes in one place: each kind its own code, whatever route raised it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.errors import install
from bot.conversations.handoffs import NotYours
from bot.conversations.service import ChatClosed, UnknownSession
from bot.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooLong, Unauthenticated
from bot.reports.period import PeriodError
from bot.tickets.service import TicketConflict, TicketInvalid, TicketNotFound


@pytest.mark.parametrize(("error", "code"), [
    (Invalid("bad"), 422), (TooLong("long"), 413), (NotFound("none"), 404), (Unauthenticated("who?"), 401),
    (Forbidden("not yours"), 403), (Conflict("not now"), 409), (DomainError("unclassified"), 500),
    (TicketInvalid("unknown category"), 422), (TicketConflict("a closed ticket cannot become new"), 409),
    (TicketNotFound(), 404), (NotYours("not yours"), 403), (ChatClosed(), 409), (UnknownSession(), 401),
    (PeriodError("too long a range"), 422),
])
def test_each_kind_of_domain_error_has_its_status_and_says_why(error, code):
    app = FastAPI()
    install(app)

    @app.get("/fails")
    def fails() -> None:
        raise error

    response = TestClient(app, raise_server_exceptions=False).get("/fails")
    assert response.status_code == code
    assert response.json() == {"detail": str(error)}
    assert (response.headers.get("www-authenticate") == "Bearer") == (code == 401)
