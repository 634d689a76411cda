"""A rollout over 1,000 simulated agents (issue 19): `echo hi` to every agent in RunCommand calls
of 100 with MaxConcurrency=10% (and MaxErrors, so the budget is checked at each finish), each
run held ``--hold`` seconds by the simulator, against the same fan-out without limits in the
same run (the baseline). Printed: whether any task ever had more runs at once than its limit
(from the agents' own take and answer times), whether every agent answered each task once,
the time to the last result, and the per-result latency from the task's creation (median, p99).

The agents are simulated (tests/support/swarm.py): the real protocol, spread over several worker
processes. Usage: .venv/bin/python -m bench.rollout_swarm [--agents 1000] [--workers 4]
[--hold 0.2] [--postgres]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.reconnect_swarm import percentile
from tests.support.cluster import Cluster, temporary_postgres_database, wait_until
from tests.support.swarm import Swarm, start_swarm

BATCH = 100  # instances per RunCommand call (the API's limit)


def _most_at_once(runs: list[tuple[int, int]]) -> int:
    events = sorted([(took, 1) for took, _ in runs] + [(done, -1) for _, done in runs])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def roll_out(
    cluster: Cluster, swarms: list[Swarm], ids: list[str], limits: dict[str, str]
) -> dict[str, float]:
    """Every agent once, in calls of 100 with ``limits``; figures of the whole fan-out."""
    created: dict[str, int] = {}
    invokes = []
    began = time.monotonic()
    for n in range(0, len(ids), BATCH):
        created_ms = time.time_ns() // 1_000_000
        invoke_id = cluster.run("echo hi", *ids[n : n + BATCH], **limits)
        invokes.append(invoke_id)
        created[invoke_id] = created_ms

    def answered() -> int:
        return sum(len(s.answers(i)) for s in swarms for i in invokes)

    wait_until(lambda: answered() >= len(ids), 3600, 0.05, "every result stored")
    elapsed = time.monotonic() - began
    latencies, most, twice = [], 0, 0
    for invoke_id in invokes:
        runs = [run for s in swarms for run in s.held_runs(invoke_id)]
        most = max(most, _most_at_once(runs))
        latencies += [(done - created[invoke_id]) / 1000 for _, done in runs]
        answers = [a for s in swarms for a in s.answers(invoke_id)]
        twice += len(answers) - len(set(answers))
    return {
        "seconds": elapsed,
        "most_at_once": most,
        "answered_twice": twice,
        "median_s": statistics.median(latencies),
        "p99_s": percentile(latencies, 0.99),
        "results": len(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4, help="simulator processes")
    parser.add_argument("--hold", type=float, default=0.2, help="seconds each run takes")
    parser.add_argument(
        "--postgres", action="store_true", help="a fresh database on OPENASSIST_TEST_POSTGRES_URL"
    )
    args = parser.parse_args()
    count, workers = int(args.agents), max(1, int(args.workers))
    shares = [count // workers + (1 if w < count % workers else 0) for w in range(workers)]
    with tempfile.TemporaryDirectory() as temp, ExitStack() as stack:
        root = Path(temp)
        url = stack.enter_context(temporary_postgres_database()) if args.postgres else ""
        cluster = stack.enter_context(Cluster.start(root / "cluster", database_url=url))
        activation = cluster.call("CreateActivation", InstanceCount=str(count))
        server = f"127.0.0.1:{cluster.agent_port}"
        swarms = [
            stack.enter_context(
                start_swarm(
                    server,
                    cluster.ca_file,
                    activation,
                    share,
                    root / f"sims-{w}",
                    root / f"swarm-{w}.log",
                    hold_s=args.hold,
                )
            )
            for w, share in enumerate(shares)
        ]
        wait_until(lambda: sum(len(s.instance_ids()) for s in swarms) >= count, 3600, 1, "reg")
        wait_until(lambda: sum(len(s.back_since(0)) for s in swarms) == count, 900, 0.5, "up")
        ids = [i for s in swarms for i in s.instance_ids()]
        baseline = roll_out(cluster, swarms, ids, {})
        rollout = roll_out(cluster, swarms, ids, {"MaxConcurrency": "10%", "MaxErrors": "5%"})
        load = os.getloadavg()
    backend = "PostgreSQL" if url else "SQLite"
    print(
        f"rollout swarm: {count} simulated agents over {workers} worker processes, {backend},"
        f" each run held {args.hold} s, {os.cpu_count()}-CPU host, load {load[0]:.1f}"
    )
    for label, figures in (("no limits (baseline)", baseline), ("MaxConcurrency=10%", rollout)):
        print(
            f"  {label:<22} {figures['results']:.0f} results in {figures['seconds']:.1f} s;"
            f" latency from creation median {figures['median_s']:.2f} s,"
            f" p99 {figures['p99_s']:.2f} s; most runs at once in one task of {BATCH}:"
            f" {figures['most_at_once']:.0f}; answered twice: {figures['answered_twice']:.0f}"
        )
    print(
        f"  ratio rollout/baseline: time {rollout['seconds'] / baseline['seconds']:.2f},"
        f" median latency {rollout['median_s'] / baseline['median_s']:.2f}"
    )
    ok = rollout["most_at_once"] <= BATCH // 10 and not rollout["answered_twice"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
