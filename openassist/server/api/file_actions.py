"""SendFile and DescribeSendFileResults (API.md 5.11, 5.12)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from openassist.catalog import api
from openassist.errors import InvalidParameter, LimitExceeded
from openassist.protocol.statuses import RepeatMode
from openassist.server.api import task_params
from openassist.server.api.access import guard_of
from openassist.server.api.envelope import iso, page_query, paging_fields, tag_list
from openassist.server.api.registry import Call, action
from openassist.server.api.rollout_fields import rollout_fields
from openassist.server.service.checks import FILE_MODE, MAX_FILE_BASE64
from openassist.server.service.files import FileTaskView, SendFileArgs
from openassist.server.store.files import FileTaskFilter


def _content(call: Call) -> tuple[bytes, str]:
    p = call.params
    text = p.text("Content", required=True)
    kind = p.text("ContentType", default="PlainText")
    if kind.lower() not in ("plaintext", "base64"):
        raise InvalidParameter(api.FILE_CONTENT_TYPE_INVALID)
    if kind.lower() == "base64":
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidParameter(api.FILE_CONTENT_NOT_BASE64) from None
    else:
        raw = text.encode("utf-8")
    size = len(base64.b64encode(raw))
    if size > MAX_FILE_BASE64:
        raise LimitExceeded(api.FILE_TOO_LARGE, size=size, limit=MAX_FILE_BASE64)
    return raw, "Base64" if kind.lower() == "base64" else "PlainText"


@action("SendFile", idempotent=True)
async def send_file(call: Call) -> dict[str, Any]:
    p = call.params
    instance_ids = p.repeated("InstanceId", max_items=50, too_many=api.INSTANCES_TOO_MANY)
    if not instance_ids:
        raise InvalidParameter(api.FILE_TARGETS_MISSING)
    name = p.text("Name", required=True, max_len=255, too_long=api.FILE_NAME_TOO_LONG)
    target_dir = p.text("TargetDir", required=True, max_len=255)
    if not target_dir.startswith("/"):
        raise InvalidParameter(api.FILE_TARGET_DIR_INVALID)
    mode = p.text("FileMode", default="0644")
    if not FILE_MODE.fullmatch(mode):
        raise InvalidParameter(api.FILE_MODE_INVALID)
    content, content_type = _content(call)
    limits = task_params.rollout(p, RepeatMode.ONCE, call.services.clock.now_ms())
    args = SendFileArgs(
        instance_ids=tuple(dict.fromkeys(instance_ids)),
        name=name,
        target_dir=target_dir,
        content=content,
        content_type=content_type,
        file_mode=mode,
        owner=p.text("FileOwner", default="root", max_len=64),
        group=p.text("FileGroup", default="root", max_len=64),
        overwrite=p.boolean("Overwrite"),
        timeout=max(
            10,
            p.integer(
                "Timeout",
                default=60,
                minimum=1,
                maximum=call.services.limits.max_timeout_s,
                too_large=api.TIMEOUT_TOO_LARGE,
            ),
        ),
        description=p.text("Description", max_len=512, too_long=api.FILE_DESCRIPTION_TOO_LONG),
        access_key_id=call.access_key_id,
        tags=task_params.tags(p),
        resource_group_id=p.text("ResourceGroupId", max_len=64),
        guard=guard_of(call),
        max_concurrency=limits.max_concurrency,
        max_errors=limits.max_errors,
        batch_wait=limits.batch_wait,
        delivery_deadline=limits.delivery_deadline,
    )
    return {"InvokeId": await call.services.files.send(args)}


def _task_fields(view: FileTaskView) -> dict[str, Any]:
    task = view.task
    return {
        **rollout_fields(task, view.rows),
        "InvokeId": task.id,
        "Name": task.name,
        "Description": task.description,
        "Content": base64.b64encode(task.content).decode(),
        "ContentType": task.content_type,
        "FileMode": task.file_mode,
        "FileOwner": task.owner,
        "FileGroup": task.group,
        "Overwrite": "true" if task.overwrite else "false",  # a string in the SDK models
        "TargetDir": task.target_dir,
        "InvokedBy": task.invoked_by,  # OpenAssist extension: the RAM user who created the task
        "CreationTime": iso(task.created_at),
        "InvocationStatus": task.status.value,
        "VmCount": len(view.rows),
        "Tags": tag_list(view.tags),
        "InvokeInstances": {
            "InvokeInstance": [
                {
                    "InstanceId": row.instance_id,
                    "InvocationStatus": row.status.value,
                    "CreationTime": iso(row.created_at),
                    "StartTime": iso(row.start_at),
                    "FinishTime": iso(row.finish_at),
                    "UpdateTime": iso(row.update_at),
                    "ErrorCode": row.error_code,
                    "ErrorInfo": row.error_info,
                }
                for row in view.rows
            ]
        },
    }


@action("DescribeSendFileResults")
async def describe_send_file_results(call: Call) -> dict[str, Any]:
    p = call.params
    where = FileTaskFilter(
        invoke_id=p.text("InvokeId") or None,
        instance_id=p.text("InstanceId") or None,
        name=p.text("Name") or None,
        status=p.text("InvocationStatus") or None,
    )
    query = page_query(p)
    page = await call.services.files.describe(where, query, guard_of(call))
    return {
        **paging_fields(page, query),
        "Invocations": {"Invocation": [_task_fields(view) for view in page.items]},
    }
