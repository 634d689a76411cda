"""Two nodes on one PostgreSQL database claim one agent's task list at once: each waiting task
and file is handed out once between them (the claim locks its rows FOR UPDATE SKIP LOCKED).

A node here is what a server process keeps of the store: its own ``Database`` (engine, writer
threads, group commit) and the task-list service on it, as the gateway builds them. Node A's
claim is held uncommitted inside a unit of work while node B claims the same instance, which is
the moment two agents' fetches (or one agent's retry through a load balancer) meet."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import ExitStack

import psycopg
import pytest
from sqlalchemy import Connection

from openassist.protocol.statuses import InstanceStatus, InvocationStatus, RepeatMode
from openassist.server.bus.memory import MemoryBus
from openassist.server.service.clock import SystemClock
from openassist.server.service.context import Limits, ServiceContext
from openassist.server.service.delivery import DeliveryService
from openassist.server.service.files import FileService
from openassist.server.service.parameter_store import ParameterStoreService
from openassist.server.service.secret_box import SecretBox
from openassist.server.service.task_list import TaskList, TaskListService
from openassist.server.store import files, invocations
from openassist.server.store.db import Database
from openassist.server.store.records import (
    FileTask,
    FileTaskInstance,
    Invocation,
    InvocationInstance,
)
from openassist.server.store.schema.fleet import instances
from openassist.server.store.schema.tasks import commands
from tests.support.cluster import postgres_admin_url, temporary_postgres_database

pytestmark = pytest.mark.skipif(
    not postgres_admin_url(), reason="several nodes share a PostgreSQL database"
)

TASKS, FILES, MACHINES = 3, 2, 20


def _pending(invoke_id: str, machine: str, now: int) -> InvocationInstance:
    return InvocationInstance(
        invoke_id, machine, InstanceStatus.PENDING, error_code="", error_info="",
        exit_code=None, output=b"", dropped=0, repeats=0, created_at=now, delivered_at=None,
        start_at=None, finish_at=None, stop_at=None, update_at=now,
    )  # fmt: skip


def _seed(conn: Connection, machines: list[str]) -> None:
    conn.execute(
        instances.insert(), [{"id": m, "public_key": "-", "registered_at": 0} for m in machines]
    )
    conn.execute(
        commands.insert().values(
            id="c-1", type="RunShellScript", content=b"echo hi", timeout=60, created_at=0
        )
    )
    now = SystemClock().now_ms()
    for n in range(TASKS):
        task = Invocation(
            id=f"t-{n}", command_id="c-1", repeat_mode=RepeatMode.ONCE, frequency="",
            timeout=60, working_dir="", username="", parameters="{}", termination_mode=None,
            status=InvocationStatus.PENDING, access_key_id="k", created_at=now,
        )  # fmt: skip
        rows = [_pending(f"t-{n}", m, now) for m in machines]
        invocations.insert_invocation(conn, task, rows)
    for n in range(FILES):
        file_task = FileTask(
            id=f"f-{n}", name="a.txt", description="", content=b"x", content_type="PlainText",
            file_mode="0644", owner="root", group="root", overwrite=True, target_dir="/tmp",
            timeout=60, status=InvocationStatus.PENDING, access_key_id="k", created_at=now,
        )  # fmt: skip
        file_rows = [
            FileTaskInstance(
                f"f-{n}", m, InstanceStatus.PENDING, "", "", now, None, None, None, now
            )
            for m in machines
        ]
        files.insert(conn, file_task, file_rows)


class Node:
    def __init__(self, url: str) -> None:
        self.db = Database(url)
        context = ServiceContext(self.db, MemoryBus(), SystemClock(), Limits())
        store = ParameterStoreService(context, SecretBox(os.urandom(32)))
        self.lists = TaskListService(context, DeliveryService(context, store), FileService(context))


@pytest.fixture
def nodes() -> Iterator[tuple[Node, Node, str]]:
    with ExitStack() as stack, temporary_postgres_database() as url:
        node_a, node_b = Node(url), Node(url)
        stack.callback(node_a.db.close)
        stack.callback(node_b.db.close)
        node_a.db.migrate()
        machines = [f"i-{n:02d}" for n in range(MACHINES)]
        with node_a.db.engine.begin() as conn:
            _seed(conn, machines)
        yield node_a, node_b, url


def _handed(listing: TaskList) -> list[str]:
    return [d.row.invoke_id for d in listing.runs] + [f.id for f in listing.files]


def _lock_waits(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return int(found[0]) if found else 0


def test_a_claim_on_node_b_while_node_a_s_claim_is_uncommitted_hands_out_nothing_twice(
    nodes: tuple[Node, Node, str],
) -> None:
    node_a, node_b, url = nodes

    async def main() -> tuple[TaskList, TaskList, TaskList]:
        async with node_a.db.unit():
            first = await node_a.lists.hand_out("i-00")
            second = asyncio.create_task(node_b.lists.hand_out("i-00"))
            # Until node B's claim is over, or waits for node A's locks (the claim before
            # SKIP LOCKED did: it then handed the rows out again once node A committed).
            while not second.done() and not await asyncio.to_thread(_lock_waits, url):
                await asyncio.sleep(0.01)
        return first, await second, await node_b.lists.hand_out("i-00")

    first, second, after = asyncio.run(main())
    assert sorted(_handed(first)) == ["f-0", "f-1", "t-0", "t-1", "t-2"]
    assert _handed(second) == []
    assert _handed(after) == []  # handed out by node A, committed: not again until redelivery


def test_both_nodes_claiming_every_instance_at_once_hand_each_row_out_once(
    nodes: tuple[Node, Node, str],
) -> None:
    node_a, node_b, _url = nodes
    machines = [f"i-{n:02d}" for n in range(MACHINES)]

    async def claims(node: Node) -> list[tuple[str, str]]:
        async def one(machine: str) -> list[tuple[str, str]]:
            return [(machine, item) for item in _handed(await node.lists.hand_out(machine))]

        rounds = await asyncio.gather(*(one(m) for m in machines * 3))
        return [pair for found in rounds for pair in found]

    async def main() -> list[tuple[str, str]]:
        # Each node in its own thread and event loop, as two processes would be.
        on_a, on_b = await asyncio.gather(
            asyncio.to_thread(asyncio.run, claims(node_a)),
            asyncio.to_thread(asyncio.run, claims(node_b)),
        )
        return on_a + on_b

    handed = asyncio.run(main())
    everything = [(m, t) for m in machines for t in ("t-0", "t-1", "t-2", "f-0", "f-1")]
    assert sorted(handed) == sorted(everything)  # every row once: none twice, none lost
