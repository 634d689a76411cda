"""Why each instance of a task failed, and what to do: one explanation for CLI, API and console.

Joins the per-instance row (code, specific cause, exit code, output) with the agent's presence
(last heartbeat) and the catalog's message and recommended solution.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

from sqlalchemy import Connection

from openassist.catalog import ENTRIES, agents
from openassist.protocol.statuses import InstanceStatus, InvocationStatus
from openassist.server.service.context import ServiceContext, invoke_not_found
from openassist.server.store import fleet, invocations
from openassist.server.store.records import Instance, Invocation, InvocationInstance

LAST_OUTPUT_LINES = 10

_EXIT_MEANINGS = {
    1: "general error reported by the script (the last command failed)",
    2: "misuse of a shell builtin or a syntax error in the script",
    126: "a command was found but could not be executed (permission denied or not executable)",
    127: "a command was not found (not installed, or not on PATH for this user)",
}


def exit_code_meaning(code: int | None, timed_out: bool = False) -> str:
    """What a shell exit code usually means; empty for 0 and unknown codes. A timed-out run's
    code (-1, or the signal's) is the agent's doing, not the script's choice."""
    if timed_out and code:
        return "killed at the timeout (the script did not finish in time)"
    if code is None or code == 0:
        return ""
    if code in _EXIT_MEANINGS:
        return _EXIT_MEANINGS[code]
    if 128 < code < 128 + 65:
        try:
            name = signal.Signals(code - 128).name
        except ValueError:
            return f"killed by signal {code - 128}"
        hint = " (often the kernel's out-of-memory killer)" if name == "SIGKILL" else ""
        return f"killed by signal {name}{hint}"
    return f"the script chose exit code {code}"


@dataclass(frozen=True)
class InstanceDiagnosis:
    instance_id: str
    status: InstanceStatus
    error_code: str
    message: str  # the catalog's message for the code
    cause: str  # the specific cause recorded for this instance
    exit_code: int | None
    exit_meaning: str
    last_output: list[str]
    last_heartbeat_at: int | None
    agent_online: bool
    solution: str
    retryable: bool
    agent_version: str = ""
    running_tasks: int | None = None  # at the agent's last heartbeat
    agent_capabilities: str = ""
    agent_faults: str = ""  # the agent's own duties failing, at its last heartbeat


@dataclass(frozen=True)
class TaskDiagnosis:
    invoke_id: str
    status: InvocationStatus
    instances: list[InstanceDiagnosis]  # only those that did not succeed


def _failed(row: InvocationInstance) -> bool:
    return row.status.is_final and row.status not in (
        InstanceStatus.SUCCESS,
        InstanceStatus.CANCELLED,
        InstanceStatus.TERMINATED,
    )


def _own_fault(host: Instance | None) -> list[str]:
    """The agent's own failing duties come first: no fix elsewhere helps until they work."""
    if host is None or not host.agent_faults:
        return []
    return [
        f"The agent reports a fault of its own: {host.agent_faults}. Fix that on the instance "
        "first (a full disk under its state directory, say; its log has the traceback)."
    ]


class DiagnosisService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def diagnose(self, invoke_id: str, instance_id: str = "") -> TaskDiagnosis:
        """Raises NotFound InvalidInvokeId.NotFound when the task does not exist."""

        def load(
            conn: Connection,
        ) -> tuple[Invocation | None, list[InvocationInstance], dict[str, Instance]]:
            task = invocations.get_invocation(conn, invoke_id)
            if task is None:
                rows = []
            elif instance_id:  # one machine: its row only, not the task's thousand
                row = invocations.get_instance_row(conn, invoke_id, instance_id)
                rows = [row] if row else []
            else:
                rows = invocations.instances_of(conn, [invoke_id])[invoke_id]
            hosts = fleet.instances_by_id(conn, [r.instance_id for r in rows])
            return task, rows, hosts

        task, rows, hosts = await self._ctx.db.read(load)
        if task is None:
            raise invoke_not_found()
        wanted = [
            r for r in rows if _failed(r) and (not instance_id or r.instance_id == instance_id)
        ]
        return TaskDiagnosis(
            invoke_id, task.status, [self._instance(r, hosts.get(r.instance_id)) for r in wanted]
        )

    def _instance(self, row: InvocationInstance, host: Instance | None) -> InstanceDiagnosis:
        entry = ENTRIES.get(row.error_code)
        heartbeat = host.last_heartbeat_at if host else None
        window = self._ctx.limits.heartbeat_online_s * 1000
        online = heartbeat is not None and self._ctx.clock.now_ms() - heartbeat <= window
        text = row.output.decode("utf-8", "replace")
        version = host.agent_version if host else ""
        # The fix for the agent actually installed, and what it does that explains the result.
        solution = agents.solution_for(entry.solution, version) if entry else ""
        notes = agents.agent_notes(row.error_code, row.dropped, version)
        return InstanceDiagnosis(
            instance_id=row.instance_id,
            status=row.status,
            error_code=row.error_code,
            message=entry.message if entry else "",
            cause=row.error_info,
            exit_code=row.exit_code,
            exit_meaning=exit_code_meaning(
                row.exit_code,
                timed_out=row.status is InstanceStatus.TIMEOUT
                or row.error_code == "ExecutionTimeout",
            ),
            last_output=text.splitlines()[-LAST_OUTPUT_LINES:],
            last_heartbeat_at=heartbeat,
            agent_online=online,
            solution=" ".join([*_own_fault(host), solution, *notes]).strip(),
            retryable=entry.retryable if entry else False,
            agent_version=host.agent_version if host else "",
            running_tasks=host.running_tasks if host else None,
            agent_capabilities=host.agent_capabilities if host else "",
            agent_faults=host.agent_faults if host else "",
        )
