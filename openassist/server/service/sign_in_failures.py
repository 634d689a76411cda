"""How failed console sign-ins lock a user, an address or a device, and the count of them kept
in the store so that every node of a cluster applies one lock (a guesser spreading attempts over
the nodes behind a load balancer gets no more tries than against one).

The rule is the same in one process (``console/sign_in_guard.py``'s ``Backoff``) and in the
store: after ``FREE_FAILURES`` failures each further one locks the key for twice as long as the
last, up to ``MAX_LOCK_S``; a key with no failure for ``FORGET_AFTER_S`` starts afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection

from openassist.server.service.context import ServiceContext
from openassist.server.store import sign_in_failures as store

FREE_FAILURES = 5
FIRST_LOCK_S = 1.0
MAX_LOCK_S = 900.0
FORGET_AFTER_S = 3600.0  # a key with no failure for this long starts afresh


@dataclass(frozen=True)
class Failures:
    count: int = 0
    last: float = 0.0  # seconds
    locked_until: float = 0.0


def after_failure(found: Failures | None, now: float) -> Failures:
    """The key's failures once one more happened at ``now`` (seconds)."""
    if found is None or now - found.last > FORGET_AFTER_S:
        found = Failures()
    count = found.count + 1
    beyond = count - FREE_FAILURES
    locked_until = found.locked_until
    if beyond > 0:
        locked_until = now + min(MAX_LOCK_S, FIRST_LOCK_S * 2 ** min(beyond - 1, 20))
    return Failures(count, now, locked_until)


class FailureCounts(Protocol):
    async def wait_s(self, keys: list[str]) -> float:
        """Seconds until none of ``keys`` is locked; 0 when none is."""

    async def failed(self, keys: list[str]) -> None: ...

    async def succeeded(self, keys: list[str]) -> None: ...


class SharedSignInFailures:
    """``FailureCounts`` in the store (several nodes), by the wall clock all nodes share."""

    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    async def wait_s(self, keys: list[str]) -> float:
        now = self._ctx.clock.now_ms()
        until = await self._ctx.db.read(lambda conn: store.locked_until(conn, keys))
        return max(0.0, (until - now) / 1000)

    async def failed(self, keys: list[str]) -> None:
        now = self._ctx.clock.now_ms()

        def count(conn: Connection) -> None:
            store.prune(conn, now - int(FORGET_AFTER_S * 1000))
            for key in sorted(set(keys)):  # one order on every node: no deadlock
                number, last, until = store.taken(conn, key, now)
                found = Failures(number, last / 1000, until / 1000) if number else None
                new = after_failure(found, now / 1000)
                store.put(conn, key, new.count, now, int(new.locked_until * 1000))

        await self._ctx.db.write(count)

    async def succeeded(self, keys: list[str]) -> None:
        await self._ctx.db.write(lambda conn: store.clear(conn, keys))
