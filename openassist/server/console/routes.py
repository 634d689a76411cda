"""The console's routes, mounted at ``/console`` on the API port (the RPC API keeps ``/``)."""

from __future__ import annotations

from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openassist.server.console.activation_pages import ActivationPages
from openassist.server.console.audit_pages import AuditPages
from openassist.server.console.auth_pages import AuthPages
from openassist.server.console.command_pages import CommandPages
from openassist.server.console.fleet_pages import FleetPages
from openassist.server.console.identity import ConsoleKeys
from openassist.server.console.overview_pages import OverviewPage
from openassist.server.console.run_pages import RunPages
from openassist.server.console.targets import TargetCount
from openassist.server.console.task_pages import TaskPages
from openassist.server.console.web import SECURITY_HEADERS, Console, refusal
from openassist.server.service.services import Services

_STATIC = {"console.js": "text/javascript", "console.css": "text/css"}


def _static_files() -> dict[str, bytes]:
    folder = resources.files("openassist.server.console") / "static"
    return {name: (folder / name).read_bytes() for name in _STATIC}


def console_app(services: Services, keys: ConsoleKeys, agent_port: int = 8643) -> Starlette:
    """The console as an ASGI app; mount it at ``/console``. ``agent_port``: the agent gateway's,
    for the install command of new machines."""
    console = Console(services, keys)
    machines = ActivationPages(console, agent_port)
    auth, tasks, runs = AuthPages(console), TaskPages(console), RunPages(console)
    fleet, library = FleetPages(console), CommandPages(console)
    counter, overview = TargetCount(console), OverviewPage(console)
    files = _static_files()
    guard = console.guard

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in files:
            return refusal("Not found.", 404)
        headers = {**SECURITY_HEADERS, "Cache-Control": "max-age=300"}
        return Response(files[name], media_type=_STATIC[name], headers=headers)

    get, post = ["GET"], ["POST"]
    routes = [
        Route("/signin", auth.show, methods=get),
        Route("/signin", auth.sign_in, methods=post),
        Route("/signout", guard(auth.sign_out), methods=post),
        Route("/static/{name}", static, methods=get),
        Route("/", guard(tasks.results), methods=get),
        Route("/invocations", guard(tasks.results), methods=get),
        Route("/invocations/{invoke_id}", guard(tasks.view), methods=get),
        Route("/runs", guard(runs.earlier), methods=get),
        Route("/runs/{run_id}", guard(runs.view), methods=get),
        Route("/runs/{run_id}/stop", guard(runs.stop), methods=post),
        Route("/invocations/{invoke_id}/stop", guard(tasks.stop), methods=post),
        Route("/invocations/{invoke_id}/instances/{instance_id}", guard(tasks.card), methods=get),
        Route(
            "/invocations/{invoke_id}/instances/{instance_id}/output",
            guard(tasks.output),
            methods=get,
        ),
        Route("/overview", guard(overview.show), methods=get),
        Route("/instances", guard(fleet.instances), methods=get),
        Route("/instances/{instance_id}", guard(fleet.instance), methods=get),
        Route("/run", guard(fleet.run_form), methods=get),
        Route("/run", guard(fleet.run), methods=post),
        Route("/targets", guard(counter.page), methods=get),
        Route("/sendfile", guard(fleet.send_form), methods=get),
        Route("/sendfile", guard(fleet.send), methods=post),
        Route("/files/{invoke_id}", guard(fleet.file_task), methods=get),
        Route("/commands", guard(library.library), methods=get),
        Route("/commands/new", guard(library.form), methods=get),
        Route("/commands/new", guard(library.create), methods=post),
        Route("/commands/{command_id}", guard(library.form), methods=get),
        Route("/commands/{command_id}", guard(library.update), methods=post),
        Route("/activations", guard(machines.form), methods=get),
        Route("/activations", guard(machines.create), methods=post),
        Route("/audit", guard(AuditPages(console).events), methods=get),
    ]
    return Starlette(routes=routes)
