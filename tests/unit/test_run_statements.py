"""What one `echo hi` costs the store (issue 18): the server's CPU per run went mostly to
SQLAlchemy building each statement and its cache key anew, several times what SQLite took to run
it. The statements of a run (RunCommand, the agent's signed calls, its task-list claim, its
report, the result wait) are built once, so a warm run builds none; and the run takes a known
number of statements and transactions. Counted, not timed: a real store on both backends, the
services as the server composes them, the in-process bus."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import ClauseElement, Connection, event

from openassist.protocol.reports import ReportKind, TaskReport
from openassist.protocol.statuses import CommandType, InstanceStatus
from openassist.server.bus.memory import MemoryBus
from openassist.server.service.clock import SystemClock
from openassist.server.service.context import Limits, ServiceContext
from openassist.server.service.delivery import DeliveryService
from openassist.server.service.files import FileService
from openassist.server.service.invocations import InvocationService
from openassist.server.service.parameter_store import ParameterStoreService
from openassist.server.service.replay import StoreReplayGuard
from openassist.server.service.result_waits import ResultWaitService
from openassist.server.service.secret_box import SecretBox
from openassist.server.service.task_list import TaskListService
from openassist.server.service.task_specs import CommandSpec, TaskArgs
from openassist.server.store import fleet
from openassist.server.store.db import Database
from openassist.server.store.invocations import ResultFilter
from openassist.server.store.paging import PageQuery
from tests.support.cluster import postgres_admin_url
from tests.support.store import opened_database, registered_instance

HOUR_MS = 3_600_000
# Statements one run takes now (SQLite; PostgreSQL the same): RunCommand 6, task list 7, report
# 7, the result wait 5 (its state, then the rows: count, page, task, command), three replay
# marks 3. A change that adds one to every run says so here.
STATEMENTS_PER_RUN = 28
# Transactions, each one thread hop: writes RunCommand, three replay marks (the fetch's look at
# what waits rides its mark), the claim, the report; one read, the wait's state with its rows.
TRANSACTIONS_PER_RUN = {"write": 6, "read": 1}


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgres" and not postgres_admin_url():
        pytest.skip("OPENASSIST_TEST_POSTGRES_URL is not set")
    with opened_database(request.param, tmp_path, migrated=True) as database:
        yield database


class Server:
    """The parts of the server one run goes through."""

    def __init__(self, db: Database) -> None:
        context = ServiceContext(db=db, bus=MemoryBus(), clock=SystemClock(), limits=Limits())
        store = ParameterStoreService(context, SecretBox(os.urandom(32)))
        self.invocations = InvocationService(context)
        self.delivery = DeliveryService(context, store)
        self.lists = TaskListService(context, self.delivery, FileService(context))
        self.replay = StoreReplayGuard(db, context.clock)
        self.waits = ResultWaitService(context)

    async def run(self, number: int) -> None:
        """RunCommand, the agent's fetch and report, the client's wait, as `echo hi` goes."""
        assert await self.replay.first_use("api:key", f"nonce-{number}", HOUR_MS)
        spec = CommandSpec(type=CommandType.RUN_SHELL_SCRIPT, content=b"echo hi", timeout=60)
        _, invoke_id = await self.invocations.run_command(spec, TaskArgs(("mi-1",), "key"))
        look = self.lists.look("mi-1")  # as the gateway: with the fetch's replay mark
        new, waiting = await self.replay.first_use_with("agent:mi-1", f"f-{number}", HOUR_MS, look)
        assert new and waiting
        [handed] = (await self.lists.hand_out("mi-1", waiting=waiting)).runs
        assert handed.row.invoke_id == invoke_id
        assert await self.replay.first_use("agent:mi-1", f"report-{number}", HOUR_MS)
        report = TaskReport(
            kind=ReportKind.FINISH, task_id=invoke_id, exit_code=0, output=b"hi\n", end_ms=1
        )
        assert await self.delivery.report("mi-1", report) is not None
        # As WaitInvocationResults with IncludeResults: the rows read with the state.
        rows = InvocationService.results_query(ResultFilter(invoke_id=invoke_id), PageQuery(50))
        state, found = await self.waits.wait_with(invoke_id, 0, 0, lambda conn, _: rows(conn))
        assert state.finished == 1
        assert found is not None
        assert [row.status for row in found[0].items] == [InstanceStatus.SUCCESS]


class Recorder:
    """Every statement the store runs: its SQLAlchemy object (kept, so ids are not reused)."""

    def __init__(self, db: Database) -> None:
        self.built: list[ClauseElement] = []
        self.statements = 0
        self.transactions: dict[str, int] = {}
        event.listen(db.engine, "before_execute", self._built)
        event.listen(db.engine, "before_cursor_execute", self._executed)
        db.observe = self._transaction

    def _built(self, _conn: Connection, element: Any, *_args: Any) -> None:
        if isinstance(element, ClauseElement):
            self.built.append(element)

    def _executed(self, *_args: Any) -> None:
        self.statements += 1

    def _transaction(self, kind: str, _seconds: float) -> None:
        self.transactions[kind] = self.transactions.get(kind, 0) + 1

    def clear(self) -> list[ClauseElement]:
        built, self.built, self.statements, self.transactions = self.built, [], 0, {}
        return built


def test_a_warm_run_builds_no_statement_and_takes_a_known_number(db: Database) -> None:
    server = Server(db)

    async def main() -> tuple[list[ClauseElement], Recorder]:
        online = registered_instance("mi-1", last_heartbeat_at=SystemClock().now_ms())
        await db.write(lambda conn: fleet.insert_instance(conn, online))
        await server.run(0)  # first use: target set, statement caches
        recorder = Recorder(db)
        await server.run(1)
        before = recorder.clear()
        await server.run(2)
        return before, recorder

    before, recorder = asyncio.run(main())
    known = {id(statement) for statement in before}
    anew = [str(s).split("\n")[0] for s in recorder.built if id(s) not in known]
    assert anew == []
    assert recorder.statements == STATEMENTS_PER_RUN
    assert recorder.transactions == TRANSACTIONS_PER_RUN
