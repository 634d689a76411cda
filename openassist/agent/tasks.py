"""From a delivered task to what the agent does: the run to make (``script_spec``), or the
report that says why it cannot run (``Unrunnable``), and the final report of a run."""

from __future__ import annotations

import base64
import binascii
import platform
import shutil
from pathlib import Path

from openassist.agent.identity import Identity
from openassist.agent.parameters import UnknownBuiltIn, resolve_built_ins
from openassist.agent.runner import RunOutcome, ScriptRun, ScriptSpec
from openassist.protocol import agent as wire


class Unrunnable(Exception):
    """A task that cannot start: ``kind`` is the report to send, ``details`` its fields."""

    def __init__(self, kind: str, code: str, description: str) -> None:
        super().__init__(description)
        self.kind = kind
        self.details = {"errCode": code, "errDesc": description}


POWERSHELL_LAUNCHER = (
    "pwsh -NoLogo -NoProfile -NonInteractive -File {{ACS::ScriptFileName|Ext(.ps1)}}"
)


def type_launcher(command_type: str) -> str:
    """How this (Linux) instance runs a command type; raises Unrunnable for one it cannot."""
    if command_type in ("", "RunShellScript"):
        return ""
    if command_type == "RunPowerShellScript" and shutil.which("pwsh"):
        return POWERSHELL_LAUNCHER
    if command_type == "RunPowerShellScript":
        raise Unrunnable(
            "invalid",
            "CommandNotApplicable",
            "RunPowerShellScript needs PowerShell (pwsh), which is not installed on this instance",
        )
    raise Unrunnable(
        "invalid",
        "CommandNotApplicable",
        f"{command_type} runs on Windows; this instance runs {platform.system() or 'Linux'}",
    )


def script_spec(task: wire.TaskInfo, instance_id: str, script_dir: Path) -> ScriptSpec:
    """The run to make of a task; raises Unrunnable with the report to send instead."""
    try:
        content = base64.b64decode(task.commandContent, validate=True)
    except (binascii.Error, ValueError):
        raise Unrunnable(
            "error", "CommandContentDecodeError", "the command content is not valid Base64"
        ) from None
    launcher = task.launcher or type_launcher(task.type)
    if task.enableParameter:
        values = {
            **task.builtInParameter,
            "InstanceId": instance_id,
            "CommandId": task.commandId,
            "InvokeId": task.taskID,
        }
        try:
            text = resolve_built_ins(content.decode("utf-8", "surrogateescape"), values)
            # The script file's own placeholder is the runner's to fill.
            kept = {"ScriptFileName": "{{ACS::ScriptFileName}}"}
            launcher = resolve_built_ins(launcher, {**values, **kept})
        except UnknownBuiltIn as unknown:
            raise Unrunnable(
                "invalid",
                "InvalidSystemBuiltInParameter",
                f"{{{{ACS::{unknown.name}}}}} is not a built-in parameter",
            ) from None
        content = text.encode("utf-8", "surrogateescape")
    return ScriptSpec(
        content=content,
        timeout_s=float(task.timeOut or 60),
        working_dir=task.workingDirectory or None,
        username=task.username or None,
        script_dir=str(script_dir),
        task_id=task.taskID,
        launcher=launcher,
        termination_mode=task.terminationMode,
    )


_KIND_BY_STATUS = {
    "finished": "finish",
    "timeout": "timeout",
    "error": "error",
    "stopped": "stopped",
}


def final_report(outcome: RunOutcome, query: dict[str, str]) -> tuple[str, dict[str, str], bytes]:
    final = {
        **query,
        "start": str(outcome.started_at_ms),
        "end": str(outcome.finished_at_ms),
        "dropped": str(outcome.unsent_dropped),
    }
    if outcome.exit_code is not None:
        final["exitCode"] = str(outcome.exit_code)
    if outcome.error_code and outcome.error_code != "ExitCodeNonzero":
        final["errCode"] = outcome.error_code
    if outcome.error_info:
        final["errDesc"] = outcome.error_info
    if outcome.status == "stopped":
        final["exitcode"] = final.pop("exitCode", "-1")  # the stopped report's own spelling
        final["result"] = "killed"
    return _KIND_BY_STATUS[outcome.status], final, outcome.unsent


async def run_periodic(
    item: wire.RunItem,
    query: dict[str, str],
    identity: Identity,
    script_dir: Path,
    runs: dict[str, ScriptRun],
) -> tuple[str, dict[str, str], bytes]:
    """One run of a periodic task: no journal entry (the schedule file holds the task) and, as
    the official agent does for them, no partial output. ``runs`` holds it while it runs, so a
    stop can end it."""
    task = item.task
    try:
        spec = script_spec(task, identity.instance_id, script_dir)
    except Unrunnable as problem:
        return problem.kind, {**query, **problem.details}, b""
    run = ScriptRun(spec, quota=item.output.logQuota)
    runs[task.taskID] = run
    try:
        outcome = await run.run()
    finally:
        runs.pop(task.taskID, None)
    return final_report(outcome, query)
