"""Simulated agents that speak the real agent protocol, many in one process.

Each simulated agent registers with an activation (a real RSA key), then holds what a real
agent holds, through the agent's own modules: the signed HTTPS channel (``agent.channel``) and
the kick channel with its keep-alive and jittered reconnects (``agent.kicks``). It heartbeats
when the kick channel (re)connects and every ``heartbeat_s``, fetches its task list when kicked,
and answers every task with a finish report (exit 0, output ``ok``) instead of running it.

Run as a worker process: ``python -m tests.support.swarm --server HOST:PORT --ca CA
--activation-id ID --activation-code CODE --count N --state-root DIR``; it prints one JSON line
per event on stdout: ``registered`` (all identities made), ``kick`` (channel opened, with its time),
``beat`` (heartbeat taken), ``task`` (a task answered). ``Swarm`` drives such a worker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from openassist.agent import keys as keys_module
from openassist.agent import ws
from openassist.agent.channel import Channel, ChannelError
from openassist.agent.identity import Identity
from openassist.agent.kicks import KickChannel
from openassist.agent.registration import RegistrationError, register
from openassist.agent.settings import AgentSettings, backoff, pause
from openassist.protocol.reports import ReportKind, TaskReport

REGISTER_ATTEMPTS = 12  # about 5 minutes of backoff, then the worker gives up


def _emit(event: str, agent: int, at_ms: int = 0, **extra: str) -> None:
    line = {"event": event, "agent": agent, "at": at_ms or time.time_ns() // 1_000_000, **extra}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


class TracedChannel(Channel):
    """The agent's channel, writing each kick-channel open and heartbeat attempt as one JSON
    line (agent, what, start and end Unix ms, the error or "") to ``trace``: the timeline of a
    reconnect storm, per agent."""

    def __init__(self, identity: Identity, index: int, trace: TextIO) -> None:
        super().__init__(identity, timeout_s=30)
        self._index, self._trace = index, trace

    def _note(self, what: str, started: int, error: str) -> None:
        ended = time.time_ns() // 1_000_000
        line = {"agent": self._index, "what": what, "start": started, "end": ended, "error": error}
        self._trace.write(json.dumps(line) + "\n")

    async def open_kicks(self) -> ws.WebSocket:
        started = time.time_ns() // 1_000_000
        try:
            socket = await super().open_kicks()
        except ChannelError as error:
            self._note("kick", started, str(error)[:160])
            raise
        self._note("kick", started, "")
        return socket

    async def heartbeat(self, *args: Any, **kwargs: Any) -> None:
        started = time.time_ns() // 1_000_000
        try:
            await super().heartbeat(*args, **kwargs)
        except ChannelError as error:
            self._note("beat", started, str(error)[:160])
            raise
        self._note("beat", started, "")


class SimulatedAgent:
    def __init__(
        self,
        index: int,
        identity: Identity,
        settings: AgentSettings,
        hold_s: float = 0,
        trace: TextIO | None = None,
    ) -> None:
        self._index = index
        self._hold_s = hold_s  # how long a "run" takes: between ``took`` and the answer
        self._settings = settings
        self._channel = (
            Channel(identity, timeout_s=30)
            if trace is None
            else TracedChannel(identity, index, trace)
        )
        self._kicks = KickChannel(self._channel, settings)

    async def run(self) -> None:
        await asyncio.gather(self._kicks.run(), self._heartbeats(), self._fetcher())

    async def _heartbeats(self) -> None:
        attempt = 0
        while True:
            if self._kicks.connected.is_set():
                self._kicks.connected.clear()
                _emit("kick", self._index, self._kicks.opened_at_ms)
            try:
                await self._channel.heartbeat()
                attempt, wait_s = 0, self._settings.heartbeat_s
                _emit("beat", self._index)
            except ChannelError:
                wait_s = backoff(attempt, self._settings)
                attempt += 1
            await pause(self._kicks.connected, wait_s)

    async def _fetcher(self) -> None:
        """As the agent's: at each kick, and a poll that is rarer while the channel is up."""
        attempt, retry_s, since = 0, None, time.monotonic()
        while True:
            await self._kicks.until_fetch(since, retry_s)
            self._kicks.kicked.clear()
            since = time.monotonic()
            try:
                tasks = await self._channel.task_list("kickoff")
                attempt, retry_s = 0, None
                for item in tasks.run:
                    await self._answer(item.task.taskID, item.task.invokeVersion)
            except ChannelError:
                retry_s = backoff(attempt, self._settings)  # or sooner, on a kick
                attempt += 1

    async def _answer(self, task_id: str, version: int) -> None:
        started = time.time_ns() // 1_000_000
        if self._hold_s:
            _emit("took", self._index, started, task=task_id)
            await asyncio.sleep(self._hold_s)
        now = time.time_ns() // 1_000_000
        report = TaskReport(
            kind=ReportKind.FINISH,
            task_id=task_id,
            invoke_version=version,
            start_ms=started,
            end_ms=now,
            exit_code=0,
            dropped=0,
            output=b"ok\n",
        )
        await self._channel.report(report)
        _emit("task", self._index, now, task=task_id)


