"""The RPC endpoint at ``/``: parse, authenticate, dispatch, answer in the ECS envelope.

Every failure is answered with a documented code; an unexpected exception is logged with its
traceback on the server and answered as ``InternalError`` without any detail to the client.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from openassist import logs
from openassist.catalog import api
from openassist.errors import (
    ApiError,
    Forbidden,
    Internal,
    InvalidParameter,
    LimitExceeded,
    NotFound,
    Unauthenticated,
)
from openassist.protocol.acs_signature import parse_authorization
from openassist.protocol.api_versions import ECS_VERSION, product_of
from openassist.server.api import (  # noqa: F401  (importing registers the actions)
    activation_actions,
    audit_actions,
    command_actions,
    diagnosis_actions,
    file_actions,
    fleet_actions,
    invocation_actions,
    oos_actions,
    output_actions,
    ram_actions,
    schedule_actions,
    settings_actions,
    tag_actions,
    wait_actions,
)
from openassist.server.api.access import admit, request_context
from openassist.server.api.params import Params
from openassist.server.api.registry import (
    ACTIONS,
    IDEMPOTENT,
    VERSIONS,
    Call,
    Handler,
    Services,
)
from openassist.server.api.render import error_response, render
from openassist.server.api.signature import (
    NONCE_RETENTION,
    SignedRequest,
    nonce_used,
    signature_nonce,
    verify,
)
from openassist.server.api.throttle import RateLimiter, SharedRateLimiter
from openassist.server.listen.body import BodyRefused, BodyTooLarge, read_body
from openassist.server.service import ids
from openassist.server.service.audit import (
    REFUSAL_CODES,
    changes,
    failed,
    new_event,
    secret_read,
)
from openassist.server.service.clock import utc_now
from openassist.server.service.replay import ReplayGuard
from openassist.server.store.audit import AuditRecord

log = logging.getLogger(__name__)
_RETENTION_MS = int(NONCE_RETENTION.total_seconds() * 1000)

# Told each request's action (one of ours, else "unknown"), HTTP status and seconds taken.
RequestObserver = Callable[[str, int, float], None]


class RpcEndpoint:
    """Handler for ``GET|POST /``."""

    def __init__(
        self, services: Services, replay: ReplayGuard, observe: RequestObserver | None = None
    ) -> None:
        self._services = services
        self._replay = replay
        self._observe = observe
        limits = services.limits
        self._limiter = RateLimiter(limits.api_rate_per_key, limits.api_burst_per_key)
        shared = services.rate_buckets
        self._shared = SharedRateLimiter(shared) if shared is not None else None

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        response = await self._respond(request)
        if self._observe is not None:
            # The action _handle resolved (query, header or form body); unknown ones are one label.
            action = getattr(request.state, "action", "")
            known = action if action in ACTIONS else "unknown"
            self._observe(known, response.status_code, time.perf_counter() - started)
        return response

    async def _respond(self, request: Request) -> Response:
        request_id = ids.request_id()
        request.state.request_id = request_id
        logs.bind(request_id=request_id)
        host = request.headers.get("host", "openassist")
        wants_xml = request.query_params.get("Format", "").upper() == "XML"
        action = request.headers.get("x-acs-action") or request.query_params.get("Action", "")
        try:
            body = await self._handle(request)
        except ApiError as error:
            log.info(
                "%s refused: %s (HTTP %d)",
                getattr(request.state, "action", "") or "request",
                error.code,
                error.http_status,
            )
            return error_response(error, request_id, host, wants_xml)
        except Exception:
            log.exception("request %s failed", request_id)
            return error_response(Internal(api.INTERNAL_ERROR), request_id, host, wants_xml)
        content, media = render({"RequestId": request_id, **body}, f"{action}Response", wants_xml)
        return Response(content, 200, media_type=media)

    async def _handle(self, request: Request) -> dict[str, Any]:
        if request.method not in ("GET", "POST", "HEAD"):
            raise Forbidden(api.UNSUPPORTED_HTTP_METHOD, method=request.method)
        try:
            raw_body = await read_body(
                request, self._services.limits.api_max_body_bytes, "api_max_body_bytes"
            )
        except BodyTooLarge as refused:
            raise LimitExceeded(
                api.REQUEST_BODY_TOO_LARGE, limit=refused.limit, setting=refused.setting
            ) from None
        except BodyRefused as refused:
            raise InvalidParameter(api.REQUEST_BODY_INVALID, reason=refused.message) from None
        query = tuple(parse_qsl(request.url.query, keep_blank_values=True))
        params = dict(query)
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(raw_body.decode("utf-8", "replace"), keep_blank_values=True))
        headers = {k.lower(): v for k, v in request.headers.items()}
        request.state.action = headers.get("x-acs-action") or params.get("Action", "")
        signed = SignedRequest(
            method=request.method, params=params, query=query, headers=headers, body=raw_body
        )
        access_key_id, nonce = await self._authenticate(signed)
        logs.bind(user=access_key_id)
        mark = self._replay.first_use(f"api:{access_key_id}", nonce, _RETENTION_MS)
        action = request.state.action
        if changes(action) or secret_read(action, params):
            if not await mark:
                raise nonce_used()
            return await self._authorised(request, params, headers, access_key_id)
        # A read changes nothing, so it runs while its nonce is being marked (issue 20: under
        # load the mark's write was most of a read's time); it is answered only once the mark
        # is stored, and a replay is refused as such, whatever the read came to.
        marked = asyncio.ensure_future(mark)
        try:
            return await self._authorised(request, params, headers, access_key_id)
        finally:
            if not await marked:
                raise nonce_used()  # (in place of the read's answer or error)

    async def _authorised(
        self, request: Request, params: dict[str, str], headers: dict[str, str], access_key_id: str
    ) -> dict[str, Any]:
        """The request of a proven key: throttle, action, version, policy, then the handler."""
        if self._shared is not None:
            await self._shared.take(access_key_id)
        else:
            self._limiter.take(access_key_id)
        action = headers.get("x-acs-action") or params.get("Action", "")
        version = headers.get("x-acs-version") or params.get("Version", "")
        if not action:
            raise InvalidParameter(api.MISSING_ACTION)
        handler = ACTIONS.get(action)
        if handler is None:
            raise Forbidden(api.INVALID_ACTION, action=action)
        expected = VERSIONS[action]
        if version != expected:
            raise InvalidParameter(
                api.INVALID_VERSION, action=action, expected=expected, version=version
            )
        principal = await self._services.principals.of_key(access_key_id)
        if principal is None:  # disabled or deleted since its secret was looked up
            raise Unauthenticated(api.ACCESS_KEY_NOT_FOUND)
        client = request.client.host if request.client else ""
        now = utc_now(self._services.clock)
        context = request_context(client, now, request.url.scheme == "https")
        event = new_event(
            now=int(now.timestamp() * 1000),
            action=action,
            source=product_of(action),
            user_name=principal.user_name,
            access_key_id=access_key_id,
            source_ip=client,
            user_agent=headers.get("user-agent", ""),
            request_id=getattr(request.state, "request_id", ""),
            params=params,
        )
        try:
            admit(principal, action, context)
        except ApiError as refused:
            await self._services.audit.record(failed(event, refused.code, refused.message))
            raise
        call_params = Params(params)
        # The OOS SDK may leave RegionId out; an ECS call must name it.
        region = call_params.text(
            "RegionId",
            required=expected == ECS_VERSION,
            default=self._services.limits.regions[0],
        )
        if region not in self._services.limits.regions:
            raise NotFound(
                api.REGION_NOT_FOUND,
                region=region,
                regions=", ".join(self._services.limits.regions),
            )
        call = Call(action, call_params, access_key_id, self._services, principal, context, region)
        return await self._audited(call, handler, event, params)

    async def _audited(
        self, call: Call, handler: Handler, event: AuditRecord, params: dict[str, str]
    ) -> dict[str, Any]:
        """Run the handler with its audit event riding its first write; a refusal or a failed
        change is recorded alone (a change rolled back took its event with it), and so is a
        secret read, which writes nothing."""
        audit = self._services.audit
        armed = audit.arm(event)
        try:
            token = params.get("ClientToken", "")
            if token and call.action in IDEMPOTENT:
                body = await self._services.idempotency.run(
                    call.access_key_id, call.action, token, params, lambda: handler(call)
                )
            else:
                body = await handler(call)
        except Exception as error:
            armed.disarm()
            code = error.code if isinstance(error, ApiError) else api.INTERNAL_ERROR.code
            message = error.message if isinstance(error, ApiError) else "internal error"
            if changes(call.action) or code in REFUSAL_CODES:
                await audit.record_failure(failed(event, code, message))
            raise
        armed.disarm()
        if not armed.written and secret_read(call.action, params):
            await audit.record(event)
        if log.isEnabledFor(logging.DEBUG):
            _log_unread(call.action, call.params)
        return body

    async def _authenticate(self, signed: SignedRequest) -> tuple[str, str]:
        """The key that signed the request, and its nonce (to be marked by the caller)."""
        key_id = signed.params.get("AccessKeyId", "")
        authorization = signed.headers.get("authorization", "")
        if authorization:
            try:
                key_id = parse_authorization(authorization)[1]
            except ValueError:
                key_id = ""
        found = await self._services.access_keys.lookup(key_id) if key_id else None
        secret = found.secret if found is not None else None
        verified = verify(
            signed,
            lambda candidate: secret if candidate == key_id else None,
            None,
            utc_now(self._services.clock),
        )
        # Only a request signed with the key's own secret learns that the key is disabled.
        if found is not None and not found.enabled:
            raise Unauthenticated(api.ACCESS_KEY_INACTIVE)
        # After the signature is proven: junk can neither fill the marks nor burn a nonce.
        return verified, signature_nonce(signed)


def _log_unread(action: str, params: Params) -> None:
    """Parameters the action never looked at (a misspelt name does nothing): names only, as a
    value may be a secret."""
    unread = params.unread()
    if unread:
        names = ", ".join(repr(name[:64]) for name in unread[:20])
        log.debug("%s: parameters no reader knows were ignored: %s", action, names)
