"""Running a script inside a container through the Docker Engine API.

The script reaches the container through the exec's stdin, never its command line: the exec's
process is a process of this host, and any local user reads its command line in /proc (it would
show every secret value of the script, issue 13.8). A fixed shell reads the whole text with
``cat`` and runs it (stderr joined to stdout); the script then finds its stdin at its end, so it
cannot swallow its own text, and no file is left in the container. Output, quota, partial
reports, ``Dropped``, timeout and stop are the host runner's own (``ScriptRun``); only starting
and ending the process differ. The exec's process is a process of this host (the engine reports
its pid), so ending it is signalling it and every process it started, found through /proc:
SIGTERM, a grace period, SIGKILL (TerminationMode=Process: the script's own process only).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

from openassist.agent import clock
from openassist.agent.containers.engine import (
    Engine,
    EngineError,
    EngineUnreachable,
    ExecStream,
)
from openassist.agent.containers.target import (
    CRI_SOCKETS,
    Container,
    connect_failed,
    cri_socket,
    pick,
    wanted,
)
from openassist.agent.output import OutputPipe, OutputTail
from openassist.agent.process_group import KILL_WAIT_S, POLL_S, TERM_GRACE_S
from openassist.agent.runner import RunOutcome, ScriptRun, ScriptSpec, _Refused
from openassist.agent.settings import AgentEnvironment
from openassist.protocol import agent as wire

EXEC_POLL_S = 0.2  # how often a running exec is asked whether it has ended
PID_WAIT_S = 30.0  # for the engine to report the started exec's process
# The script's stderr joins its stdout in one pipe, so the output keeps its order as on the host;
# the shell runs the script itself (eval), so the exec's pid is the script's. Its text comes on
# stdin, read to the end before it starts; a container without ``cat`` fails the run (127, and
# the shell says why) rather than run nothing. The variable is gone before the script's first
# command (on the same line, so line numbers in the shell's messages stay the script's).
SHELL = ("/bin/sh", "-c", 'exec 2>&1; oa_script=$(cat) || exit; eval "unset oa_script; $oa_script"')


async def find_container(
    task: wire.TaskInfo, agent: AgentEnvironment | None = None
) -> tuple[Engine, Container]:
    """The engine and the running container a task names; raises Unrunnable (with the
    container code) when there is none."""
    want = wanted(task.containerId, task.containerName)
    socket = (agent or AgentEnvironment.read()).docker_socket
    if want.runtime in ("containerd", "cri-o"):
        raise connect_failed(_unreachable(want.runtime, socket, None))
    engine = Engine(socket)
    try:
        entries = await engine.containers()
    except (EngineUnreachable, EngineError) as error:
        raise connect_failed(_unreachable(want.runtime, socket, error)) from None
    return engine, pick(entries, want)


def _unreachable(runtime: str, socket: str, error: Exception | None) -> str:
    """Why no container of ``runtime`` can be reached, naming the sockets looked at."""
    if error is not None and os.path.exists(socket):
        return f"the Docker engine at {socket} did not answer: {error}"
    cri = cri_socket(runtime)
    if cri is not None:
        return (
            f"the {runtime or 'CRI'} socket {cri} is present, but this agent reaches containers "
            f"only through the Docker Engine API (CRI needs gRPC); no Docker socket at {socket}"
        )
    if runtime and runtime != "docker":
        return f"no {runtime} socket on this instance ({', '.join(CRI_SOCKETS[runtime])})"
    return f"no Docker socket at {socket} (and no CRI socket)"


def process_tree(root: int) -> list[int]:
    """``root`` and its living descendants (zombies left out), read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
            if fields[0] != "Z":
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    alive = {pid for children in parents.values() for pid in children}
    tree, todo = [], [root] if root in alive else []
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, []))
    return tree


def signal_tree(root: int, signum: signal.Signals) -> None:
    for pid in process_tree(root):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


