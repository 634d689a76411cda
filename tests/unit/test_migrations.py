"""The migrations form one chain named in order, build exactly the tables of ``store/schema``,
and upgrade databases stamped with the revision ids used before the renumbering (SQLite, and
PostgreSQL when OPENASSIST_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, text

import openassist.server.store.db as store_db
from openassist.server.store.db import Database
from openassist.server.store.revisions import RENUMBERED
from openassist.server.store.schema import metadata
from tests.conftest import BACKENDS
from tests.support.store import opened_database

MIGRATIONS = Path(store_db.__file__).with_name("migrations")


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


SCRIPTS = ScriptDirectory.from_config(_config())


def _chain() -> list[Script]:
    """The revisions from the first to the head, in the order they are applied."""
    return list(reversed(list(SCRIPTS.walk_revisions("base", "heads"))))


def test_the_migrations_have_a_single_head_and_a_single_base() -> None:
    assert len(SCRIPTS.get_heads()) == 1, SCRIPTS.get_heads()
    assert len(SCRIPTS.get_bases()) == 1, SCRIPTS.get_bases()
    assert len(_chain()) == len(list(MIGRATIONS.joinpath("versions").glob("[0-9]*.py")))


def test_migration_files_are_named_by_their_place_in_the_chain() -> None:
    numbers = []
    for script in _chain():
        assert script.path is not None
        number = Path(script.path).name.split("_", 1)[0]
        assert script.revision == number, f"{script.path} has revision id {script.revision}"
        numbers.append(int(number))
    assert numbers == sorted(numbers), f"file numbers out of chain order: {numbers}"
    # An old id reused as a new one would make an old stamp ambiguous.
    assert not set(RENUMBERED) & {script.revision for script in _chain()}
    assert set(RENUMBERED.values()) <= {script.revision for script in _chain()}


def _same_server_default(
    _context: MigrationContext,
    _inspected_column: Any,
    _metadata_column: Any,
    inspected_default: str | None,
    _metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool:
    """True when the defaults differ, after the quoting each dialect adds is taken off
    (SQLite reflects ``''`` as ``('')``, PostgreSQL as ``''::character varying``)."""

    def plain(default: str | None) -> str | None:
        if default is None:
            return None
        default = default.strip()
        while default.startswith("(") and default.endswith(")"):
            default = default[1:-1].strip()
        default = default.split("::", 1)[0]
        if len(default) >= 2 and default[0] == default[-1] == "'":
            default = default[1:-1]
        return default

    return plain(inspected_default) != plain(rendered_metadata_default)


def _differences(database: Database) -> list[Any]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": _same_server_default},
        )
        return list(compare_metadata(context, metadata))


def _version(database: Database) -> str:
    with database.engine.connect() as connection:
        return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_schema_the_migrations_build_equals_schema_py(backend: str, tmp_path: Path) -> None:
    with opened_database(backend, tmp_path) as database:
        database.migrate()
        assert _differences(database) == []
        assert _version(database) == SCRIPTS.get_current_head()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("old", "new"), sorted(RENUMBERED.items()))
def test_a_database_stamped_with_an_old_revision_id_upgrades_to_the_head(
    backend: str, old: str, new: str, tmp_path: Path
) -> None:
    """A database made before the renumbering holds the migrations up to ``old`` and says so in
    alembic_version; migrating it restamps it, applies what follows, and keeps its rows."""
    with opened_database(backend, tmp_path) as database:
        with database.engine.begin() as connection:
            command.upgrade(_config(connection), new)
            connection.execute(text("UPDATE alembic_version SET version_num = :old"), {"old": old})
            connection.execute(
                text(
                    "INSERT INTO access_keys (id, secret, owner, enabled, created_at) "
                    "VALUES ('LTAIold', 's', 'admin', true, 1)"
                )
            )
        database.migrate()
        assert _version(database) == SCRIPTS.get_current_head()
        assert _differences(database) == []
        with database.engine.connect() as connection:
            kept = connection.execute(text("SELECT owner FROM access_keys WHERE id = 'LTAIold'"))
            assert kept.scalar_one() == "admin"
        database.migrate()  # idempotent once restamped
        assert _version(database) == SCRIPTS.get_current_head()
