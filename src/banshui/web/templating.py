"""The Jinja2 templates every page renders with; autoescape is always on."""

from __future__ import annotations

from pathlib import Path

import jinja2
from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).parent / "templates"

# Everything shown comes from outside (SMS senders and texts are opaque): every
# template escapes, whatever its file name ends with.
_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

templates = Jinja2Templates(env=_environment)
