"""Action registry: maps an ``Action`` name to its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openassist.protocol.api_versions import version_of
from openassist.server.api.params import Params
from openassist.server.service.principals import Principal
from openassist.server.service.services import Services

__all__ = ["ACTIONS", "IDEMPOTENT", "VERSIONS", "Call", "Handler", "Services", "action"]


@dataclass(frozen=True)
class Call:
    """One authenticated API call."""

    action: str
    params: Params
    access_key_id: str
    services: Services
    principal: Principal | None = None  # the key's user and policies (None: key of no user)
    context: Mapping[str, str] = field(default_factory=dict)  # acs:SourceIp ...
    region: str = ""

    @property
    def user_name(self) -> str:
        return self.principal.user_name if self.principal else ""


Handler = Callable[[Call], Awaitable[dict[str, Any]]]

ACTIONS: dict[str, Handler] = {}
VERSIONS: dict[str, str] = {}  # the API version each action belongs to
IDEMPOTENT: set[str] = set()  # actions that honour ClientToken (API.md 1.9)


def action(name: str, *, idempotent: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ACTIONS[name] = handler
        VERSIONS[name] = version_of(name)
        if idempotent:
            IDEMPOTENT.add(name)
        return handler

    return register