def _pooled_keys(pool: Path, first: int, count: int) -> list[rsa.RSAPrivateKey]:
    """RSA keys ``first`` .. ``first + count - 1`` of a pool kept between runs (a bench at
    10,000 agents otherwise spends minutes making keys); the missing ones are made and kept."""
    pool.mkdir(parents=True, exist_ok=True)
    keys = []
    for number in range(first, first + count):
        path = pool / f"key-{number:05d}.pem"
        try:
            # Our own keys, written by this function: the RSA consistency check on loading costs
            # 40 ms of CPU per key, 40 s per 1,000 agents before the first registration.
            key = serialization.load_pem_private_key(
                path.read_bytes(), None, unsafe_skip_rsa_key_validation=True
            )
            assert isinstance(key, rsa.RSAPrivateKey)
        except (OSError, ValueError):
            key = keys_module.new_key()
            path.write_bytes(keys_module.private_pem(key))
        keys.append(key)
    return keys


async def _register_all(args: argparse.Namespace) -> list[Identity]:
    gate = asyncio.Semaphore(8)
    pooled = _pooled_keys(args.key_pool, args.key_offset, args.count) if args.key_pool else []

    async def one(index: int) -> Identity:
        async with gate:
            for attempt in range(REGISTER_ATTEMPTS):
                try:
                    return await register(
                        args.state_root / f"sim-{index:04d}",
                        args.server,
                        args.ca,
                        args.activation_id,
                        args.activation_code,
                        instance_name=f"sim-{index:04d}",
                        key=pooled[index] if pooled else None,
                    )
                except RegistrationError:
                    if attempt == REGISTER_ATTEMPTS - 1:
                        raise
                    # A server busy with thousands of agents connecting may not answer in time.
                    await asyncio.sleep(min(30.0, 0.5 * 2**attempt))
            raise AssertionError("unreachable")

    return list(await asyncio.gather(*(one(i) for i in range(args.count))))


