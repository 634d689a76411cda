"""DiagnoseInvocation (an OpenAssist extension): why each instance failed and what to do."""

from __future__ import annotations

from typing import Any

from openassist.server.api.access import guard_of
from openassist.server.api.envelope import iso
from openassist.server.api.registry import Call, action
from openassist.server.service.diagnosis import InstanceDiagnosis


def _fields(item: InstanceDiagnosis) -> dict[str, Any]:
    return {
        "InstanceId": item.instance_id,
        "InvocationStatus": item.status.value,
        "ErrorCode": item.error_code,
        "ErrorMessage": item.message,
        "ErrorInfo": item.cause,
        "ExitCode": item.exit_code if item.exit_code is not None else 0,
        "ExitCodeMeaning": item.exit_meaning,
        "LastOutput": "\n".join(item.last_output),
        "LastHeartbeatTime": iso(item.last_heartbeat_at),
        "AgentOnline": item.agent_online,
        "AgentVersion": item.agent_version,
        "AgentRunningTasks": item.running_tasks if item.running_tasks is not None else -1,
        "AgentCapabilities": item.agent_capabilities,
        "AgentFaults": item.agent_faults,
        "RecommendedSolution": item.solution,
        "Retryable": item.retryable,
    }


@action("DiagnoseInvocation")
async def diagnose_invocation(call: Call) -> dict[str, Any]:
    p = call.params
    found = await call.services.diagnosis.diagnose(
        p.text("InvokeId", required=True), p.text("InstanceId")
    )
    # Each machine's diagnosis tells of its output and agent: only those the caller may see.
    await call.services.fleet.check_instances(
        [item.instance_id for item in found.instances], guard_of(call)
    )
    return {
        "InvokeId": found.invoke_id,
        "InvocationStatus": found.status.value,
        "Diagnoses": {"Diagnosis": [_fields(item) for item in found.instances]},
    }
