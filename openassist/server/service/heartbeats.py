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

from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Connection

from openassist.server.service import timed
from openassist.server.service.context import ServiceContext
from openassist.server.store import fleet
from openassist.server.store.batcher import Batcher, Outcome
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


class HeartbeatWriter:
    def __init__(self, context: ServiceContext, linger_s: float = LINGER_S) -> None:
        self._ctx = context
        self._states: dict[str, Any] = {}  # instance id -> the agent state this node last wrote
        self._beats: Batcher[Beat, list[str]] = Batcher(
            self._write_batch,
            name="heartbeats",
            max_batch=MAX_BATCH,
            linger_s=linger_s,
            urgent=self._changes_state,
        )

    async def record(self, beat: Beat) -> list[str]:
        """Write ``beat`` (with the others of its batch); returns the invoke ids of reboot
        tasks handed out again because the instance booted since its last heartbeat."""
        return await self._beats.submit(beat)

    async def _write_batch(self, beats: list[Beat]) -> list[Outcome[list[str]]]:
        """One transaction for the batch (a store failure fails every heartbeat of it)."""
        kicks = await self._ctx.db.write(partial(self._write, beats=beats))
        for beat in beats:
            self._states[beat.instance_id] = beat.changes.get("agent_state")
        return [Outcome(rearmed) for rearmed in kicks]

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
