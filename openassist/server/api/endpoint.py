"""The RPC endpoint at ``/``: parse, authenticate, dispatch, answer in the ECS envelope.

Every failure is answered with a documented code; an unexpected exception is logged with its
traceback on the server and answered as ``InternalError`` without any detail to the client.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from openassist.errors import ApiError
from openassist.protocol.acs_signature import parse_authorization
from openassist.protocol.api_versions import ECS_VERSION
from openassist.server.api import (  # noqa: F401  (importing registers the actions)
    activation_actions,
    command_actions,
    diagnosis_actions,
    file_actions,
    fleet_actions,
    invocation_actions,
    oos_actions,
    output_actions,
    schedule_actions,
    settings_actions,
    tag_actions,
    wait_actions,
)
from openassist.server.api.envelope import error_body
from openassist.server.api.params import Params
from openassist.server.api.registry import (
    ACTIONS,
    IDEMPOTENT,
    VERSIONS,
    Call,
    Services,
)
from openassist.server.api.render import render
from openassist.server.api.signature import MemoryNonceCache, SignedRequest, verify
from openassist.server.api.throttle import RateLimiter, ThrottlingError
from openassist.server.service import ids

log = logging.getLogger(__name__)


class RpcEndpoint:
    """Handler for ``GET|POST /``."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._nonces = MemoryNonceCache()
        limits = services.limits
        self._limiter = RateLimiter(limits.api_rate_per_key, limits.api_burst_per_key)

    async def handle(self, request: Request) -> Response:
        request_id = ids.request_id()
        host = request.headers.get("host", "openassist")
        wants_xml = request.query_params.get("Format", "").upper() == "XML"
        action = request.headers.get("x-acs-action") or request.query_params.get("Action", "")
        headers: dict[str, str] = {}
        try:
            body = await self._handle(request)
        except ApiError as error:
            if isinstance(error, ThrottlingError):
                headers["x-acs-retry-after"] = str(error.retry_after_s)
            content, media = render(error_body(error, request_id, host), "Error", wants_xml)
            return Response(content, error.http_status, headers=headers, media_type=media)
        except Exception:
            log.exception("request %s failed", request_id)
            internal = ApiError(
                "InternalError", "The request processing has failed due to some unknown error.", 500
            )
            content, media = render(error_body(internal, request_id, host), "Error", wants_xml)
            return Response(content, 500, media_type=media)
        content, media = render({"RequestId": request_id, **body}, f"{action}Response", wants_xml)
        return Response(content, 200, media_type=media)

    async def _handle(self, request: Request) -> dict[str, Any]:
        if request.method not in ("GET", "POST", "HEAD"):
            raise ApiError(
                "UnsupportedHTTPMethod",
                f"The HTTP method {request.method} is not supported; send GET or POST.",
                403,
            )
        raw_body = await request.body()
        query = tuple(parse_qsl(request.url.query, keep_blank_values=True))
        params = dict(query)
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(raw_body.decode("utf-8", "replace"), keep_blank_values=True))
        headers = {k.lower(): v for k, v in request.headers.items()}
        signed = SignedRequest(
            method=request.method, params=params, query=query, headers=headers, body=raw_body
        )
        access_key_id = await self._authenticate(signed)
        self._limiter.take(access_key_id)
        action = headers.get("x-acs-action") or params.get("Action", "")
        version = headers.get("x-acs-version") or params.get("Version", "")
        if not action:
            raise ApiError("MissingParameter.Action", "The Action parameter is required.")
        handler = ACTIONS.get(action)
        if handler is None:
            raise ApiError("InvalidAction", f"The action {action!r} is not supported.", 403)
        expected = VERSIONS[action]
        if version != expected:
            raise ApiError(
                "InvalidVersion", f"Version of {action} must be {expected}; got {version!r}.", 400
            )
        call_params = Params(params)
        # The OOS SDK may leave RegionId out; an ECS call must name it.
        region = call_params.text(
            "RegionId",
            required=expected == ECS_VERSION,
            default=self._services.limits.regions[0],
        )
        if region not in self._services.limits.regions:
            raise ApiError(
                "InvalidRegionId.NotFound",
                f"The RegionId {region!r} does not exist here; this server serves "
                f"{', '.join(self._services.limits.regions)}.",
                404,
            )
        call = Call(action, call_params, access_key_id, self._services)
        token = params.get("ClientToken", "")
        if token and action in IDEMPOTENT:
            return await self._services.idempotency.run(
                access_key_id, action, token, params, lambda: handler(call)
            )
        return await handler(call)

    async def _authenticate(self, signed: SignedRequest) -> str:
        key_id = signed.params.get("AccessKeyId", "")
        authorization = signed.headers.get("authorization", "")
        if authorization:
            try:
                key_id = parse_authorization(authorization)[1]
            except ValueError:
                key_id = ""
        secret = await self._services.access_keys.secret_of(key_id) if key_id else None
        return verify(
            signed,
            lambda candidate: secret if candidate == key_id else None,
            self._nonces,
            datetime.now(UTC),
        )
