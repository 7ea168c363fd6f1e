"""The web pages the API serves: the demo shop with the chat widget (/), the agent console
(/agent), the ticket desk (/desk), the manager dashboard (/manager) and their static files (/static). Plain files from
the repository, no CDN. The pages sign in through the API, which checks every role."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent.parent  # api/
PAGES = HERE / "pages"
STATIC = HERE / "static"

# Only our own scripts run; inline <style> is allowed (the widget brings its own styles).
# Sockets go back to the same host.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(include_in_schema=False)


@router.get("/")
def shop() -> FileResponse:
    return FileResponse(PAGES / "index.html", headers=PAGE_HEADERS)


@router.get("/agent")
def agent_console() -> FileResponse:
    return FileResponse(PAGES / "agent.html", headers=PAGE_HEADERS)


@router.get("/desk")
def ticket_desk() -> FileResponse:
    """Every request, whatever it came by, for agents to read and answer."""
    return FileResponse(PAGES / "desk.html", headers=PAGE_HEADERS)


@router.get("/manager")
def manager_dashboard() -> FileResponse:
    return FileResponse(PAGES / "manager.html", headers=PAGE_HEADERS)


@router.get("/admin")
def staff_accounts() -> FileResponse:
    return FileResponse(PAGES / "admin.html", headers=PAGE_HEADERS)


@router.get("/reset")
def choose_a_password() -> FileResponse:
    """Where a one-time password-reset link leads (the token is after the #)."""
    return FileResponse(PAGES / "reset.html", headers=PAGE_HEADERS)


@router.get("/ticket")
def customer_ticket() -> FileResponse:
    """Where the link in a customer's e-mail leads (the token is after the #)."""
    return FileResponse(PAGES / "ticket.html", headers=PAGE_HEADERS)


@router.get("/survey")
def ticket_survey() -> FileResponse:
    """The satisfaction survey about a solved ticket (the link in the "solved" e-mail; token after the #)."""
    return FileResponse(PAGES / "survey.html", headers=PAGE_HEADERS)


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
