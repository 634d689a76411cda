"""The agent endpoints under ``/luban/api/`` and the kick WebSocket (TLS only).

Translates the official agent's wire spellings to service calls; every request after
registration is authenticated by its RSA signature before anything else happens.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import msgspec
from sqlalchemy import Connection
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from openassist import logs
from openassist.protocol import agent as wire
from openassist.protocol.reports import ReportKind, decode_report
from openassist.server.gateway import secret_answers
from openassist.server.gateway.auth import (
    REQUEST_ID_RETENTION_MS,
    AgentAccessDenied,
    AgentAuthError,
    AgentHeaders,
    AgentVerifier,
    replayed,
)
from openassist.server.gateway.kicks import KickHub
from openassist.server.gateway.lookups import AgentLookups
from openassist.server.gateway.reports import file_report, task_report
from openassist.server.gateway.task_info import file_info, task_info
from openassist.server.listen.body import BodyRefused, read_body
from openassist.server.monitoring.metrics import ServerMetrics
from openassist.server.service.agent_upgrades import AgentUpgradeService
from openassist.server.service.context import ServiceContext
from openassist.server.service.delivery import DeliveryService
from openassist.server.service.files import FileService
from openassist.server.service.fleet import FleetService
from openassist.server.service.outages import OutageService, parse_outage
from openassist.server.service.parameter_store import ParameterStoreService
from openassist.server.service.registration import Registration, RegistrationRefused
from openassist.server.service.replay import ReplayGuard
from openassist.server.service.restarts import Restart, RestartService
from openassist.server.service.task_list import TaskListService
from openassist.server.store.records import Instance, RegistrationState

log = logging.getLogger(__name__)
T = TypeVar("T")


def _count(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 7 else None


def _json(body: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


async def _body_refused(_request: Request, error: Exception) -> Response:
    """A body over its endpoint's limit (or cut short): the rest of it is never read."""
    assert isinstance(error, BodyRefused)
    response = _json({"code": error.status, "errMsg": error.message}, error.status)
    response.headers["connection"] = "close"
    return response


async def _refused(_request: Request, error: Exception) -> Response:
    """Any agent endpoint: a request that is not from a registered instance's key."""
    return _json({"code": 401, "errMsg": str(error)}, 401)


async def _denied(_request: Request, error: Exception) -> Response:
    """A genuine agent whose address the access rules refuse."""
    return _json({"code": 403, "errCode": "SecurityGroupRuleDenied", "errMsg": str(error)}, 403)


