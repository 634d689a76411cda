"""Action registry: maps an ``Action`` name to its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from openassist.server.api.params import Params
from openassist.server.service.services import Services

__all__ = ["ACTIONS", "IDEMPOTENT", "Call", "Handler", "Services", "action"]


@dataclass(frozen=True)
class Call:
    """One authenticated API call."""

    action: str
    params: Params
    access_key_id: str
    services: Services


Handler = Callable[[Call], Awaitable[dict[str, Any]]]

ACTIONS: dict[str, Handler] = {}
IDEMPOTENT: set[str] = set()  # actions that honour ClientToken (API.md 1.9)


def action(name: str, *, idempotent: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ACTIONS[name] = handler
        if idempotent:
            IDEMPOTENT.add(name)
        return handler

    return register
