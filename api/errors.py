"""Domain errors become HTTP status codes here, once, for every route: a route lets them rise."""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
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


class FieldError(BaseModel):
    loc: list[str] = Field(description="where: body, query, path or header, then the field")
    msg: str
    type: str


class ErrorOut(BaseModel):
    """Every 4xx and 5xx answer has this shape: one line to show a person, and for a request that
    does not validate, what was wrong with each field."""

    detail: str
    errors: list[FieldError] | None = None


def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    """A request that does not validate: 422 with the same shape as every other error (FastAPI's own
    answer put a list where every other error has a line)."""
    assert isinstance(error, RequestValidationError)
    fields = [FieldError(loc=[str(part) for part in item.get("loc", ())],
                         msg=str(item.get("msg", "")).removeprefix("Value error, "), type=str(item.get("type", "")))
              for item in error.errors()]
    summary = "; ".join(f"{field.loc[-1]}: {field.msg}" if len(field.loc) > 1 else field.msg for field in fields)
    return JSONResponse(ErrorOut(detail=summary or "the request is not valid", errors=fields).model_dump(),
                        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


# Declared on every route (app-wide): what any of them may answer besides its own success.
ERROR_RESPONSES: dict[int | str, dict] = {
    code: {"model": ErrorOut, "description": text} for code, text in (
        (400, "the body could not be read (malformed JSON or form)"),
        (401, "no, or no valid, sign-in or chat token"),
        (403, "signed in, but not allowed to do this"),
        (404, "no such thing"),
        (409, "the thing's current state does not allow this"),
        (413, "the body, or a text in it, is too long"),
        (422, "the request is not valid: `errors` says where"),
        (429, "too many requests; see Retry-After"),
        (503, "the database is not answering; see Retry-After"),
    )}


def use_error_schema(app: FastAPI) -> None:
    """The OpenAPI document names ErrorOut for 422 too (FastAPI's default names its list shape)."""
    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
            schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
            schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
            text = json.dumps(schema).replace("#/components/schemas/HTTPValidationError",
                                              "#/components/schemas/ErrorOut")
            app.openapi_schema = json.loads(text)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(InterfaceError, _database_down)
    use_error_schema(app)
