"""Tasks as the agent's task list carries them (API.md 6): the official agent's spellings."""

from __future__ import annotations

import base64
import hashlib

from openassist.protocol import agent as wire
from openassist.server.service.delivery import Delivery
from openassist.server.store.records import FileTask


def file_info(task: FileTask) -> wire.FileTaskInfo:
    content = base64.b64encode(task.content).decode()
    return wire.FileTaskInfo(
        taskID=task.id,
        name=task.name,
        destination=task.target_dir,
        content=content,
        contentType="Base64",
        mode=task.file_mode,
        owner=task.owner,
        group=task.group,
        overwrite=task.overwrite,
        signature=hashlib.md5(content.encode()).hexdigest(),  # noqa: S324 - the wire format's
        timeout=task.timeout,
    )


def task_info(delivery: Delivery) -> wire.TaskInfo:
    task, command = delivery.invocation, delivery.command
    return wire.TaskInfo(
        taskID=task.id,
        type=command.type,
        commandId=command.id,
        commandName=command.name,
        commandContent=base64.b64encode(delivery.content).decode(),
        workingDirectory=task.working_dir,
        timeOut=str(task.timeout),
        username=task.username,
        containerId=task.container_id,
        containerName=task.container_name,
        enableParameter=command.enable_parameter,
        builtInParameter=delivery.built_in if command.enable_parameter else {},
        creationTime=task.created_at,
        invokeVersion=delivery.version,
        cron=delivery.cron,
        terminationMode=task.termination_mode or "",
        launcher=command.launcher,
        secretsPerRun=delivery.secrets_per_run,
    )
