"""Tables of the store (SQLAlchemy Core), one module per concept. Times are Unix milliseconds
(portable across SQLite and PostgreSQL, and cheap to compare); the API renders them as ISO 8601.

Importing this package registers every table on ``metadata``, which is what the migrations'
env and test_migrations compare with what the migrations build: a new table module is imported
here. Code imports tables from their module (``schema.tasks.invocations``)."""

from __future__ import annotations

from openassist.server.store.schema import (  # noqa: F401 (each registers its tables)
    access,
    audit,
    files,
    fleet,
    request_guards,
    results,
    settings,
    tallies,
    tasks,
)
from openassist.server.store.schema.base import metadata

__all__ = ["metadata"]
