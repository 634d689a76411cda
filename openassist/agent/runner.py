"""Running one script: its file, user, working directory, process group, timeout and output.

Each run gets its own session and process group, so a timeout or a stop ends the whole tree the
script started: SIGTERM to the group, ``TERM_GRACE_S`` for it to go, then SIGKILL. Problems of the
script or the instance become outcomes with catalog codes; ``run`` never raises for them.

The run ends when the script's own process exits. Output still in the pipe is read for
``DRAIN_S`` more, then the pipe is closed: background children the script left behind keep
running (starting a daemon is a normal thing for a script to do) but lose their stdout, so they
should redirect it. Exit codes: the script's own; -1 when we ended the run (timeout, stop);
128+N when something else killed it with signal N, as a shell would report it.

Standard library only: the agent stays small and never imports the server or the cli.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pwd
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from openassist.agent import clock, script_file
from openassist.agent.output import OutputPipe, OutputTail
from openassist.agent.parameters import launcher_command, launcher_extension
from openassist.agent.process_group import KILL_WAIT_S, TERM_GRACE_S, end_group, signal_group
from openassist.agent.script_env import script_environment
from openassist.agent.settings import AgentEnvironment

DRAIN_S = 0.5  # output still in the pipe after the script exited
FLUSH_WAIT_S = 10.0  # for an output hand-off under way when the run ends
MIN_QUOTA = 12000  # a smaller quota is raised to this, so a failure always shows some output

Status = Literal["finished", "timeout", "error", "stopped"]
log = logging.getLogger("openassist.agent")


@dataclass(frozen=True)
class ScriptSpec:
    # The script text, already decoded from Base64 (it may hold secret values: never shown).
    content: bytes = field(repr=False)
    timeout_s: float  # wall-clock limit of the whole run
    working_dir: str | None  # None: the user's home (for root "/" when that is missing)
    script_dir: str  # private directory (0700) for the script files of the agent's own user
    task_id: str  # the script file's name
    username: str | None = None  # None: the agent's own user
    shell: str = "/bin/sh"  # runs a script without a #! line; one with it is executed directly
    # A Launcher runs the script file instead of the shell, e.g. "python3 -u {{ACS::Script
    # FileName|Ext(".py")}}"; the placeholder becomes the file's path.
    launcher: str = ""
    # "Process": a timeout or stop ends only the script's own process (what it started in the
    # background lives on); "ProcessTree" or empty: its whole process group.
    termination_mode: str = ""


@dataclass(frozen=True)
class RunOutcome:
    status: Status
    exit_code: int | None  # None when no process started (or it could not be ended)
    error_code: str | None  # a catalog code; None for exit 0 and for a stop
    error_info: str  # the specific cause
    output: bytes  # the true tail of the whole output
    dropped: int  # bytes before that tail
    started_at_ms: int
    finished_at_ms: int
    unsent: bytes = b""  # output not handed to ``on_output`` yet (the final report's body)
    unsent_dropped: int = 0  # output never delivered through ``on_output`` and no longer held


class _Refused(Exception):
    """The run cannot start; carries the catalog code and the specific cause."""

    def __init__(self, code: str, info: str) -> None:
        super().__init__(info)
        self.code, self.info = code, info


@dataclass(frozen=True)
class _Account:
    name: str
    uid: int
    gid: int
    home: str
    shell: str


def _account(username: str | None) -> _Account:
    try:
        entry = pwd.getpwnam(username) if username else pwd.getpwuid(os.geteuid())
    except KeyError:
        raise _Refused("AccountNotExists", f"the user {username!r} does not exist") from None
    return _Account(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir, entry.pw_shell)


def _working_dir(spec: ScriptSpec, account: _Account) -> str:
    if spec.working_dir:
        if not os.path.isdir(spec.working_dir):
            raise _Refused(
                "DirectoryNotExists", f"the working directory {spec.working_dir} does not exist"
            )
        return spec.working_dir
    home = account.home or "/"
    if os.path.isdir(home) and os.access(home, os.X_OK):
        return home
    if account.uid == 0:  # root can always start somewhere
        return "/"
    raise _Refused(
        "DefaultWorkingDirectoryNotAvailable",
        f"the home directory {home} of {account.name} is missing or not accessible",
    )


def _write_script(spec: ScriptSpec, account: _Account) -> Path:
    """The script file, readable only by the user who runs it (see ``script_file``)."""
    name = f"{spec.task_id}{launcher_extension(spec.launcher)}"
    owner = None if account.uid == os.geteuid() else (account.uid, account.gid)
    return script_file.write(spec.content, Path(spec.script_dir), name, owner)


def _remove_script(path: Path, spec: ScriptSpec) -> None:
    script_file.remove(path, Path(spec.script_dir))


def _environment(account: _Account, agent: AgentEnvironment) -> dict[str, str]:
    return script_environment(account.name, account.uid, account.home, account.shell, agent)


def _argv(spec: ScriptSpec, script: Path) -> list[str]:
    if spec.launcher:
        return [spec.shell, "-c", launcher_command(spec.launcher, str(script))]
    if spec.content.startswith(b"#!"):
        return [str(script)]
    return [spec.shell, str(script)]


def _launcher_name(spec: ScriptSpec, argv: list[str]) -> str:
    """What failed to start, in the user's terms: a #! line names the interpreter."""
    if argv[0] == spec.shell:
        return argv[0]
    first_line = spec.content[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    return first_line or argv[0]


def _exit_result(returncode: int) -> tuple[int, str | None, str]:
    """Exit code, catalog code and cause for a process that ended on its own."""
    if returncode == 0:
        return 0, None, ""
    if returncode > 0:
        return returncode, "ExitCodeNonzero", f"exit code {returncode}"
    signo = -returncode
    try:
        name = signal.Signals(signo).name
    except ValueError:  # real-time signals have no name of their own
        name = f"SIGRTMIN+{signo - signal.SIGRTMIN}"
    return 128 + signo, "ExitCodeNonzero", f"killed by signal {name} ({signo})"


async def _end_process(pid: int, exited: asyncio.Event) -> bool:
    """SIGTERM the script's own process, then SIGKILL it; True once it has exited."""
    for signum, wait_s in ((signal.SIGTERM, TERM_GRACE_S), (signal.SIGKILL, KILL_WAIT_S)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
        try:
            await asyncio.wait_for(exited.wait(), wait_s)
        except TimeoutError:
            continue
        return True
    return False


async def _wait_set(event: asyncio.Event, within_s: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), within_s)


class ScriptRun:
    """One run of one script. ``on_output`` is called every ``output_interval_s`` (when there
    is any) with the output that is new since its last call, for partial reports; what it was
    not given by the end is the outcome's ``unsent``."""

    def __init__(
        self,
        spec: ScriptSpec,
        *,
        quota: int = 24576,
        on_output: Callable[[bytes], Awaitable[None]] | None = None,
        output_interval_s: float = 3.0,
        send_cap: int = 0,
        on_start: Callable[[int], None] | None = None,
        agent: AgentEnvironment | None = None,
    ) -> None:
        self._spec = spec
        self._agent = agent or AgentEnvironment.read()
        self._backlog = asyncio.Event()
        # Sending everything needs someone to send it: without on_output there is no cap.
        cap = send_cap if on_output is not None else 0
        self._tail = OutputTail(max(quota, MIN_QUOTA), cap, on_backlog=self._backlog.set)
        self._on_output = on_output
        self._on_start = on_start
        self._interval = max(output_interval_s, 0.05)
        self._stop = asyncio.Event()
        self._pid: int | None = None

    @property
    def pid(self) -> int | None:
        """The script process's id (also its process group's), once started."""
        return self._pid

    def stop(self) -> None:
        """Ask the run to end (StopInvocation): ``run`` then returns status "stopped"."""
        self._stop.set()

    async def run(self) -> RunOutcome:
        """Start the script and wait for its end; problems become the outcome, never raised."""
        started = clock.now_ms()
        script: Path | None = None
        try:
            account = _account(self._spec.username)
            cwd = _working_dir(self._spec, account)
            script = self._write(account)
            transport, pipe = await self._start(script, cwd, account)
        except _Refused as refused:
            if script is not None:  # written, but the process could not start
                _remove_script(script, self._spec)
            return self._outcome(("error", None, refused.code, refused.info), started)
        try:
            return await self._supervise(pipe, started)
        finally:
            if not pipe.exited.is_set() and self._pid is not None:  # run() itself was cancelled
                signal_group(self._pid, signal.SIGKILL)
            transport.close()  # our end of the pipe, even if a background child holds its own
            _remove_script(script, self._spec)

    def _write(self, account: _Account) -> Path:
        try:
            return _write_script(self._spec, account)
        except OSError as error:  # full disk, or another user without being root
            raise _Refused(
                "ExecutionException", f"cannot write the script file for {account.name}: {error}"
            ) from error

    async def _start(
        self, script: Path, cwd: str, account: _Account
    ) -> tuple[asyncio.SubprocessTransport, OutputPipe]:
        argv = _argv(self._spec, script)
        switch_user = account.uid != os.geteuid()
        try:
            transport, pipe = await asyncio.get_running_loop().subprocess_exec(
                lambda: OutputPipe(self._tail),
                *argv,
                cwd=cwd,
                env=_environment(account, self._agent),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own session and process group, ended as one
                user=account.uid if switch_user else None,
                group=account.gid if switch_user else None,
                extra_groups=os.getgrouplist(account.name, account.gid) if switch_user else None,
            )
        except OSError as error:
            raise _Refused(
                "ExecutionException", f"cannot start {_launcher_name(self._spec, argv)}: {error}"
            ) from error
        self._pid = transport.get_pid()
        if self._on_start is not None:
            self._on_start(self._pid)  # e.g. journal the process group before anything else
        return transport, pipe

    async def _supervise(self, pipe: OutputPipe, started: int) -> RunOutcome:
        done = asyncio.Event()
        flusher = asyncio.create_task(self._flush_periodically(done))
        try:
            result = await self._await_end(pipe)
        finally:
            done.set()
            await self._finish_flushing(flusher)
        return self._outcome(result, started)

    async def _await_end(self, pipe: OutputPipe) -> tuple[Status, int | None, str | None, str]:
        """Status, exit code, catalog code and cause, once the script is over one way or another."""
        exited = asyncio.create_task(pipe.exited.wait())
        stopping = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait(
                {exited, stopping},
                timeout=self._spec.timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            exited.cancel()
            stopping.cancel()
        if pipe.exited.is_set():
            await _wait_set(pipe.closed, DRAIN_S)
            returncode = pipe.returncode if pipe.returncode is not None else -1
            return ("finished", *_exit_result(returncode))
        assert self._pid is not None
        only_process = self._spec.termination_mode == "Process"
        ended = (
            await _end_process(self._pid, pipe.exited)
            if only_process
            else await self._end_group(self._pid)
        )
        if not ended:
            info = f"processes of the run were still alive {KILL_WAIT_S:g} s after SIGKILL"
            return "error", None, "TerminationException", info
        await _wait_set(pipe.closed, DRAIN_S)
        if self._stop.is_set():
            return "stopped", -1, None, "stopped on request"
        killed = "its process" if only_process else "its process group"
        info = f"ran longer than the timeout of {self._spec.timeout_s:g} s; {killed} was killed"
        return "timeout", -1, "ExecutionTimeout", info

    async def _end_group(self, pgid: int) -> bool:
        return await end_group(pgid)

    async def _flush_periodically(self, done: asyncio.Event) -> None:
        if self._on_output is None:
            return
        while True:
            waits = [
                asyncio.ensure_future(done.wait()),
                asyncio.ensure_future(self._backlog.wait()),
            ]
            try:
                await asyncio.wait(
                    waits, timeout=self._interval, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for waiting in waits:
                    waiting.cancel()
            if done.is_set():
                return
            self._backlog.clear()
            new = self._tail.take_new()
            if not new:
                continue
            try:
                await self._on_output(new)
            except asyncio.CancelledError:
                self._tail.unsent_dropped += len(new)  # may or may not have arrived
                raise
            except Exception:
                log.warning("partial output of %s not delivered", self._spec.task_id, exc_info=True)
                self._tail.unsent_dropped += len(new)

    async def _finish_flushing(self, flusher: asyncio.Task[None]) -> None:
        """Let a hand-off under way complete (bounded), so partial output keeps its order."""
        with contextlib.suppress(TimeoutError):  # wait_for has cancelled it then
            await asyncio.wait_for(flusher, FLUSH_WAIT_S)

    def _outcome(
        self, result: tuple[Status, int | None, str | None, str], started: int
    ) -> RunOutcome:
        status, exit_code, code, info = result
        return RunOutcome(
            status=status,
            exit_code=exit_code,
            error_code=code,
            error_info=info,
            output=self._tail.data,
            dropped=self._tail.dropped,
            unsent=self._tail.take_new(),
            unsent_dropped=self._tail.unsent_dropped,
            started_at_ms=started,
            finished_at_ms=clock.now_ms(),
        )
