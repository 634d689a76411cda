"""From a delivered task to what the agent does: the run to make (``script_spec``), or the
report that says why it cannot run (``Unrunnable``), and the final report of a run."""

from __future__ import annotations

import base64
import binascii
import platform
import shutil
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from msgspec.structs import replace

from openassist.agent import clock, secret_values
from openassist.agent.channel import ChannelError, SecretsRefused
from openassist.agent.identity import Identity
from openassist.agent.parameters import UnknownBuiltIn, resolve_built_ins
from openassist.agent.runner import RunOutcome, ScriptRun, ScriptSpec
from openassist.agent.settings import AgentEnvironment
from openassist.protocol import agent as wire
from openassist.protocol.reports import ReportKind, StopResult, TaskReport


class Unrunnable(Exception):
    """A task that cannot start: ``kind`` is the report to send, ``code`` its catalog code."""

    def __init__(self, kind: ReportKind, code: str, description: str) -> None:
        super().__init__(description)
        self.kind, self.code, self.description = kind, code, description

    def report(self, base: TaskReport) -> TaskReport:
        """The report saying so, about the task (and run) of ``base``."""
        return replace(base, kind=self.kind, error_code=self.code, error_info=self.description)


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
            ReportKind.INVALID,
            "CommandNotApplicable",
            "RunPowerShellScript needs PowerShell (pwsh), which is not installed on this instance",
        )
    raise Unrunnable(
        ReportKind.INVALID,
        "CommandNotApplicable",
        f"{command_type} runs on Windows; this instance runs {platform.system() or 'Linux'}",
    )


# Asks the server for a task's secret values (Channel.secret_values).
AskSecrets = Callable[[str], Awaitable[dict[str, str]]]


async def resolve_secrets(task: wire.TaskInfo, ask: AskSecrets) -> dict[str, str]:
    """The values of the task's ``{{oos-secret:...}}`` references, asked for now (none asked
    for when it has none); raises Unrunnable QueryParameterStoreFailed when there are none."""
    wanted = secret_values.names(task)
    if not wanted:
        return {}
    try:
        return await ask(task.taskID)
    except SecretsRefused as refused:
        why = f"the server has no values for its secret parameters: {refused}"
    except ChannelError as error:
        why = f"the server could not be asked for its secret parameters: {error}"
    raise Unrunnable(ReportKind.ERROR, "QueryParameterStoreFailed", why)


def script_spec(
    task: wire.TaskInfo,
    instance_id: str,
    script_dir: Path,
    secrets: Mapping[str, str] | None = None,
) -> ScriptSpec:
    """The run to make of a task, with ``secrets`` (values by name) in the places of its
    ``{{oos-secret:...}}``; raises Unrunnable with the report to send instead."""
    try:
        content = base64.b64decode(task.commandContent, validate=True)
    except (binascii.Error, ValueError):
        raise Unrunnable(
            ReportKind.ERROR, "CommandContentDecodeError", "the command content is not valid Base64"
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
                ReportKind.INVALID,
                "InvalidSystemBuiltInParameter",
                f"{{{{ACS::{unknown.name}}}}} is not a built-in parameter",
            ) from None
        # Last: a secret's value is never read for placeholders of its own.
        content = secret_values.fill(text, secrets or {}).encode("utf-8", "surrogateescape")
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


def base_report(task: wire.TaskInfo) -> TaskReport:
    """What every report about a run of ``task`` starts from: its task and version."""
    return TaskReport(
        kind=ReportKind.RUNNING, task_id=task.taskID, invoke_version=task.invokeVersion
    )


def canceled_report(base: TaskReport) -> TaskReport:
    """The report of a run stopped before it started (the official agent's "canceled")."""
    return replace(
        base,
        kind=ReportKind.STOPPED,
        exit_code=-1,
        result=StopResult.CANCELED,
        start_ms=0,
        end_ms=clock.now_ms(),
    )


_KIND_BY_STATUS = {
    "finished": ReportKind.FINISH,
    "timeout": ReportKind.TIMEOUT,
    "error": ReportKind.ERROR,
    "stopped": ReportKind.STOPPED,
}


def final_report(outcome: RunOutcome, base: TaskReport) -> TaskReport:
    """The report that ends the run of ``base`` (its task, version and wall clock)."""
    stopped = outcome.status == "stopped"
    exit_code = -1 if stopped and outcome.exit_code is None else outcome.exit_code
    code = outcome.error_code if outcome.error_code != "ExitCodeNonzero" else ""
    return replace(
        base,
        kind=_KIND_BY_STATUS[outcome.status],
        start_ms=outcome.started_at_ms,
        end_ms=outcome.finished_at_ms,
        dropped=outcome.unsent_dropped,
        exit_code=exit_code,
        error_code=code or "",
        error_info=outcome.error_info,
        result=StopResult.KILLED if stopped else None,
        output=outcome.unsent,
    )


async def run_periodic(
    item: wire.RunItem,
    base: TaskReport,
    identity: Identity,
    script_dir: Path,
    runs: dict[str, ScriptRun],
    ask: AskSecrets,
    agent: AgentEnvironment,
) -> TaskReport:
    """One run of a periodic task: no journal entry (the schedule file holds the task, with its
    secret placeholders: the values are asked for at each fire) and, as the official agent does
    for them, no partial output. ``runs`` holds it while it runs, so a stop can end it."""
    task = item.task
    try:
        secrets = await resolve_secrets(task, ask)
        spec = script_spec(task, identity.instance_id, script_dir, secrets)
    except Unrunnable as problem:
        return problem.report(base)
    run = ScriptRun(spec, quota=item.output.logQuota, agent=agent)
    runs[task.taskID] = run
    try:
        outcome = await run.run()
    finally:
        runs.pop(task.taskID, None)
    return final_report(outcome, base)
