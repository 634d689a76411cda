"""The console's shared session secret on a real store (SQLite and PostgreSQL): two nodes
starting at once create one secret between them, and only one gives the first password; the
secret is sealed (another parameter key cannot open it: a copy of the database alone signs no
session); an earlier version's users are imported once, each as the log line says."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from openassist.server.bus.memory import MemoryBus
from openassist.server.service.clock import SystemClock
from openassist.server.service.console_secrets import ConsoleSecrets, Imported
from openassist.server.service.context import Limits, ServiceContext
from openassist.server.service.identities import new_user
from openassist.server.service.passwords import hash_password
from openassist.server.service.secret_box import SecretBox, SecretUnreadable
from openassist.server.store import identities
from openassist.server.store.db import Database
from tests.conftest import BACKENDS
from tests.support.store import opened_database

KEY = os.urandom(32)


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with opened_database(request.param, tmp_path, migrated=True) as database:
        yield database


def _secrets(db: Database, key: bytes = KEY) -> ConsoleSecrets:
    context = ServiceContext(db=db, bus=MemoryBus(), clock=SystemClock(), limits=Limits())
    return ConsoleSecrets(context, SecretBox(key))


def _stored(db: Database, name: str) -> str:
    async def read() -> str:
        user = await db.read(lambda conn: identities.get_user(conn, name))
        return user.password_hash if user else ""

    return asyncio.run(read())


def test_two_nodes_starting_at_once_make_one_secret_and_one_first_password(db: Database) -> None:
    asyncio.run(db.write(lambda conn: identities.insert_user(conn, new_user("admin", 1))))
    hashes = [hash_password(f"password {n}") for n in range(4)]

    async def start_together() -> list[tuple[bytes, bool, bool]]:
        found = await asyncio.gather(
            *(_secrets(db).session_secret(None, ("admin", h)) for h in hashes)
        )
        return [(f.secret, f.created, f.gave_first_password) for f in found]

    started = asyncio.run(start_together())
    assert len({secret for secret, _, _ in started}) == 1 and len(started[0][0]) == 32
    assert [created for _, created, _ in started].count(True) == 1
    gave = [n for n, (_, _, given) in enumerate(started) if given]
    assert len(gave) == 1 and _stored(db, "admin") == hashes[gave[0]]
    again = asyncio.run(_secrets(db).session_secret(b"i" * 32, ("admin", hash_password("x"))))
    assert again.secret == started[0][0] and not again.created  # an import too late: ignored
    assert not again.gave_first_password and _stored(db, "admin") == hashes[gave[0]]
    with pytest.raises(SecretUnreadable):  # a copy of the database, without the key
        asyncio.run(_secrets(db, os.urandom(32)).session_secret())


def test_an_earlier_secret_and_users_are_imported_once(db: Database) -> None:
    asyncio.run(db.write(lambda conn: identities.insert_user(conn, new_user("admin", 1))))
    asyncio.run(db.write(lambda conn: identities.insert_user(conn, new_user("ops", 1, "h-ops"))))
    old = os.urandom(32)
    found = asyncio.run(_secrets(db).session_secret(old))
    assert found.secret == old and found.created and not found.gave_first_password
    users = {"admin": "h-admin", "ops": "h-file", "ci": "h-ci", "bad name!": "h-bad"}
    done = asyncio.run(_secrets(db).import_users(users))
    assert done == {
        "admin": Imported.GIVEN,  # the store's admin had no console password
        "ops": Imported.KEPT,  # the store's own password wins
        "ci": Imported.CREATED,  # a RAM user with no policy, as the file's user was
        "bad name!": Imported.REFUSED,
    }
    assert [_stored(db, n) for n in ("admin", "ops", "ci")] == ["h-admin", "h-ops", "h-ci"]
