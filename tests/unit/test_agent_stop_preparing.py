"""A StopInvocation that reaches the agent while it prepares a run (here: while it asks the server
for the task's secret values), before the run is in its table of running things: the stop is
remembered and the run never starts; it is reported stopped as "canceled", as a run stopped
before it began. The agent's real dispatcher (``Agent._take``/``_execute``) and journal drive it;
only the server's side of the channel is the test's, so it holds the secrets answer until the
stop is in."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from openassist.agent import main as agent_main
from openassist.agent.identity import Identity
from openassist.agent.settings import AgentEnvironment, AgentSettings
from openassist.protocol import agent as wire
from openassist.protocol.reports import ReportKind, StopResult, TaskReport

WAIT_S = 10.0  # bound on each step; the steps themselves are ordered by events, not time


class _Server:
    """The server's side of the channel: secret values answered when ``release`` is set, and
    the reports it took."""

    def __init__(self, identity: Identity, timeout_s: float = 30, boot: str | None = None) -> None:
        self.asked = asyncio.Event()
        self.release = asyncio.Event()
        self.reports: list[TaskReport] = []
        _servers.append(self)

    async def secret_values(self, task_id: str) -> dict[str, str]:
        self.asked.set()
        await self.release.wait()
        return {"token": "s3cret"}

    async def report(self, report: TaskReport) -> None:
        self.reports.append(report)


_servers: list[_Server] = []


def _task(marker: Path) -> wire.TaskInfo:
    script = f"echo {{{{oos-secret:token}}}} > {marker}\n"
    return wire.TaskInfo(
        taskID="t-prep",
        invokeVersion=1,
        enableParameter=True,
        commandContent=base64.b64encode(script.encode()).decode(),
    )


def test_a_stop_during_preparation_is_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent_main, "Channel", _Server)
    identity = Identity("i-prep", "m-prep", "127.0.0.1", 1, "local", tmp_path / "state")
    (tmp_path / "state").mkdir()
    settings = AgentSettings(environment=AgentEnvironment(boot_id="boot-prep"))
    marker = tmp_path / "ran"
    task = _task(marker)

    async def scenario() -> list[TaskReport]:
        agent = agent_main.Agent(identity, settings)
        server = _servers[-1]
        agent._take(wire.TaskListResponse(run=[wire.RunItem(task=task)]))
        await asyncio.wait_for(server.asked.wait(), WAIT_S)  # preparing: not running yet
        agent._take(wire.TaskListResponse(stop=[wire.StopItem(task=task)]))
        server.release.set()
        await asyncio.wait_for(asyncio.gather(*agent._executions), WAIT_S)
        return server.reports

    reports = asyncio.run(scenario())
    assert not marker.exists()  # the script never ran
    assert [(r.kind, r.result, r.exit_code, r.start_ms) for r in reports] == [
        (ReportKind.STOPPED, StopResult.CANCELED, -1, 0)
    ]
