"""Keeping robot URLs out of logs: for WeCom, DingTalk and Feishu they are the key.

httpx logs every request's URL at INFO. A deployment that turns INFO on for
everything would write the robots' tokens to its logs; this filter, on the
``httpx`` logger while the worker runs, shows those URLs as host only.
"""

from __future__ import annotations

import logging

import httpx

SHOWN_PATH = "/****"


class RobotUrlRedaction(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._hidden: set[tuple[str, str]] = set()

    def hide(self, url: str) -> None:
        parsed = httpx.URL(url)
        self._hidden.add((parsed.host, parsed.path))

    def filter(self, record: logging.LogRecord) -> bool:
        if self._hidden and isinstance(record.args, tuple):
            record.args = tuple(self._shown(arg) for arg in record.args)
        return True

    def _shown(self, value: object) -> object:
        if isinstance(value, httpx.URL) and (value.host, value.path) in self._hidden:
            return f"{value.scheme}://{value.host}{SHOWN_PATH}"
        return value
