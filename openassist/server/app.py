"""Composition root: settings, store, bus, services, API, console and agent gateway wired in one
place."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import ssl
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from openassist.server import console_start
from openassist.server.api.endpoint import RpcEndpoint
from openassist.server.api_tls import api_endpoint
from openassist.server.bus import Bus, open_bus
from openassist.server.console import ConsoleKeys, console_app
from openassist.server.data_dir import secure_data_dir
from openassist.server.gateway.installer import AgentInstaller
from openassist.server.gateway.routes import Gateway
from openassist.server.gateway.tls import TlsFiles, ensure_tls
from openassist.server.lifecycle.sweeper import SweepRules
from openassist.server.listen.pacing import HandshakeGate
from openassist.server.listen.servers import http_server, raise_open_file_limit, tls_contexts
from openassist.server.monitoring.metrics import ServerMetrics
from openassist.server.monitoring.routes import Monitoring
from openassist.server.private_files import write_private
from openassist.server.service.access_changes import AccessChanges
from openassist.server.service.access_keys import AccessKeyService
from openassist.server.service.activations import ActivationService
from openassist.server.service.agent_upgrades import AgentUpgradeService
from openassist.server.service.audit import AuditTrail
from openassist.server.service.audit_outlets import FileOutlet, Outlet, SyslogOutlet
from openassist.server.service.audit_sink import AuditSink
from openassist.server.service.clock import Clock, SystemClock, utc_now
from openassist.server.service.commands import CommandService
from openassist.server.service.console_secrets import ConsoleSecrets
from openassist.server.service.console_sessions import ConsoleSessionService
from openassist.server.service.context import Limits, ServiceContext, released_kicker
from openassist.server.service.deferring_bus import DeferringBus
from openassist.server.service.diagnosis import DiagnosisService
from openassist.server.service.files import FileService
from openassist.server.service.fires import Firer
from openassist.server.service.fleet import FleetService
from openassist.server.service.idempotency import IdempotencyService
from openassist.server.service.identities import IdentityService
from openassist.server.service.invocations import InvocationService
from openassist.server.service.overview import OverviewService
from openassist.server.service.parameter_store import ParameterStoreService
from openassist.server.service.principals import Principals
from openassist.server.service.ram_policies import PolicyService
from openassist.server.service.rate_limits import SharedRateBuckets
from openassist.server.service.replay import ReplayGuard, StoreReplayGuard
from openassist.server.service.result_waits import ResultWaitService
from openassist.server.service.secret_box import SecretBox
from openassist.server.service.services import Services
from openassist.server.service.sign_in_failures import SharedSignInFailures
from openassist.server.service.split_runs import SplitRunService
from openassist.server.service.store_upkeep import StoreUpkeep
from openassist.server.service.sweeps import Sweeper
from openassist.server.service.targeting import TargetingService
from openassist.server.service.task_tables import TaskTableService
from openassist.server.settings import ServerSettings
from openassist.server.store.db import Database
from openassist.server.store.lanes import api_lane
from openassist.server.tls_renewal import keep_certificate

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("openassist.server")

CREDENTIALS_FILE = "admin-credentials.json"


class ApiLane:
    """ASGI middleware: the store takes the work of the API listener's requests before the
    agents' (store/lanes.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with api_lane():
            await self._app(scope, receive, send)


@dataclass
class Server:
    settings: ServerSettings
    db: Database
    bus: Bus
    services: Services
    gateway: Gateway
    tls: TlsFiles
    sweeper: Sweeper
    firer: Firer
    console_keys: ConsoleKeys
    replay: ReplayGuard
    api_replay: ReplayGuard  # the API's marks, in the store's API lane
    metrics: ServerMetrics
    monitoring: Monitoring
    installer: AgentInstaller

    def api_app(self) -> Starlette:
        """The RPC API at ``/``, the web console under ``/console``, health checks and (unless
        moved or off) the metrics: one port."""
        endpoint = RpcEndpoint(self.services, self.api_replay, self.metrics.observe_api)
        # Every method reaches the RPC endpoint, which answers all but GET and POST with the
        # documented UnsupportedHTTPMethod envelope rather than a bare 405.
        methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
        routes = [
            Route("/", endpoint.handle, methods=methods),
            Mount(
                "/console",
                console_app(self.services, self.console_keys, self.settings.agent_port),
            ),
            *self.monitoring.health_routes(),
        ]
        if self.settings.metrics == "api":
            routes += self.monitoring.metrics_routes()
        return Starlette(routes=routes, middleware=[Middleware(ApiLane)])

    def metrics_app(self) -> Starlette:
        """The metrics' own listener (the ``metrics`` setting names HOST:PORT)."""
        routes = self.monitoring.metrics_routes() + self.monitoring.health_routes()
        return Starlette(routes=routes)

    async def close(self) -> None:
        await self.gateway.close()
        await self.bus.close()
        await asyncio.to_thread(self.db.close)


