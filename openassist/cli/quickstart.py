"""``openassist quickstart``: the main job on the embedded default, end to end.

Starts ``openassist server`` (SQLite in the data directory) in the background, creates an
activation, registers a local agent and starts it, runs a real shell script through the RPC API,
and prints the per-instance result. Server and agent keep running; it says how to stop them.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from openassist.cli.api_client import ApiClient
from openassist.cli.credentials import read_file
from openassist.cli.live import Mode, Presenter
from openassist.cli.outcome import ExitCode
from openassist.cli.watch import follow

DEMO_SCRIPT = 'echo "hello from $(hostname) as $(id -un)"; uname -sr; echo "cwd: $(pwd)"'


def _spawn(args: list[str], log_file: Path) -> subprocess.Popen[bytes]:
    log = log_file.open("ab")
    return subprocess.Popen(  # detached: they outlive the quickstart on purpose
        [sys.executable, "-m", "openassist.cli.main", *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_for(path: Path, process: subprocess.Popen[bytes], what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with code {process.returncode}; see its log")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start within {timeout_s:.0f} s; see its log")
        time.sleep(0.05)


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def run_quickstart(args: argparse.Namespace) -> int:
    for port in (args.api_port, args.agent_port):
        if _port_taken(port):
            print(
                f"port {port} is already in use (a quickstart server still running?). Stop it "
                f"with: kill $(cat {args.data_dir}/agent.pid) $(cat {args.data_dir}/server.pid), "
                "or pass --api-port/--agent-port.",
                file=sys.stderr,
            )
            return ExitCode.ERROR
    os.umask(0o077)  # the logs and pid files beside the server's data are owner-only too
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    ready = data_dir / "server.ready"
    ready.unlink(missing_ok=True)
    server_log, agent_log = data_dir / "server.log", data_dir / "agent.log"
    server = _spawn(
        [
            "server",
            "--data-dir",
            str(data_dir),
            "--api-port",
            str(args.api_port),
            "--agent-port",
            str(args.agent_port),
            "--agent-host",
            "127.0.0.1",
            "--ready-file",
            str(ready),
        ],
        server_log,
    )
    _wait_for(ready, server, "the server", 60)
    (data_dir / "server.pid").write_text(f"{server.pid}\n")
    client = ApiClient(read_file(data_dir / "admin-credentials.json"))
    print(
        f"1. server started (pid {server.pid}): API http://127.0.0.1:{args.api_port}/, "
        f"agents https://127.0.0.1:{args.agent_port}/, log {server_log}"
    )

    state_dir = data_dir / "agent"
    identity_file = state_dir / "identity.json"
    if not identity_file.exists():
        activation = client.call(
            "CreateActivation", {"InstanceName": "quickstart", "InstanceCount": "1"}
        )
        registered = subprocess.run(
            [
                sys.executable,
                "-m",
                "openassist.cli.main",
                "agent",
                "register",
                "--server",
                f"127.0.0.1:{args.agent_port}",
                "--ca",
                str(data_dir / "tls" / "ca.pem"),
                "--activation-id",
                activation["ActivationId"],
                "--activation-code",
                activation["ActivationCode"],
                "--state-dir",
                str(state_dir),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if registered.returncode != 0:
            raise SystemExit(f"agent registration failed: {registered.stderr.strip()}")
    instance_id = json.loads(identity_file.read_text())["instanceId"]
    agent = _spawn(["agent", "run", "--state-dir", str(state_dir)], agent_log)
    (data_dir / "agent.pid").write_text(f"{agent.pid}\n")
    print(f"2. agent {instance_id} registered and running (pid {agent.pid}), log {agent_log}")

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = client.call("DescribeCloudAssistantStatus", {"InstanceId.1": instance_id})
        entry = status["InstanceCloudAssistantStatusSet"]["InstanceCloudAssistantStatus"][0]
        if entry["CloudAssistantStatus"] == "true":
            break
        time.sleep(0.1)

    invoke = client.call(
        "RunCommand",
        {
            "Type": "RunShellScript",
            "CommandContent": DEMO_SCRIPT,
            "InstanceId.1": instance_id,
            "Timeout": "30",
        },
    )
    print(f"3. RunCommand -> {invoke['InvokeId']}: {DEMO_SCRIPT}\n")
    presenter = Presenter(Mode.TEXT, {})
    results = follow(client, [invoke["InvokeId"]], 60, presenter.update)
    code = presenter.finish([invoke["InvokeId"]], results)
    print(
        f"\nThe server and the agent keep running.\n"
        f"  API endpoint:   http://127.0.0.1:{args.api_port}/ (credentials in "
        f"{data_dir / 'admin-credentials.json'}, owner-only)\n"
        f"  Console:        http://127.0.0.1:{args.api_port}/console/ (user admin, password in "
        f"{data_dir / 'console-credentials.json'})\n"
        f"  Try:            .venv/bin/openassist run 'df -h /' --all   (or -i {instance_id})\n"
        f"                  .venv/bin/openassist instances\n"
        f"  Stop them:      kill $(cat {data_dir / 'agent.pid'}) $(cat {data_dir / 'server.pid'})"
    )
    return ExitCode.OK if code is ExitCode.OK else ExitCode.ERROR
