"""Seed a running server's store with a large fleet and a large task, straight into its tables
(no agents): what the console's pages must handle at scale (5,000 machines, 1,000 results a
task, a week of tasks). Rows are written the way the server writes them, so every page reads
them through its ordinary queries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import create_engine

from openassist.protocol.statuses import InstanceStatus
from openassist.server.store.proposals import encode_counts
from openassist.server.store.schema.fleet import instances
from openassist.server.store.schema.tasks import commands, invocation_instances, invocations, tags
from tests.support.cluster import Cluster

HOUR_MS = 3_600_000
# The big task's results: (count, status, exit code, error code, output), in this order.
RESULTS = (
    (620, "Success", 0, "", b"Linux 6.1.0-28-amd64 x86_64\n"),
    (240, "Success", 0, "", b"Linux 6.5.0-1-amd64 x86_64\n"),
    (70, "Failed", 1, "ExitCodeNonzero", b"uname: write error: No space left on device\n"),
    (40, "Aborted", None, "ClientNotOnline", b""),
    (18, "Timeout", -1, "ExecutionTimeout", b"waiting for lock\n"),
    (12, "Running", None, "", b"starting\n"),
)
SCRIPT = b"uname -srm"


@dataclass(frozen=True)
class SeededFleet:
    machines: int
    online: int
    invoke_id: str  # the task with one row per machine of RESULTS
    names: dict[str, str] = field(default_factory=dict)  # instance id -> name
    tagged: dict[str, int] = field(default_factory=dict)  # "key=value" -> machines


def database_url(cluster: Cluster) -> str:
    return cluster.database_url or f"sqlite:///{cluster.root / 'data' / 'openassist.db'}"


def _machine(n: int, now: int, online: bool) -> dict[str, object]:
    return {
        "id": f"mi-seed{n:019d}",
        "name": f"node-{n:04d}",
        "hostname": f"node-{n:04d}.fleet.example",
        "public_key": "-",
        "registered_at": now - 10 * 24 * HOUR_MS + n,
        "last_heartbeat_at": now if online else now - 24 * HOUR_MS,
        "agent_version": "2.1.0",
        "os_type": "Linux",
        "os_version": "Debian 12",
    }


def seed_fleet(cluster: Cluster, machines: int = 5000, week_tasks: int = 400) -> SeededFleet:
    """``machines`` machines (one in ten offline; tagged role=web/db/cache and zone=a/b), one
    task on the first sum(RESULTS) of them, and ``week_tasks`` small tasks over the last 7
    days (for the overview)."""
    engine = create_engine(database_url(cluster))
    now = int(time.time() * 1000)
    rows = [_machine(n, now, online=n % 10 != 9) for n in range(machines)]
    roles = ("web", "db", "cache")
    labels = []
    tagged: dict[str, int] = {}
    for n, row in enumerate(rows):
        for key, value in (("role", roles[n % 3]), ("zone", "a" if n % 2 else "b")):
            labels.append(
                {"resource_type": "instance", "resource_id": row["id"], "key": key, "value": value}
            )
            tagged[f"{key}={value}"] = tagged.get(f"{key}={value}", 0) + 1
    invoke_id = "t-seed0000000000000000000"
    task_rows = []
    start = 0
    for count, status, exit_code, error_code, output in RESULTS:
        for n in range(start, start + count):
            begun = None if status == "Aborted" else now - 60_000 + n
            task_rows.append(
                {
                    "invoke_id": invoke_id,
                    "instance_id": rows[n]["id"],
                    "status": status,
                    "exit_code": exit_code,
                    "error_code": error_code,
                    "output": output,
                    "created_at": now - 60_000,
                    "delivered_at": begun,
                    "start_at": begun,
                    "finish_at": None if status == "Running" else now - 30_000 + 17 * n % 9000,
                    "update_at": now,
                }
            )
        start += count
    week = _week_of_tasks(rows, now, week_tasks)
    with engine.begin() as conn:
        for first in range(0, len(rows), 1000):
            conn.execute(instances.insert(), rows[first : first + 1000])
        conn.execute(tags.insert(), labels)
        conn.execute(
            commands.insert(),
            [
                {
                    "id": "c-seed",
                    "type": "RunShellScript",
                    "content": SCRIPT,
                    "timeout": 60,
                    "created_at": now - 60_000,
                }
            ],
        )
        conn.execute(
            invocations.insert(),
            [
                {
                    "id": invoke_id,
                    "command_id": "c-seed",
                    "repeat_mode": "Once",
                    "timeout": 60,
                    "status": "Running",
                    "access_key_id": "seed",
                    "created_at": now - 60_000,
                    "status_counts": kept_counts(task_rows),  # as the server keeps them
                }
            ],
        )
        conn.execute(invocation_instances.insert(), task_rows)
        if week["tasks"]:
            conn.execute(commands.insert(), week["commands"])
            conn.execute(invocations.insert(), week["tasks"])
            conn.execute(invocation_instances.insert(), week["rows"])
    if cluster.database_url:  # statistics, as autovacuum would gather for a store that grew
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return SeededFleet(
        machines=machines,
        online=sum(1 for n in range(machines) if n % 10 != 9),
        invoke_id=invoke_id,
        names={str(r["id"]): str(r["name"]) for r in rows},
        tagged=tagged,
    )


def kept_counts(rows: list[dict[str, object]]) -> str:
    """A task's ``status_counts`` for its seeded ``rows`` (see store/proposals)."""
    return encode_counts(InstanceStatus(str(row["status"])) for row in rows)


def _week_of_tasks(
    machines: list[dict[str, object]], now: int, count: int
) -> dict[str, list[dict[str, object]]]:
    """``count`` one-machine tasks spread over the last 7 days: most succeed, some fail with
    ExitCodeNonzero, a few with ClientNotOnline or ExecutionTimeout."""
    outcomes = (
        ("Success", "Success", 0, ""),
        ("Success", "Success", 0, ""),
        ("Success", "Success", 0, ""),
        ("Failed", "Failed", 2, "ExitCodeNonzero"),
        ("Success", "Success", 0, ""),
        ("Failed", "Aborted", None, "ClientNotOnline"),
        ("Success", "Success", 0, ""),
        ("Failed", "Timeout", -1, "ExecutionTimeout"),
    )
    made: dict[str, list[dict[str, object]]] = {"commands": [], "tasks": [], "rows": []}
    for n in range(count):
        created = now - (n * 166 * HOUR_MS) // count - 1000  # inside the 7 days, whole
        overall, status, exit_code, code = outcomes[n % len(outcomes)]
        made["commands"].append(
            {"id": f"c-week{n:06d}", "type": "RunShellScript", "content": b"true",
             "timeout": 60, "created_at": created}
        )  # fmt: skip
        made["tasks"].append(
            {"id": f"t-week{n:019d}", "command_id": f"c-week{n:06d}", "repeat_mode": "Once",
             "timeout": 60, "status": overall, "access_key_id": "seed", "created_at": created,
             "status_counts": encode_counts([InstanceStatus(status)])}
        )  # fmt: skip
        made["rows"].append(
            {"invoke_id": f"t-week{n:019d}", "instance_id": machines[n % len(machines)]["id"],
             "status": status, "exit_code": exit_code, "error_code": code, "output": b"",
             "created_at": created, "finish_at": created + 500, "update_at": created + 500}
        )  # fmt: skip
    return made
