"""An agent's task list: tasks to run and stop, and files to send, claimed in one write.

During a fan-out every agent fetches its task list at once. The claim is a write; one
transaction per agent (and one more for its files) kept the single SQLite writer busy with
transaction overhead (issue 20: 42% of its time in a 1,000-agent fan-out). Here both parts of
one agent's claim are one unit of work, and the claims of agents that fetch together share a
transaction through group commit (``Database.write_grouped``): a claim that finds the writer
idle is written at once, alone, so a single run waits for no batch. The agent is answered only
after the commit, so a task it was handed is recorded as handed out even if the server dies
right after; a claim rolled back (its batch failed) hands out nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from openassist.server.service.context import ServiceContext
from openassist.server.service.delivery import Claimed, Delivery, DeliveryService
from openassist.server.service.files import FileService
from openassist.server.service.waiting import Waiting, anything_waiting, look
from openassist.server.store.records import FileTask

_NONE = Claimed([], [], {}, {}, {})


@dataclass(frozen=True)
class TaskList:
    runs: list[Delivery]
    stops: list[Delivery]
    files: list[FileTask]


class TaskListService:
    def __init__(
        self, context: ServiceContext, delivery: DeliveryService, files: FileService
    ) -> None:
        self._ctx, self._delivery, self._files = context, delivery, files

    async def hand_out(
        self,
        instance_id: str,
        instance_name: str = "",
        outage_since: int | None = None,
        secrets_per_run: bool = False,
        waiting: Waiting | None = None,
    ) -> TaskList:
        """What the instance's agent is handed now (see ``DeliveryService.claim`` and
        ``FileService.claim``); an empty list, without a write, when nothing waits.
        ``waiting``: what ``look`` found for this fetch already, if it ran."""
        if waiting is None:
            waiting = await anything_waiting(self._ctx, instance_id)
        if not waiting:
            return TaskList([], [], [])
        now = self._ctx.clock.now_ms()

        def claim(conn: Connection) -> tuple[Claimed, list[FileTask]]:
            tasks = (
                self._delivery.claim(conn, instance_id, outage_since, now)
                if waiting.tasks
                else _NONE
            )
            files = self._files.claim(conn, instance_id, outage_since, now) if waiting.files else []
            return tasks, files

        claimed, files = await self._ctx.db.write_grouped(claim)
        runs, stops = self._delivery.deliveries(claimed, instance_name, secrets_per_run)
        return TaskList(runs, stops, files)

    def look(self, instance_id: str) -> Callable[[Connection], Waiting]:
        """The read that tells ``hand_out`` whether anything waits (``waiting.look``)."""
        return look(self._ctx, instance_id)
