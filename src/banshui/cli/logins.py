"""``banshui login`` and ``banshui type-code``: a running server's logins, followed.

A login whose code goes to a person's real phone waits for them to type it
(DESIGN §5.10): on a terminal ``banshui login`` asks for it; elsewhere it says
how to give it with ``banshui type-code``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import httpx
import typer
from rich.text import Text

from banshui.cli.main import Json, app
from banshui.cli.output import emit_json, err, fail, table
from banshui.client import ApiError, BanshuiClient
from banshui.numbers.phones import mask

DEFAULT_SERVER = "http://127.0.0.1:8000"

Server = Annotated[
    str,
    typer.Option(
        envvar="BANSHUI_SERVER", help="The banshui server (or BANSHUI_SERVER)."
    ),
]
ApiKey = Annotated[
    str | None, typer.Option(help="Tenant API key (or BANSHUI_API_KEY).")
]


@app.command()
def login(
    tax_id: Annotated[str, typer.Argument(help="The enterprise's 统一社会信用代码.")],
    business: Annotated[str, typer.Option(help="receive or issue.")],
    server: Server = DEFAULT_SERVER,
    api_key: ApiKey = None,
    account_id: Annotated[int | None, typer.Option(help="Use this account.")] = None,
    release: Annotated[
        bool, typer.Option("--release", help="Release the lease once it succeeded.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Ask a running server for a session and show its progress live."""
    key = _api_key(api_key)
    if business not in ("receive", "issue"):
        fail(f"--business {business!r}: must be receive or issue")
    # Only a person at a terminal can be asked for a code.
    ask_for_codes = sys.stdin.isatty()

    async def follow() -> dict[str, Any]:
        async with BanshuiClient(server, key) as client:
            asked = await client.ask_login(tax_id, business, account_id)
            err.print(f"login {asked['id']}: {asked['status']}", highlight=False)
            final = await _followed(client, asked, ask_for_codes)
            if release and final["status"] == "succeeded":
                # What is printed is the login as it is now: released.
                final = await client.release(asked["id"])
                err.print(f"  {final['status']}", highlight=False)
            return final

    final = _talk_to(server, follow)
    if as_json:
        emit_json(final)
    else:
        _print_login(final)
    served = final["status"] == "succeeded" or (
        release and final["status"] == "released"
    )
    raise typer.Exit(0 if served else 1)


@app.command("type-code")
def type_code(
    login_id: Annotated[str, typer.Argument(help="The login waiting for the code.")],
    code: Annotated[str, typer.Argument(help="The 6 digits the bureau sent.")],
    server: Server = DEFAULT_SERVER,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Give a login the code a person read off their phone."""
    key = _api_key(api_key)

    async def give() -> dict[str, Any]:
        async with BanshuiClient(server, key) as client:
            return await client.type_code(login_id, code)

    answer = _talk_to(server, give)
    if as_json:
        emit_json(answer)
    else:
        err.print(f"login {login_id}: code given", highlight=False)


async def _followed(
    client: BanshuiClient, asked: dict[str, Any], ask_for_codes: bool
) -> dict[str, Any]:
    """The login once it succeeded or ended; asks for a code when one is wanted."""
    final = asked
    shown = _state(asked)
    async for final in client.follow(asked["id"]):
        # The stream opens with the login as it is now: often just as asked.
        if _state(final) != shown:
            err.print(f"  {final['status']}" + _why(final), highlight=False)
            shown = _state(final)
        if final["status"] == "succeeded":
            break
        if not _wants_typed_code(final):
            continue
        if ask_for_codes:
            await _ask_for_code(client, final)
        else:
            err.print(_type_it_with(final["id"]), highlight=False)
    return final


def _state(login: dict[str, Any]) -> tuple[str, str | None]:
    """What a line of progress tells: the status, and what a person is asked for."""
    return login["status"], login.get("waiting_for")


def _wants_typed_code(login: dict[str, Any]) -> bool:
    return bool(
        login["status"] == "waiting_person" and login.get("waiting_for") == "code"
    )


async def _ask_for_code(client: BanshuiClient, login: dict[str, Any]) -> None:
    """Prompt until the server takes a code, or the login stops waiting for one."""
    where = f" sent to {mask(login['number'])}" if login.get("number") else ""
    while True:
        # On standard error, so standard output keeps the JSON alone (typer's
        # prompt writes its last character to standard output); blocking, so
        # off the event loop that follows the login.
        prompt = Text(f"  the code{where}: ")  # plain: no highlighting
        try:
            code = await asyncio.to_thread(err.input, prompt)
        except EOFError:
            err.print(_type_it_with(login["id"]), highlight=False)
            return  # nobody types here: the code may still come from elsewhere
        try:
            await client.type_code(login["id"], code)
            return
        except ApiError as error:
            err.print(Text.assemble(("  refused: ", "red"), str(error)))
            if error.status == 409:
                return  # the login moved on (its deadline, say): keep following


def _type_it_with(login_id: str) -> str:
    return f"  give it with: banshui type-code {login_id} CODE"


def _api_key(given: str | None) -> str:
    key = given or os.environ.get("BANSHUI_API_KEY")
    if not key:
        fail("give the tenant API key with --api-key or BANSHUI_API_KEY")
    return str(key)


Conversation = Callable[[], Coroutine[Any, Any, dict[str, Any]]]


def _talk_to(server: str, work: Conversation) -> dict[str, Any]:
    """Run a conversation with the server; its errors as one line each."""
    try:
        answer: dict[str, Any] = asyncio.run(work())
    except ApiError as error:
        where = f" ({error.field})" if error.field else ""
        fail(f"{error}{where}")
        raise
    except (OSError, httpx.HTTPError) as error:
        fail(
            f"cannot reach {server} ({type(error).__name__}): is banshui serve "
            "running there? Name another with --server or BANSHUI_SERVER"
        )
        raise
    return answer


def _why(login: dict[str, Any]) -> str:
    return f": {login['reason']}" if login.get("reason") else ""


def _print_login(login: dict[str, Any]) -> None:
    fields = ["id", "status", "reason", "tax_id", "business", "account_id", "number"]
    fields += ["sms_used", "switched", "lease_expires_at"]
    table("login", ["field", "value"], [[name, login.get(name)] for name in fields])
