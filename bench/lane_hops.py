"""What one event-loop -> database-thread -> event-loop hop costs (issue 18): a trivial function
handed to a store executor (``store/lanes.py``) and awaited, N times in a row, as the store hands
each read and write; CPU time of the whole process (every thread) per hop, in microseconds.

With --other DIR, the ``LaneExecutor`` of another checkout (``git archive main | tar -x -C DIR``)
is loaded into this same process and the two take turns, round by round, for before/after
figures from one sitting. Each executor is used as the store uses it: its ``run`` where it has
one, else ``loop.run_in_executor``. CPU time rather than wall time: the machine may be shared.
For instruction counts, run it under ``valgrind --tool=callgrind`` with --only and two --hops.

Usage: .venv/bin/python -m bench.lane_hops [--hops 20000] [--rounds 5] [--other DIR] [--only X]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openassist.server.store import lanes


def load_other(directory: Path) -> Any:
    path = directory / "openassist" / "server" / "store" / "lanes.py"
    spec = importlib.util.spec_from_file_location("other_lanes", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["other_lanes"] = module  # dataclasses and typing look modules up by name
    spec.loader.exec_module(module)
    return module


def _nothing() -> None:
    return None


async def _hops(executor: Any, count: int) -> None:
    if hasattr(executor, "run"):
        for _ in range(count):
            await executor.run(_nothing)
    else:
        loop = asyncio.get_running_loop()
        for _ in range(count):
            await loop.run_in_executor(executor, _nothing)


def cpu_us_per_hop(module: Any, hops: int, api: bool) -> float:
    """One executor of ``module`` (one thread, as the SQLite writer), ``hops`` hops."""
    waits: list[float] = []
    observe: Callable[[str, float], None] = lambda _lane, seconds: waits.append(seconds)  # noqa: E731
    executor = module.LaneExecutor(1, "bench-hops", observe)

    async def main() -> None:
        await _hops(executor, 100)  # warm
        if api:
            with module.api_lane():
                await _hops(executor, hops)
        else:
            await _hops(executor, hops)

    try:
        started = time.process_time()
        asyncio.run(main())
        return (time.process_time() - started) * 1e6 / hops
    finally:
        executor.shutdown(wait=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hops", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--other", type=Path, help="another checkout to compare with")
    parser.add_argument("--only", choices=["this", "other"], help="run one version (callgrind)")
    parser.add_argument("--api", action="store_true", help="submit in the API lane")
    args = parser.parse_args()
    versions: dict[str, Any] = {"this": lanes}
    if args.other is not None:
        versions["other"] = load_other(args.other)
    if args.only is not None:
        versions = {args.only: versions[args.only]}
    samples: dict[str, list[float]] = {name: [] for name in versions}
    for _ in range(args.rounds):
        for name, module in versions.items():
            samples[name].append(cpu_us_per_hop(module, args.hops, args.api))
    for name, values in samples.items():
        print(
            f"{name:>5}: CPU per hop median {statistics.median(values):.1f} us "
            f"(min {min(values):.1f}, max {max(values):.1f}; {args.rounds} x {args.hops} hops)"
        )
    if "other" in samples and "this" in samples:
        ratio = statistics.median(samples["this"]) / statistics.median(samples["other"])
        print(f"this / other: {ratio:.2f}")


if __name__ == "__main__":
    main()
