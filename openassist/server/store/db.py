"""Opening the database: engine creation, per-dialect tuning and migrations to head.

This module is where dialect differences live (principle 6): SQLite gets WAL, a busy timeout and
foreign keys; PostgreSQL needs the optional ``asyncpg`` driver.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from openassist.errors import ConfigurationError

_MIGRATIONS = Path(__file__).with_name("migrations")


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def open_engine(url: str) -> AsyncEngine:
    """Create the engine for ``url`` (``sqlite+aiosqlite:///...`` or ``postgresql+asyncpg://...``).

    Raises ConfigurationError when the URL names a backend whose driver is not installed.
    """
    if url.startswith("postgresql"):
        if importlib.util.find_spec("asyncpg") is None:
            raise ConfigurationError(
                "the database URL names PostgreSQL but asyncpg is not installed: "
                "pip install 'openassist[postgres]'"
            )
        if url.startswith("postgresql://"):
            url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
        return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
    if not url.startswith("sqlite"):
        raise ConfigurationError(f"unsupported database URL scheme in {url.split(':', 1)[0]!r}")
    engine = create_async_engine(url, connect_args={"timeout": 30})
    event.listen(engine.sync_engine, "connect", _tune_sqlite)
    return engine


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the single writer; NORMAL keeps every commit across a process
    # crash (kill -9), which is the failure we design for, without an fsync per commit.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(_alembic_config(sync), "head"))
