"""Running one script: its file, user, working directory, process group, timeout and output.

Each run gets its own session and process group, so a timeout or a stop ends the whole tree the
script started (SIGTERM, a grace period, then SIGKILL). Problems of the script or the instance
become outcomes with catalog codes; ``run`` never raises for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from openassist.agent.output import OutputTail
from openassist.agent.parameters import launcher_command, launcher_extension

TERM_GRACE_S = 2.0  # between SIGTERM and SIGKILL
KILL_WAIT_S = 5.0  # after SIGKILL; a group still alive then is a TerminationException
DRAIN_S = 0.5  # output still arriving after exit (a background child holding the pipe)
READ_CHUNK = 64 * 1024

Status = Literal["finished", "timeout", "error", "stopped"]


@dataclass(frozen=True)
class ScriptSpec:
    content: bytes
    timeout_s: float
    working_dir: str | None
    script_dir: str
    task_id: str
    username: str | None = None
    shell: str = "/bin/sh"
    # A Launcher runs the script file instead of the shell, e.g. "python3 -u {{ACS::Script
    # FileName|Ext(".py")}}"; the placeholder becomes the file's path.
    launcher: str = ""


@dataclass(frozen=True)
class RunOutcome:
    status: Status
    exit_code: int | None
    error_code: str | None
    error_info: str
    output: bytes  # the true tail of the whole output
    dropped: int  # bytes before that tail
    started_at_ms: int
    finished_at_ms: int
    unsent: bytes = b""  # output not handed to ``on_output`` yet (the final report's body)
    unsent_dropped: int = 0  # output never handed out and no longer held


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


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


def _account(username: str | None) -> _Account:
    try:
        entry = pwd.getpwnam(username) if username else pwd.getpwuid(os.geteuid())
    except KeyError:
        raise _Refused("AccountNotExists", f"the user {username!r} does not exist") from None
    return _Account(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir)


def _working_dir(spec: ScriptSpec, account: _Account) -> str:
    if spec.working_dir:
        if not os.path.isdir(spec.working_dir):
            raise _Refused(
                "DirectoryNotExists", f"the working directory {spec.working_dir} does not exist"
            )
        return spec.working_dir
    home = account.home or "/"
    if not os.path.isdir(home) or not os.access(home, os.X_OK):
        raise _Refused(
            "DefaultWorkingDirectoryNotAvailable",
            f"the home directory {home} of {account.name} is missing or not accessible",
        )
    return home


def _write_script(spec: ScriptSpec, account: _Account) -> Path:
    """The script file, readable only by the user who runs it. For another user it goes in a
    fresh private directory of theirs (random name, 0700), since the agent's own state
    directory is closed to everyone else."""
    if account.uid == os.geteuid():
        directory = Path(spec.script_dir)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    else:
        directory = Path(tempfile.mkdtemp(prefix="openassist-run-"))
        os.chown(directory, account.uid, account.gid)
    path = directory / f"{spec.task_id}{launcher_extension(spec.launcher)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700)
    with os.fdopen(fd, "wb") as handle:
        handle.write(spec.content)
    if account.uid != os.geteuid():
        os.chown(path, account.uid, account.gid)
    return path


def _remove_script(path: Path, spec: ScriptSpec) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
        if path.parent != Path(spec.script_dir):
            path.parent.rmdir()


def _environment(account: _Account) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HOME=account.home or "/", USER=account.name, LOGNAME=account.name)
    return env


class ScriptRun:
    def __init__(
        self,
        spec: ScriptSpec,
        *,
        quota: int = 24576,
        on_output: Callable[[bytes], Awaitable[None]] | None = None,
        output_interval_s: float = 3.0,
    ) -> None:
        self._spec = spec
        self._tail = OutputTail(max(quota, 12000))
        self._on_output = on_output
        self._interval = max(output_interval_s, 0.05)
        self._stop = asyncio.Event()
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stop(self) -> None:
        """Ask the run to end (StopInvocation): ``run`` then returns status "stopped"."""
        self._stop.set()

    async def run(self) -> RunOutcome:
        started = _now_ms()
        script: Path | None = None
        try:
            account = _account(self._spec.username)
            cwd = _working_dir(self._spec, account)
            script = _write_script(self._spec, account)
            self._process = await self._start(script, cwd, account)
        except _Refused as refused:
            if script is not None:  # written, but the process could not start
                _remove_script(script, self._spec)
            return self._outcome("error", None, refused.code, refused.info, started)
        try:
            return await self._supervise(started)
        finally:
            _remove_script(script, self._spec)

    async def _start(self, script: Path, cwd: str, account: _Account) -> asyncio.subprocess.Process:
        if self._spec.launcher:
            argv = [self._spec.shell, "-c", launcher_command(self._spec.launcher, str(script))]
        elif self._spec.content.startswith(b"#!"):
            argv = [str(script)]
        else:
            argv = [self._spec.shell, str(script)]
        switch_user = account.uid != os.geteuid()
        try:
            return await asyncio.create_subprocess_exec(
                *argv,
                cwd=cwd,
                env=_environment(account),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                user=account.uid if switch_user else None,
                group=account.gid if switch_user else None,
                extra_groups=os.getgrouplist(account.name, account.gid) if switch_user else None,
            )
        except OSError as error:
            raise _Refused(
                "ExecutionException", f"cannot start {argv[0]}: {error.strerror or error}"
            ) from error

    async def _supervise(self, started: int) -> RunOutcome:
        process = self._process
        assert process is not None and process.stdout is not None
        reader = asyncio.create_task(self._read(process.stdout))
        flusher = asyncio.create_task(self._flush_periodically())
        waiter = asyncio.create_task(process.wait())
        stopper = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait(
                {waiter, stopper}, timeout=self._spec.timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
            if waiter.done():
                return await self._exited(process.returncode, reader, started)
            ended = await self._terminate_group(process)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), DRAIN_S)
            if not ended:
                return self._outcome(
                    "error",
                    None,
                    "TerminationException",
                    f"the processes of the run did not end {KILL_WAIT_S:.0f} s after SIGKILL",
                    started,
                )
            if stopper.done():
                return self._outcome("stopped", -1, None, "stopped on request", started)
            return self._outcome(
                "timeout",
                -1,
                "ExecutionTimeout",
                f"ran longer than the timeout of {self._spec.timeout_s:g} s; its process group "
                "was killed",
                started,
            )
        finally:
            for task in (reader, flusher, waiter, stopper):
                task.cancel()

    async def _exited(
        self, returncode: int | None, reader: asyncio.Task[None], started: int
    ) -> RunOutcome:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(reader), DRAIN_S)
        code = returncode if returncode is not None else -1
        if code == 0:
            return self._outcome("finished", 0, None, "", started)
        if code < 0:
            name = signal.Signals(-code).name
            return self._outcome(
                "finished",
                128 - code,
                "ExitCodeNonzero",
                f"the script was killed by signal {name} ({-code})",
                started,
            )
        return self._outcome("finished", code, "ExitCodeNonzero", f"exit code {code}", started)

    async def _terminate_group(self, process: asyncio.subprocess.Process) -> bool:
        """SIGTERM the group, then SIGKILL it; True when the script process has ended."""
        for signum, wait_s in ((signal.SIGTERM, TERM_GRACE_S), (signal.SIGKILL, KILL_WAIT_S)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)
            try:
                await asyncio.wait_for(process.wait(), wait_s)
            except TimeoutError:
                continue
            if signum == signal.SIGTERM:
                # The leader is gone; make sure nothing of its group outlives it.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            return True
        return False

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(READ_CHUNK):
            self._tail.add(chunk)

    async def _flush_periodically(self) -> None:
        if self._on_output is None:
            return
        while True:
            await asyncio.sleep(self._interval)
            new = self._tail.take_new()
            if new:
                await self._on_output(new)

    def _outcome(
        self, status: Status, exit_code: int | None, code: str | None, info: str, started: int
    ) -> RunOutcome:
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
            finished_at_ms=_now_ms(),
        )