async def build_server(settings: ServerSettings) -> Server:
    """Open the store (migrating it), create first-start material, wire the services."""
    await asyncio.to_thread(secure_data_dir, settings.data_dir)
    db = Database(settings.effective_database_url)
    await asyncio.to_thread(db.migrate)
    await asyncio.to_thread(db.optimize)  # planner statistics before the first list
    metrics = ServerMetrics()
    db.observe = metrics.observe_transaction
    db.observe_wait = metrics.observe_db_wait
    bus = await open_bus(settings.bus_url)
    limits = Limits.of(settings)
    # Kicks sent inside a unit of work (a ClientToken's action) wait for its commit.
    context = ServiceContext(db=db, bus=DeferringBus(bus), clock=SystemClock(), limits=limits)
    box = await asyncio.to_thread(SecretBox.load_or_create, settings.effective_parameter_key_file)
    parameter_store = ParameterStoreService(context, box)
    upgrades = AgentUpgradeService(
        context, settings.effective_agent_packages_dir, settings.agent_update_check_s
    )
    access_keys = AccessKeyService(context, box)
    idempotency = IdempotencyService(context, box)
    sealed = await access_keys.seal_plain_secrets(), await idempotency.seal_plain_answers()
    if any(sealed):
        await asyncio.to_thread(db.scrub)
        log.warning(
            "sealed %d access-key secret(s) and %d ClientToken answer(s) kept in plain text",
            *sealed,
        )
    principals = Principals(context)

    # A change to access on any node empties every node's cached keys and principals.
    def forget_access() -> None:
        principals.forget()
        access_keys.forget_all()

    access_changes = AccessChanges(context.bus, forget_access)
    access_changes.listen()
    services = Services(
        access_keys=access_keys,
        invocations=InvocationService(context),
        commands=CommandService(context),
        fleet=FleetService(context),
        files=FileService(context),
        activations=ActivationService(context),
        diagnosis=DiagnosisService(context),
        task_tables=TaskTableService(context),
        split_runs=SplitRunService(context),
        targeting=TargetingService(context),
        overview=OverviewService(context),
        parameter_store=parameter_store,
        agent_upgrades=upgrades,
        idempotency=idempotency,
        console_sessions=ConsoleSessionService(context),
        result_waits=ResultWaitService(context),
        limits=limits,
        clock=context.clock,
        identities=IdentityService(context, access_keys, access_changes.changed),
        policies=PolicyService(context, access_changes.changed),
        principals=principals,
        # With a bus between nodes, the API's per-key buckets are shared through the store.
        rate_buckets=(
            SharedRateBuckets(context, settings.api_rate_per_key, settings.api_burst_per_key)
            if settings.bus_url
            else None
        ),
        # So is the console's sign-in throttle: one lock per user and address on every node.
        sign_in_failures=SharedSignInFailures(context) if settings.bus_url else None,
        audit=AuditTrail(context, settings.audit_retention_days),
    )
    db.on_tasks_changed = services.result_waits.announce  # wakes WaitInvocationResults
    db.on_released = released_kicker(context.bus, context.clock)  # a rollout's next targets
    tls = ensure_tls(settings.data_dir / "tls", settings.tls_hostnames, utc_now(context.clock))
    await _write_first_access_key(access_keys, settings, tls)
    # After the first key: it (and every key of a release before users) goes to the admin.
    await services.identities.ensure_admin(settings.admin_user)
    console_keys = await console_start.console_keys(settings, ConsoleSecrets(context, box))
    # Replay marks live in the store: a restart or another node must not accept a request twice.
    replay = StoreReplayGuard(db, context.clock)
    gateway = Gateway(
        context, services.fleet, services.files, parameter_store, upgrades, replay, metrics
    )
    rules = SweepRules(
        delivery_timeout_ms=settings.delivery_timeout_s * 1000,
        response_grace_ms=settings.response_grace_s * 1000,
        stop_timeout_ms=settings.stop_timeout_s * 1000,
        online_window_ms=settings.heartbeat_online_s * 1000,
    )
    sweeper = Sweeper(context, rules, settings.sweep_interval_s, metrics.observe_sweep)
    monitoring = Monitoring(db, metrics, context.clock, settings.heartbeat_online_s * 1000)
    return Server(
        settings,
        db,
        bus,
        services,
        gateway,
        tls,
        sweeper,
        Firer(context),
        console_keys,
        replay,
        StoreReplayGuard(db, context.clock, api=True),
        metrics,
        monitoring,
        AgentInstaller(upgrades, await asyncio.to_thread(tls.ca_cert.read_text)),
    )


async def _write_first_access_key(
    keys: AccessKeyService, settings: ServerSettings, tls: TlsFiles
) -> None:
    key = await keys.ensure_admin_key()
    if key is None:
        return
    path = settings.data_dir / CREDENTIALS_FILE
    document = {
        "AccessKeyId": key.id,
        "AccessKeySecret": key.secret,
        "Endpoint": api_endpoint(settings),
        "RegionId": settings.regions[0],
    }
    if settings.api_tls_enabled and not settings.api_tls_cert_file:
        document["CaFile"] = str(tls.ca_cert.resolve())  # what the CLI verifies the API with
    write_private(path, json.dumps(document, indent=2).encode() + b"\n")
    # The secret itself is never logged: only where it is.
    log.info("created the first access key %s; credentials written to %s", key.id, path)


