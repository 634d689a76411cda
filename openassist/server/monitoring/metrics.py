"""The server's Prometheus metrics, in a registry of their own (one per server object).

Counters and histograms are updated where things happen, through plain callbacks handed to the
store and the services (which know nothing of Prometheus). The fleet's and the tasks' counts are
read from the database when /metrics is scraped, never on the hot path. Labels are bounded:
actions are the API's own names (anything else is "unknown"), statuses and error codes come
from the catalog, and no label carries an instance, a user or any other identifier.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Connection

from openassist.server.store import tallies
from openassist.server.store.db import Database

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LAG_PROBE_S = 0.25  # how often the event loop's lag is sampled
_TASKS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)


class _FleetSnapshot(Collector):
    """Agents and task instances as counted at the last scrape."""

    def __init__(self) -> None:
        self.agents: dict[str, int] = {"online": 0, "offline": 0}
        self.tasks: dict[tuple[str, str], int] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        agents = GaugeMetricFamily(
            "openassist_agents", "Registered instances by agent state.", labels=["state"]
        )
        for state, count in sorted(self.agents.items()):
            agents.add_metric([state], count)
        yield agents
        tasks = GaugeMetricFamily(
            "openassist_task_instances",
            "Task instances (one task on one instance) by status and error code.",
            labels=["status", "error_code"],
        )
        for (status, code), count in sorted(self.tasks.items()):
            tasks.add_metric([status, code], count)
        yield tasks


class _Handshakes(Collector):
    """The agent port's TLS handshake gate (listen/pacing.py), read at each scrape: ``read``
    gives (waiting now, done after waiting, closed after waiting too long)."""

    def __init__(self, read: Callable[[], tuple[int, int, int]]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        waiting, waited, refused = self._read()
        yield GaugeMetricFamily(
            "openassist_agent_handshakes_waiting",
            "Agent connections waiting for a TLS handshake place now.",
            value=waiting,
        )
        yield CounterMetricFamily(
            "openassist_agent_handshakes_waited",
            "Agent TLS handshakes done after waiting for a place.",
            value=waited,
        )
        yield CounterMetricFamily(
            "openassist_agent_handshakes_refused",
            "Agent connections closed unanswered after waiting too long for a handshake place.",
            value=refused,
        )


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._snapshot = _FleetSnapshot()
        self.registry.register(self._snapshot)
        self.api_seconds = Histogram(
            "openassist_api_request_seconds",
            "RPC API requests: time to answer, by action and HTTP status.",
            ["action", "status"],
            buckets=_FAST,
            registry=self.registry,
        )
        self.dispatch_seconds = Histogram(
            "openassist_dispatch_to_result_seconds",
            "From a task's creation to its final result on one instance, by final status.",
            ["status"],
            buckets=_TASKS,
            registry=self.registry,
        )
        self.heartbeats = Counter(
            "openassist_agent_heartbeats", "Agent heartbeats received.", registry=self.registry
        )
        self.upgrade_fallbacks = Counter(
            "openassist_agent_upgrade_fallbacks",
            "Agents that gave up an upgraded version which failed to start, and went back.",
            registry=self.registry,
        )
        self.sweeps = Counter(
            "openassist_sweeper_runs",
            "Sweeps, by outcome (ok or failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.swept = Counter(
            "openassist_sweeper_ended",
            "Task instances the sweeper ended, by the error code it gave them.",
            ["code"],
            registry=self.registry,
        )
        self.audit_sink = Counter(
            "openassist_audit_sink_batches",
            "Audit sink attempts, by outcome (shipped, or failed: the events wait in the store).",
            ["outcome"],
            registry=self.registry,
        )
        self.audit_shipped = Counter(
            "openassist_audit_sink_events",
            "Audit events shipped to the sink's file or syslog (a resent one counts again).",
            registry=self.registry,
        )
        self.db_seconds = Histogram(
            "openassist_db_transaction_seconds",
            "Database transactions: time in the worker thread, by kind (read or write).",
            ["kind"],
            buckets=_FAST,
            registry=self.registry,
        )
        self.db_wait_seconds = Histogram(
            "openassist_db_wait_seconds",
            "Database work: time queued for a worker thread, by kind (read or write) and lane"
            " (api: the API listener's requests, taken first; agents: everything else).",
            ["kind", "lane"],
            buckets=_FAST,
            registry=self.registry,
        )
        self.loop_lag_seconds = Histogram(
            "openassist_event_loop_lag_seconds",
            "How late the event loop woke a timer: time every request waited for the loop.",
            buckets=_FAST,
            registry=self.registry,
        )

    def watch_handshakes(self, read: Callable[[], tuple[int, int, int]]) -> None:
        self.registry.register(_Handshakes(read))

    def observe_api(self, action: str, status: int, seconds: float) -> None:
        self.api_seconds.labels(action, str(status)).observe(seconds)

    def observe_result(self, status: str, seconds: float) -> None:
        self.dispatch_seconds.labels(status).observe(max(0.0, seconds))

    def observe_transaction(self, kind: str, seconds: float) -> None:
        self.db_seconds.labels(kind).observe(seconds)

    def observe_db_wait(self, kind: str, lane: str, seconds: float) -> None:
        self.db_wait_seconds.labels(kind, lane).observe(seconds)

    async def watch_loop_lag(self, interval_s: float = LAG_PROBE_S) -> None:
        """Sleep ``interval_s`` again and again; each time, how much later than asked the loop
        woke (runs until cancelled)."""
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time() + interval_s
            await asyncio.sleep(interval_s)
            self.loop_lag_seconds.observe(max(0.0, loop.time() - asked))

    def observe_sweep(self, ended_codes: list[str] | None) -> None:
        """One sweep: the codes of what it ended, or None when it failed."""
        self.sweeps.labels("failed" if ended_codes is None else "ok").inc()
        for code in ended_codes or ():
            self.swept.labels(code).inc()

    def observe_audit_sink(self, shipped: int | None) -> None:
        """One attempt of the audit sink: how many events it shipped, or None when it failed."""
        self.audit_sink.labels("failed" if shipped is None else "shipped").inc()
        self.audit_shipped.inc(shipped or 0)

    async def exposition(self, db: Database, now_ms: int, online_window_ms: int) -> bytes:
        """Count the fleet and the tasks now, then render everything in the text format."""

        def count(conn: Connection) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
            return tallies.agent_counts(conn, now_ms, online_window_ms), tallies.task_counts(conn)

        self._snapshot.agents, self._snapshot.tasks = await db.read(count)
        return generate_latest(self.registry)
