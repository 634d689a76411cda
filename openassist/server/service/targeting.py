"""Choosing the machines of a task the way a person does (the console's run and send forms): by
name (part of it, or a glob), by tag, every machine online now, or by id; how many match before
anything runs, and the ids when it runs.

Only machines the caller's policies let them act on with the form's action count (the guard's
``visible``): the console shows only what the user may do, and the task's own checks refuse a
forged choice as the API does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from openassist.catalog import api
from openassist.errors import InvalidParameter, LimitExceeded, NotFound
from openassist.server.service.context import ServiceContext
from openassist.server.service.guard import Guard
from openassist.server.store import fleet
from openassist.server.store.paging import PageQuery
from openassist.server.store.records import Instance
from openassist.server.store.tags import Tag

WAYS = ("name", "tag", "online", "ids")


@dataclass(frozen=True)
class TargetChoice:
    """``how``: one of WAYS; the field of that way says what."""

    how: str
    pattern: str = ""  # name: part of a name, hostname or id, or a glob (web-*)
    tags: tuple[Tag, ...] = ()  # tag: every one must be on the machine
    ids: tuple[str, ...] = ()  # ids

    def describe(self) -> str:
        if self.how == "name":
            return f"the name {self.pattern!r}"
        if self.how == "tag":
            return " and ".join(f"{k}={v or '*'}" for k, v in self.tags)
        return "every machine online now" if self.how == "online" else ", ".join(self.ids)


@dataclass(frozen=True)
class TargetMatch:
    count: int
    first: list[Instance] = field(default_factory=list)  # the first few, newest first


class TargetingService:
    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    def _where(self, choice: TargetChoice, visible: tuple[str, ...] | None) -> fleet.InstanceFilter:
        online = self._ctx.clock.now_ms() - self._ctx.limits.heartbeat_online_s * 1000
        return fleet.InstanceFilter(
            ids=choice.ids if choice.how == "ids" else (),
            visible=visible,
            name_like=choice.pattern if choice.how == "name" else "",
            tags=choice.tags if choice.how == "tag" else (),
            connected_since=online if choice.how == "online" else None,
        )

    async def match(self, choice: TargetChoice, guard: Guard, first: int = 8) -> TargetMatch:
        """How many machines the choice names that the caller may act on, and the first few."""

        def query(conn: Connection) -> TargetMatch:
            where = self._where(choice, guard.visible(conn))
            page = fleet.list_instances(conn, where, PageQuery(limit=first))
            return TargetMatch(page.total, page.items)

        return await self._ctx.db.read(query)

    async def resolve(self, choice: TargetChoice, guard: Guard, limit: int) -> tuple[str, ...]:
        """The ids; InvalidParameter when none match, LimitExceeded beyond ``limit``."""

        def query(conn: Connection) -> tuple[list[Instance], int]:
            where = self._where(choice, guard.visible(conn))
            page = fleet.list_instances(conn, where, PageQuery(limit=limit))
            return page.items, page.total

        found, total = await self._ctx.db.read(query)
        if total == 0 and choice.how == "tag":  # as RunCommand's ResourceTag.N answers
            raise NotFound(api.TAGGED_NONE, wanted=choice.describe())
        if total == 0:
            raise InvalidParameter(api.FORM_TARGETS_NONE, wanted=choice.describe())
        if total > limit:
            raise LimitExceeded(api.FORM_TARGETS_TOO_MANY, count=total, limit=limit)
        return tuple(i.id for i in found)
