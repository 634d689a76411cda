"""The agent's connection to the server, in the official agent protocol: signed HTTPS calls
under ``/luban/api/`` on one kept-alive connection, and the kick WebSocket."""

from __future__ import annotations

import logging
import platform
import ssl
import time
from collections.abc import Mapping

import msgspec

from openassist import __version__
from openassist.agent import clock, ws
from openassist.agent.http import HttpConnection, HttpError
from openassist.agent.identity import Identity, boot_id
from openassist.agent.settings import AgentEnvironment
from openassist.agent.signing import RequestSigner
from openassist.protocol import agent as wire
from openassist.protocol.reports import TaskReport, encode_query

AGENT_VERSION = f"openassist-{__version__}"
# What this agent can do beyond running a script, told in every heartbeat.
CAPABILITIES = (
    "journal",
    "full-output",
    "termination-mode",
    "launcher",
    "send-file",
    "self-upgrade",
    "container",
)


log = logging.getLogger("openassist.agent")


class ChannelError(Exception):
    """The server could not be reached or refused the request; the caller retries later.
    ``status``: the server's HTTP status when it answered (0: it was not reached)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class SecretsRefused(Exception):
    """The server has no secret values for the task (the message says why)."""


def tls_context(ca_path: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_path)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class Channel:
    def __init__(self, identity: Identity, timeout_s: float = 30, boot: str | None = None) -> None:
        self._identity = identity
        self._tls = tls_context(str(identity.ca_path))
        self._timeout_s = timeout_s
        # Several addresses (nodes of one deployment): the one in use changes when it cannot be
        # reached, and the caller's backoff paces the next try, at the next address.
        self._servers = identity.servers
        self._current = 0
        self._http = HttpConnection(*self._servers[0], self._tls, timeout_s=timeout_s)
        self._signer = RequestSigner(identity)
        # ``boot``: the settings' boot id override (None: read the settings now).
        self._boot_id = boot_id(AgentEnvironment.read().boot_id if boot is None else boot)
        # Unix ms since when the server could not be reached (None: it can). Every call carries
        # it until one gets through, so the server learns the outage window (ClientNetworkBlocked).
        self.unreachable_since: int | None = None
        self._lost_at: float | None = None  # monotonic time we lost the server (None: we have it)

    def lost_since(self, epoch_ms: int, reason: str = "no answer") -> None:
        """Note that the server has not been reachable since ``epoch_ms`` (kept if earlier)."""
        if self.unreachable_since is None or epoch_ms < self.unreachable_since:
            self.unreachable_since = epoch_ms
        if self._lost_at is None:
            self._lost_at = time.monotonic()
            log.warning("lost the server %s: %s", self._server, reason)

    def _reached(self) -> None:
        """The server answered: say so once after it was lost."""
        if self._lost_at is not None:
            away_s = time.monotonic() - self._lost_at
            self._lost_at = None
            log.warning("reached the server %s again after %.0f s", self._server, away_s)

    @property
    def _server(self) -> str:
        host, port = self._servers[self._current]
        return f"{host}:{port}"

    async def _fail_over(self, failed: int) -> None:
        """The address at index ``failed`` could not be reached: use the next one (unless the
        HTTP side or the kick channel already moved on)."""
        if len(self._servers) < 2 or failed != self._current:
            return
        self._current = (failed + 1) % len(self._servers)
        old, self._http = (
            self._http,
            HttpConnection(*self._servers[self._current], self._tls, timeout_s=self._timeout_s),
        )
        await old.close()
        log.warning("trying the next server address, %s", self._server)

    def _headers(self) -> dict[str, str]:
        headers = self._signer.headers()
        if self._boot_id:
            headers[wire.H_BOOT_ID] = self._boot_id
        return headers

    async def _call(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        body: bytes = b"",
        told: bool = False,
    ) -> bytes:
        """One signed call; ``told``: the server takes the outage window from this call (a
        heartbeat, task list or report), so an answer clears it."""
        query = dict(query or {})
        outage = self.unreachable_since
        if outage is not None:
            query[wire.OUTAGE_PARAM] = str(outage)
        started, using = clock.now_ms(), self._current
        try:
            response = await self._http.request(
                method, path, query=query, headers=self._headers(), body=body
            )
        except HttpError as error:
            self.lost_since(started, str(error))
            await self._fail_over(using)
            raise ChannelError(str(error)) from error
        self._reached()
        if told and response.status == 200 and self.unreachable_since == outage:
            self.unreachable_since = None  # the server has the window now
        if response.status != 200:
            raise ChannelError(
                f"{path}: HTTP {response.status} {response.body[:200]!r}", response.status
            )
        return response.body

    async def heartbeat(
        self,
        goodbye: str = "",
        upgrading: str = "",
        running: int = 0,
        faults: str = "",
        upgrade_failed: str = "",
    ) -> None:
        query = {
            "app_version": AGENT_VERSION,
            wire.CAPABILITIES_PARAM: ",".join(CAPABILITIES),
            wire.RUNNING_PARAM: str(running),
            wire.FAULTS_PARAM: faults,  # always sent: an empty one clears the last
        }
        if goodbye:
            query[wire.GOODBYE_PARAM] = goodbye
        if upgrading:
            query[wire.UPGRADING_PARAM] = upgrading
        if upgrade_failed:
            query[wire.UPGRADE_FAILED_PARAM] = upgrade_failed
        await self._call("GET", wire.HEARTBEAT, query, told=True)

    async def update_check(self) -> wire.UpdateCheckResponse:
        request = wire.UpdateCheckRequest(
            app_version=AGENT_VERSION,
            arch=platform.machine(),
            os_version=platform.platform(),
            kernel_version=platform.release(),
        )
        body = await self._call("POST", wire.UPDATE_CHECK, None, msgspec.json.encode(request))
        try:
            return msgspec.json.decode(body, type=wire.UpdateCheckResponse)
        except msgspec.DecodeError as error:
            raise ChannelError(f"update check: {error}") from error

    async def download(self, file_name: str) -> bytes:
        return await self._call("GET", wire.UPDATE_PACKAGE + file_name)

    async def task_list(self, reason: str, cold_start: bool | None = None) -> wire.TaskListResponse:
        """``cold_start`` (the first fetch of this process): say so, as the official agent does,
        so the server ends what an earlier life of this agent left running and never reported."""
        query = {"reason": reason, wire.SECRETS_PARAM: wire.SECRETS_PER_RUN}
        if cold_start is not None:
            query = {
                "reason": wire.STARTUP_REASON,
                wire.COLD_START_PARAM: "true" if cold_start else "false",
                wire.CAPABILITIES_PARAM: ",".join(CAPABILITIES),
                wire.SECRETS_PARAM: wire.SECRETS_PER_RUN,
            }
        body = await self._call("POST", wire.TASK_LIST, query, told=True)
        try:
            return wire.decode_task_list(body)
        except msgspec.DecodeError as error:
            raise ChannelError(f"task list: {error}") from error

    async def secret_values(self, task_id: str) -> dict[str, str]:
        """The values of the task's secret parameters, for the run about to start; raises
        SecretsRefused (the server says why not) or ChannelError (not reachable)."""
        try:
            body = await self._call("POST", wire.SECRET_VALUES, {"taskId": task_id})
        except ChannelError as error:
            if error.status == 404:
                raise SecretsRefused(str(error)) from None
            raise
        try:
            return msgspec.json.decode(body, type=wire.SecretValuesResponse).values
        except msgspec.DecodeError as error:
            raise ChannelError(f"secret values: {error}") from error

    async def task_content(self, task_id: str) -> str:
        """The task's command (Base64) with its secret placeholders kept; raises SecretsRefused
        (the server says why not) or ChannelError (not reachable)."""
        try:
            body = await self._call("POST", wire.TASK_CONTENT, {"taskId": task_id})
        except ChannelError as error:
            if error.status == 404:
                raise SecretsRefused(str(error)) from None
            raise
        try:
            return msgspec.json.decode(body, type=wire.TaskContentResponse).content
        except msgspec.DecodeError as error:
            raise ChannelError(f"task content: {error}") from error

    async def report(self, report: TaskReport) -> None:
        path = wire.TASK_REPORT + report.kind
        await self._call("POST", path, encode_query(report), report.output, told=True)

    async def open_kicks(self) -> ws.WebSocket:
        started, using = clock.now_ms(), self._current
        host, port = self._servers[using]
        try:
            socket = await ws.connect(host, port, wire.KICK_CHANNEL, self._tls, self._headers())
        except ws.WebSocketUnreachable as error:
            self.lost_since(started, str(error))
            await self._fail_over(using)
            raise ChannelError(str(error)) from error
        except ws.WebSocketClosed as error:
            raise ChannelError(str(error)) from error
        self._reached()
        return socket

    async def close(self) -> None:
        await self._http.close()
