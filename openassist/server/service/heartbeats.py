"""Heartbeats written together (issue 20): one transaction for the heartbeats of many agents.

10,000 agents beating every minute are 167 heartbeats a second; written one transaction each,
they kept the single SQLite writer busy with little else. Each heartbeat still waits for its own
row's commit (an agent told 200 is recorded), but those that arrive within ``LINGER_S`` of the
first of a batch share one transaction, and the rows of one batch are written by one statement
per set of columns (executemany). The cost is at most ``LINGER_S`` more before the answer.

A heartbeat that changes what the dispatcher decides on (upgrading, a goodbye, back to running
after either) is written at once with whatever is waiting: lingering it would refuse tasks with
ClientIsUpgrading for up to ``LINGER_S`` after the agent said it takes them again.
"""

from __future__ import annotations

import asyncio
import contextvars
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Connection

from openassist.server.service import timed
from openassist.server.service.context import ServiceContext
from openassist.server.store import fleet
from openassist.server.store.records import AgentState

LINGER_S = 0.2  # how long the first heartbeat of a batch waits for others to join it
MAX_BATCH = 1000  # a batch this large is written at once


@dataclass(frozen=True)
class Beat:
    """One heartbeat: ``now`` becomes the last heartbeat time (None: a goodbye, which is no
    sign of life); ``changes``: the instance's columns it sets; ``boot_id`` as the agent said."""

    instance_id: str
    now: int | None
    changes: dict[str, Any]
    boot_id: str


_Waiting = tuple[Beat, "asyncio.Future[list[str]]"]


class HeartbeatWriter:
    def __init__(self, context: ServiceContext, linger_s: float = LINGER_S) -> None:
        self._ctx, self._linger_s = context, linger_s
        self._waiting: list[_Waiting] = []
        self._full = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._states: dict[str, Any] = {}  # instance id -> the agent state this node last wrote

    async def record(self, beat: Beat) -> list[str]:
        """Write ``beat`` (with the others of its batch); returns the invoke ids of reboot
        tasks handed out again because the instance booted since its last heartbeat."""
        answer: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self._waiting.append((beat, answer))
        if len(self._waiting) >= MAX_BATCH or self._changes_state(beat):
            self._full.set()
        if self._writer is None or self._writer.done():
            # A context of its own: the batch is never part of a caller's unit of work.
            self._writer = asyncio.create_task(
                self._write_batches(), name="heartbeats", context=contextvars.Context()
            )
        return await answer

    async def _write_batches(self) -> None:
        while self._waiting:
            with suppress(TimeoutError):
                async with asyncio.timeout(self._linger_s):
                    await self._full.wait()
            self._full.clear()
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            beats = [beat for beat, _ in batch]
            try:
                kicks = await self._ctx.db.write(partial(self._write, beats=beats))
            except Exception as error:  # the store failed: every heartbeat of the batch fails
                for _, answer in batch:
                    if not answer.done():
                        answer.set_exception(error)
                continue
            for beat in beats:
                self._states[beat.instance_id] = beat.changes.get("agent_state")
            for (_, answer), rearmed in zip(batch, kicks, strict=True):
                if not answer.done():
                    answer.set_result(rearmed)

    def _changes_state(self, beat: Beat) -> bool:
        """Whether ``beat`` is one the dispatcher must see at once: any state but running, or
        running after another state this node wrote (an agent first seen running lingers, so a
        reconnect storm is still written in batches)."""
        state = beat.changes.get("agent_state")
        if state is not AgentState.RUNNING:
            return True
        before = self._states.get(beat.instance_id, AgentState.RUNNING)
        return bool(before is not AgentState.RUNNING)

    def _write(self, conn: Connection, *, beats: list[Beat]) -> list[list[str]]:
        """As if each beat were written in turn: the later one's values win, and a boot id that
        differs from the one before it (stored, or of an earlier beat) re-arms reboot tasks."""
        boots = fleet.boot_ids(conn, {beat.instance_id for beat in beats})
        rows: dict[str, dict[str, Any]] = {}
        rearm: list[bool] = []
        for beat in beats:
            values = dict(beat.changes)
            if beat.now is not None:
                values["last_heartbeat_at"] = beat.now
            rows.setdefault(beat.instance_id, {}).update(values)
            before = boots.get(beat.instance_id, "")
            rearm.append(bool(before and beat.boot_id and before != beat.boot_id))
            if beat.boot_id:
                boots[beat.instance_id] = beat.boot_id
        fleet.record_heartbeats(conn, rows)
        now = self._ctx.clock.now_ms()
        return [
            timed.rearm_reboot_tasks(conn, beat.instance_id, now) if again else []
            for beat, again in zip(beats, rearm, strict=True)
        ]
