"""The simulator as an ASGI app: the login API and its HTML pages, the
natural-person portal, face checks' QR pages, the admin API, a health check."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from banshui.api import hangups
from banshui.simulator import (
    admin,
    admin_faults,
    answers,
    api,
    face_api,
    pages,
    portal_api,
)
from banshui.simulator.bureau import Bureau
from banshui.simulator.config import SimConfig
from banshui.simulator.errors import BureauError, SetupError, Unavailable


def create_app(
    config: SimConfig | None = None, admin_token: str | None = None
) -> FastAPI:
    """A simulated bureau with its own state; run its lifespan to close the carrier.

    Mounted inside another app, the parent has to enter this app's lifespan
    (`app.router.lifespan_context(app)`) from its own: Starlette does not run the
    lifespan of mounted apps. With ``admin_token`` the admin API answers only to
    it; without one (a simulator embedded in a test) it is open.
    """
    if admin_token is not None and len(admin_token) < 16:
        raise ValueError("the admin token must be at least 16 characters")
    bureau = Bureau(config or SimConfig())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await bureau.carrier.aclose()

    app = FastAPI(title="banshui simulated e-tax bureau", lifespan=lifespan)
    app.state.bureau = bureau
    app.state.admin_token = admin_token
    # The routes hold no state (each request finds its bureau through its app), so
    # every app shares them: including the routers instead would make each new
    # app analyse every route again on its first request.
    for router in (api.router, pages.router, portal_api.router, face_api.router):
        app.router.routes.extend(router.routes)
    app.router.routes.extend(admin_faults.router.routes)
    app.router.routes.extend(admin.router.routes)
    app.add_exception_handler(BureauError, answers.refusal)
    app.add_exception_handler(SetupError, answers.setup_refused)
    app.add_exception_handler(Unavailable, answers.unavailable)
    # A client gone mid-body is no error here either: the one quiet answer.
    hangups.install(app)
    app.add_api_route("/healthz", healthz, methods=["GET"])
    return app


async def healthz() -> dict[str, bool]:
    return {"ok": True}
