"""The runner with real subprocesses: bytes kept exactly, failures that never start, partial
output while running, stop, and the script file's lifetime."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from openassist.agent.runner import RunOutcome, ScriptRun, ScriptSpec


def _spec(tmp_path: Path, content: bytes, **changes: object) -> ScriptSpec:
    fields: dict[str, object] = {
        "content": content,
        "timeout_s": 30.0,
        "working_dir": str(tmp_path),
        "script_dir": str(tmp_path / "scripts"),
        "task_id": "t-unit",
    }
    fields.update(changes)
    return ScriptSpec(**fields)  # type: ignore[arg-type]


def _run(spec: ScriptSpec, **options: object) -> RunOutcome:
    return asyncio.run(ScriptRun(spec, **options).run())  # type: ignore[arg-type]


def test_non_utf8_output_is_kept_byte_for_byte(tmp_path: Path) -> None:
    outcome = _run(_spec(tmp_path, b"printf '\\377\\376 latin1 \\351\\n'"))
    assert outcome.output == b"\xff\xfe latin1 \xe9\n"
    assert (outcome.status, outcome.exit_code, outcome.error_code) == ("finished", 0, None)


def test_missing_interpreter_is_an_execution_exception(tmp_path: Path) -> None:
    outcome = _run(_spec(tmp_path, b"#!/no/such/interpreter\necho hi\n"))
    assert outcome.error_code == "ExecutionException"
    assert "No such file" in outcome.error_info
    assert not list((tmp_path / "scripts").iterdir())  # the script file is gone


def test_killed_by_a_signal_reports_the_shell_exit_code(tmp_path: Path) -> None:
    outcome = _run(_spec(tmp_path, b"kill -9 $$"))
    assert outcome.exit_code == 137
    assert outcome.error_code == "ExitCodeNonzero" and "SIGKILL" in outcome.error_info


def test_partial_output_arrives_before_the_end(tmp_path: Path) -> None:
    chunks: list[tuple[float, bytes]] = []

    async def collect(chunk: bytes) -> None:
        chunks.append((time.monotonic(), chunk))

    started = time.monotonic()
    outcome = _run(
        _spec(tmp_path, b"echo one; sleep 1; echo two"), on_output=collect, output_interval_s=0.1
    )
    ended = time.monotonic()
    assert chunks and chunks[0][1] == b"one\n"
    assert chunks[0][0] < ended - 0.5  # delivered while the script still slept
    assert outcome.output == b"one\ntwo\n"
    assert b"".join(c for _, c in chunks) + outcome.unsent == b"one\ntwo\n"
    assert ended - started >= 1


def test_stop_ends_a_running_script(tmp_path: Path) -> None:
    marker = tmp_path / "started"

    async def scenario() -> RunOutcome:
        run = ScriptRun(_spec(tmp_path, f"touch {marker}; exec sleep 300".encode()))
        task = asyncio.create_task(run.run())
        for _ in range(200):
            if marker.exists():
                break
            await asyncio.sleep(0.02)
        assert run.pid is not None
        run.stop()
        return await task

    outcome = asyncio.run(scenario())
    assert outcome.status == "stopped" and outcome.error_code is None


def test_the_script_file_is_private_and_removed(tmp_path: Path) -> None:
    outcome = _run(_spec(tmp_path, b'stat -c %a "$0"; ls -ld "$(dirname "$0")" | cut -c1-10'))
    mode, directory = outcome.output.decode().split()
    assert mode == "700" and directory == "drwx------"
    assert os.listdir(tmp_path / "scripts") == []
