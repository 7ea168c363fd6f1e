"""The customer chat gateway: sessions, messages relayed to the bot while it owns the
conversation (bot/conversations/relay.py decides what follows), and the transcript for polling
or restoring a chat after a reload. The live channel is api/live/customer.py."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import MAX_ID, SessionDep, client_address
from api.live.frames import announce
from bot.conversations import relay as relay_service
from bot.conversations.schemas import ChatReply, CustomerMessageIn, SessionCreate, SessionOut
from bot.db import transaction

router = APIRouter(prefix="/api/v1/chat", tags=["chat"])


# The customer's chat token, declared in the OpenAPI document as its own scheme (the staff routes take a
# sign-in token in the same header). Missing or wrong: 401 from the conversation service, which
# answers alike for an unknown session and a wrong token.
chat_bearer = HTTPBearer(scheme_name="ChatToken", auto_error=False,
                         description="the `token` POST /api/v1/chat/sessions returned, for that session only")


def customer_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(chat_bearer)]) -> str | None:
    return credentials.credentials.strip() or None if credentials else None


ChatTokenDep = Annotated[str | None, Depends(customer_token)]


async def relay(app: FastAPI, session_id: str, token: str | None, body: CustomerMessageIn,
                address: str | None) -> ChatReply:
    """A customer's line through the relay, with this process's bot client, rate limits and sockets."""
    return await relay_service.relay_customer_line(
        session_id, token, body, ask_bot=app.state.rasa.send,
        count=partial(app.state.rates.message, session_id=session_id, address=address),
        changed=partial(announce, app))


@router.post("/sessions", status_code=status.HTTP_201_CREATED, response_model=SessionOut)
async def create_session(request: Request, body: Annotated[SessionCreate | None, Body()] = None) -> SessionOut:
    """Start a chat. Keep the token: it authorises every later call for this session
    (`Authorization: Bearer <token>`), and nothing else does. With `"greet": true` the bot's
    greeting comes back in `messages` (the customer said nothing, so no customer line is stored)."""
    app = request.app
    return await relay_service.start_chat(body or SessionCreate(), ask_bot=app.state.rasa.send,
                                          count=partial(app.state.rates.new_session, address=client_address(request)))


@router.post("/sessions/{session_id}/messages", response_model=ChatReply)
async def send_message(session_id: str, body: CustomerMessageIn, request: Request, token: ChatTokenDep) -> Response:
    """Send `{"text"}` or a button's `{"payload"}`. While the bot owns the conversation the reply
    holds its answers; while it is queued for or held by a person, the reply comes at once and
    their lines arrive by polling (or the WebSocket)."""
    reply = await relay(request.app, session_id, token, body, client_address(request))
    # Built by us from stored rows: serialise it once instead of having it validated again.
    return Response(reply.model_dump_json(), media_type="application/json")


@router.get("/sessions/{session_id}/messages", response_model=ChatReply)
def transcript(session_id: str, session: SessionDep, token: ChatTokenDep,
               after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="a message id; only later lines")
                                ] = None,
               ) -> ChatReply:
    """The lines after `after` (all of them without it), oldest first, and the current state."""
    return relay_service.transcript(session=session, conversation_id=session_id, token=token, after=after)


def _ending(step, session_id: str, request: Request, token: str | None) -> ChatReply:
    with transaction() as session:  # committed before the sockets are told
        ending = step(session=session, conversation_id=session_id, token=token)
    announce(request, session_id, queue=ending.queue_changed, agents=[ending.agent_id])
    return ending.reply


@router.post("/sessions/{session_id}/handoff/cancel", response_model=ChatReply)
def cancel_handoff(session_id: str, request: Request, token: ChatTokenDep) -> ChatReply:
    """Stop waiting for a person and go back to the bot (only while queued; 409 otherwise)."""
    return _ending(relay_service.cancel_wait, session_id, request, token)


@router.post("/sessions/{session_id}/close", response_model=ChatReply)
def end_chat(session_id: str, request: Request, token: ChatTokenDep) -> ChatReply:
    """The customer ends the chat, in any state but `closed` (409 then): a wait for a person is
    cancelled, a chat with an agent ends for the agent too. Later messages get 409; the widget
    then starts a new session."""
    return _ending(relay_service.end_chat, session_id, request, token)
