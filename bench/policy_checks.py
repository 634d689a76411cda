"""What policy checks add to RunCommand, with 100 custom policies in the store.

Two measures. In process (precise): the work the checks add inside RunCommand's transaction on
a real SQLite store (the door check, the target's tags read, every statement evaluated), for
the administrator and for a user whose 100 policies all name RunCommand. End to end (noisy on a
shared machine): the API call's latency (request to answer, the task written) on one registered
instance.

Three callers: the admin key (AdministratorAccess: every per-resource check is skipped), and a
user holding 100 custom policies whose last one allows RunCommand on staging instances as
``deploy`` (every statement is evaluated against the target, its tags and the run-as user).
Run it on a checkout before users existed to get the "before" figure (only the admin key
exists there). Usage: .venv/bin/python -m bench.policy_checks [--runs 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from openassist.cli.api_client import ApiClient, Credentials
from tests.support.cluster import Cluster

POLICIES = 100


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run_latency(client: ApiClient, instance_id: str, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        client.call(
            "RunCommand",
            {
                "Type": "RunShellScript",
                "CommandContent": "echo hi",
                "InstanceId.1": instance_id,
                "Username": "deploy",
            },
        )
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def restricted_user(cluster: Cluster) -> ApiClient | None:
    """A user with 100 custom policies; None on a server without RAM actions."""
    try:
        cluster.call("CreateUser", UserName="deployer")
    except Exception:
        return None
    for n in range(POLICIES):
        env = "staging" if n == POLICIES - 1 else f"env{n}"
        document = {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": "ecs:RunCommand",
                    "Resource": "acs:ecs:*:*:instance/*",
                    "Condition": {"StringEquals": {"ecs:tag/env": env, "ecs:RunAsUser": "deploy"}},
                },
            ],
        }
        name = f"bench-{n}"
        cluster.call("CreatePolicy", PolicyName=name, PolicyDocument=json.dumps(document))
        cluster.call(
            "AttachPolicyToUser", UserName="deployer", PolicyType="Custom", PolicyName=name
        )
    key = cluster.call("CreateAccessKey", UserName="deployer")["AccessKey"]
    own = cluster.credentials
    return ApiClient(
        Credentials(key["AccessKeyId"], key["AccessKeySecret"], own.endpoint, own.region_id)
    )


def report(label: str, samples: list[float]) -> None:
    p50, p99 = statistics.median(samples), percentile(samples, 0.99)
    print(f"  {label:<34} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")


def added_work(runs: int) -> None:
    """The checks' own time per RunCommand on one target, inside a real store transaction."""
    from datetime import UTC, datetime

    from openassist.protocol.statuses import CommandType
    from openassist.server.api.access import admit, request_context
    from openassist.server.policy import NamedPolicy, PolicySet, parse_policy
    from openassist.server.service.guard import Guard
    from openassist.server.service.principals import Principal
    from openassist.server.service.system_policies import ADMINISTRATOR, SYSTEM_POLICIES
    from openassist.server.store import tags
    from openassist.server.store.db import Database
    from openassist.server.store.records import Command

    def principal(documents: list[str]) -> Principal:
        policies = [NamedPolicy(f"p{n}", parse_policy(d)) for n, d in enumerate(documents)]
        return Principal("1", "u", "k", tuple(policies), PolicySet(policies))

    command = Command(
        "c-1", "", "", CommandType.RUN_SHELL_SCRIPT, b"echo hi", "", 60, False, "", False, 0
    )
    with tempfile.TemporaryDirectory() as root:
        db = Database(f"sqlite:///{root}/bench.db")
        db.migrate()
        with db.engine.begin() as conn:
            tags.set_tags(conn, tags.INSTANCE, "mi-bench", [("env", "staging")], new=True)
        context = request_context("127.0.0.1", datetime.now(UTC), False)
        callers = {
            "admin (AdministratorAccess)": principal([SYSTEM_POLICIES[ADMINISTRATOR].document]),
            f"user with {POLICIES} policies": principal(
                [json.dumps(_document(n)) for n in range(POLICIES)]
            ),
        }
        print(f"policy checks' own time per RunCommand on one target, {runs} runs (in process)")
        for label, caller in callers.items():
            samples = []
            for _ in range(runs):
                with db.engine.begin() as conn:
                    started = time.perf_counter()
                    admit(caller, "RunCommand", context)
                    guard = Guard(caller, "ecs:RunCommand", "local", context)
                    guard.check_run(conn, command, False, ["mi-bench"], "deploy")
                    samples.append((time.perf_counter() - started) * 1000)
            report(label, samples)
        db.close()


def _document(n: int) -> dict[str, object]:
    env = "staging" if n == POLICIES - 1 else f"env{n}"
    return {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "ecs:RunCommand",
                "Resource": "acs:ecs:*:*:instance/*",
                "Condition": {"StringEquals": {"ecs:tag/env": env, "ecs:RunAsUser": "deploy"}},
            },
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--in-process-only", action="store_true")
    args = parser.parse_args()
    added_work(args.runs * 10)
    if args.in_process_only:
        return 0
    env = {"OPENASSIST_API_RATE_PER_KEY": "0"}
    with tempfile.TemporaryDirectory() as root, Cluster.start(Path(root), env=env) as cluster:
        target = cluster.register_agent(
            "bench", **{"Tag.1.Key": "env", "Tag.1.Value": "staging"}
        ).instance_id
        user = restricted_user(cluster)
        admin = cluster.client()
        run_latency(admin, target, 30)  # warm up
        print(f"RunCommand API latency, {args.runs} calls, one registered instance (SQLite)")
        report("admin key", run_latency(admin, target, args.runs))
        if user is not None:
            run_latency(user, target, 30)
            report(f"user with {POLICIES} policies", run_latency(user, target, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
