"""The ops chat robot's webhook: ``POST /hooks/chat``, bearer token, allowed senders."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from banshui.api.bodies import Body
from banshui.api.deps import runtime_of
from banshui.api.guessing import count_wrong_key, turn_away_guessers
from banshui.chat.commands import answer
from banshui.chat.senders import MAX_SENDER, is_allowed
from banshui.chat.token import load_chat_token, token_matches
from banshui.core.addresses import client_of
from banshui.core.errors import BanshuiError, Forbidden, Unauthorized
from banshui.core.settings import Settings
from banshui.metrics import REFUSALS, count_refusal

MAX_TEXT = 2000


class RobotNotConfigured(BanshuiError):
    status = 503
    code = "not_configured"


class ChatMessage(Body):
    # Extra keys are ignored: chat platforms add their own to what they relay.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    sender: str = Field(min_length=1, max_length=MAX_SENDER)
    text: str = Field(max_length=MAX_TEXT)


class ChatReply(BaseModel):
    text: str


def router_for(settings: Settings) -> APIRouter:
    """The route, with the token read now so that a bad one stops start-up."""
    token = load_chat_token(settings)
    router = APIRouter(tags=["chat"])

    async def authorized(request: Request) -> None:
        if token is None:
            raise RobotNotConfigured(
                "the chat robot is not configured: "
                "set BANSHUI_CHAT_TOKEN or BANSHUI_CHAT_TOKEN_FILE"
            )
        runtime, client = runtime_of(request), client_of(request)
        # Wrong tokens count with wrong API keys: one budget of guesses a client.
        await turn_away_guessers(runtime, client, "chat")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token_matches(token, given.strip()):
            await count_wrong_key(runtime, client, "chat")
            REFUSALS.labels(face="chat").inc()
            count_refusal("chat", "bad_token")
            raise Unauthorized("send the chat token as 'Authorization: Bearer <token>'")

    @router.post(
        "/hooks/chat",
        response_model=ChatReply,
        dependencies=[Depends(authorized)],
        summary="A command to the ops chat robot; the reply is its answer",
    )
    async def chat(message: ChatMessage, request: Request) -> ChatReply:
        runtime = runtime_of(request)
        if not await is_allowed(runtime.db, message.sender):
            REFUSALS.labels(face="chat").inc()
            count_refusal("chat", "sender_not_allowed")
            raise Forbidden(
                "this sender may not give commands: "
                "an operator allows it with 'banshui chat allow'",
                field="sender",
            )

        replied = await answer(runtime, message.text, actor=message.sender)
        return ChatReply(text=replied.text)

    return router
