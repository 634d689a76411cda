"""/metrics, /healthz and /readyz of a real server (SQLite and PostgreSQL), read the way
Prometheus and a load balancer read them, and the Grafana dashboard checked against /metrics."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from openassist.errors import ConfigurationError
from openassist.server.settings import load_server_settings
from tests.conftest import BACKENDS
from tests.support.cluster import Cluster, backend_cluster, free_port, wait_until
from tests.support.held_agent import HeldAgent
from tests.support.readme import operating_commands

REPOSITORY = Path(__file__).resolve().parents[2]
DASHBOARD = REPOSITORY / "deploy" / "grafana" / "openassist-dashboard.json"
# Short windows so the sweeper has something to end within the test: a task that an agent
# never takes ends DeliveryTimeout 5 s after its creation.
FAST_SWEEPS = {"OPENASSIST_DELIVERY_TIMEOUT_S": "5", "OPENASSIST_SWEEP_INTERVAL_S": "1"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module", params=BACKENDS)
def monitored(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("monitored")
    with backend_cluster(request.param, root, FAST_SWEEPS) as running:
        yield running


def _get(cluster: Cluster, path: str) -> httpx.Response:
    return httpx.get(f"http://{cluster.endpoint}{path}", timeout=30)


def _scrape(url: str) -> Samples:
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, found), v in samples.items() if n == name and wanted <= found)


def test_metrics_count_the_fleet_tasks_requests_and_sweeps(monitored: Cluster) -> None:
    metrics_url = f"http://{monitored.endpoint}/metrics"
    agent = monitored.new_agent("watched")
    ok = monitored.run("echo hi", agent.instance_id)
    failed = monitored.run("exit 3", agent.instance_id)
    assert monitored.wait_final(ok)[0]["InvocationStatus"] == "Success"
    assert monitored.wait_final(failed)[0]["InvocationStatus"] == "Failed"
    with pytest.raises(Exception, match="InvalidAction"):
        monitored.call("NoSuchAction")

    samples = _scrape(metrics_url)
    assert _value(samples, "openassist_agents", state="online") == 1
    assert _value(samples, "openassist_agents", state="offline") == 0
    assert _value(samples, "openassist_task_instances", status="Success") >= 1
    assert _value(samples, "openassist_task_instances", status="Failed") >= 1
    assert _value(samples, "openassist_dispatch_to_result_seconds_count", status="Success") >= 1
    assert _value(samples, "openassist_dispatch_to_result_seconds_count", status="Failed") >= 1
    runs = _value(samples, "openassist_api_request_seconds_count", action="RunCommand")
    assert runs >= 2
    assert (
        _value(samples, "openassist_api_request_seconds_count", action="unknown", status="403") >= 1
    )
    assert _value(samples, "openassist_agent_heartbeats_total") >= 1
    assert _value(samples, "openassist_db_transaction_seconds_count", kind="write") >= 1
    assert _value(samples, "openassist_db_transaction_seconds_count", kind="read") >= 1

    # A task its agent, heard after the task was created, never takes: the sweeper ends it
    # DeliveryTimeout.
    held = HeldAgent(monitored)
    held.heartbeat()
    stuck = monitored.run("echo never", held.instance_id)
    held.heartbeat()
    wait_until(
        lambda: (
            _value(_scrape(metrics_url), "openassist_sweeper_ended_total", code="DeliveryTimeout")
            >= 1
        ),
        60,
        interval_s=0.5,
        what="the sweeper to end the undelivered task",
    )
    assert monitored.results(stuck)[0]["ErrorCode"] == "DeliveryTimeout"
    samples = _scrape(metrics_url)
    assert _value(samples, "openassist_sweeper_runs_total", outcome="ok") >= 1
    assert _value(samples, "openassist_task_instances", error_code="DeliveryTimeout") == 1

    # Every metric the dashboard plots is one /metrics serves.
    plotted = _dashboard_metrics()
    served = {name for name, _labels in samples}
    assert plotted, "the dashboard plots nothing"
    assert plotted <= served, f"the dashboard plots metrics /metrics lacks: {plotted - served}"


def _dashboard_metrics() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    names: set[str] = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            names |= set(re.findall(r"\bopenassist_[a-z_]+", target["expr"]))
    return names


def test_healthz_and_readyz_say_when_migrations_are_not_current(monitored: Cluster) -> None:
    alive = _get(monitored, "/healthz")
    assert (alive.status_code, alive.text) == (200, "ok\n")
    ready = _get(monitored, "/readyz")
    assert ready.status_code == 200, ready.text
    current = ready.json()
    assert current["ready"] is True and current["migrations"].startswith("current (")
    revision = current["migrations"].removeprefix("current (").rstrip(")")

    _stamp(monitored, "0001")  # as if an older release's database were put behind this server
    try:
        behind = _get(monitored, "/readyz")
        assert behind.status_code == 503
        assert behind.json()["migrations"] == f"database at 0001, this release needs {revision}"
    finally:
        _stamp(monitored, revision)
    assert _get(monitored, "/readyz").status_code == 200


def _stamp(cluster: Cluster, revision: str) -> None:
    statement = "UPDATE alembic_version SET version_num = %s"
    if cluster.database_url:
        with psycopg.connect(cluster.database_url, autocommit=True) as connection:
            connection.execute(statement.encode(), (revision,))
    else:
        with sqlite3.connect(cluster.root / "data" / "openassist.db") as connection:
            connection.execute(statement.replace("%s", "?"), (revision,))


def test_readyz_fails_while_postgresql_refuses_connections(monitored: Cluster) -> None:
    if not monitored.database_url:
        pytest.skip("PostgreSQL only: a SQLite file the server holds open stays reachable")
    name = monitored.database_url.rsplit("/", 1)[1]
    admin = monitored.database_url.rsplit("/", 1)[0] + "/postgres"

    def execute(statement: str) -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(statement.encode())

    execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        down = _get(monitored, "/readyz")
        assert down.status_code == 503
        assert down.json()["database"].startswith("unreachable (")
        assert _get(monitored, "/healthz").status_code == 200  # alive, only not ready
    finally:
        execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    wait_until(lambda: _get(monitored, "/readyz").status_code == 200, 30, what="ready again")


def test_metrics_move_to_their_own_listener(tmp_path: Path) -> None:
    port = free_port()
    with Cluster.start(tmp_path, env={"OPENASSIST_METRICS": f"127.0.0.1:{port}"}) as cluster:
        assert _get(cluster, "/metrics").status_code == 404  # no longer on the API port
        samples = _scrape(f"http://127.0.0.1:{port}/metrics")
        assert _value(samples, "openassist_agents", state="online") == 0
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=30).status_code == 200
        assert _get(cluster, "/healthz").status_code == 200  # health stays on the API port


def test_the_metrics_setting_takes_api_off_or_host_port() -> None:
    assert load_server_settings({}).metrics_listener is None
    assert load_server_settings({"OPENASSIST_METRICS": "off"}).metrics_listener is None
    moved = load_server_settings({"OPENASSIST_METRICS": "10.0.0.5:9640"})
    assert moved.metrics_listener == ("10.0.0.5", 9640)
    with pytest.raises(ConfigurationError, match="is not api, off or HOST:PORT"):
        load_server_settings({"OPENASSIST_METRICS": "yes"})


def test_the_readmes_monitoring_commands(monitored: Cluster) -> None:
    commands = operating_commands("Monitoring")
    assert len(commands) == 2
    for command in commands:
        ran = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command.replace("127.0.0.1:8640", monitored.endpoint)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert ran.returncode == 0, (command, ran.stderr)
        assert ran.stdout.startswith(
            ("# HELP openassist_agents", "openassist_agents", '{"ready":true')
        )
