"""Sign-in backoff and password hashing off the event loop (the attack: test_attack_sign_in)."""

from __future__ import annotations

import asyncio
import functools
import threading

from openassist.server.console.identity import hash_password, verify_password
from openassist.server.console.sign_in_guard import (
    FREE_FAILURES,
    MAX_LOCK_S,
    Backoff,
    HashingPool,
    SignInGuard,
    address_key,
)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_backoff_locks_after_free_failures_doubling_up_to_the_cap() -> None:
    clock = _Clock()
    backoff = Backoff(clock)
    for _ in range(FREE_FAILURES):
        backoff.failed("user:a")
    assert backoff.wait_s("user:a") == 0
    locks = []
    for _ in range(14):
        backoff.failed("user:a")
        locks.append(backoff.wait_s("user:a"))
    assert locks[:3] == [1.0, 2.0, 4.0]
    assert locks[-1] == MAX_LOCK_S
    clock.now += MAX_LOCK_S
    assert backoff.wait_s("user:a") == 0
    backoff.succeeded("user:a")
    backoff.failed("user:a")
    assert backoff.wait_s("user:a") == 0  # a success starts afresh


def test_address_churn_pushes_out_addresses_never_the_user() -> None:
    guard = SignInGuard(Backoff(_Clock(), max_tracked=50))

    async def churn() -> None:
        for n in range(10_000):
            address = f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"
            await guard.failed(guard.keys(address, "user:a", None))
            if n > 100:
                assert await guard.wait_s(["user:a"]) > 0

    asyncio.run(churn())


def test_attempts_while_locked_lengthen_the_lock() -> None:
    clock = _Clock()
    guard = SignInGuard(Backoff(clock))
    keys = guard.keys("10.0.0.1", "user:a", None)

    async def attempts() -> list[float]:
        for _ in range(FREE_FAILURES + 1):
            await guard.failed(keys)
        return [await guard.wait_s(keys), await guard.wait_s(keys)]

    assert asyncio.run(attempts()) == [2.0, 4.0]  # each refused attempt counted


def test_a_known_device_is_counted_alone() -> None:
    guard = SignInGuard()
    assert guard.keys("10.0.0.1", "user:a", "dev1") == ["device:dev1"]
    assert guard.keys("10.0.0.1", None, None) == ["addr:10.0.0.1"]


def test_ipv6_addresses_count_by_their_64() -> None:
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff:1") == "addr:2001:db8::/64"
    assert address_key("2001:db8:0:1::1") != address_key("2001:db8::1")


def test_password_checks_run_off_the_loop_and_at_most_two_at_once() -> None:
    stored = hash_password("right")
    lock, running, peak, threads = threading.Lock(), [0], [0], set()

    def check(password: str) -> bool:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            threads.add(threading.get_ident())
        try:
            return verify_password(password, stored)
        finally:
            with lock:
                running[0] -= 1

    async def main() -> list[bool | None]:
        pool = HashingPool(workers=2, max_waiting=30)
        loop_thread = threading.get_ident()
        passwords = ["right" if n == 7 else "wrong" for n in range(12)]
        results = await asyncio.gather(
            *(pool.run(functools.partial(check, password)) for password in passwords)
        )
        assert loop_thread not in threads
        return results

    results = asyncio.run(main())
    assert results == [n == 7 for n in range(12)]
    assert peak[0] <= 2


def test_beyond_the_waiting_bound_a_check_is_refused_busy() -> None:
    release = threading.Event()

    async def main() -> list[bool | None]:
        pool = HashingPool(workers=1, max_waiting=1)
        first = asyncio.ensure_future(pool.run(release.wait))
        second = asyncio.ensure_future(pool.run(release.wait))
        await asyncio.sleep(0)
        third = await pool.run(release.wait)
        release.set()
        return [await first, await second, third]

    assert asyncio.run(main()) == [True, True, None]
