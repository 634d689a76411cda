"""The script runner with real processes: output tail, exit codes, users, directories, timeouts
and stops that end the whole process group. Waits poll with deadlines; nothing sleeps on a guess."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openassist.agent.process_group import TERM_GRACE_S
from openassist.agent.runner import RunOutcome, ScriptRun, ScriptSpec

IS_ROOT = os.geteuid() == 0


@pytest.fixture
def script_dir(tmp_path: Path) -> Path:
    return tmp_path / "scripts"


@pytest.fixture
def leftovers() -> Iterator[list[int]]:
    """Pids a test saw; any still alive afterwards are killed so no test leaks a process."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _spec(script: str | bytes, script_dir: Path, **fields: Any) -> ScriptSpec:
    content = script.encode() if isinstance(script, str) else script
    defaults: dict[str, Any] = {"timeout_s": 30.0, "working_dir": None, "task_id": "t-1"}
    return ScriptSpec(content=content, script_dir=str(script_dir), **{**defaults, **fields})


def _run(spec: ScriptSpec, **options: Any) -> RunOutcome:
    return asyncio.run(ScriptRun(spec, **options).run())


def _alive(pid: int) -> bool:
    """True while ``pid`` is a live process; a zombie (dead, not yet reaped) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _eventually(condition: Callable[[], bool], within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


async def _until(condition: Callable[[], bool], within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def test_echo_output_and_exit_zero_finish_cleanly(script_dir: Path) -> None:
    outcome = _run(_spec("echo hello", script_dir))
    assert (outcome.status, outcome.exit_code, outcome.error_code) == ("finished", 0, None)
    assert (outcome.output, outcome.dropped) == (b"hello\n", 0)
    assert outcome.started_at_ms <= outcome.finished_at_ms


def test_nonzero_exit_code_is_reported(script_dir: Path) -> None:
    outcome = _run(_spec("echo partial; exit 3", script_dir))
    assert (outcome.status, outcome.exit_code) == ("finished", 3)
    assert (outcome.error_code, outcome.error_info) == ("ExitCodeNonzero", "exit code 3")
    assert outcome.output == b"partial\n"


def test_stdout_and_stderr_are_captured_together_in_order(script_dir: Path) -> None:
    outcome = _run(_spec("echo one; echo two >&2; echo three", script_dir))
    assert outcome.output == b"one\ntwo\nthree\n"


def test_large_output_keeps_exactly_the_last_quota_bytes(script_dir: Path) -> None:
    script = 'i=0; while [ $i -lt 10000 ]; do printf "%09d\\n" $i; i=$((i+1)); done'
    outcome = _run(_spec(script, script_dir))
    everything = b"".join(b"%09d\n" % i for i in range(10000))
    assert len(everything) == 100_000
    assert outcome.output == everything[-24576:]
    assert outcome.dropped == 100_000 - 24576


def test_non_utf8_bytes_round_trip(script_dir: Path) -> None:
    outcome = _run(_spec(b"printf '\\377\\376 latin1 \\351\\200\\n'\n", script_dir))
    assert outcome.output == b"\xff\xfe latin1 \xe9\x80\n"


def test_killed_by_a_foreign_signal_reports_128_plus_signo(script_dir: Path) -> None:
    outcome = _run(_spec("echo before; kill -9 $$", script_dir))
    assert (outcome.status, outcome.exit_code, outcome.error_code) == (
        "finished",
        128 + signal.SIGKILL,
        "ExitCodeNonzero",
    )
    assert outcome.error_info == "killed by signal SIGKILL (9)"
    assert outcome.output == b"before\n"


def test_timeout_kills_the_whole_process_group(
    script_dir: Path, tmp_path: Path, leftovers: list[int]
) -> None:
    pid_file = tmp_path / "grandchild"
    script = f"sleep 100 & echo $! > {pid_file}; echo started; sleep 100"
    began = time.monotonic()
    outcome = _run(_spec(script, script_dir, timeout_s=1))
    leftovers.append(int(pid_file.read_text()))
    assert time.monotonic() - began < 1 + TERM_GRACE_S + 2
    assert (outcome.status, outcome.exit_code, outcome.error_code) == (
        "timeout",
        -1,
        "ExecutionTimeout",
    )
    assert "timeout of 1 s" in outcome.error_info
    assert outcome.output == b"started\n"
    assert _eventually(lambda: not _alive(leftovers[0]))
    assert list(script_dir.iterdir()) == []


def test_timeout_kills_a_group_that_ignores_sigterm(
    script_dir: Path, tmp_path: Path, leftovers: list[int]
) -> None:
    # Ignored signals stay ignored across exec, so the background sleep ignores SIGTERM too.
    pid_file = tmp_path / "grandchild"
    script = f"trap '' TERM; sleep 100 & echo $! > {pid_file}; sleep 100"
    began = time.monotonic()
    outcome = _run(_spec(script, script_dir, timeout_s=0.5))
    leftovers.append(int(pid_file.read_text()))
    assert TERM_GRACE_S <= time.monotonic() - began < 0.5 + TERM_GRACE_S + 3
    assert (outcome.status, outcome.error_code) == ("timeout", "ExecutionTimeout")
    assert _eventually(lambda: not _alive(leftovers[0]))


def test_background_child_holding_the_pipe_does_not_hold_the_run(
    script_dir: Path, tmp_path: Path, leftovers: list[int]
) -> None:
    pid_file = tmp_path / "child"
    began = time.monotonic()
    outcome = _run(_spec(f"sleep 30 & echo $! > {pid_file}; echo done", script_dir))
    leftovers.append(int(pid_file.read_text()))
    assert time.monotonic() - began < 5
    assert (outcome.status, outcome.exit_code, outcome.output) == ("finished", 0, b"done\n")


def test_explicit_working_directory_is_used(script_dir: Path, tmp_path: Path) -> None:
    outcome = _run(_spec("pwd", script_dir, working_dir=str(tmp_path)))
    assert outcome.output == f"{tmp_path}\n".encode()


@pytest.mark.parametrize("where", ["/nope/not/here", "/etc/passwd"])
def test_missing_working_directory_starts_nothing(script_dir: Path, where: str) -> None:
    outcome = _run(_spec("echo ran", script_dir, working_dir=where))
    assert (outcome.status, outcome.exit_code, outcome.error_code) == (
        "error",
        None,
        "DirectoryNotExists",
    )
    assert where in outcome.error_info
    assert outcome.output == b""


def test_default_working_directory_is_the_home_directory(script_dir: Path) -> None:
    me = pwd.getpwuid(os.geteuid())
    expected = me.pw_dir if os.path.isdir(me.pw_dir) else "/"
    outcome = _run(_spec('pwd; echo "$HOME $USER $LOGNAME"', script_dir))
    assert outcome.output == f"{expected}\n{me.pw_dir} {me.pw_name} {me.pw_name}\n".encode()


def test_unknown_user_starts_nothing(script_dir: Path) -> None:
    outcome = _run(_spec("id", script_dir, username="no-such-user-here"))
    assert (outcome.status, outcome.exit_code, outcome.error_code) == (
        "error",
        None,
        "AccountNotExists",
    )
    assert "no-such-user-here" in outcome.error_info


@pytest.mark.skipif(not IS_ROOT, reason="running as another user needs root")
def test_runs_as_another_user(script_dir: Path) -> None:
    nobody = pwd.getpwnam("nobody")
    script = 'id -u; id -g; echo "$HOME $USER"; pwd; stat -c %U "$0"'
    outcome = _run(_spec(script, script_dir, username="nobody", working_dir="/tmp"))
    assert outcome.error_code is None, outcome
    expected = f"{nobody.pw_uid}\n{nobody.pw_gid}\n{nobody.pw_dir} nobody\n/tmp\nnobody\n"
    assert outcome.output == expected.encode()


@pytest.mark.skipif(not IS_ROOT, reason="running as another user needs root")
def test_another_users_missing_home_is_not_a_default_directory(script_dir: Path) -> None:
    home = pwd.getpwnam("nobody").pw_dir
    if os.path.isdir(home):
        pytest.skip(f"nobody's home {home} exists here")
    outcome = _run(_spec("pwd", script_dir, username="nobody"))
    assert (outcome.status, outcome.error_code) == ("error", "DefaultWorkingDirectoryNotAvailable")
    assert home in outcome.error_info


def test_missing_interpreter_in_shebang_is_an_execution_exception(script_dir: Path) -> None:
    outcome = _run(_spec("#!/no/such/interpreter\necho hi\n", script_dir))
    assert (outcome.status, outcome.exit_code, outcome.error_code) == (
        "error",
        None,
        "ExecutionException",
    )
    assert "/no/such/interpreter" in outcome.error_info
    assert "No such file or directory" in outcome.error_info
    assert list(script_dir.iterdir()) == []


def test_missing_shell_is_an_execution_exception(script_dir: Path) -> None:
    outcome = _run(_spec("echo hi", script_dir, shell="/no/such/shell"))
    assert outcome.error_code == "ExecutionException"
    assert "/no/such/shell" in outcome.error_info


def test_shebang_script_is_executed_directly(script_dir: Path) -> None:
    outcome = _run(_spec("#!/bin/sh\necho direct\n", script_dir, shell="/no/such/shell"))
    assert (outcome.exit_code, outcome.output) == (0, b"direct\n")


@pytest.mark.skipif(shutil.which("python3") is None, reason="no python3 on PATH")
def test_launcher_runs_the_file_with_its_extension(script_dir: Path) -> None:
    spec = _spec(
        "import sys\nprint(sys.argv[0].endswith('.py'))\n",
        script_dir,
        launcher='python3 {{ACS::ScriptFileName|Ext(".py")}}',
    )
    assert _run(spec).output == b"True\n"


def test_script_file_is_private_and_removed_after_the_run(script_dir: Path) -> None:
    outcome = _run(_spec('echo "$0"; stat -c %a "$0" "$(dirname "$0")"', script_dir))
    path, file_mode, dir_mode = outcome.output.decode().split()
    assert path == str(script_dir / "t-1.sh")
    assert (file_mode, dir_mode) == ("700", "700")
    assert list(script_dir.iterdir()) == []


def test_stop_ends_a_running_script_quickly(
    script_dir: Path, tmp_path: Path, leftovers: list[int]
) -> None:
    marker = tmp_path / "started"

    async def scenario() -> tuple[RunOutcome, float]:
        run = ScriptRun(_spec(f"touch {marker}; sleep 30", script_dir))
        task = asyncio.create_task(run.run())
        # The script can touch the marker before the loop has stored its pid: wait for both.
        await _until(lambda: marker.exists() and run.pid is not None)
        assert run.pid is not None
        leftovers.append(run.pid)
        began = time.monotonic()
        run.stop()
        return await task, time.monotonic() - began

    outcome, took = asyncio.run(scenario())
    assert took < TERM_GRACE_S
    assert (outcome.status, outcome.exit_code, outcome.error_code) == ("stopped", -1, None)
    assert not _alive(leftovers[0])
    assert list(script_dir.iterdir()) == []


def test_partial_output_is_handed_out_before_the_script_ends(script_dir: Path) -> None:
    chunks: list[bytes] = []

    async def collect(chunk: bytes) -> None:
        chunks.append(chunk)

    spec = _spec("echo first; sleep 1; echo second", script_dir)
    outcome = _run(spec, on_output=collect, output_interval_s=0.2)
    # "second" is printed only after the script's sleep, so a first chunk without it was handed
    # out while the script was still running.
    assert chunks and chunks[0] == b"first\n"
    assert b"".join(chunks) + outcome.unsent == b"first\nsecond\n"
    assert outcome.output == b"first\nsecond\n"


def test_a_failing_output_callback_does_not_fail_the_run(script_dir: Path) -> None:
    calls: list[bytes] = []

    async def broken(chunk: bytes) -> None:
        calls.append(chunk)
        raise ConnectionError("channel down")

    spec = _spec("echo first; sleep 0.5; echo second", script_dir)
    outcome = _run(spec, on_output=broken, output_interval_s=0.1)
    assert (outcome.status, outcome.exit_code) == ("finished", 0)
    assert calls[0] == b"first\n"
    assert outcome.output == b"first\nsecond\n"
    assert outcome.unsent_dropped == len(b"".join(calls))


def test_unwritable_script_directory_is_an_execution_exception(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    outcome = _run(_spec("echo hi", blocker / "scripts"))
    assert (outcome.status, outcome.exit_code, outcome.error_code) == (
        "error",
        None,
        "ExecutionException",
    )
    assert "cannot write the script file" in outcome.error_info
