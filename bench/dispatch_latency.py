"""Dispatch-to-result latency of `echo hi` on one local agent, and the agent's idle memory.

Latency is measured from just before the RunCommand call to the moment the final result was
stored (the row's update time, written by the server on this same host clock), so polling the
API for completion adds nothing to the figure. Baseline in the same run: the same script run
directly with subprocess. With --other DIR, a second server and agent from another checkout of
the package (PYTHONPATH, e.g. `git archive main | tar -x -C /tmp/main`) take turns with these,
run by run, for before/after figures from one run on one machine.
Usage: .venv/bin/python -m bench.dispatch_latency [--runs 300] [--other DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.cluster import Agent, Cluster


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in kB."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    pss = int(next(line.split()[1] for line in rollup.splitlines() if line.startswith("Pss:")))
    return rss, pss


def cpu_ms(pid: int) -> float:
    """User + system CPU time the process has used so far, in ms (the kernel's clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def stored_at_ms(database: Path, invoke_id: str) -> tuple[str, int]:
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT status, update_at FROM invocation_instances WHERE invoke_id = ?", (invoke_id,)
        ).fetchone()
    return str(row[0]), int(row[1])


def baseline(runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(["/bin/sh", "-c", "echo hi"], capture_output=True, check=True)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def dispatch(cluster: Cluster, instance_id: str, runs: int) -> list[float]:
    database = cluster.root / "data" / "openassist.db"
    client = cluster.client()
    samples = []
    for _ in range(runs):
        started_ms = time.time_ns() / 1e6
        invoke_id = client.call(
            "RunCommand",
            {"Type": "RunShellScript", "CommandContent": "echo hi", "InstanceId.1": instance_id},
        )["InvokeId"]
        deadline = time.monotonic() + 30
        while True:
            status, stored = stored_at_ms(database, invoke_id)
            if status == "Success":
                break
            if time.monotonic() > deadline or status not in ("Pending", "Running"):
                raise SystemExit(f"{invoke_id} ended as {status}")
            time.sleep(0.002)
        samples.append(stored - started_ms)
    return samples


def agent_pid(agent: Agent) -> int:
    assert agent.process is not None
    return agent.process.pid


@contextlib.contextmanager
def one_agent(root: Path, pythonpath: str = "") -> Iterator[tuple[Cluster, Agent]]:
    """A server and one agent; from the checkout at ``pythonpath`` when given."""
    # PYTHONSAFEPATH: ``python -m`` puts the working directory first on sys.path, before
    # PYTHONPATH, and run from a checkout's root the "other" server imported that checkout.
    env = {"PYTHONPATH": pythonpath, "PYTHONSAFEPATH": "1"} if pythonpath else None
    with Cluster.start(root, env=env) as cluster:
        yield cluster, cluster.new_agent("bench", env=env)


def show(label: str, samples: list[float], base: list[float]) -> None:
    p50, p99 = statistics.median(samples), percentile(samples, 0.99)
    b50, b99 = statistics.median(base), percentile(base, 0.99)
    print(f"  {label:<10}  p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
    print(f"  {'ratio':<10}  p50 {p50 / b50:7.1f} x   p99 {p99 / b99:7.1f} x   (to the line below)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--other", default="", help="another checkout's root, run in turns")
    args = parser.parse_args()
    other_root = str(Path(args.other).resolve()) if args.other else ""
    measured: list[float] = []
    others: list[float] = []
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        cluster, agent = stack.enter_context(one_agent(root / "this"))
        pairs = [(cluster, agent, measured)]
        if other_root:
            pairs.append((*stack.enter_context(one_agent(root / "other", other_root)), others))
        for each, its_agent, _ in pairs:
            dispatch(each, its_agent.instance_id, 20)  # warm up connections and caches
        time.sleep(2)
        assert agent.process is not None
        rss, pss = memory_kb(agent.process.pid)
        pids = [(each.process.pid, agent_pid(its_agent)) for each, its_agent, _ in pairs]
        used = [(cpu_ms(server), cpu_ms(agent_pid)) for server, agent_pid in pids]
        for _ in range(args.runs):  # in turns: a machine that slows down slows both alike
            for each, its_agent, samples in pairs:
                samples += dispatch(each, its_agent.instance_id, 1)
        cpu = [
            ((cpu_ms(server) - s0) / args.runs, (cpu_ms(agent_pid) - a0) / args.runs)
            for (server, agent_pid), (s0, a0) in zip(pids, used, strict=True)
        ]
        direct = baseline(args.runs)
    print(f"dispatch-to-stored-result, echo hi, {args.runs} runs, one local agent (SQLite)")
    if other_root:
        show("openassist", measured, others)
        show(f"--other {os.path.basename(other_root)}", others, direct)
    else:
        show("openassist", measured, direct)
    b50, b99 = statistics.median(direct), percentile(direct, 0.99)
    print(f"  subprocess  p50 {b50:7.2f} ms   p99 {b99:7.2f} ms   (same script, run directly)")
    for label, (server_cpu, agent_cpu) in zip(("openassist", "--other"), cpu, strict=False):
        print(f"  {label:<10}  CPU per run: server {server_cpu:5.2f} ms, agent {agent_cpu:5.2f} ms")
    print(f"agent idle memory: RSS {rss / 1024:.1f} MB, PSS {pss / 1024:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
