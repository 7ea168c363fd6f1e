"""Domain errors become HTTP status codes here, once, for every route: a route lets them rise."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooLong, Unauthenticated

# The most specific kind first: TooLong is also Invalid.
STATUS_OF: list[tuple[type[DomainError], int]] = [
    (TooLong, status.HTTP_413_CONTENT_TOO_LARGE),
    (Invalid, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (NotFound, status.HTTP_404_NOT_FOUND),
    (Unauthenticated, status.HTTP_401_UNAUTHORIZED),
    (Forbidden, status.HTTP_403_FORBIDDEN),
    (Conflict, status.HTTP_409_CONFLICT),
]


def status_of(error: DomainError) -> int:
    """The status code for a domain error; one of no known kind is the server's fault (500)."""
    return next((code for kind, code in STATUS_OF if isinstance(error, kind)),
                status.HTTP_500_INTERNAL_SERVER_ERROR)


def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    code = status_of(error)
    headers = {"WWW-Authenticate": "Bearer"} if code == status.HTTP_401_UNAUTHORIZED else None
    return JSONResponse({"detail": str(error)}, status_code=code, headers=headers)


logger = logging.getLogger(__name__)
# How long a client is asked to wait while the database does not answer.
DATABASE_RETRY_SECONDS = 5


def _database_down(request: Request, error: Exception) -> JSONResponse:
    """The database did not answer (restarting, unreachable): 503 and a plain message, not a 500.
    Nothing was stored for the request, so sending it again is safe; the connection pool checks
    each connection before use, so the API recovers by itself once the database is back."""
    logger.error("database unavailable during %s %s: %s", request.method, request.url.path,
                 str(error).splitlines()[0][:300])
    return JSONResponse({"detail": "the database is not answering; nothing was stored, please try again in a "
                                   "moment"}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": str(DATABASE_RETRY_SECONDS)})


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(InterfaceError, _database_down)
