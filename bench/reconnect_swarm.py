"""A fleet of simulated agents reconnecting at once after the server is killed (-9) and
restarted: how long until every agent is back (kick channel open and a heartbeat taken), and the
API's latency (DescribeInvocations, DescribeCloudAssistantStatus) during that storm against an
idle baseline in the same run.

The agents are simulated (tests/support/swarm.py): the real protocol with real RSA keys,
through the agent's own channel, kick-channel and backoff modules, in one worker process;
they answer tasks with a finish report instead of running a script. The API is probed from this
process, one call at a time. Usage:
.venv/bin/python -m bench.reconnect_swarm [--agents 500] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from openassist.cli.api_client import ApiCallError
from tests.support.cluster import Cluster, wait_until
from tests.support.swarm import Swarm, start_swarm

ACTIONS = ("DescribeInvocations", "DescribeCloudAssistantStatus")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def waited_s(pid: int) -> float:
    """Seconds a process's threads have spent runnable but waiting for a CPU (schedstat): on a
    shared host, time it wanted to run and could not."""
    try:
        fields = Path(f"/proc/{pid}/schedstat").read_text().split()
    except OSError:
        return 0.0
    return int(fields[1]) / 1e9


def load_now() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Probe:
    """Calls the API one request at a time in a thread; latencies per action, in ms."""

    def __init__(self, cluster: Cluster, instance_ids: list[str]) -> None:
        self._cluster, self._ids = cluster, instance_ids
        self.samples: dict[str, list[float]] = {action: [] for action in ACTIONS}
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _call(self, action: str) -> None:
        if action == "DescribeInvocations":
            params = {"MaxResults": "10"}
        else:
            chosen = random.sample(self._ids, min(10, len(self._ids)))
            params = {f"InstanceId.{n}": i for n, i in enumerate(chosen, start=1)}
        started = time.perf_counter()
        try:
            self._cluster.call(action, **params)
        except (ApiCallError, OSError):
            self.failures += 1
            return
        self.samples[action].append((time.perf_counter() - started) * 1000)

    def _run(self) -> None:
        while not self._stop.is_set():
            for action in ACTIONS:
                self._call(action)
                time.sleep(0.005)  # stay well under the per-key rate limit

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(60)


def run_everywhere(cluster: Cluster, swarm: Swarm, timeout_s: float) -> tuple[int, int, float]:
    """RunCommand to every agent (100 per call); (successes, answers, seconds to all final)."""
    ids = swarm.instance_ids()
    started = time.monotonic()
    invoke_ids = [cluster.run("echo hi", *ids[n : n + 100]) for n in range(0, len(ids), 100)]

    def final() -> list[dict[str, str]] | None:
        results = [r for i in invoke_ids for r in cluster.all_results(i)]
        done = [r for r in results if r["InvocationStatus"] not in ("Pending", "Running")]
        return done if len(done) == len(ids) else None

    done = wait_until(final, timeout_s, 0.5, "every result")
    elapsed = time.monotonic() - started
    successes = sum(1 for r in done if r["InvocationStatus"] == "Success")
    answers = sum(len(swarm.answers(i)) for i in invoke_ids)
    return successes, answers, elapsed


def latency_line(label: str, probe: Probe, seconds: float) -> str:
    parts = [f"{label:<6}"]
    for action in ACTIONS:
        values = probe.samples[action]
        if values:
            parts.append(
                f"{action} p50 {statistics.median(values):7.1f} ms p99 "
                f"{percentile(values, 0.99):7.1f} ms (n={len(values)})"
            )
    rate = sum(len(v) for v in probe.samples.values()) / max(seconds, 1e-9)
    parts.append(f"{rate:.0f} calls/s, {probe.failures} failed")
    return "  ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--idle-seconds", type=float, default=15.0)
    parser.add_argument(
        "--down-seconds", type=float, default=0.0, help="keep the server down this long"
    )
    args = parser.parse_args()
    count = args.agents
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        with Cluster.start(root / "cluster", database_url=args.database_url) as cluster:
            activation = cluster.call("CreateActivation", InstanceCount=str(count))
            server = f"127.0.0.1:{cluster.agent_port}"
            with start_swarm(
                server, cluster.ca_file, activation, count, root / "sims", root / "swarm.log"
            ) as swarm:
                began = time.monotonic()
                wait_until(lambda: len(swarm.instance_ids()) == count, 1800, 1, "registrations")
                registered_s = time.monotonic() - began
                wait_until(lambda: len(swarm.back_since(0)) == count, 600, 0.5, "all up")
                up_s = time.monotonic() - began
                first = run_everywhere(cluster, swarm, 600)
                ids = swarm.instance_ids()

                with Probe(cluster, ids) as idle:
                    time.sleep(args.idle_seconds)

                killed_at = now_ms()
                cluster.kill_server()
                time.sleep(args.down_seconds)
                cluster.restart_server()
                ready_at = now_ms()
                cpu_before = cpu_s(cluster.process.pid), cpu_s(swarm.process.pid)
                with Probe(cluster, ids) as storm:
                    wait_until(
                        lambda: len(swarm.back_since(killed_at)) == count, 900, 0.05, "all back"
                    )
                    storm_s = (now_ms() - ready_at) / 1000
                cpu_storm = (
                    cpu_s(cluster.process.pid) - cpu_before[0],
                    cpu_s(swarm.process.pid) - cpu_before[1],
                )
                back = swarm.back_since(killed_at)
                kicks, beats = swarm.last_seen()
                after = run_everywhere(cluster, swarm, 600)
    since_ready = [(t - ready_at) / 1000 for t in back.values()]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"reconnect swarm: {count} simulated agents, one worker process, {backend}, 2-core host")
    print(f"  registration: {registered_s:.1f} s for {count}; all up {up_s:.1f} s after start")
    print(f"  RunCommand to all before the kill: {first[0]}/{count} Success in {first[2]:.1f} s")
    print(
        f"  server kill -9 to ready again: {(ready_at - killed_at) / 1000:.1f} s"
        f" (kept down {args.down_seconds:.0f} s)"
    )
    print(
        f"  back after ready (kick channel + heartbeat): p50 {statistics.median(since_ready):.1f}"
        f" s, p99 {percentile(since_ready, 0.99):.1f} s, all {max(since_ready):.1f} s"
        f" ({(max(back.values()) - killed_at) / 1000:.1f} s after the kill)"
    )
    for label, seen in (("kick channel open", kicks), ("heartbeat taken", beats)):
        after_ready = [(t - ready_at) / 1000 for t in seen.values()]
        print(
            f"    {label:<18} p50 {statistics.median(after_ready):.1f} s,"
            f" p99 {percentile(after_ready, 0.99):.1f} s, min {min(after_ready):.1f} s"
        )
    print(
        f"  CPU from ready to all back ({storm_s:.1f} s): server {cpu_storm[0]:.1f} s,"
        f" simulated agents {cpu_storm[1]:.1f} s"
    )
    print("  API latency, one call at a time:")
    print("    " + latency_line("idle", idle, args.idle_seconds))
    print("    " + latency_line("storm", storm, storm_s))
    print(
        f"  RunCommand to all after the storm: {after[0]}/{count} Success, {after[1]} answers,"
        f" all final in {after[2]:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
