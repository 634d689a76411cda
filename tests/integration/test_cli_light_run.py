"""The whole ``openassist run`` against a real server and agent loads only what it uses: none of
the modules a short command used to spend its start-up on (socket's enums, hashlib's OpenSSL,
datetime, gettext's locale, the IDNA codec, base64) nor any heavier library. Fails if an import
on the path of ``run`` (its text, ``--json`` and ``-b`` forms) brings one of them back. And the
program ends without the interpreter's teardown yet with all of its output, buffered in a pipe
(no PYTHONUNBUFFERED) as a script reading it sees it. Under a bare interpreter (no site: nothing a
development install's start-up hooks load hides what the command itself loads) the command loads
neither pathlib, urllib.parse, contextlib nor json (its answers are read by json's C scanner:
cli/documents.py), and it makes its three requests (the listing that
resolves ``-i NAME``, RunCommand, the wait) over one connection."""

from __future__ import annotations

import ast
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


# What the command loads beyond an operator's interpreter start and its console script (which
# imports re first): each of these is millions of instructions (callgrind) on every command.
UNUSED = frozenset({"pathlib", "urllib", "urllib.parse", "ipaddress", "contextlib", "json"})

# Run as pip's console script runs it (``import re``, then the entry point), counting what it
# loads and the connections and requests it makes.
PROBE = """
import os
import sys
import re
before = set(sys.modules)
from openassist.cli import http_wire

connects, actions = [], []
connect, post, leave = http_wire.connect, http_wire.Connection.post, os._exit

def counted_connect(*args):
    connects.append(args[:2])
    return connect(*args)

def counted_post(self, path, body, content_type):
    fields = dict(field.split(b"=", 1) for field in body.split(b"&"))
    actions.append(fields[b"Action"].decode())
    return post(self, path, body, content_type)

def reporting_exit(code):
    loaded = sorted(set(sys.modules) - before)
    sys.stderr.write(repr((int(code), loaded, len(connects), actions)) + "\\n")
    sys.stderr.flush()
    leave(code)

http_wire.connect, http_wire.Connection.post = counted_connect, counted_post
os._exit = reporting_exit
from openassist.cli.main import main

sys.argv[0] = "openassist"
main()  # as the console script calls it: the program's own end (os._exit) included
"""


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
    assert {"_json", "_socket", "openassist.cli.run_command"} <= loaded  # the listing is read
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


def test_run_loads_no_pathlib_urllib_contextlib_or_json_and_makes_three_requests_on_one_connection(
    credentials: Path,
) -> None:
    argv = ["run", "echo hi", "-i", "light-1", "--credentials", str(credentials)]
    done = subprocess.run(
        [sys.executable, "-S", "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        check=False,
        env={**_program_env(), "PYTHONPATH": str(Path(__file__).parents[2])},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "hi" in done.stdout
    code, loaded, connects, actions = ast.literal_eval(done.stderr.strip().splitlines()[-1])
    assert code == 0
    assert sorted(set(loaded) & (UNUSED | HEAVY)) == []
    assert connects == 1  # one kept-alive connection for every request
    # The listing resolves the name; the wait answers with the results (IncludeResults): on a
    # busy machine it may answer once more while the run is still going, never anything else.
    assert actions[:3] == ["DescribeManagedInstances", "RunCommand", "WaitInvocationResults"]
    assert set(actions[3:]) <= {"WaitInvocationResults"}