async def _worker(args: argparse.Namespace) -> None:
    identities = await _register_all(args)
    for index, identity in enumerate(identities):
        _emit("registered", index, instance=identity.instance_id)
    settings = AgentSettings(heartbeat_s=args.heartbeat)
    trace = args.trace.open("a", buffering=1) if args.trace else None  # lines survive a kill
    agents = [
        SimulatedAgent(i, identity, settings, args.hold, trace)
        for i, identity in enumerate(identities)
    ]
    await asyncio.gather(*(agent.run() for agent in agents))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--ca", type=Path, required=True)
    parser.add_argument("--activation-id", required=True)
    parser.add_argument("--activation-code", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--state-root", type=Path, required=True)
    parser.add_argument("--heartbeat", type=float, default=60.0)
    parser.add_argument("--hold", type=float, default=0.0, help="seconds each run takes")
    parser.add_argument("--key-pool", type=Path, help="RSA keys kept between runs")
    parser.add_argument("--key-offset", type=int, default=0, help="this worker's first key")
    parser.add_argument("--trace", type=Path, help="each connection attempt, as JSON lines")
    logging.getLogger("openassist").setLevel(logging.ERROR)  # retries are expected here
    asyncio.run(_worker(parser.parse_args()))


@dataclass
class _Seen:
    instance_ids: dict[int, str] = field(default_factory=dict)
    kicks: dict[int, int] = field(default_factory=dict)  # agent -> last channel open (Unix ms)
    beats: dict[int, int] = field(default_factory=dict)  # agent -> last heartbeat (Unix ms)
    beat_count: int = 0  # heartbeats taken, all agents
    tasks: dict[str, list[int]] = field(default_factory=dict)  # task id -> agents that answered
    # task id -> (agent, took at, answered at) of each run that was held (``--hold``)
    runs: dict[str, dict[int, list[int]]] = field(default_factory=dict)


class Swarm:
    """A worker process of simulated agents and what it reported so far."""

    def __init__(self, process: subprocess.Popen[str], count: int) -> None:
        self.process, self.count = process, count
        self._seen = _Seen()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                seen, agent = self._seen, int(event["agent"])
                if event["event"] == "registered":
                    seen.instance_ids[agent] = event["instance"]
                elif event["event"] == "kick":
                    seen.kicks[agent] = event["at"]
                elif event["event"] == "beat":
                    seen.beats[agent] = event["at"]
                    seen.beat_count += 1
                elif event["event"] == "took":
                    seen.runs.setdefault(event["task"], {})[agent] = [event["at"], 0]
                elif event["event"] == "task":
                    seen.tasks.setdefault(event["task"], []).append(agent)
                    held = seen.runs.get(event["task"], {}).get(agent)
                    if held is not None:
                        held[1] = event["at"]

    def instance_ids(self) -> list[str]:
        with self._lock:
            return [self._seen.instance_ids[i] for i in sorted(self._seen.instance_ids)]

    def back_since(self, since_ms: int) -> dict[int, int]:
        """Agents with both a kick channel opened and a heartbeat taken after ``since_ms``:
        agent -> when the later of the two happened (Unix ms)."""
        with self._lock:
            kicks, beats = dict(self._seen.kicks), dict(self._seen.beats)
        return {
            agent: max(kicks[agent], beats[agent])
            for agent in kicks
            if kicks[agent] > since_ms and beats.get(agent, 0) > since_ms
        }

    def last_seen(self) -> tuple[dict[int, int], dict[int, int]]:
        """(agent -> last kick channel open, agent -> last heartbeat), Unix ms."""
        with self._lock:
            return dict(self._seen.kicks), dict(self._seen.beats)

    def heartbeats(self) -> int:
        """Heartbeats taken so far, all agents of the worker."""
        with self._lock:
            return self._seen.beat_count

    def answers(self, task_id: str) -> list[int]:
        with self._lock:
            return list(self._seen.tasks.get(task_id, []))

    def held_runs(self, task_id: str) -> list[tuple[int, int]]:
        """(took, answered) Unix ms of each held run of the task that was answered."""
        with self._lock:
            found = self._seen.runs.get(task_id, {}).values()
            return [(took, answered) for took, answered in found if answered]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._reader.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@contextmanager
def start_swarm(
    server: str,
    ca: Path,
    activation: dict[str, str],
    count: int,
    state_root: Path,
    log: Path,
    hold_s: float = 0,
    key_pool: tuple[Path, int] | None = None,
    heartbeat_s: float = 60.0,
    trace: Path | None = None,
) -> Iterator[Swarm]:
    """Start a worker with ``count`` simulated agents (registration included); each "run"
    takes ``hold_s``; each heartbeats every ``heartbeat_s``. ``key_pool``: (folder, first key)
    of RSA keys kept between runs."""
    command = [
        sys.executable,
        "-m",
        "tests.support.swarm",
        "--server",
        server,
        "--ca",
        str(ca),
        "--activation-id",
        activation["ActivationId"],
        "--activation-code",
        activation["ActivationCode"],
        "--count",
        str(count),
        "--state-root",
        str(state_root),
        "--hold",
        str(hold_s),
        "--heartbeat",
        str(heartbeat_s),
    ]
    if key_pool is not None:
        command += ["--key-pool", str(key_pool[0]), "--key-offset", str(key_pool[1])]
    if trace is not None:
        command += ["--trace", str(trace)]
    with log.open("ab") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
    swarm = Swarm(process, count)
    try:
        yield swarm
    finally:
        swarm.stop()


if __name__ == "__main__":
    main()
