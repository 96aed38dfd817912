"""A throw-away PostgreSQL database for the parts of the bench that need one.

``make bench`` measures the hand-off across processes when a PostgreSQL server
answers (by default the one the tests use, 127.0.0.1:5432): it makes a database
of its own there for the run and drops it afterwards, so nothing on the server
is touched.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

SERVER_VARIABLE = "BANSHUI_BENCH_POSTGRESQL_URL"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def chosen_server() -> str:
    return os.environ.get(SERVER_VARIABLE) or DEFAULT_SERVER


def answers(server: str) -> bool:
    try:
        psycopg.connect(_plain(server), connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def shown(server: str) -> str:
    """The server's URL with any password hidden, for messages."""
    return make_url(server).render_as_string(hide_password=True)


@contextmanager
def throwaway_database(server: str) -> Iterator[str]:
    """A new, empty database on ``server``: its URL, dropped on leaving."""
    name = f"banshui_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(_plain(server), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(_plain(server)).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_plain(server), autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def _plain(server: str) -> str:
    """The URL as psycopg takes it: no SQLAlchemy driver name."""
    url = make_url(server).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)