def _metrics_listener(settings: ServerSettings, server: Server) -> list[uvicorn.Server]:
    """The metrics' own plain HTTP listener, when ``metrics`` names HOST:PORT."""
    if not settings.metrics_listener:
        return []
    host, port = settings.metrics_listener
    app = server.metrics_app()
    return [http_server("metrics", app, (host, port), None, settings, settings.api_max_connections)]


def _audit_sink(settings: ServerSettings, db: Database, metrics: ServerMetrics) -> AuditSink | None:
    """The audit sink, when a file or syslog is configured."""
    outlets: list[Outlet] = []
    if settings.audit_sink_file:
        path = Path(settings.audit_sink_file)
        outlets.append(FileOutlet(path, settings.audit_sink_file_max_bytes))
    if settings.audit_sink_syslog:
        outlets.append(SyslogOutlet(settings.audit_sink_syslog))
    if not outlets:
        return None
    return AuditSink(db, outlets, settings.regions[0], metrics.observe_audit_sink)


def _nothing_to_reopen() -> None:
    log.info("SIGHUP: no audit sink to reopen")


def _renewing(
    settings: ServerSettings, files: TlsFiles, serving: ssl.SSLContext, clock: Clock
) -> asyncio.Task[None] | None:
    """The task that renews the agent certificate while the server runs (None when off);
    ``serving`` is the live TLS context of every port that serves it."""
    if settings.tls_renew_check_s <= 0:
        return None

    def contexts() -> list[ssl.SSLContext]:
        return [serving]

    renewal = keep_certificate(
        files, settings.tls_hostnames, settings.tls_renew_check_s, contexts, clock
    )
    return asyncio.create_task(renewal, name="tls-renewal")


def _handshake_gate(settings: ServerSettings, metrics: ServerMetrics) -> HandshakeGate | None:
    """What paces the agent port's TLS handshakes (listen/pacing.py), seen in the metrics."""
    if settings.agent_handshakes_at_once <= 0:
        return None
    gate = HandshakeGate(settings.agent_handshakes_at_once, settings.agent_handshake_wait_s)
    metrics.watch_handshakes(lambda: (gate.waiting, gate.waited, gate.refused))
    return gate


async def serve(settings: ServerSettings, ready_file: Path | None = None) -> None:
    """Run the API and the agent gateway until SIGINT/SIGTERM."""
    server = await build_server(settings)
    raise_open_file_limit(settings)
    agent_context, api_context = tls_contexts(settings, server.tls)
    api = http_server(
        "API",
        server.api_app(),
        (settings.api_host, settings.api_port),
        api_context,
        settings,
        settings.api_max_connections,
    )
    agents = http_server(
        "agent",
        server.gateway.app(server.installer.routes()),
        (settings.agent_host, settings.agent_port),
        agent_context,
        settings,
        settings.agent_max_connections,
        _handshake_gate(settings, server.metrics),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    sink = _audit_sink(settings, server.db, server.metrics)
    # logrotate's postrotate sends SIGHUP: the sink reopens its file (by default it would end
    # the server).
    loop.add_signal_handler(signal.SIGHUP, sink.reopen if sink else _nothing_to_reopen)
    listeners = [api, agents, *_metrics_listener(settings, server)]
    tasks = [asyncio.create_task(listener.serve()) for listener in listeners]
    duties = [
        asyncio.create_task(server.sweeper.run(), name="sweeper"),
        asyncio.create_task(server.firer.run(), name="fires"),
        asyncio.create_task(server.services.audit.keep_retention(), name="audit"),
        asyncio.create_task(StoreUpkeep(server.db).run(), name="store-upkeep"),
        asyncio.create_task(server.metrics.watch_loop_lag(), name="loop-lag"),
        asyncio.create_task(sink.run(), name="audit-sink") if sink else None,
        _renewing(settings, server.tls, agent_context, server.services.clock),
    ]
    try:
        while not all(listener.started for listener in listeners):
            if any(task.done() for task in tasks):
                break
            await asyncio.sleep(0.01)
        if all(listener.started for listener in listeners):
            log.info(
                "API on %s://%s:%d (console at /console/), agents on https://%s:%d (CA %s)",
                settings.api_scheme,
                settings.api_host,
                settings.api_port,
                settings.agent_host,
                settings.agent_port,
                server.tls.ca_cert,
            )
            if ready_file:
                await asyncio.to_thread(ready_file.write_text, "ready\n")
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
    finally:
        for duty in duties:
            if duty is not None:
                duty.cancel()
        for listener in listeners:
            listener.should_exit = True
        for task in tasks:
            with suppress(Exception):
                await task
        await server.close()
        for task in tasks:
            if task.done() and task.exception():
                raise SystemExit(f"server failed: {task.exception()}")
