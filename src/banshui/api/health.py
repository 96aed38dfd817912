"""Health and metrics for whoever runs banshui."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from banshui.api.deps import runtime_of

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def health(request: Request) -> dict[str, bool]:
    async with runtime_of(request).db.session() as session:
        await session.execute(text("SELECT 1"))
    return {"ok": True}


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
