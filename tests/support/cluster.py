"""Real processes for tests: ``openassist server`` and ``openassist agent run`` subprocesses."""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openassist.cli.api_client import ApiClient, Credentials

STARTUP_TIMEOUT_S = 60


# Below the kernel's ephemeral range (32768-60999 by default), which outgoing connections (our
# agents', everyone's) draw from: a port picked there can be taken before the server binds it.
_PORTS = range(20000, 32000)


def free_port() -> int:
    """A loopback port free right now, outside the ephemeral range; random, so parallel test
    runs rarely pick the same one (a server that loses the race is started again)."""
    for _ in range(200):
        port = random.choice(_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free loopback port between 20000 and 32000")


def wait_until(
    predicate: Any, timeout_s: float = 30, interval_s: float = 0.02, what: str = ""
) -> Any:
    """Poll ``predicate`` until it returns a truthy value; fail with ``what`` after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what or predicate}")
        time.sleep(interval_s)


def _cli(*args: str, log_level: str = "warning") -> list[str]:
    return [sys.executable, "-m", "openassist.cli.main", "--log-level", log_level, *args]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        env.pop(name, None)
    return env


def _start_server(
    root: Path,
    api_port: int,
    agent_port: int,
    database_url: str,
    env: dict[str, str] | None,
    agent_host: str = "127.0.0.1",
    log_level: str = "warning",
) -> subprocess.Popen[bytes]:
    root.mkdir(parents=True, exist_ok=True)
    ready = root / "ready"
    ready.unlink(missing_ok=True)
    args = [
        "server",
        "--data-dir",
        str(root / "data"),
        "--api-port",
        str(api_port),
        "--agent-port",
        str(agent_port),
        "--agent-host",
        agent_host,
        "--ready-file",
        str(ready),
    ]
    if database_url:
        args += ["--database-url", database_url]
    with (root / "server.log").open("ab") as log:
        process = subprocess.Popen(
            _cli(*args, log_level=log_level),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**_child_env(), **(env or {})},
        )
    wait_until(
        lambda: ready.exists() or process.poll() is not None,
        STARTUP_TIMEOUT_S,
        what="the server to start",
    )
    if process.poll() is not None:
        raise AssertionError(f"server exited: {(root / 'server.log').read_text()}")
    return process


def _stop(process: subprocess.Popen[bytes], timeout_s: float = 10) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout_s)


@dataclass
class Agent:
    instance_id: str
    state_dir: Path
    process: subprocess.Popen[bytes] | None
    log: Path
    wrapper: Sequence[str] = ()

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)

    def freeze(self) -> None:
        """SIGSTOP the agent: alive, connected, and answering nothing."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def journalled_process(self, invoke_id: str) -> bool:
        """Whether the agent's journal holds the process (group) of its run of ``invoke_id``:
        from then on a restarted agent can end what a crash left behind."""
        with contextlib.suppress(OSError, ValueError):
            for line in (self.state_dir / "journal.jsonl").read_text().splitlines():
                entry = json.loads(line)
                if entry.get("task") == invoke_id and entry.get("pgid"):
                    return True
        return False

    def kill(self) -> None:
        """SIGKILL the agent, as a crash would end it."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)


@dataclass
class Cluster:
    root: Path
    api_port: int
    agent_port: int
    process: subprocess.Popen[bytes]
    credentials: Credentials
    agents: list[Agent] = field(default_factory=list)
    database_url: str = ""
    env: dict[str, str] | None = None
    agent_host: str = "127.0.0.1"  # where the agent gateway listens (and agents dial)
    log_level: str = "warning"  # the server's

    @property
    def ca_file(self) -> Path:
        return self.root / "data" / "tls" / "ca.pem"

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.api_port}"

    @property
    def server_log(self) -> Path:
        return self.root / "server.log"

    def client(self) -> ApiClient:
        return ApiClient(self.credentials)

    def call(self, action: str, **params: str) -> dict[str, Any]:
        return self.client().call(action, params)

    def cli_credentials(self) -> Path:
        """A credentials file for ``openassist`` commands run against this server."""
        path = self.root / "cli-credentials.json"
        fields = {
            "AccessKeyId": self.credentials.access_key_id,
            "AccessKeySecret": self.credentials.access_key_secret,
            "Endpoint": self.endpoint,
            "RegionId": self.credentials.region_id,
        }
        path.write_text(json.dumps(fields))
        return path

    def cli_args(self, *args: str) -> list[str]:
        """The argv of ``openassist ARGS --credentials ...`` (for a process a test drives)."""
        return _cli(*args, "--credentials", str(self.cli_credentials()))

    def cli(
        self, *args: str, timeout_s: float = 120, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``openassist ARGS --credentials ...`` to its end; its exit code and output."""
        return subprocess.run(
            self.cli_args(*args),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=_child_env(),
            check=False,
        )

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        root: Path,
        database_url: str = "",
        env: dict[str, str] | None = None,
        agent_host: str = "127.0.0.1",
        log_level: str = "warning",
    ) -> Iterator[Cluster]:
        cluster: Cluster | None = None
        for attempt in range(3):
            api_port, agent_port = free_port(), free_port()
            try:
                process = _start_server(
                    root, api_port, agent_port, database_url, env, agent_host, log_level
                )
                break
            except AssertionError as failed:
                if "address already in use" not in str(failed) or attempt == 2:
                    raise
        try:
            document = json.loads((root / "data" / "admin-credentials.json").read_text())
            credentials = Credentials(
                document["AccessKeyId"],
                document["AccessKeySecret"],
                f"127.0.0.1:{api_port}",
                document["RegionId"],
            )
            cluster = cls(root, api_port, agent_port, process, credentials)
            cluster.database_url, cluster.env = database_url, env
            cluster.agent_host, cluster.log_level = agent_host, log_level
            yield cluster
        finally:
            for agent in cluster.agents if cluster else []:
                agent.stop()
            _stop(cluster.process if cluster else process)

    @contextlib.contextmanager
    def another_node(
        self,
        root: Path,
        env: dict[str, str] | None = None,
        log_level: str = "warning",
        same_tls: bool = False,
    ) -> Iterator[Cluster]:
        """A second server on the same PostgreSQL database (its own data directory, ports and
        TLS, or with ``same_tls`` this node's CA and agent certificate, so an agent can fail
        over to it; this node's parameter key, so it opens the same sealed access-key
        secrets); its ``call`` goes to its own API port."""
        if not self.database_url:
            raise AssertionError("several nodes share a PostgreSQL database")
        if same_tls:
            (root / "data").mkdir(mode=0o700, parents=True, exist_ok=True)
            shutil.copytree(self.root / "data" / "tls", root / "data" / "tls")
        key = {"OPENASSIST_PARAMETER_KEY_FILE": str(self.root / "data" / "parameter-store.key")}
        env = {**(self.env or {}), **key, **(env or {})}
        api_port, agent_port = free_port(), free_port()
        process = _start_server(
            root, api_port, agent_port, self.database_url, env, log_level=log_level
        )
        credentials = self.credentials._replace(endpoint=f"127.0.0.1:{api_port}")
        node = Cluster(root, api_port, agent_port, process, credentials)
        node.database_url, node.env, node.log_level = self.database_url, env, log_level
        try:
            yield node
        finally:
            _stop(node.process)

    def kill_server(self) -> None:
        """SIGKILL the server: no shutdown of any kind."""
        self.process.kill()
        self.process.wait(10)

    def restart_server(self) -> None:
        """Start the server again on the same ports and data (after ``kill_server``)."""
        self.process = _start_server(
            self.root,
            self.api_port,
            self.agent_port,
            self.database_url,
            self.env,
            self.agent_host,
            self.log_level,
        )

    def register_agent(
        self,
        name: str = "",
        wrapper: Sequence[str] = (),
        server: str = "",
        **activation_params: str,
    ) -> Agent:
        """Create an activation (with ``activation_params``, e.g. tags) and register a new agent
        identity (not started); ``wrapper`` prefixes the command (e.g. ``ip netns exec NS``);
        ``server``: the agent's --server (default: this node's gateway)."""
        activation = self.call("CreateActivation", InstanceCount="1", **activation_params)
        state_dir = self.root / f"agent-{secrets.token_hex(4)}"
        result = subprocess.run(
            [
                *wrapper,
                *_cli(
                    "agent",
                    "register",
                    "--server",
                    server or f"{self.agent_host}:{self.agent_port}",
                    "--ca",
                    str(self.ca_file),
                    "--activation-id",
                    activation["ActivationId"],
                    "--activation-code",
                    activation["ActivationCode"],
                    "--state-dir",
                    str(state_dir),
                    "--name",
                    name,
                ),
            ],
            capture_output=True,
            text=True,
            env=_child_env(),
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        agent = Agent(result.stdout.strip(), state_dir, None, state_dir / "agent.log", wrapper)
        self.agents.append(agent)
        return agent

    def start_agent(
        self,
        agent: Agent,
        wait_online: bool = True,
        env: dict[str, str] | None = None,
        args: Sequence[str] = (),
    ) -> Agent:
        """Start a registered agent (inside its ``wrapper``); ``args`` go to ``agent run``."""
        log = agent.log.open("ab")
        agent.process = subprocess.Popen(
            [*agent.wrapper, *_cli("agent", "run", "--state-dir", str(agent.state_dir), *args)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**_child_env(), **(env or {})},
        )
        log.close()
        if wait_online:
            wait_until(lambda: self.online(agent.instance_id), 30, what="the agent to heartbeat")
        return agent

    def new_agent(
        self, name: str = "", env: dict[str, str] | None = None, tags: dict[str, str] | None = None
    ) -> Agent:
        """Register and start an agent; ``env`` is added to its environment (and its scripts'),
        ``tags`` to its activation (the instance inherits them)."""
        labels: dict[str, str] = {}
        for index, (key, value) in enumerate((tags or {}).items(), start=1):
            labels[f"Tag.{index}.Key"], labels[f"Tag.{index}.Value"] = key, value
        return self.start_agent(self.register_agent(name, **labels), env=env)

    def online(self, instance_id: str) -> bool:
        answer = self.call("DescribeCloudAssistantStatus", **{"InstanceId.1": instance_id})
        entry = answer["InstanceCloudAssistantStatusSet"]["InstanceCloudAssistantStatus"][0]
        return bool(entry["CloudAssistantStatus"] == "true")

    def results(self, invoke_id: str) -> list[dict[str, Any]]:
        answer = self.call(
            "DescribeInvocationResults",
            InvokeId=invoke_id,
            ContentEncoding="PlainText",
            MaxResults="50",
        )
        return list(answer["Invocation"]["InvocationResults"]["InvocationResult"])

    def all_results(self, invoke_id: str) -> list[dict[str, Any]]:
        """Every instance's result of a task (all pages)."""
        found: list[dict[str, Any]] = []
        token = ""
        for _page in range(1000):
            params = {"InvokeId": invoke_id, "MaxResults": "50", "ContentEncoding": "PlainText"}
            if token:
                params["NextToken"] = token
            answer = self.call("DescribeInvocationResults", **params)["Invocation"]
            found += answer["InvocationResults"]["InvocationResult"]
            token = answer.get("NextToken", "")
            if not token:
                break
        return found

    def wait_final(self, invoke_id: str, timeout_s: float = 60) -> list[dict[str, Any]]:
        final = {
            "Success",
            "Failed",
            "Invalid",
            "Aborted",
            "Error",
            "Timeout",
            "Cancelled",
            "Terminated",
        }

        def done() -> list[dict[str, Any]] | None:
            results = self.all_results(invoke_id)
            return (
                results
                if results and all(r["InvocationStatus"] in final for r in results)
                else None
            )

        return list(wait_until(done, timeout_s, what=f"{invoke_id} to finish"))

    def task(self, invoke_id: str) -> dict[str, Any]:
        """The task as DescribeInvocations shows it."""
        [task] = self.call("DescribeInvocations", InvokeId=invoke_id)["Invocations"]["Invocation"]
        return dict(task)

    def run(self, script: str, *instance_ids: str, **params: str) -> str:
        args = {"Type": "RunShellScript", "CommandContent": script, **params}
        for index, instance_id in enumerate(instance_ids, start=1):
            args[f"InstanceId.{index}"] = instance_id
        return str(self.call("RunCommand", **args)["InvokeId"])


@contextlib.contextmanager
def backend_cluster(
    backend: str, root: Path, env: dict[str, str] | None = None
) -> Iterator[Cluster]:
    """A running server on ``backend`` ("sqlite" or "postgres", a fresh database), with ``env``
    added to the server's environment (e.g. OPENASSIST_API_RATE_PER_KEY)."""
    if backend == "postgres":
        with temporary_postgres_database() as url, Cluster.start(root, url, env) as running:
            yield running
    else:
        with Cluster.start(root, env=env) as running:
            yield running


def postgres_admin_url() -> str:
    return os.environ.get("OPENASSIST_TEST_POSTGRES_URL", "")


@contextlib.contextmanager
def temporary_postgres_database() -> Iterator[str]:
    """Create a fresh database on the test PostgreSQL server; drop it afterwards."""
    import psycopg

    admin = postgres_admin_url()
    name = f"openassist_test_{secrets.token_hex(6)}"

    def execute(statement: str) -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(statement.encode())

    execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
