"""Sign-in (console user or access key), logout."""

from __future__ import annotations

import hmac
import logging
import secrets
import time

from starlette.requests import Request
from starlette.responses import Response

from openassist.server.console.session import COOKIE, PRE_COOKIE, SESSION_TTL_S, same_token
from openassist.server.console.web import PREFIX, Console, Visit, read_form, refusal, see_other

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


class FailedSignIns:
    """At most ``limit`` failed sign-ins per address per ``window_s`` (per server process)."""

    def __init__(self, limit: int = 10, window_s: float = 60.0) -> None:
        self.limit, self.window_s = limit, window_s
        self._seen: dict[str, list[float]] = {}

    def _recent(self, address: str) -> list[float]:
        now = time.monotonic()
        recent = [t for t in self._seen.get(address, []) if now - t < self.window_s]
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[address] = recent
        return recent

    def allowed(self, address: str) -> bool:
        return len(self._recent(address)) < self.limit

    def record(self, address: str) -> None:
        self._recent(address).append(time.monotonic())


class AuthPages:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.failures = FailedSignIns()

    def _form(self, request: Request, error: str = "", status: int = 200) -> Response:
        token = secrets.token_urlsafe(24)
        context = {
            "csrf": token,
            "error": error,
            "next": _safe_next(request.query_params.get("next", "")),
            "session": None,
            "fragment": False,
            "path": request.url.path,
        }
        response = self.console.render("signin.html", context, status)
        _set_cookie(response, request, PRE_COOKIE, token, 3600)
        return response

    async def show(self, request: Request) -> Response:
        if await self.console.session_of(request) is not None:
            return see_other(_safe_next(request.query_params.get("next", "")))
        return self._form(request)

    async def sign_in(self, request: Request) -> Response:
        form = await read_form(request)
        if form is None:
            return refusal("The form is too large or not a form.", 413)
        if not same_token(form.get("csrf"), request.cookies.get(PRE_COOKIE, "")):
            return refusal("The sign-in form's security token is missing or wrong; reload.", 403)
        address = request.client.host if request.client else ""
        if not self.failures.allowed(address):
            return self._form(request, "Too many failed sign-ins; wait a minute.", 429)
        principal = await self._principal(
            form.get("method"), form.get("name"), form.raw("secret").strip()
        )
        if principal is None:
            # Which part was wrong is not said, and nothing typed is logged (a password typed
            # into the name field would otherwise land in the log).
            self.failures.record(address)
            log.info("console sign-in refused from %s", address)
            return self._form(request, "The name or the secret is not correct.", 401)
        kind, _, name = principal.partition(":")
        mark = (self.console.keys.user_mark(name) or "") if kind == "user" else ""
        session = self.console.signer.new(principal, mark)
        response = see_other(_safe_next(form.get("next")))
        _set_cookie(response, request, COOKIE, self.console.signer.dump(session), SESSION_TTL_S)
        response.delete_cookie(PRE_COOKIE, path=PREFIX)
        log.info("console sign-in: %s", principal)
        return response

    async def _principal(self, method: str, name: str, secret: str) -> str | None:
        if not name or not secret:
            return None
        if method == "key":
            expected = await self.console.services.access_keys.secret_of(name)
            if expected is not None and hmac.compare_digest(secret.encode(), expected.encode()):
                return f"key:{name}"
            return None
        return f"user:{name}" if self.console.keys.check_user(name, secret) else None

    async def sign_out(self, visit: Visit) -> Response:
        await self.console.services.console_sessions.revoke(
            visit.session.sid, visit.session.expires
        )
        response = see_other(f"{PREFIX}/signin")
        response.delete_cookie(COOKIE, path=PREFIX)
        return response
