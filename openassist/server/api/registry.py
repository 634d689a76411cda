"""Action registry: maps an ``Action`` name to its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from openassist.protocol.api_versions import version_of
from openassist.server.api.params import Params
from openassist.server.service.activations import ActivationService
from openassist.server.service.agent_upgrades import AgentUpgradeService
from openassist.server.service.commands import CommandService
from openassist.server.service.context import Limits
from openassist.server.service.diagnosis import DiagnosisService
from openassist.server.service.files import FileService
from openassist.server.service.fleet import FleetService
from openassist.server.service.idempotency import IdempotencyService
from openassist.server.service.invocations import InvocationService
from openassist.server.service.parameter_store import ParameterStoreService


@dataclass(frozen=True)
class Services:
    invocations: InvocationService
    commands: CommandService
    fleet: FleetService
    files: FileService
    activations: ActivationService
    diagnosis: DiagnosisService
    parameter_store: ParameterStoreService
    agent_upgrades: AgentUpgradeService
    idempotency: IdempotencyService
    limits: Limits


@dataclass(frozen=True)
class Call:
    """One authenticated API call."""

    action: str
    params: Params
    access_key_id: str
    services: Services


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