class Gateway:
    def __init__(
        self,
        context: ServiceContext,
        fleet: FleetService,
        files: FileService,
        parameter_store: ParameterStoreService,
        upgrades: AgentUpgradeService,
        replay: ReplayGuard,
        metrics: ServerMetrics | None = None,
    ) -> None:
        self._context = context
        self._fleet = fleet
        self._replay = replay
        self._upgrades = upgrades
        self._files = files
        self._metrics = metrics
        observe_result = metrics.observe_result if metrics else None
        self._delivery = DeliveryService(context, parameter_store, observe_result)
        self._task_lists = TaskListService(context, self._delivery, files)
        self._outages = OutageService(context)
        self._restarts = RestartService(context)
        self._full_output_cap = context.limits.full_output_cap
        self._limits = context.limits
        self._verifier = AgentVerifier(context.clock)
        self._lookups = AgentLookups(fleet, context.bus)
        self.kicks = KickHub(context.bus, forget=self._lookups.forget)

    def app(self, extra: Sequence[BaseRoute] = ()) -> Starlette:
        routes = [
            Route(wire.REGISTER, self.register, methods=["POST"]),
            Route(wire.DEREGISTER, self.deregister, methods=["POST"]),
            Route(wire.HEARTBEAT, self.heartbeat, methods=["GET", "POST"]),
            Route(wire.TASK_LIST, self.task_list, methods=["GET", "POST"]),
            Route(wire.SECRET_VALUES, self.secret_values, methods=["POST"]),
            Route(wire.TASK_CONTENT, self.task_content, methods=["POST"]),
            Route(wire.TASK_REPORT + "{kind}", self.task_report, methods=["POST"]),
            Route(wire.UPDATE_CHECK, self.update_check, methods=["GET", "POST"]),
            Route(wire.UPDATE_PACKAGE + "{file_name}", self.update_package, methods=["GET"]),
            Route(wire.STATE_CONFIGURATIONS, self.state_configurations, methods=["POST"]),
            Route(wire.CONNECTION_DETECT, self.connection_detect, methods=["GET"]),
            Route(wire.API_PREFIX + "/{rest:path}", self.acknowledge, methods=["GET", "POST"]),
            WebSocketRoute(wire.KICK_CHANNEL, self.kick_channel),
            *extra,
        ]
        handlers = {
            AgentAuthError: _refused,
            AgentAccessDenied: _denied,
            BodyRefused: _body_refused,
        }
        return Starlette(routes=routes, exception_handlers=handlers)

    async def close(self) -> None:
        self._lookups.unsubscribe()
        await self.kicks.close()

    async def _authenticate(
        self, connection: HTTPConnection, allow_deregistered: bool = False
    ) -> Instance:
        return (await self._authenticated(connection, allow_deregistered))[0]

    async def _authenticated(
        self,
        connection: HTTPConnection,
        allow_deregistered: bool = False,
        read: Callable[[str], Callable[[Connection], T]] | None = None,
    ) -> tuple[Instance, T | None]:
        """The calling instance, and what ``read`` (given its id) read in the transaction of
        the request's replay mark: a first look at the store without a thread hop of its own
        (None when it did not run)."""
        headers = AgentHeaders.parse(connection.headers)
        instance = await self._lookups.instance(headers.instance_id)
        if instance is None or (
            instance.registration_state is not RegistrationState.REGISTERED
            and not allow_deregistered
        ):
            raise AgentAuthError(f"instance {headers.instance_id} is not registered")
        self._verifier.verify(headers, instance)
        logs.bind(instance_id=instance.id)
        scope, request_id = f"agent:{instance.id}", headers.request_id
        found: T | None = None
        if read is None:
            new = await self._replay.first_use(scope, request_id, REQUEST_ID_RETENTION_MS)
        else:
            work = read(instance.id)
            new, found = await self._replay.first_use_with(
                scope, request_id, REQUEST_ID_RETENTION_MS, work
            )
        if not new:
            raise replayed()
        address = connection.client.host if connection.client else ""
        if not await self._lookups.access_allowed(instance, address):
            raise AgentAccessDenied(
                f"the agent access rules do not admit {address} for instance {instance.id}"
            )
        return instance, found

    async def _body(self, request: Request) -> bytes:
        return await read_body(request, self._limits.agent_max_body_bytes, "agent_max_body_bytes")

    async def register(self, request: Request) -> Response:
        try:
            body = wire.decode_register(
                await read_body(
                    request,
                    self._limits.agent_register_max_body_bytes,
                    "agent_register_max_body_bytes",
                )
            )
        except msgspec.DecodeError as error:
            return _json(wire.RegisterResponse(code=400, errMsg=f"bad registration: {error}"), 400)
        source = request.client.host if request.client else ""
        registration = Registration(
            activation_id=body.activationId,
            activation_code=body.activationCode,
            machine_id=body.machineId,
            hostname=body.hostname,
            instance_name=body.instanceName,
            os_type=body.osType,
            os_version=body.osVersion,
            agent_version=body.agentVersion,
            public_key=body.publicKey,
            intranet_ip=body.intranetIp,
            source_ip=source,
        )
        try:
            instance_id = await self._fleet.register(registration)
        except RegistrationRefused as refused:
            status = 400 if refused.code else 403
            log.info("registration from %s refused: %s", source, refused)
            answer = wire.RegisterResponse(code=status, errCode=refused.code, errMsg=str(refused))
            return _json(answer, status)
        logs.bind(instance_id=instance_id)
        # repr: a name is printable by now, but the log never takes a client's text raw.
        log.info("registered %s (%r) from %s", instance_id, body.hostname, source)
        return _json(wire.RegisterResponse(code=200, instanceId=instance_id))

    async def deregister(self, request: Request) -> Response:
        """The agent removes its own registration (``aliyun-service --deregister``), also after
        the server deregistered it: the official agent then deletes its identity files."""
        instance = await self._authenticate(request, allow_deregistered=True)
        if instance.registration_state is RegistrationState.REGISTERED:
            await self._fleet.deregister(instance.id)
        self._lookups.forget(instance.id)
        return _json({"code": 200, "instanceId": instance.id})

    async def _settle_overdue(self, request: Request, instance: Instance) -> None:
        """Before anything else: tasks that waited past their delivery window while this agent
        could not reach us (it says since when) end ClientNetworkBlocked."""
        outage = parse_outage(request.query_params.get(wire.OUTAGE_PARAM))
        ended = await self._outages.settle_overdue(instance.id, outage)
        if ended:
            log.info("%s: %d task(s) ended ClientNetworkBlocked", instance.id, ended)

    async def heartbeat(self, request: Request) -> Response:
        instance = await self._authenticate(request)
        await self._settle_overdue(request, instance)
        query = request.query_params
        await self._fleet.heartbeat(
            instance.id,
            agent_version=query.get("app_version") or query.get("agentVersion") or "",
            boot_id=request.headers.get(wire.H_BOOT_ID, ""),
            goodbye=query.get(wire.GOODBYE_PARAM, ""),
            upgrading=query.get(wire.UPGRADING_PARAM, ""),
            capabilities=query.get(wire.CAPABILITIES_PARAM, ""),
            running=_count(query.get(wire.RUNNING_PARAM, "")),
            faults=query.get(wire.FAULTS_PARAM, ""),
        )
        if self._metrics is not None:
            self._metrics.heartbeats.inc()
        fell_back = query.get(wire.UPGRADE_FAILED_PARAM, "")
        if fell_back:
            # repr: the agent's text, never logged raw
            log.warning("agent upgrade given up: %r", fell_back[:300])
            if self._metrics is not None:
                self._metrics.upgrade_fallbacks.inc()
        return _json(wire.HeartbeatResponse(code=200, instanceId=instance.id))

    async def _agent_started(self, request: Request, instance: Instance) -> None:
        """The agent's first fetch since it started: what it ran before will never report."""
        query = request.query_params
        restart = Restart(
            rebooted=query.get(wire.COLD_START_PARAM) == "true",
            keeps_state=wire.JOURNAL_CAPABILITY
            in query.get(wire.CAPABILITIES_PARAM, "").split(","),
        )
        outcome = await self._restarts.agent_started(instance.id, restart)
        if outcome.ended or outcome.rearmed:
            log.info(
                "%s: agent started (cold start %s): %d run(s) ended, %d schedule(s) again",
                instance.id,
                restart.rebooted,
                len(outcome.ended),
                len(outcome.rearmed),
            )

    async def task_list(self, request: Request) -> Response:
        started = request.query_params.get("reason") == wire.STARTUP_REASON
        # Whether anything waits is looked up with the replay mark, unless the agent just
        # started: that may end runs and arm schedules, and the look must come after it.
        look = None if started else self._task_lists.look
        instance, waiting = await self._authenticated(request, read=look)
        if started:
            await self._agent_started(request, instance)
        outage = parse_outage(request.query_params.get(wire.OUTAGE_PARAM))
        per_run = request.query_params.get(wire.SECRETS_PARAM) == wire.SECRETS_PER_RUN
        listed = await self._task_lists.hand_out(
            instance.id, instance.name, outage, per_run, waiting
        )
        response = wire.TaskListResponse(
            code=200,
            instanceId=instance.id,
            run=[
                wire.RunItem(
                    task=task_info(d),
                    output=wire.OutputInfo(fullOutputCap=self._full_output_cap),
                    repeat=d.repeat,
                )
                for d in listed.runs
            ],
            stop=[wire.StopItem(task=task_info(d), repeat=d.repeat) for d in listed.stops],
            file=[wire.FileItem(task=file_info(task)) for task in listed.files],
        )
        return _json(response)

    async def secret_values(self, request: Request) -> Response:
        """Our agent, about to run a task: its secret values (see secret_answers)."""
        instance = await self._authenticate(request)
        task_id = request.query_params.get("taskId", "")
        return _json(*await secret_answers.secret_values(self._delivery, instance.id, task_id))

    async def task_content(self, request: Request) -> Response:
        """Our agent cleaning an earlier release's schedule file (see secret_answers)."""
        instance = await self._authenticate(request)
        task_id = request.query_params.get("taskId", "")
        return _json(*await secret_answers.task_content(self._delivery, instance.id, task_id))

    async def task_report(self, request: Request) -> Response:
        instance = await self._authenticate(request)
        try:
            kind = ReportKind(request.path_params["kind"])
        except ValueError:
            return _json({"code": 404, "errMsg": "unknown report kind"}, 404)
        await self._settle_overdue(request, instance)
        report = decode_report(kind, request.query_params, await self._body(request))
        if report.send_file:
            await self._files.report(instance.id, file_report(report))
        else:
            await self._delivery.report(instance.id, task_report(report))
        return _json({"code": 200, "instanceId": instance.id})

    async def acknowledge(self, request: Request) -> Response:
        """What the official agent reports and we keep nothing of (metrics, exception reports,
        plugin status): accepted, from a registered instance only."""
        instance = await self._authenticate(request)
        return _json({"code": 200, "instanceId": instance.id})

    async def update_check(self, request: Request) -> Response:
        """Offer our agent the newest package when the upgrade policy allows it now."""
        instance = await self._authenticate(request)
        try:
            asked = msgspec.json.decode(await self._body(request), type=wire.UpdateCheckRequest)
            version = asked.app_version
        except msgspec.DecodeError:
            version = instance.agent_version
        upgrades = self._upgrades
        answer = wire.UpdateCheckResponse(
            instanceId=instance.id, next_interval=upgrades.check_interval_s
        )
        package = await upgrades.offer(version)
        if package is not None:
            answer.need_update = 1
            answer.update_info = wire.UpdateInfo(
                file_name=package.file_name,
                md5=package.md5,
                sha256=package.sha256,
                signature=package.signature,
                url=str(request.url.replace(path=wire.UPDATE_PACKAGE + package.file_name)),
            )
        return _json(answer)

    async def update_package(self, request: Request) -> Response:
        await self._authenticate(request)
        data = await asyncio.to_thread(
            self._upgrades.package_bytes, request.path_params["file_name"]
        )
        if data is None:
            return _json({"code": 404, "errMsg": "no such agent package on offer"}, 404)
        return Response(data, media_type="application/zip")

    async def state_configurations(self, request: Request) -> Response:
        """The official agent's state manager: no configurations to apply."""
        await self._authenticate(request)
        return _json({"errCode": "", "result": {}})

    async def connection_detect(self, _request: Request) -> Response:
        """Reachability probe (needs no identity): the answer the official agent expects."""
        return Response(b"ok", media_type="text/plain")

    async def kick_channel(self, socket: WebSocket) -> None:
        try:
            instance = await self._authenticate(socket)
        except (AgentAuthError, AgentAccessDenied) as refused:
            log.info("kick channel refused: %s", refused)
            await socket.close(code=4401)
            return
        await self.kicks.hold(instance.id, socket)
