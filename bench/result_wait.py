"""How soon a client sees the result of `echo hi` on one local agent after its RunCommand call:
waiting with WaitInvocationResults (the server answers when the result is stored), with the rows
in its answer (IncludeResults, as the CLI waits) and without (then DescribeInvocationResults),
against the polling baseline (DescribeInvocationResults every 2 ms), alternated in the same run;
and the
whole `openassist run 'echo hi' -i NAME` command, start to exit (bench/cli_command.py has it
against the interpreter's own start, and CPU time).

With --other DIR, a second server and agent from another checkout (as bench.dispatch_latency's
--other) take turns with these, run by run, for the server-side wait; the server's CPU time per
run is shown for both.

Usage: .venv/bin/python -m bench.result_wait [--runs 200] [--commands 40] [--other DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.dispatch_latency import cpu_ms, one_agent, stored_at_ms
from openassist.cli.api_client import ApiClient
from tests.support.cluster import Cluster

SCRIPT = {"Type": "RunShellScript", "CommandContent": "echo hi"}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _succeeded(client: ApiClient, invoke_id: str) -> bool:
    answer = client.call(
        "DescribeInvocationResults", {"InvokeId": invoke_id, "ContentEncoding": "PlainText"}
    )
    [row] = answer["Invocation"]["InvocationResults"]["InvocationResult"]
    if row["InvocationStatus"] not in ("Pending", "Running", "Success"):
        raise SystemExit(f"{invoke_id} ended as {row['InvocationStatus']}")
    return bool(row["InvocationStatus"] == "Success" and row["Output"] == "hi\n")


def _row_in(answer: dict[str, Any]) -> bool:
    [row] = answer["InvocationResults"]["InvocationResult"]
    return bool(row["InvocationStatus"] == "Success" and row["Output"] == "hi\n")


def waited_ms(
    client: ApiClient, instance_id: str, database: Path, rows: bool
) -> tuple[float, float]:
    """(RunCommand -> result seen, result stored -> seen), in ms; ``rows``: seen in the wait's
    answer (IncludeResults), else read with DescribeInvocationResults after it."""
    started = time.perf_counter()
    invoke_id = client.call("RunCommand", {**SCRIPT, "InstanceId.1": instance_id})["InvokeId"]
    cursor = "0"
    extra = {"IncludeResults": "true"} if rows else {}
    while True:
        answer = client.call(
            "WaitInvocationResults",
            {"InvokeId": invoke_id, "Cursor": cursor, "WaitSeconds": "10", **extra},
        )
        cursor = str(answer["Cursor"])
        if answer["FinishedCount"] and (_row_in(answer) if rows else _succeeded(client, invoke_id)):
            seen_ms = time.time_ns() / 1e6
            elapsed = (time.perf_counter() - started) * 1000
            return elapsed, seen_ms - stored_at_ms(database, invoke_id)[1]


def polled_ms(client: ApiClient, instance_id: str) -> float:
    started = time.perf_counter()
    invoke_id = client.call("RunCommand", {**SCRIPT, "InstanceId.1": instance_id})["InvokeId"]
    while not _succeeded(client, invoke_id):
        time.sleep(0.002)
    return (time.perf_counter() - started) * 1000


def whole_command(cluster: Cluster, name: str) -> list[str]:
    return cluster.cli_args("run", "echo hi", "-i", name)


def installed_env() -> dict[str, str]:
    """As an installed CLI runs: its bytecode cached (a test environment may forbid writing it,
    and then every start compiles the modules again)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def command_ms(argv: list[str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True, env=installed_env())
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def ratio(top: list[float], bottom: list[float]) -> float:
    """Round by round (each round runs both): a machine that slows down slows both alike."""
    return float(statistics.median(a / b for a, b in zip(top, bottom, strict=True)))


def show(label: str, samples: list[float]) -> None:
    print(
        f"{label:<44} p50 {statistics.median(samples):7.1f} ms  "
        f"p99 {percentile(samples, 0.99):7.1f} ms  (n={len(samples)})"
    )


class Other:
    """The other checkout's server, agent and client (--other): its server-side wait only."""

    def __init__(self, stack: contextlib.ExitStack, root: Path, checkout: str) -> None:
        self.cluster, agent = stack.enter_context(one_agent(root, checkout))
        self.instance_id = agent.instance_id
        self.client = ApiClient(self.cluster.credentials, keep_alive=True)
        stack.callback(self.client.close)
        self.database = self.cluster.root / "data" / "openassist.db"
        self.waited: list[float] = []

    def wait(self) -> float:
        return waited_ms(self.client, self.instance_id, self.database, rows=True)[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--commands", type=int, default=40)
    parser.add_argument("--other", default="", help="another checkout's root, run in turns")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        # The polling baseline asks every 2 ms, above the default rate per key (200/s): over
        # a few hundred runs it was refused with Throttling.
        unlimited = {"OPENASSIST_API_RATE_PER_KEY": "0"}
        cluster = stack.enter_context(Cluster.start(root / "this", env=unlimited))
        agent = cluster.new_agent("bench-1")
        client = ApiClient(cluster.credentials, keep_alive=True)  # as the CLI calls
        database = cluster.root / "data" / "openassist.db"
        other = (
            Other(stack, root / "other", str(Path(args.other).resolve())) if args.other else None
        )
        waited, after_store, described, polled = [], [], [], []
        for _ in range(5):  # warm-up: connections, caches, the agent's first runs
            waited_ms(client, agent.instance_id, database, rows=True)
            if other:
                other.wait()
        cpu = [0.0, 0.0]  # server CPU during the server-side waits: this, the other
        for _ in range(args.runs):
            used = cpu_ms(cluster.process.pid)
            seen, late = waited_ms(client, agent.instance_id, database, rows=True)
            cpu[0] += cpu_ms(cluster.process.pid) - used
            waited.append(seen)
            after_store.append(late)
            if other:  # in turns: a machine that slows down slows both alike
                used = cpu_ms(other.cluster.process.pid)
                other.waited.append(other.wait())
                cpu[1] += cpu_ms(other.cluster.process.pid) - used
            described.append(waited_ms(client, agent.instance_id, database, rows=False)[0])
            polled.append(polled_ms(client, agent.instance_id))
        client.close()
        show("RunCommand -> result seen, server-side wait", waited)
        show("  of which: result stored -> seen", after_store)
        if other:
            show(f"  --other {os.path.basename(args.other)}: the same", other.waited)
            print(f"  ratio this / --other: p50 {ratio(waited, other.waited):5.2f} x")
            this_cpu, other_cpu = (used / args.runs for used in cpu)
            print(f"  server CPU per run: this {this_cpu:5.2f} ms, --other {other_cpu:5.2f} ms")
        show("  the same, rows read after the wait", described)
        show("RunCommand -> result seen, polling every 2 ms", polled)
        for label, samples in (("wait", waited), ("wait, then read", described)):
            print(f"  ratio {label} / polling: p50 {ratio(samples, polled):5.2f} x")
        argv = whole_command(cluster, "bench-1")
        command_ms(argv, 2)
        show("openassist run 'echo hi' (whole command)", command_ms(argv, args.commands))
    return 0


if __name__ == "__main__":
    sys.exit(main())
