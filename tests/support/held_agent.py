"""An agent the test speaks for: registered for real, it sends a heartbeat, fetches its task
list or reports on a task only when the test says, through the agent's own signed channel.
Nothing it sent can reach the server later than the test believes, which a frozen agent process
cannot promise (a request sent just before SIGSTOP may be handled after the next step of the
test)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from openassist.agent.channel import Channel
from openassist.agent.identity import load
from openassist.protocol import agent as wire
from openassist.protocol.reports import TaskReport
from tests.support.cluster import Cluster

T = TypeVar("T")


class HeldAgent:
    def __init__(self, cluster: Cluster, name: str = "held") -> None:
        self._state_dir = cluster.register_agent(name).state_dir
        self.instance_id = load(self._state_dir).instance_id

    def _call(self, use: Callable[[Channel], Awaitable[T]]) -> T:
        async def once() -> T:
            channel = Channel(load(self._state_dir))
            try:
                return await use(channel)
            finally:
                await channel.close()

        return asyncio.run(once())

    def heartbeat(self) -> None:
        """One heartbeat, taken by the server when this returns."""
        self._call(lambda channel: channel.heartbeat())

    def task_list(self) -> wire.TaskListResponse:
        return self._call(lambda channel: channel.task_list("kickoff"))

    def report(self, report: TaskReport) -> None:
        """One task report, taken by the server (and committed) when this returns."""
        self._call(lambda channel: channel.report(report))
