"""What stands between a password guesser and the console: backoff and bounded hashing.

Failed sign-ins are counted per user (only names that exist, so the table stays as small as the
user list) and per address (an IPv6 address by its /64, which one host usually holds whole).
After ``FREE_FAILURES`` failures each further attempt (also one refused while locked: a guesser
that keeps knocking keeps the door shut) locks that user or address for twice as long as the
last, up to ``MAX_LOCK_S``: spreading guesses over many addresses still locks the user,
and forgetting addresses (the table is bounded) never forgets a user. A browser that signed in
as that user before (a signed device cookie) is counted on its own instead, so an attacker who
locks a user does not lock out the user's own browser, while a stolen device cookie is locked
as fast as any guesser. On one node the counts are kept in this process (``Backoff``); with
several nodes in the store (``service/sign_in_failures.py``, chosen in the composition root),
so the lock holds on every node.

Password hashes (scrypt, ~16 MB and tens of milliseconds each) run in a small pool of threads,
never on the event loop, with a bound on how many wait: beyond it a sign-in is answered busy.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from openassist.server.service.sign_in_failures import (
    FREE_FAILURES,
    MAX_LOCK_S,
    FailureCounts,
    Failures,
    after_failure,
)

__all__ = ["FREE_FAILURES", "MAX_LOCK_S", "Backoff", "HashingPool", "SignInGuard", "address_key"]

MAX_TRACKED = 100_000
HASH_WORKERS = 2
MAX_WAITING_HASHES = 32

T = TypeVar("T")


class Backoff:
    """Failures per key in this process (one node), by ``after_failure``'s rule. Keys seen
    least recently are forgotten first once ``max_tracked`` are held (addresses; users are few
    and never pushed out by them)."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, max_tracked: int = MAX_TRACKED
    ) -> None:
        self._clock, self._max = clock, max_tracked
        self._keys: OrderedDict[str, Failures] = OrderedDict()

    def wait_s(self, key: str) -> float:
        """Seconds until ``key`` may try again; 0 when it may now."""
        found = self._keys.get(key)
        return 0.0 if found is None else max(0.0, found.locked_until - self._clock())

    def failed(self, key: str) -> None:
        self._keys[key] = after_failure(self._keys.pop(key, None), self._clock())
        while len(self._keys) > self._max:
            self._keys.popitem(last=False)

    def succeeded(self, key: str) -> None:
        self._keys.pop(key, None)


def address_key(host: str) -> str:
    """The unit an address is counted in: IPv4 as is, IPv6 by its /64."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"addr:{host}"
    if address.version == 6:
        return f"addr:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"addr:{address}"


class HashingPool:
    """Runs password checks in ``workers`` threads; at most ``max_waiting`` queue for them."""

    def __init__(self, workers: int = HASH_WORKERS, max_waiting: int = MAX_WAITING_HASHES) -> None:
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="console-hash")
        self._slots = asyncio.Semaphore(workers + max_waiting)

    @property
    def busy(self) -> bool:
        return self._slots.locked()

    async def run(self, work: Callable[[], T]) -> T | None:
        """``work()`` off the loop; None when too many checks are waiting already."""
        if self._slots.locked():
            return None
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)


class SignInGuard:
    def __init__(
        self,
        backoff: Backoff | None = None,
        hashing: HashingPool | None = None,
        shared: FailureCounts | None = None,
    ) -> None:
        """``shared``: failures counted in the store (several nodes); else in ``backoff``."""
        self.backoff = backoff or Backoff()
        self.hashing = hashing or HashingPool()
        self._shared = shared

    @staticmethod
    def keys(address: str, principal: str | None, device: str | None) -> list[str]:
        """What an attempt is counted against: its known device alone, or its address and (when
        the name exists) its principal."""
        if device:
            return [f"device:{device}"]
        return [address_key(address)] + ([principal] if principal else [])

    async def wait_s(self, keys: list[str]) -> float:
        """Seconds until an attempt counted against ``keys`` may be checked; when it may not,
        the attempt counts as a failure (the lock grows)."""
        if await self._longest(keys) <= 0:
            return 0.0
        await self.failed(keys)
        return await self._longest(keys)

    async def _longest(self, keys: list[str]) -> float:
        if self._shared is not None:
            return await self._shared.wait_s(keys)
        return max(self.backoff.wait_s(key) for key in keys)

    async def failed(self, keys: list[str]) -> None:
        if self._shared is not None:
            await self._shared.failed(keys)
            return
        for key in keys:
            self.backoff.failed(key)

    async def succeeded(self, keys: list[str]) -> None:
        if self._shared is not None:
            await self._shared.succeeded(keys)
            return
        for key in keys:
            self.backoff.succeeded(key)
