"""Add machines: create an activation and show the one command that installs, registers and
starts the agent on a new machine (the agent gateway's /agent/install.sh)."""

from __future__ import annotations

import shlex

from starlette.responses import Response

from openassist.errors import ApiError
from openassist.server.console import failures, forms
from openassist.server.console.web import Console, Visit
from openassist.server.service.fleet import ActivationArgs

MAX_MACHINES = 1000  # CreateActivation's InstanceCount limit
MAX_TTL_HOURS = 24 * 365


def install_command(host: str, agent_port: int, activation_id: str, code: str) -> str:
    """What to paste on the new machine (as root), with the server's ca.pem copied beside it."""
    return (
        f"curl -fsS --cacert ca.pem https://{host}:{agent_port}/agent/install.sh"
        f" | sh -s -- --activation-id {shlex.quote(activation_id)}"
        f" --activation-code {shlex.quote(code)}"
    )


class ActivationPages:
    def __init__(self, console: Console, agent_port: int) -> None:
        self.console = console
        self.agent_port = agent_port

    async def form(
        self, visit: Visit, error: ApiError | None = None, status: int = 200
    ) -> Response:
        values = dict(visit.form.fields) if error else {}
        return self.console.page(
            visit, "activation.html", status, form=values, error=error, created=None
        )

    async def create(self, visit: Visit) -> Response:
        form = visit.form
        try:
            visit.refuse_unless("CreateActivation")
        except ApiError as error:
            return failures.plain(error)
        try:
            args = ActivationArgs(
                instance_name=form.get("instance_name")[:128],
                description="added in the console",
                instance_count=forms.integer(form, "InstanceCount", 1, 1, MAX_MACHINES),
                ttl_hours=forms.integer(form, "TimeToLiveInHours", 4, 1, MAX_TTL_HOURS),
            )
            activation_id, code = await self.console.services.fleet.create_activation(args)
        except ApiError as error:
            return await self.form(visit, error, 400)
        host = visit.request.url.hostname or "SERVER"
        created = {
            "id": activation_id,
            "code": code,
            "count": args.instance_count,
            "hours": args.ttl_hours,
            "command": install_command(host, self.agent_port, activation_id, code),
        }
        return self.console.page(visit, "activation.html", form={}, error=None, created=created)
