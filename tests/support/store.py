"""A store of the tests' own on either backend: SQLite in the test's directory, or a fresh
PostgreSQL database dropped afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from openassist.server.store.db import Database
from tests.support.cluster import temporary_postgres_database


@contextlib.contextmanager
def opened_database(backend: str, tmp_path: Path, migrated: bool = False) -> Iterator[Database]:
    """``backend`` is "sqlite" or "postgres"; ``migrated``: brought to the newest migration."""
    with contextlib.ExitStack() as stack:
        if backend == "postgres":
            url = stack.enter_context(temporary_postgres_database())
        else:
            url = f"sqlite:///{tmp_path / 'store.db'}"
        database = Database(url)
        stack.callback(database.close)
        if migrated:
            database.migrate()
        yield database
