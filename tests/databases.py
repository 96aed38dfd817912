"""Throw-away databases for tests: SQLite files, or PostgreSQL databases.

``BANSHUI_TEST_DATABASE`` picks the kind (``sqlite``, the default, or
``postgresql``); ``BANSHUI_TEST_POSTGRESQL_URL`` names the PostgreSQL server the
databases are created on. Each test gets a database of its own, copied from a
template migrated once per test process, so a test never migrates unless it is
about migrating.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from banshui.core.migrate import upgrade

Kind = Literal["sqlite", "postgresql"]
KIND_VARIABLE = "BANSHUI_TEST_DATABASE"
SERVER_VARIABLE = "BANSHUI_TEST_POSTGRESQL_URL"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
SQLITE_FILE = "banshui.db"


class DatabaseChoiceError(Exception):
    """The environment asks for a database the tests cannot have."""


def chosen_kind() -> Kind:
    kind = os.environ.get(KIND_VARIABLE, "sqlite") or "sqlite"
    if kind not in ("sqlite", "postgresql"):
        raise DatabaseChoiceError(
            f"{KIND_VARIABLE}={kind!r}: must be sqlite or postgresql"
        )
    return "postgresql" if kind == "postgresql" else "sqlite"


def chosen_server() -> str:
    """The server's URL as psycopg takes it (no SQLAlchemy driver name)."""
    url = os.environ.get(SERVER_VARIABLE) or DEFAULT_SERVER
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def check_server(server: str) -> None:
    """Connect once, so a missing server stops the run before any test."""
    try:
        psycopg.connect(server, connect_timeout=5).close()
    except psycopg.Error as error:
        raise DatabaseChoiceError(
            f"{KIND_VARIABLE}=postgresql but no PostgreSQL answers at "
            f"{make_url(server).render_as_string()} ({error}). Start one, set "
            f"{SERVER_VARIABLE}, or run the SQLite suite alone (make test-sqlite)."
        ) from None


class Databases:
    """One test process's databases; everything made here goes at the end."""

    def __init__(self, kind: Kind, folder: Path, server: str = DEFAULT_SERVER):
        self.kind = kind
        self.folder = folder
        self.server = server
        # Unique on a server that several runs (and xdist workers) share.
        self.prefix = f"banshui_test_{os.getpid()}_{secrets.token_hex(3)}"
        self._numbers = itertools.count(1)
        self._templates: dict[str, str] = {}
        self._made: set[str] = set()
        # Dropping a database waits on the disk; the next test need not.
        self._dropper = ThreadPoolExecutor(max_workers=1)

    @property
    def migrated(self) -> str:
        """The template every ``create`` copies unless told otherwise."""
        return self.template("migrated", upgrade)

    def template(self, name: str, build: Callable[[str], None]) -> str:
        """A database made once by ``build(url)``, for ``create`` to copy."""
        if name not in self._templates:
            url = self._new(self.folder / f"template-{name}", None)
            try:
                build(url)
            except BaseException:
                self.drop(url)
                raise
            self._templates[name] = url
        return self._templates[name]

    def create(self, folder: Path, template: str | None) -> str:
        """A new database: a copy of ``template``, or empty when it is None."""
        url = self._new(folder, template)
        self._made.add(url)
        return url

    @contextmanager
    def fresh(self, folder: Path, template: str | None) -> Iterator[str]:
        url = self.create(folder, template)
        try:
            yield url
        finally:
            self.drop(url)

    def drop(self, url: str) -> None:
        self._made.discard(url)
        if self.kind == "postgresql":
            self._dropper.submit(self._drop_now, url)

    def close(self) -> None:
        for url in [*self._made, *self._templates.values()]:
            self.drop(url)
        self._dropper.shutdown(wait=True)

    def _new(self, folder: Path, template: str | None) -> str:
        if self.kind == "sqlite":
            return _sqlite_copy(folder, template)
        name = f"{self.prefix}_{next(self._numbers)}"
        source = make_url(template).database if template else "template0"
        with psycopg.connect(self.server, autocommit=True) as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(str(source))
                )
            )
        url = make_url(self.server).set(drivername="postgresql", database=name)
        return url.render_as_string(hide_password=False)

    def _drop_now(self, url: str) -> None:
        name = make_url(url).database
        with psycopg.connect(self.server, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(str(name))
                )
            )


def _sqlite_copy(folder: Path, template: str | None) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SQLITE_FILE
    # A database left in the folder goes with its journal, or the copy is torn.
    for suffix in ("", "-wal", "-shm"):
        folder.joinpath(SQLITE_FILE + suffix).unlink(missing_ok=True)
    if template is not None:
        shutil.copyfile(str(make_url(template).database), path)
    return f"sqlite:///{path}"
