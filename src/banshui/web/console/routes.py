"""Every console page under one router, and its static files."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from banshui.web.console.pages import (
    audit,
    enterprises,
    inbox,
    logins,
    me,
    persons,
    signin,
    users,
)
from banshui.web.templating import STATIC_DIR

STATIC_PATH = "/static"

router = APIRouter(include_in_schema=False)
for pages in (signin, enterprises, persons, inbox, logins, audit, users, me):
    router.include_router(pages.router)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)
