"""Use cases of activations after creation: list, disable, delete."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from openassist.catalog import api
from openassist.errors import Conflict, NotFound
from openassist.server.service.context import ServiceContext
from openassist.server.store import activations, tags
from openassist.server.store.paging import Page, PageQuery
from openassist.server.store.records import Activation


@dataclass(frozen=True)
class ActivationView:
    activation: Activation
    tags: list[tuple[str, str]]


def _not_found(activation_id: str) -> NotFound:
    return NotFound(api.ACTIVATION_NOT_FOUND, activation_id=activation_id)


class ActivationService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def describe(
        self, where: activations.ActivationFilter, page: PageQuery
    ) -> Page[ActivationView]:
        def query(conn: Connection) -> Page[ActivationView]:
            found = activations.list_activations(conn, where, page)
            labels = tags.tags_of(conn, "activation", [a.id for a in found.items])
            views = [ActivationView(a, labels[a.id]) for a in found.items]
            return Page(items=views, total=found.total, next_key=found.next_key)

        return await self._ctx.db.read(query)

    async def disable(self, activation_id: str) -> Activation:
        """Registered instances are unaffected; the code can register no more hosts."""
        found = await self._ctx.db.write(lambda conn: activations.set_disabled(conn, activation_id))
        if found is None:
            raise _not_found(activation_id)
        return found

    async def delete(self, activation_id: str) -> Activation:
        def remove(conn: Connection) -> Activation:
            found = activations.get_activation(conn, activation_id)
            if found is None:
                raise _not_found(activation_id)
            if activations.registered_instances(conn, activation_id):
                raise Conflict(api.ACTIVATION_IN_USE, activation_id=activation_id)
            tags.set_tags(conn, "activation", activation_id, ())
            activations.delete_activation(conn, activation_id)
            return found

        return await self._ctx.db.write(remove)
