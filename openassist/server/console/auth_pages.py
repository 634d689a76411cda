"""Sign-in (console user or access key), logout."""

from __future__ import annotations

import hmac
import logging
import math
import secrets

from starlette.requests import Request
from starlette.responses import Response

from openassist.server.console.identity import no_such_user
from openassist.server.console.session import (
    COOKIE,
    DEVICE_COOKIE,
    DEVICE_TTL_S,
    PRE_COOKIE,
    SESSION_TTL_S,
    same_token,
)
from openassist.server.console.sign_in_guard import SignInGuard
from openassist.server.console.web import PREFIX, Console, Visit, read_form, refusal, see_other
from openassist.server.service.audit import failed, new_event
from openassist.server.service.passwords import verify_password

log = logging.getLogger("openassist.server.console")


def _set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    # Secure only over https: on plain-http loopback the browser would never send it back.
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _safe_next(target: str) -> str:
    """Only a console path (never another site) after sign-in."""
    if target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/"


_BUSY = "busy"  # _principal's answer when the hashing pool is full


class AuthPages:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.guard = SignInGuard(shared=console.services.sign_in_failures)

    def _form(
        self, request: Request, error: str = "", status: int = 200, retry_after_s: int = 0
    ) -> Response:
        token = secrets.token_urlsafe(24)
        context = {
            "csrf": token,
            "error": error,
            "next": _safe_next(request.query_params.get("next", "")),
            "session": None,
            "fragment": False,
            "path": request.url.path,
        }
        headers = {"Retry-After": str(retry_after_s)} if retry_after_s else {}
        response = self.console.render("signin.html", context, status, **headers)
        _set_cookie(response, request, PRE_COOKIE, token, 3600)
        return response

    async def show(self, request: Request) -> Response:
        if await self.console.session_of(request) is not None:
            return see_other(_safe_next(request.query_params.get("next", "")))
        return self._form(request)

    async def sign_in(self, request: Request) -> Response:
        form = await read_form(request, self.console.services.limits.console_max_body_bytes)
        if form is None:
            return refusal("The form is too large or not a form.", 413)
        if not same_token(form.get("csrf"), request.cookies.get(PRE_COOKIE, "")):
            return refusal("The sign-in form's security token is missing or wrong; reload.", 403)
        address = request.client.host if request.client else ""
        method, name, secret = form.get("method"), form.get("name"), form.raw("secret").strip()
        claimed = f"{'key' if method == 'key' else 'user'}:{name}"
        device = self.console.signer.device_of(request.cookies.get(DEVICE_COOKIE, ""), claimed)
        counted = self.guard.keys(address, claimed if await self._exists(claimed) else None, device)
        wait_s = await self.guard.wait_s(counted)
        if wait_s > 0:
            retry = math.ceil(wait_s)
            log.info("console sign-in from %s throttled for %d s", address, retry)
            message = f"Too many failed sign-ins; try again in {retry} s."
            return self._form(request, message, 429, retry)
        principal = await self._principal(method, name, secret)
        if principal is _BUSY:
            return self._form(request, "The server is busy checking sign-ins; try again.", 429, 1)
        if principal is None:
            # Which part was wrong is not said, and nothing typed is logged (a password typed
            # into the name field would otherwise land in the log).
            await self.guard.failed(counted)
            log.info("console sign-in refused from %s", address)
            await self._audit(request, method, name, "InvalidCredentials")
            return self._form(request, "The name or the secret is not correct.", 401)
        await self.guard.succeeded(counted)
        await self._audit(request, method, name, "")
        kind, _, who = principal.partition(":")
        mark = (await self.console.user_mark(who) or "") if kind == "user" else ""
        if kind == "user":
            await self.console.services.identities.signed_in(who)
        session = self.console.signer.new(principal, mark)
        response = see_other(_safe_next(form.get("next")))
        _set_cookie(response, request, COOKIE, self.console.signer.dump(session), SESSION_TTL_S)
        if device is None:
            known = self.console.signer.device(principal)
            _set_cookie(response, request, DEVICE_COOKIE, known, DEVICE_TTL_S)
        response.delete_cookie(PRE_COOKIE, path=PREFIX)
        log.info("console sign-in: %s", principal)
        return response

    async def _audit(self, request: Request, method: str, name: str, error: str) -> None:
        """A sign-in, accepted or refused, is an audit event (the name as typed, cut short; the
        secret never)."""
        audit = self.console.services.audit
        by_key = method == "key"
        event = new_event(
            now=audit.now_ms(),
            action="ConsoleSignin",
            source="console",
            user_name="" if by_key else name[:64],
            access_key_id=name[:64] if by_key else "",
            source_ip=request.client.host if request.client else "",
            user_agent=request.headers.get("user-agent", ""),
            request_id="",
            params={"Method": "key" if by_key else "password"},
            event_type="ConsoleSignin",
        )
        await audit.record(failed(event, error, "wrong name or secret") if error else event)

    async def _exists(self, principal: str) -> bool:
        kind, _, name = principal.partition(":")
        if not name:
            return False
        if kind == "user":
            return await self.console.user_mark(name) is not None
        return await self.console.services.access_keys.secret_of(name) is not None

    async def _principal(self, method: str, name: str, secret: str) -> str | None:
        """Who signs in; None when the name or secret is wrong, ``_BUSY`` when too many
        password checks are waiting."""
        if not name or not secret:
            return None
        if method == "key":
            expected = await self.console.services.access_keys.secret_of(name)
            if expected is not None and hmac.compare_digest(secret.encode(), expected.encode()):
                return f"key:{name}"
            return None
        # A RAM user with a console password.
        stored = await self.console.services.identities.stored_password(name)
        if stored:
            checked = await self.guard.hashing.run(lambda: verify_password(secret, stored))
        else:
            checked = await self.guard.hashing.run(lambda: no_such_user(secret))
        if checked is None:
            return _BUSY
        return f"user:{name}" if checked else None

    async def sign_out(self, visit: Visit) -> Response:
        await self.console.services.console_sessions.revoke(
            visit.session.sid, visit.session.expires
        )
        response = see_other(f"{PREFIX}/signin")
        response.delete_cookie(COOKIE, path=PREFIX)
        return response
