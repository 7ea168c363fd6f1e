"""Domain errors become HTTP status codes here, once, for every route: a route lets them rise."""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from bot.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooLong, Unauthenticated
from bot.metrics import DATABASE_ERRORS
from bot.settings import get_settings
from bot.textscan import TICKET_CATEGORY

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
    DATABASE_ERRORS.labels(type(error).__name__).inc()
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


def _declare_ticket_categories(node: object, categories: list[str]) -> None:
    """The ticket categories are configuration (TICKET_CATEGORIES): the fields marked TICKET_CATEGORY
    take one of them, and the document says which."""
    if isinstance(node, dict):
        if node.get(TICKET_CATEGORY):
            if node.get("type") == "string":
                node["enum"] = categories
            for option in node.get("anyOf", []):
                if option.get("type") == "string":
                    option["enum"] = categories
        for value in node.values():
            _declare_ticket_categories(value, categories)
    elif isinstance(node, list):
        for value in node:
            _declare_ticket_categories(value, categories)


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
            categories = [category.key for category in get_settings().ticket_categories]
            _declare_ticket_categories(app.openapi_schema, categories)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this request's path. Each method of a path is its own route,
    and Starlette's 405 names the methods of the first one only (`Allow: GET` on a path that takes
    POST too)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if getattr(route, "methods", None) and route.matches(request.scope)[0] in (Match.FULL, Match.PARTIAL):
            methods |= route.methods
    return sorted(methods)


async def _http_error(request: Request, error: Exception) -> Response:
    """Starlette's own errors (404 for no route, 405 for a method the path does not take) in the
    one error shape; a 405 lists every method the path takes."""
    assert isinstance(error, HTTPException)
    headers = dict(error.headers or {})
    if error.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        headers["Allow"] = ", ".join(allowed_methods(request))
    if error.status_code in (status.HTTP_204_NO_CONTENT, status.HTTP_304_NOT_MODIFIED):
        return Response(status_code=error.status_code, headers=headers)
    return JSONResponse({"detail": str(error.detail)}, status_code=error.status_code, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(InterfaceError, _database_down)
    use_error_schema(app)
