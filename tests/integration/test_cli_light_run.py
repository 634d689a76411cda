"""The whole ``openassist run`` against a real server and agent loads only what it uses: none of
the modules a short command used to spend its start-up on (socket's enums, hashlib's OpenSSL,
datetime, gettext's locale, the IDNA codec, base64) nor any heavier library. Fails if an import
on the path of ``run`` (its text, ``--json`` and ``-b`` forms) brings one of them back. And the
program ends without the interpreter's teardown yet with all of its output, buffered in a pipe
(no PYTHONUNBUFFERED) as a script reading it sees it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import Cluster

HEAVY = frozenset(
    {"socket", "selectors", "ssl", "hashlib", "_hashlib", "hmac", "datetime", "locale"}
    | {"encodings.idna", "base64", "typing", "dataclasses", "logging", "email", "http.client"}
    | {"configparser", "shutil", "difflib", "subprocess", "threading", "msgspec", "cryptography"}
    | {"openassist.catalog", "openassist.server", "openassist.agent"}
)


def _program_env() -> dict[str, str]:
    """As a person's shell runs it: stdout buffered when it is a pipe; no coverage."""
    dropped = ("PYTHONUNBUFFERED", "COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG")
    return {k: v for k, v in os.environ.items() if k not in dropped}


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with Cluster.start(tmp_path_factory.mktemp("light")) as cluster:
        cluster.new_agent("light-1")
        yield cluster.cli_credentials()


def _run_loading(credentials: Path, *options: str) -> tuple[str, set[str]]:
    """The output of ``openassist run 'echo hi' -i light-1 OPTIONS`` and the modules it loaded
    (``python -X importtime``: every module of the process, the interpreter's own included)."""
    argv = ["run", "echo hi", "-i", "light-1", *options, "--credentials", str(credentials)]
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "openassist.cli.main", *argv],
        capture_output=True,
        text=True,
        check=False,
        env=_program_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return done.stdout, {line.rsplit("|", 1)[1].strip() for line in lines[1:]}


@pytest.mark.parametrize("options", [(), ("--json",), ("-b",)])
def test_run_loads_no_heavy_module(credentials: Path, options: tuple[str, ...]) -> None:
    out, loaded = _run_loading(credentials, *options)
    assert "hi" in out
    assert {"json", "_socket", "openassist.cli.run_command"} <= loaded  # the listing is read
    assert sorted(loaded & HEAVY) == []


def test_the_program_ends_with_all_of_its_output_written(credentials: Path) -> None:
    """Written without a flush of its own (``ecs`` prints a document and returns): the output
    still reaches the pipe when the program ends."""
    argv = ["ecs", "DescribeManagedInstances", "--credentials", str(credentials)]
    done = subprocess.run(
        [sys.executable, "-m", "openassist.cli.main", *argv],
        capture_output=True,
        text=True,
        check=False,
        env=_program_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    [machine] = json.loads(done.stdout)["Instances"]
    assert machine["InstanceName"] == "light-1"
