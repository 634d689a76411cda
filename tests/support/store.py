"""A store of the tests' own on either backend: SQLite in the test's directory, or a fresh
PostgreSQL database dropped afterwards."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openassist.server.store.db import Database
from openassist.server.store.records import Instance, RegistrationState
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


def registered_instance(instance_id: str, **fields: Any) -> Instance:
    """A registered, never-heard-from Linux instance; ``fields`` override any column."""
    instance = Instance(
        id=instance_id,
        name="",
        hostname="",
        machine_id="m",
        activation_id=None,
        os_type="Linux",
        os_version="",
        agent_version="",
        public_key="",
        intranet_ip="",
        internet_ip="",
        registered_at=1,
        last_heartbeat_at=None,
        boot_id="",
        registration_state=RegistrationState.REGISTERED,
        last_invoked_at=None,
        invocation_count=0,
    )
    return dataclasses.replace(instance, **fields)
