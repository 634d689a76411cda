"""The console's request plumbing: templates, the session guard, CSRF checks, form bodies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from openassist import logs
from openassist.server.console import display
from openassist.server.console.identity import ConsoleKeys
from openassist.server.console.session import COOKIE, Session, SessionSigner, same_token
from openassist.server.listen.body import BodyRefused, read_body
from openassist.server.service.audit import failed, new_event
from openassist.server.service.clock import utc_now
from openassist.server.service.guard import Guard, qualified, request_context
from openassist.server.service.guard import refusal as refusal_of
from openassist.server.service.passwords import session_mark
from openassist.server.service.principals import Principal
from openassist.server.service.services import Services

PREFIX = "/console"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Form:
    """An ``application/x-www-form-urlencoded`` body: every value of every field, in order."""

    fields: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0].strip() if values else default

    def raw(self, name: str) -> str:
        """The value as typed (scripts and file contents keep their spaces)."""
        values = self.fields.get(name)
        return values[0].replace("\r\n", "\n") if values else ""

    def all(self, name: str) -> list[str]:
        return [v.strip() for v in self.fields.get(name, []) if v.strip()]

    def checked(self, name: str) -> bool:
        return self.get(name) in ("on", "true", "1", "yes")


# What the console offers, by the API action it stands for: a button is shown, and its form
# accepted, only when the signed-in user's policies may allow that action.
OFFERS = {
    "run": "RunCommand",
    "invoke": "InvokeCommand",
    "stop": "StopInvocation",
    "send": "SendFile",
    "save": "CreateCommand",
    "activate": "CreateActivation",
    "audit": "LookupEvents",
}


# Form fields under the API's parameter names, so the redaction rules apply (a script's text is
# hashed, placeholder values hidden) and ResourceName finds the ids.
_FORM_NAMES = {
    "content": "CommandContent",
    "file_content": "Content",
    "parameters": "Parameters",
    "instance_id": "InstanceId",
    "command_id": "CommandId",
}


# The address's own ids (a task's Stop names its task only in the path), under the API's names.
_PATH_NAMES = {
    "invoke_id": "InvokeId",
    "instance_id": "InstanceId",
    "command_id": "CommandId",
    "run_id": "RunId",
}


def console_action(path: str, form: Form) -> str:
    """The API action a console form stands for (its audit event's name)."""
    tail = path.removeprefix(PREFIX)
    if tail == "/run":
        return "InvokeCommand" if form.get("command_id") else "RunCommand"
    if tail == "/sendfile":
        return "SendFile"
    if tail.endswith("/stop"):
        return "StopInvocation"
    if tail == "/commands/new":
        return "CreateCommand"
    if tail.startswith("/commands/"):
        return "ModifyCommand"
    if tail.startswith("/activations"):
        return "CreateActivation"
    return "ConsoleSignout" if tail == "/signout" else "ConsoleForm"


@dataclass(frozen=True)
class Visit:
    """One signed-in request: who (with their policies), and (for POST) the form that passed
    the CSRF check."""

    request: Request
    session: Session
    form: Form
    principal: Principal
    context: dict[str, str] = field(default_factory=dict)
    region: str = "local"

    def may(self, action: str) -> bool:
        return self.principal.rules.might_allow(qualified(action), self.context).allowed

    def guard(self, action: str) -> Guard:
        """The per-target checks the services apply for this visitor (as the API does)."""
        return Guard(self.principal, qualified(action), self.region, self.context)

    def refuse_unless(self, action: str) -> None:
        """A forged post is refused as the API refuses the call (Forbidden.RAM)."""
        decision = self.principal.rules.might_allow(qualified(action), self.context)
        if not decision.allowed:
            raise refusal_of(qualified(action), decision)


Page = Callable[[Visit], Awaitable[Response]]


async def read_form(request: Request, limit: int) -> Form | None:
    """The form body; None when it is larger than ``limit``, cut short, or not a form."""
    try:
        body = await read_body(request, limit, "console_max_body_bytes")
    except BodyRefused:
        return None
    kind = request.headers.get("content-type", "")
    if body and not kind.startswith("application/x-www-form-urlencoded"):
        return None
    fields: dict[str, list[str]] = {}
    for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(key, []).append(value)
    return Form(fields)


class Console:
    """What every page needs: the services, the session signer and the templates."""

    def __init__(self, services: Services, keys: ConsoleKeys) -> None:
        self.services = services
        self.keys = keys
        self.signer = SessionSigner(keys.session_secret, services.clock)
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("openassist.server.console", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["when"] = display.when
        self.templates.filters["iso"] = display.iso
        self.templates.filters["first_line"] = display.first_line
        self.templates.filters["duration"] = display.duration
        self.templates.globals.update(
            prefix=PREFIX,
            task_labels=display.TASK_LABELS,
            instance_labels=display.INSTANCE_LABELS,
            outcomes=display.OUTCOMES,
        )

    def render(
        self, template: str, context: Mapping[str, Any], status: int = 200, **headers: str
    ) -> HTMLResponse:
        html = self.templates.get_template(template).render(**context)
        return HTMLResponse(html, status, headers={**SECURITY_HEADERS, **headers})

    def page(self, visit: Visit, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """Render a full page (or, with ``?fragment=1``, only its live region)."""
        fragment = visit.request.query_params.get("fragment") == "1"
        may = {offer: visit.may(action) for offer, action in OFFERS.items()}
        base = {
            "session": visit.session,
            "fragment": fragment,
            "path": visit.request.url.path,
            "may": may,
        }
        return self.render(template, {**base, **context}, status)

    async def session_of(self, request: Request) -> Session | None:
        """The visitor's session: signed, not expired, not signed out, and its user still the
        one who signed in (or its access key still there)."""
        cookie = request.cookies.get(COOKIE, "")
        session = self.signer.load(cookie) if cookie else None
        if session is None:
            return None
        kind, _, name = session.principal.partition(":")
        if kind == "user":
            if session.mark != await self.user_mark(name):
                return None
        elif await self.services.access_keys.secret_of(name) is None:
            return None
        if await self.services.console_sessions.is_revoked(session.sid):
            return None
        logs.bind(user=session.principal)  # this request's log lines name who is signed in
        return session

    async def user_mark(self, name: str) -> str | None:
        """The mark a console user's sessions carry: of the RAM user's console password (a new
        password, or none, ends the sessions). None: no such user, or no password."""
        stored = await self.services.identities.stored_password(name)
        return session_mark(stored) if stored else None

    async def principal_of(self, session: Session) -> Principal | None:
        """The RAM principal behind the session: the access key's user, or the RAM user with
        the console user's name."""
        kind, _, name = session.principal.partition(":")
        if kind == "key":
            return await self.services.principals.of_key(name)
        return await self.services.principals.of_user(name)

    async def _audited(self, visit: Visit, handler: Page) -> Response:
        """A console form that changes something is an audit event, as its API call would be:
        it rides the form's first write; a refused or failed form is recorded alone."""
        audit = self.services.audit
        request, principal = visit.request, visit.principal
        params: dict[str, str] = {}
        for field_name, values in visit.form.fields.items():
            if field_name == "csrf" or not values:
                continue
            name = _FORM_NAMES.get(field_name, field_name)
            if len(values) == 1:
                params[name] = values[0]
            else:
                params.update({f"{name}.{n}": v for n, v in enumerate(values, start=1)})
        for key, name in _PATH_NAMES.items():
            if request.path_params.get(key):
                params.setdefault(name, str(request.path_params[key]))
        event = new_event(
            now=audit.now_ms(),
            action=console_action(request.url.path, visit.form),
            source="console",
            user_name=principal.user_name,
            access_key_id=principal.access_key_id,
            source_ip=visit.context.get("acs:sourceip", ""),
            user_agent=request.headers.get("user-agent", ""),
            request_id="",
            params=params,
            event_type="ConsoleCall",
        )
        armed = audit.arm(event)
        try:
            response = await handler(visit)
        finally:
            armed.disarm()
        if response.status_code >= 400:
            code = "Forbidden.RAM" if response.status_code == 403 else "InvalidParameter"
            await audit.record_failure(failed(event, code, f"HTTP {response.status_code}"))
        return response

    def guard(self, handler: Page) -> Callable[[Request], Awaitable[Response]]:
        """Only signed-in visitors reach ``handler``; every POST must carry the session's CSRF
        token. Others are sent to sign-in (GET) or refused with 403 (POST)."""

        async def guarded(request: Request) -> Response:
            session = await self.session_of(request)
            if session is None:
                if request.method not in ("GET", "HEAD"):
                    return refusal("Your session has ended; sign in again.", 403)
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return see_other(f"{PREFIX}/signin?next={quote(target, safe='')}")
            form = Form()
            if request.method == "POST":
                found = await read_form(request, self.services.limits.console_max_body_bytes)
                if found is None:
                    return refusal("The form is too large or not a form.", 413)
                if not same_token(found.get("csrf"), session.csrf):
                    return refusal("The form's security token is missing or wrong; reload.", 403)
                form = found
            principal = await self.principal_of(session)
            if principal is None:  # its access key was disabled or deleted: at once
                return refusal("Your access key is no longer valid; sign in again.", 403)
            client = request.client.host if request.client else ""
            context = request_context(
                client, utc_now(self.services.clock), request.url.scheme == "https"
            )
            region = self.services.limits.regions[0]
            visit = Visit(request, session, form, principal, context, region)
            if request.method != "POST":
                return await handler(visit)
            return await self._audited(visit, handler)

        return guarded


def see_other(url: str, **headers: str) -> RedirectResponse:
    return RedirectResponse(url, 303, headers={**SECURITY_HEADERS, **headers})


def refusal(message: str, status: int) -> PlainTextResponse:
    headers = {**SECURITY_HEADERS, "Connection": "close"} if status == 413 else SECURITY_HEADERS
    return PlainTextResponse(message, status, headers=headers)
