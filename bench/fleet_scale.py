"""One server carrying a fleet of simulated agents: how long the fleet takes to register and
connect, what the server costs while idle with all of them connected, and a RunCommand
`echo hi` to every agent (calls of 100, the API limit) until every result is stored, with the
API's latency (DescribeInvocations, DescribeInvocationResults) measured during that fan-out
against an idle baseline in the same run.

The agents are simulated (tests/support/swarm.py): the real protocol with real RSA keys,
through the agent's own channel and kick-channel modules, spread over several worker processes;
they answer each task with a finish report once the server has stored it. Issue 20 asks for
1,000, 5,000 and 10,000 agents on SQLite and PostgreSQL. With ``--storm`` it then
kills the server (-9) and starts it again: how long until every agent is back, the server's CPU
meanwhile and the API's latency during that reconnect storm. Usage:
.venv/bin/python -m bench.fleet_scale [--agents 1000] [--workers 4] [--postgres] [--storm]
    [--no-fan-out] [--api-node] [--key-pool DIR] [--py-spy DIR] [--trace DIR] [--samples FILE]
``--api-node`` (PostgreSQL) sends the fan-out's calls and the probes to a second server on the
same database that no agent connects to: the API in a process of its own. ``--trace DIR``
records each simulated agent's connection attempts (read them with
``bench.storm_trace DIR``), and the storm's line says how long the server and the simulator were
runnable but waiting for a CPU: on a shared host, the time they wanted and did not get.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from bench.accept_queue import AcceptQueueWatch, handshake_gate
from bench.reconnect_swarm import Probe as StormProbe
from bench.reconnect_swarm import cpu_s, latency_line, load_now, now_ms, percentile, waited_s
from openassist.cli.api_client import ApiCallError, ApiUnreachable
from tests.support.cluster import Cluster, temporary_postgres_database, wait_until
from tests.support.swarm import Swarm, start_swarm

BATCH = 100  # instances per RunCommand call (the API's limit)
ACTIVATION_MAX = 1000  # instances one activation admits (the API's limit)
ACTIONS = (
    "DescribeInvocations newest",
    "DescribeInvocations by InstanceId",
    "DescribeInvocationResults by InvokeId",
    "DescribeInvocationResults by InstanceId",
)


def spare(share: int) -> int:
    return min(ACTIVATION_MAX, share + share // 10 + 10)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Probe:
    """Calls the API one request at a time in a thread, cycling through ``ACTIONS``; latencies
    per action in ms. ``invoke_ids`` is read as it grows (the fan-out's tasks)."""

    def __init__(self, cluster: Cluster, instance_ids: list[str], invoke_ids: list[str]) -> None:
        self._cluster, self._instances, self._invokes = cluster, instance_ids, invoke_ids
        self.samples: dict[str, list[float]] = {action: [] for action in ACTIONS}
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _params(self, action: str) -> tuple[str, dict[str, str]]:
        instance = random.choice(self._instances)
        if action == "DescribeInvocations newest":
            return "DescribeInvocations", {"MaxResults": "10"}
        if action == "DescribeInvocations by InstanceId":
            return "DescribeInvocations", {"MaxResults": "10", "InstanceId": instance}
        if action == "DescribeInvocationResults by InvokeId" and self._invokes:
            return "DescribeInvocationResults", {
                "InvokeId": random.choice(self._invokes),
                "MaxResults": "50",
            }
        return "DescribeInvocationResults", {"InstanceId": instance, "MaxResults": "10"}

    def _run(self) -> None:
        while not self._stop.is_set():
            for action in ACTIONS:
                name, params = self._params(action)
                started = time.perf_counter()
                try:
                    self._cluster.call(name, **params)
                except (ApiCallError, ApiUnreachable, OSError):  # counted, the probe goes on
                    self.failures += 1
                    continue
                self.samples[action].append((time.perf_counter() - started) * 1000)
                time.sleep(0.01)  # one client, well under the per-key rate limit

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(60)

    def lines(self, label: str) -> list[str]:
        out = []
        for action in ACTIONS:
            values = self.samples[action]
            if values:
                out.append(
                    f"    {label:<7} {action:<40} p50 {statistics.median(values):7.1f} ms"
                    f"  p99 {percentile(values, 0.99):7.1f} ms  (n={len(values)})"
                )
        if self.failures:
            out.append(f"    {label:<7} {self.failures} calls failed")
        return out


def fan_out(cluster: Cluster, swarms: list[Swarm], probe_invokes: list[str]) -> tuple[int, float]:
    """RunCommand `echo hi` to every agent in calls of 100; (answers stored, seconds from the
    first call until the last agent's report was acknowledged, i.e. stored)."""
    ids = [i for swarm in swarms for i in swarm.instance_ids()]
    started = time.monotonic()
    for n in range(0, len(ids), BATCH):
        probe_invokes.append(cluster.run("echo hi", *ids[n : n + BATCH]))

    def stored() -> int:
        return sum(len(s.answers(i)) for s in swarms for i in probe_invokes)

    wait_until(lambda: stored() >= len(ids), 1800, 0.05, "every result stored")
    return stored(), time.monotonic() - started


def check_results(cluster: Cluster, invoke_ids: list[str]) -> dict[str, int]:
    statuses: dict[str, int] = {}
    for invoke_id in invoke_ids:
        for row in cluster.all_results(invoke_id):
            status = row["InvocationStatus"]
            statuses[status] = statuses.get(status, 0) + 1
    return statuses


class Sampler:
    """py-spy (when ``--py-spy DIR`` names a folder and py-spy is installed) recording the
    server's stacks over one phase, as collapsed stacks in ``DIR/<phase>.txt``."""

    def __init__(self, folder: Path | None, pid: int, phase: str, seconds: float) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        tool = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if folder is None or not Path(tool).exists():
            return
        folder.mkdir(parents=True, exist_ok=True)
        command = [tool, "record", "--pid", str(pid), "--duration", str(int(seconds))]
        command += ["--rate", "50", "--nonblocking", "--threads", "--format", "raw"]
        command += ["--output", str(folder / f"{phase}.txt")]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(2)  # py-spy writes what it has on SIGINT
            try:
                self._process.wait(30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)


def storm(
    cluster: Cluster,
    swarms: list[Swarm],
    ids: list[str],
    idle_s: float,
    spy: Path | None,
    trace: Path | None,
) -> list[str]:
    """kill -9 the server and start it again; every agent reconnects at once. Lines to print:
    how long until all are back (kick channel open and a heartbeat taken), the server's CPU
    meanwhile, and the API's latency during the storm against an idle baseline."""
    count = len(ids)
    with StormProbe(cluster, ids) as idle:
        time.sleep(min(idle_s, 10))
    killed_at = now_ms()
    cluster.kill_server()
    cluster.restart_server()
    ready_at, pid = now_ms(), cluster.process.pid
    if trace is not None:
        (trace / "storm.json").write_text(json.dumps({"killed": killed_at, "ready": ready_at}))
    sims = [s.process.pid for s in swarms]
    cpu0, wait0 = cpu_s(pid), waited_s(pid)
    sim0, simwait0 = sum(cpu_s(p) for p in sims), sum(waited_s(p) for p in sims)
    sampler = Sampler(spy, pid, "storm", 600)
    sim_samplers = [Sampler(spy, p, f"storm-sim-{n}", 600) for n, p in enumerate(sims[:1])]

    def back() -> dict[tuple[int, int], int]:
        return {
            (n, agent): at
            for n, s in enumerate(swarms)
            for agent, at in s.back_since(killed_at).items()
        }

    try:
        with StormProbe(cluster, ids) as busy, AcceptQueueWatch(cluster.agent_port) as queue:
            # On a shared host the server may get a tenth of a core: patience grows with the fleet.
            wait_until(lambda: len(back()) >= count, max(900, count / 5), 0.2, "every agent back")
            storm_s = (now_ms() - ready_at) / 1000
        gate = handshake_gate(cluster.endpoint)
    finally:
        sampler.stop()
        for one in sim_samplers:
            one.stop()
    cpu, waited = cpu_s(pid) - cpu0, waited_s(pid) - wait0
    sim_cpu = sum(cpu_s(p) for p in sims) - sim0
    sim_waited = sum(waited_s(p) for p in sims) - simwait0
    since_ready = [(t - ready_at) / 1000 for t in back().values()]
    return [
        f"  reconnect storm: kill -9 to ready again {(ready_at - killed_at) / 1000:.1f} s; all"
        f" {count} back (kick channel + heartbeat) {storm_s:.1f} s after ready"
        f" (p50 {statistics.median(since_ready):.1f} s, p99 {percentile(since_ready, 0.99):.1f} s);"
        f" server CPU meanwhile {cpu:.1f} s ({cpu / max(storm_s, 1e-9) * 100:.0f}% of one core),"
        f" RSS after {rss_mb(pid):.0f} MB",
        f"    runnable but waiting for a CPU meanwhile: server {waited:.1f} s;"
        f" simulator CPU {sim_cpu:.1f} s over {len(sims)} processes, waiting {sim_waited:.1f} s;"
        f" agent port's accept queue at most {queue.peak}{gate}",
        "    " + latency_line("idle", idle, min(idle_s, 10)),
        "    " + latency_line("storm", busy, storm_s),
    ]


def say(line: str) -> None:
    print(line, flush=True)


def fan_out_phase(
    cluster: Cluster,
    api: Cluster,
    swarms: list[Swarm],
    ids: list[str],
    idle_s: float,
    spy: Path | None,
    samples: Path | None = None,
) -> list[str]:
    """RunCommand to every agent with the API probed meanwhile, against an idle baseline; the
    calls go to ``api`` (``cluster`` itself, or a node of its own that no agent uses)."""
    pid = cluster.process.pid
    invokes: list[str] = []
    warm = api.run("echo hi", *ids[:BATCH])  # something to read in the idle baseline
    wait_until(lambda: sum(len(s.answers(warm)) for s in swarms) >= min(BATCH, len(ids)), 300)
    invokes.append(warm)
    with Probe(api, ids, invokes) as idle:
        time.sleep(min(idle_s, 10))
    fanned: list[str] = []
    cpu1, waited1 = cpu_s(pid), waited_s(pid)
    sampler = Sampler(spy, pid, "fan-out", 600)
    try:
        with Probe(api, ids, fanned) as busy:
            stored, fan_s = fan_out(api, swarms, fanned)
    finally:
        sampler.stop()
    fan_cpu, waited = cpu_s(pid) - cpu1, waited_s(pid) - waited1
    statuses = check_results(api, fanned)
    if samples is not None:  # raw latencies, to pool several runs
        with samples.open("a") as out:
            out.write(json.dumps({"idle": idle.samples, "fan-out": busy.samples}) + "\n")
    return [
        f"  RunCommand echo hi to all ({len(fanned)} calls of {BATCH}): {stored} results stored in"
        f" {fan_s:.1f} s = {stored / fan_s:.0f} results/s; server CPU {fan_cpu:.1f} s,"
        f" runnable but waiting for a CPU {waited:.1f} s, RSS after {rss_mb(pid):.0f} MB;"
        f" statuses read back {statuses}; {load_now()}",
        "  API latency, one client, one call at a time (idle baseline, then during the fan-out"
        + (", on a node of its own):" if api is not cluster else "):"),
        *idle.lines("idle"),
        *busy.lines("fan-out"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=1000, help="1000, 5000, 10000")
    parser.add_argument("--workers", type=int, default=4, help="simulator processes")
    parser.add_argument("--database-url", default="", help="PostgreSQL; SQLite when empty")
    parser.add_argument(
        "--postgres", action="store_true", help="a fresh database on OPENASSIST_TEST_POSTGRES_URL"
    )
    # One heartbeat period (60 s) and a little: a shorter window may miss a wave of heartbeats.
    parser.add_argument("--idle-seconds", type=float, default=65.0)
    parser.add_argument("--no-fan-out", action="store_true", help="skip the RunCommand phase")
    parser.add_argument("--storm", action="store_true", help="kill -9 the server at the end")
    parser.add_argument(
        "--api-node",
        action="store_true",
        help="(PostgreSQL) call the API on a second server that no agent connects to",
    )
    parser.add_argument("--key-pool", type=Path, help="RSA keys kept between runs (a folder)")
    parser.add_argument("--py-spy", type=Path, help="record the server's stacks into a folder")
    parser.add_argument("--samples", type=Path, help="append the API latencies (JSON) to a file")
    parser.add_argument(
        "--trace", type=Path, help="each agent's connection attempts, into DIR/swarm-N.jsonl"
    )
    args = parser.parse_args()
    # One activation per worker, and an activation admits at most 1,000 instances.
    count = int(args.agents)
    workers = max(1, int(args.workers), -(-count // ACTIVATION_MAX))
    shares = [count // workers + (1 if w < count % workers else 0) for w in range(workers)]
    firsts = [sum(shares[:w]) for w in range(workers)]
    with tempfile.TemporaryDirectory() as temp, ExitStack() as stack:
        root = Path(temp)
        if args.trace:
            args.trace.mkdir(parents=True, exist_ok=True)
        url = args.database_url
        if args.postgres:
            url = stack.enter_context(temporary_postgres_database())
        # Two connections per agent at most (kick channel, kept-alive HTTP), within this host's
        # open-file limit.
        env = {"OPENASSIST_AGENT_MAX_CONNECTIONS": str(min(max(8192, 2 * count + 1000), 18000))}
        cluster = stack.enter_context(Cluster.start(root / "cluster", database_url=url, env=env))
        server = f"127.0.0.1:{cluster.agent_port}"
        say(
            f"fleet scale: {count} simulated agents over {workers} worker processes,"
            f" {'PostgreSQL' if url else 'SQLite'}, {os.cpu_count()}-CPU host"
        )
        began = time.monotonic()
        swarms = [
            stack.enter_context(
                start_swarm(
                    server,
                    cluster.ca_file,
                    # Room for a few more: a registration whose answer the worker timed out
                    # on still used one, and its retry needs another.
                    cluster.call("CreateActivation", InstanceCount=str(spare(share))),
                    share,
                    root / f"sims-{w}",
                    root / f"swarm-{w}.log",
                    key_pool=(args.key_pool, firsts[w]) if args.key_pool else None,
                    trace=args.trace / f"swarm-{w}.jsonl" if args.trace else None,
                )
            )
            for w, share in enumerate(shares)
        ]

        def registered() -> bool:
            return sum(len(s.instance_ids()) for s in swarms) >= count

        wait_until(registered, 3600, 1, "registrations")
        registered_s = time.monotonic() - began

        def up() -> bool:
            ready = sum(len(s.back_since(0)) for s in swarms)
            if time.monotonic() - progress[0] > 30:
                progress[0] = time.monotonic()
                say(f"    ... {ready} of {count} connected")
            return ready == count

        progress = [time.monotonic()]
        wait_until(up, max(900, count / 5), 0.5, "every agent connected")
        up_s = time.monotonic() - began
        say(
            f"  registered: {registered_s:.1f} s; all connected (kick channel + beat) {up_s:.1f} s;"
            f" {load_now()}"
        )
        ids = [i for s in swarms for i in s.instance_ids()]

        time.sleep(2)  # let the last heartbeats settle before the idle window
        pid = cluster.process.pid
        sims = [s.process.pid for s in swarms]
        cpu0, rss0, sim0 = cpu_s(pid), rss_mb(pid), sum(cpu_s(p) for p in sims)
        wait0 = waited_s(pid)
        sampler = Sampler(args.py_spy, pid, "idle", args.idle_seconds)
        time.sleep(args.idle_seconds)
        sampler.stop()
        idle_cpu = (cpu_s(pid) - cpu0) / args.idle_seconds * 100
        sim_cpu = (sum(cpu_s(p) for p in sims) - sim0) / args.idle_seconds * 100
        idle_rss = max(rss0, rss_mb(pid))
        say(
            f"  idle, all connected, {args.idle_seconds:.0f} s: server CPU {idle_cpu:.1f}% of one"
            f" core, RSS {idle_rss:.0f} MB ({idle_rss * 1024 / count:.0f} KiB per agent),"
            f" {len(os.listdir(f'/proc/{pid}/fd'))} open files; simulator CPU {sim_cpu:.0f}%;"
            f" server waiting for a CPU {waited_s(pid) - wait0:.1f} s,"
            f" {load_now()}"
        )
        if not args.no_fan_out:
            api = cluster
            if args.api_node:  # the API's own process: the agents' work is not in it at all
                api = stack.enter_context(cluster.another_node(root / "api-node", env=env))
            spy = args.py_spy
            phase = fan_out_phase(cluster, api, swarms, ids, args.idle_seconds, spy, args.samples)
            for line in phase:
                say(line)
        if args.storm:
            for line in storm(cluster, swarms, ids, args.idle_seconds, args.py_spy, args.trace):
                say(line)
        load = os.getloadavg()
    say(f"  load average at the end {load[0]:.1f} {load[1]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
