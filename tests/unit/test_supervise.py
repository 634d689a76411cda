"""A supervised duty that raises is restarted, and reported once it keeps failing."""

from __future__ import annotations

import asyncio

from openassist.agent.settings import AgentSettings
from openassist.agent.supervise import DutyHealth, supervise

QUICK = AgentSettings(backoff_min_s=0.001, backoff_max_s=0.002)


def test_a_failing_duty_restarts_and_is_reported_until_it_works() -> None:
    health = DutyHealth()
    runs: list[int] = []
    faults: list[str] = []

    async def duty() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise ValueError("invalid literal for int() with base 10: 'twelve'")
        if len(runs) == 2:
            faults.append(health.faults())  # one failure is not yet a fault
            raise OSError(28, "No space left on device")
        faults.append(health.faults())
        health.ok("fetch")  # a duty says so after each success

    asyncio.run(supervise("fetch", duty, health, QUICK))
    assert len(runs) == 3
    assert faults == ["", "fetch: OSError: [Errno 28] No space left on device"]
    assert health.faults() == "" and not health.failing("fetch")


def test_cancellation_is_not_a_failure() -> None:
    health = DutyHealth()

    async def forever() -> None:
        await asyncio.Event().wait()

    async def main() -> None:
        task = asyncio.create_task(supervise("heartbeat", forever, health, QUICK))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()

    asyncio.run(main())
    assert health.faults() == ""
