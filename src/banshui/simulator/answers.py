"""What every answer of the simulator looks like, and how a request finds its bureau.

Success is `{"code": 1000, "data": {...}}`; a business refusal is HTTP 200 with
`{"code", "message"}`, as on the real site. A server fault the bureau was told to
cause is HTTP 503 with `{"code": 503, "message"}`.
"""

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from banshui.simulator.bureau import Bureau
from banshui.simulator.errors import BureauError, SetupError, Unavailable

Reply = dict[str, Any]

SUCCESS = 1000


def ok(data: Reply) -> Reply:
    return {"code": SUCCESS, "data": data}


def current_bureau(request: Request) -> Bureau:
    # The bureau of the app that serves the request, also when it is mounted.
    bureau: Bureau = request.app.state.bureau
    return bureau


BureauDep = Annotated[Bureau, Depends(current_bureau)]


async def refusal(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BureauError)
    return JSONResponse({"code": error.code, "message": error.message})


async def setup_refused(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, SetupError)
    return JSONResponse({"detail": error.detail}, status_code=error.status)


async def unavailable(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Unavailable)
    return JSONResponse({"code": 503, "message": error.message}, status_code=503)
