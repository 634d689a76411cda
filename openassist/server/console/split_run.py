"""A run from the console on more machines than one RunCommand takes (the API's 100 a call):
checked on every target first, then one task per 100 machines, shown together on the run's page
(``/console/runs/RUN-ID``: the run is kept in the store, see ``service.split_runs``), as the CLI
splits and shows a large run.

The check is the API's own dry run on the whole choice: an unknown or deregistered machine, or one
the user's policies refuse (as RunCommand checks each target), refuses the run before any task
exists. Machines that are offline pass, as they do for one task (their row ends with the reason).
"""

from __future__ import annotations

from dataclasses import replace

from openassist.catalog import api
from openassist.errors import DryRunPassed, Forbidden
from openassist.protocol.statuses import RepeatMode
from openassist.server.service.services import Services
from openassist.server.service.task_specs import CommandSpec, TaskArgs

MAX_TASKS = 100  # tasks of one console run: 10,000 machines at the API's 100 a task


async def _check_every_target(
    services: Services, spec: CommandSpec | None, command_id: str, args: TaskArgs
) -> None:
    dry = replace(args, repeat_mode=RepeatMode.DRY_RUN)
    try:
        if spec is None:
            await services.invocations.invoke_command(command_id, dry)
        else:
            await services.invocations.run_command(spec, dry)
    except DryRunPassed:
        return
    except Forbidden as refused:
        if refused.entry is not api.DRY_RUN_REFUSED:  # a policy refused a target: nothing runs
            raise
        # else: a machine that cannot take the task now (offline, too old): as in one task


async def start(
    services: Services, spec: CommandSpec | None, command_id: str, args: TaskArgs
) -> tuple[str, list[str]]:
    """The run on ``args.instance_ids`` (``spec``: a new command; else the saved
    ``command_id``), one task per ``max_instances_per_call`` machines: the stored run's id
    ("" when one task takes them all) and the InvokeIds."""
    batch = services.limits.max_instances_per_call
    targets = args.instance_ids
    run_id = ""
    if len(targets) > batch:
        await _check_every_target(services, spec, command_id, args)
        tasks = -(-len(targets) // batch)
        run_id = await services.split_runs.create(len(targets), tasks, args.guard.user_name)
        args = replace(args, split_run_id=run_id)
    invoke_ids: list[str] = []
    for first in range(0, len(targets), batch):
        part = replace(args, instance_ids=targets[first : first + batch])
        if spec is None:
            invoke_ids.append(await services.invocations.invoke_command(command_id, part))
        else:
            invoke_ids.append((await services.invocations.run_command(spec, part))[1])
    return run_id, invoke_ids
