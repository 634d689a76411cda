"""Use cases of SendFile: create the task, list results, take the agents' reports."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from openassist.protocol.statuses import InstanceStatus
from openassist.server.lifecycle import Event, EventKind, overall_status
from openassist.server.service import checks, ids
from openassist.server.service.context import (
    ServiceContext,
    kick_pending,
    require_in_group,
    require_registered,
)
from openassist.server.service.guard import UNGUARDED, Guard
from openassist.server.service.outages import past_deadline, settle_rows
from openassist.server.service.readiness import (
    QUEUED_WHILE,
    absence_info,
    agent_absence_code,
)
from openassist.server.store import files, fleet, proposals, rollouts, tags
from openassist.server.store.paging import Page, PageQuery
from openassist.server.store.records import FileTask, FileTaskInstance, Instance


@dataclass(frozen=True)
class SendFileArgs:
    instance_ids: tuple[str, ...]
    name: str
    target_dir: str
    content: bytes
    content_type: str
    file_mode: str
    owner: str
    group: str
    overwrite: bool
    timeout: int
    description: str
    access_key_id: str
    tags: tuple[tuple[str, str], ...] = ()
    resource_group_id: str = ""  # ResourceGroupId: every target must be in it ("": any)
    guard: Guard = UNGUARDED
    # Rollout limits, validated, as given (README, "Rollouts"), as RunCommand takes them.
    max_concurrency: str = ""
    max_errors: str = ""
    batch_wait: int = 0  # seconds a slot freed by a finished target stays empty
    delivery_deadline: int | None = None  # ms: an offline target waits for its agent until then


@dataclass(frozen=True)
class FileTaskView:
    task: FileTask
    rows: list[FileTaskInstance]
    tags: list[tuple[str, str]]


@dataclass(frozen=True)
class FileReport:
    invoke_id: str
    success: bool = False
    error_code: str = ""
    error_info: str = ""
    invalid: bool = False


class FileService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def send(self, args: SendFileArgs) -> str:
        checks.file_fields(
            args.name,
            args.target_dir,
            args.file_mode,
            args.content,
            args.owner,
            args.group,
            args.description,
        )
        now = self._ctx.clock.now_ms()
        invoke_id = ids.file_task_id()

        def create(conn: Connection) -> list[FileTaskInstance]:
            targets = fleet.instances_by_id(conn, args.instance_ids)
            require_registered(targets, args.instance_ids)
            require_in_group(targets, args.instance_ids, args.resource_group_id)
            args.guard.check_instances(conn, args.instance_ids)
            deadline = args.delivery_deadline
            rows = [self._row(invoke_id, targets[i], now, deadline) for i in args.instance_ids]
            rollout = bool(args.max_concurrency or args.max_errors)
            if rollout:  # store.rollouts lets them go
                rows = [replace(r, held=r.status is InstanceStatus.PENDING) for r in rows]
            task = FileTask(
                id=invoke_id,
                name=args.name,
                description=args.description,
                content=args.content,
                content_type=args.content_type,
                file_mode=args.file_mode,
                owner=args.owner,
                group=args.group,
                overwrite=args.overwrite,
                target_dir=args.target_dir,
                timeout=args.timeout,
                status=overall_status(r.status for r in rows),
                access_key_id=args.access_key_id,
                created_at=now,
                invoked_by=args.guard.user_name,
                max_concurrency=args.max_concurrency,
                max_errors=args.max_errors,
                batch_wait=args.batch_wait,
                delivery_deadline=deadline,
            )
            files.insert(conn, task, rows)
            if rollout:  # the first batch, at once (kicked after commit)
                tables = files.TABLES
                rollouts.advance(conn, invoke_id, now, True, tables.tasks, tables.rows)
                proposals.refresh_overall(conn, tables, invoke_id)
            tags.set_tags(conn, "file", invoke_id, args.tags, new=True)
            return rows

        rows = await self._ctx.db.write(create)
        await kick_pending(self._ctx.bus, [r for r in rows if not r.held], invoke_id)
        return invoke_id

    def _row(
        self, invoke_id: str, instance: Instance, now: int, deliver_by: int | None
    ) -> FileTaskInstance:
        absence = agent_absence_code(instance, now, self._ctx.limits.heartbeat_online_s * 1000)
        if deliver_by is not None and absence in QUEUED_WHILE:
            absence = None  # DeliveryDeadline: it waits for the agent (see sweeps)
        return FileTaskInstance(
            invoke_id=invoke_id,
            instance_id=instance.id,
            status=InstanceStatus.ABORTED if absence else InstanceStatus.PENDING,
            error_code=absence or "",
            error_info=absence_info(instance, absence),
            created_at=now,
            delivered_at=None,
            start_at=None,
            finish_at=now if absence else None,
            update_at=now,
            deliver_by=deliver_by,
        )

    async def describe(
        self, where: files.FileTaskFilter, page: PageQuery, guard: Guard = UNGUARDED
    ) -> Page[FileTaskView]:
        """File tasks on instances the caller may see, each with those instances' rows."""

        def query(conn: Connection) -> Page[FileTaskView]:
            visible = guard.visible(conn)
            found = files.list_tasks(conn, replace(where, visible=visible), page)
            rows = files.rows_of(conn, [t.id for t in found.items])
            if visible is not None:
                shown = set(visible)
                rows = {k: [r for r in v if r.instance_id in shown] for k, v in rows.items()}
            labels = tags.tags_of(conn, "file", [t.id for t in found.items])
            views = [FileTaskView(t, rows[t.id], labels[t.id]) for t in found.items]
            return Page(items=views, total=found.total, next_key=found.next_key)

        return await self._ctx.db.read(query)

    def claim(
        self, conn: Connection, instance_id: str, outage_since: int | None, now: int
    ) -> list[FileTask]:
        """Inside the caller's write transaction: send-file tasks to hand out; those never
        handed out and past their delivery window end instead (see outages). Rows are claimed
        as the task list's are (``DeliveryService.claim``): each is handed out once."""
        before = now - self._ctx.limits.redeliver_after_s * 1000
        window = self._ctx.limits.delivery_timeout_s * 1000
        found = files.claim_pending(conn, instance_id, before, now, now - window)
        for invoke_id, deliver_by in found.too_late:  # back after the DeliveryDeadline
            past_deadline(conn, files.TABLES, invoke_id, instance_id, deliver_by, now)
        if found.overdue:
            overdue = found.overdue
            settle_rows(conn, files.TABLES, instance_id, overdue, outage_since, now, window, True)
        return found.tasks

    async def report(self, instance_id: str, report: FileReport) -> InstanceStatus | None:
        now = self._ctx.clock.now_ms()
        changes: dict[str, Any] = {"finish_at": now}
        if report.success:
            event = Event(EventKind.FINISHED, exit_code=0)
        else:
            event = Event(EventKind.INVALID if report.invalid else EventKind.FAILED)
            changes.update(error_code=report.error_code, error_info=report.error_info)

        def apply(conn: Connection) -> InstanceStatus | None:
            return proposals.apply_event(
                conn, files.TABLES, report.invoke_id, instance_id, event, changes, now
            )

        return await self._ctx.db.write_grouped(apply, report.invoke_id)
