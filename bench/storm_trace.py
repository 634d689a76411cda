"""Reads the connection attempts that ``bench.fleet_scale --storm --trace DIR`` recorded (one
JSON line per kick-channel open and heartbeat of each simulated agent) and says where a reconnect
storm's time went: per agent, how many attempts it made after the restart, how long they took,
how they failed, and how long it waited between them. Usage:
.venv/bin/python -m bench.storm_trace DIR
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.reconnect_swarm import percentile


def _kind(error: str) -> str:
    """An error message shortened to its kind (the part before any detail that varies)."""
    if not error:
        return "ok"
    for marker in ("TimeoutError", "ConnectionRefused", "ConnectionReset", "IncompleteRead"):
        if marker in error:
            return marker
    if "HTTP " in error:
        return "HTTP " + error.split("HTTP ", 1)[1][:3]
    return error[:60]


def _spread(label: str, values: list[float]) -> str:
    if not values:
        return f"  {label}: none"
    return (
        f"  {label}: n={len(values)} p50 {statistics.median(values):.2f} p90"
        f" {percentile(values, 0.9):.2f} p99 {percentile(values, 0.99):.2f} max {max(values):.2f}"
    )


def summarize(folder: Path) -> list[str]:
    marks = json.loads((folder / "storm.json").read_text())
    killed, ready = int(marks["killed"]), int(marks["ready"])
    attempts: dict[tuple[str, int, str], list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(folder.glob("swarm-*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line cut by the worker's end
            if int(row["start"]) >= killed:
                attempts[(path.stem, int(row["agent"]), str(row["what"]))].append(row)
    lines = [f"restart took {(ready - killed) / 1000:.1f} s (kill -9 to ready)"]
    for what in ("kick", "beat"):
        rows = {key: value for key, value in attempts.items() if key[2] == what}
        tries = [len(value) for value in rows.values()]
        outcomes = Counter(_kind(str(r["error"])) for value in rows.values() for r in value)
        took = [(int(r["end"]) - int(r["start"])) / 1000 for value in rows.values() for r in value]
        failed_took = [
            (int(r["end"]) - int(r["start"])) / 1000
            for value in rows.values()
            for r in value
            if r["error"]
        ]
        gaps = [
            (int(b["start"]) - int(a["end"])) / 1000
            for value in rows.values()
            for a, b in itertools.pairwise(value)
        ]
        firsts_ok = [
            (min(int(r["end"]) for r in value if not r["error"]) - ready) / 1000
            for value in rows.values()
            if any(not r["error"] for r in value)
        ]
        during = [
            (int(r["start"]) - ready) / 1000
            for value in rows.values()
            for r in value
            if int(r["start"]) >= ready
        ]
        lines += [
            f"{what}: {len(rows)} agents tried; outcomes {dict(outcomes.most_common())}",
            _spread("attempts per agent", [float(t) for t in tries]),
            _spread("one attempt, s", took),
            _spread("one failed attempt, s", failed_took),
            _spread("wait between attempts, s", gaps),
            _spread("first success after ready, s", firsts_ok),
            _histogram("attempts started after ready, per 10 s", during),
        ]
    return lines


def _histogram(label: str, seconds: list[float]) -> str:
    buckets = Counter(int(s // 10) for s in seconds)
    cells = " ".join(f"{b * 10}:{buckets[b]}" for b in range(max(buckets, default=-1) + 1))
    return f"  {label}: {cells}"


def main() -> int:
    for line in summarize(Path(sys.argv[1])):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
