"""The Jinja2 templates every page renders with; autoescape is always on."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import jinja2
from fastapi.templating import Jinja2Templates

from banshui.core.clock import SHANGHAI

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def local_time(at: datetime | None, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored UTC time as people in China read it (Asia/Shanghai)."""
    return at.astimezone(SHANGHAI).strftime(pattern) if at is not None else ""


def iso_time(at: datetime | None) -> str:
    """ISO 8601 with its offset, for ``<time datetime=…>``."""
    return at.astimezone(SHANGHAI).isoformat() if at is not None else ""


# Everything shown comes from outside (SMS senders and texts are opaque): every
# template escapes, whatever its file name ends with.
_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["local"] = local_time
_environment.filters["iso"] = iso_time

templates = Jinja2Templates(env=_environment)