async def end_tree(root: int) -> bool:
    """SIGTERM the process and its descendants, then SIGKILL; True once none is left."""
    for signum, wait_s in ((signal.SIGTERM, TERM_GRACE_S), (signal.SIGKILL, KILL_WAIT_S)):
        signal_tree(root, signum)
        deadline = time.monotonic() + wait_s
        while process_tree(root):
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(POLL_S)
        else:
            return True
    return False


class _ExecPipe(OutputPipe):
    """An exec's output and end, as the runner watches a host process's: ``exited`` when the
    engine says the exec is over (with its exit code), ``closed`` when its streams end."""

    def __init__(self, tail: OutputTail) -> None:
        super().__init__(tail)
        self._drained = asyncio.Event()

    def _resume(self) -> None:
        self._drained.set()

    async def pump(self, stream: ExecStream) -> None:
        async for chunk in stream.chunks():
            self.pipe_data_received(1, chunk)
            while self._tail.must_wait:  # back-pressure: the writer in the container waits
                self._drained.clear()
                await self._drained.wait()
        self.closed.set()

    async def watch(self, engine: Engine, exec_id: str) -> None:
        while True:
            with contextlib.suppress(EngineUnreachable, EngineError):
                state = await engine.inspect_exec(exec_id)
                if not state.get("Running") and (state.get("Pid") or self.closed.is_set()):
                    code = state.get("ExitCode")
                    self.returncode = int(code) if isinstance(code, int) else -1
                    self.exited.set()
                    return
            await asyncio.sleep(EXEC_POLL_S)


class ContainerRun(ScriptRun):
    """One run of one script in a container; ``pid`` is the exec's process on this host."""

    def __init__(self, spec: ScriptSpec, found: tuple[Engine, Container], **kw: Any) -> None:
        super().__init__(spec, **kw)
        self._engine, self._container = found

    async def run(self) -> RunOutcome:
        started = clock.now_ms()
        pipe = _ExecPipe(self._tail)
        try:
            stream, exec_id = await self._start_exec()
        except _Refused as refused:
            return self._outcome(("error", None, refused.code, refused.info), started)
        helpers = [
            asyncio.create_task(pipe.pump(stream)),
            asyncio.create_task(pipe.watch(self._engine, exec_id)),
        ]
        try:
            self._pid = await self._exec_pid(exec_id, pipe)
            if self._pid is None and not pipe.exited.is_set():
                info = (
                    f"the engine did not report the process of the exec in {self._container.name}"
                )
                return self._outcome(("error", None, "ExecutionException", info), started)
            if self._pid is not None and self._on_start is not None:
                self._on_start(self._pid)  # runc makes it a session leader: a group to end
            return await self._supervise(pipe, started)
        finally:
            if not pipe.exited.is_set() and self._pid:  # run() itself was cancelled
                signal_tree(self._pid, signal.SIGKILL)
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            stream.close()

    async def _start_exec(self) -> tuple[ExecStream, str]:
        try:
            exec_id = await self._engine.create_exec(self._container.id, [*SHELL], stdin=True)
            stream = await self._engine.start_exec(exec_id)
        except EngineUnreachable as error:
            raise _Refused("ContainerConnectFailed", f"ContainerConnectFailed: {error}") from None
        except EngineError as error:
            info = f"the engine refused to run the script in {self._container.name}: {error}"
            raise _Refused("ExecutionException", info) from None
        try:
            await stream.send_stdin(self._spec.content)
            return stream, exec_id
        except OSError as error:
            stream.close()
            info = f"the script could not be handed to the exec in {self._container.name}: {error}"
            raise _Refused("ExecutionException", info) from None

    async def _exec_pid(self, exec_id: str, pipe: _ExecPipe) -> int | None:
        """The exec's process id on this host, once the engine has started it (None when the
        exec ended first, or the engine does not say within PID_WAIT_S)."""
        deadline = time.monotonic() + PID_WAIT_S
        while not pipe.exited.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(EngineUnreachable, EngineError):
                pid = (await self._engine.inspect_exec(exec_id)).get("Pid")
                if isinstance(pid, int) and pid > 0:
                    return pid
            await asyncio.sleep(POLL_S)
        return None

    async def _end_group(self, pgid: int) -> bool:
        return await end_tree(pgid)
