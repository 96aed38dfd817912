"""Files only banshui's own user may read: the database, its journals, the var dir.

The database holds SMS texts, codes and sealed secrets; SQLite makes a new file
with the process's umask (0644 as a rule) and gives its -wal and -shm files the
database file's mode. So the file is made 0600 before SQLite first opens it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
_JOURNALS = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> None:
    """The folder, made if missing, readable by the owner alone."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIR)


def private_sqlite_file(url: str) -> None:
    """Make a SQLite database file 0600 (and its journals), its new folder 0700."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return

    path = Path(database)
    if not path.parent.exists():
        path.parent.mkdir(mode=PRIVATE_DIR, parents=True)
    # O_EXCL: a file another process made meanwhile is only tightened.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for name in (database, *(database + suffix for suffix in _JOURNALS)):
        if os.path.exists(name):
            _tighten(Path(name), PRIVATE_FILE)


def _tighten(path: Path, mode: int) -> None:
    """Take away the rights ``mode`` does not give; fewer are left as they are."""
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~mode:
        path.chmod(current & mode)
