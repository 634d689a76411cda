"""The whole `openassist run 'echo hi' -i NAME` command on one local agent, start to exit, as a
person at a terminal waits for it: interpreter start, imports, the API calls, the agent's run.

Each round runs, in turn, the command and the baseline (the same interpreter doing nothing:
`python -c pass`, the floor no Python command goes below), and with --other the same command from
another checkout of the package (PYTHONPATH, e.g. `git archive main | tar -x -C /tmp/main`) with
its own server and agent, so before/after figures come from one run on one machine. Wall time
is read around each child; CPU time (user + system) is the kernel's account of it (wait4).
Ratios are taken round by round.

Usage: .venv/bin/python -m bench.cli_command [--runs 40] [--other DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.support.cluster import Cluster


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def installed_env(pythonpath: str = "") -> dict[str, str]:
    """As an installed CLI runs: its bytecode cached (a test environment may forbid writing it,
    and then every start compiles the modules again)."""
    dropped = ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


@contextlib.contextmanager
def one_agent(root: Path, pythonpath: str = "") -> Iterator[str]:
    """A server and one agent named bench-1 (from the checkout at ``pythonpath`` when given);
    the CLI's credentials file for them."""
    env = {"PYTHONPATH": pythonpath} if pythonpath else None
    with Cluster.start(root, env=env) as cluster:
        cluster.new_agent("bench-1", env=env)
        yield str(cluster.cli_credentials())


def timed(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall ms, CPU ms) of one run of ``argv`` to its exit; fails on a non-zero exit."""
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = (time.perf_counter() - started) * 1000
    child.returncode = os.waitstatus_to_exitcode(status)
    assert child.stderr is not None
    problem = child.stderr.read()
    child.stderr.close()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {child.returncode}: {problem.decode()}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


class Series:
    def __init__(self, label: str, argv: Sequence[str], env: dict[str, str]) -> None:
        self.label, self.argv, self.env = label, list(argv), env
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def run(self) -> None:
        wall, cpu = timed(self.argv, self.env)
        self.wall.append(wall)
        self.cpu.append(cpu)

    def show(self) -> None:
        for kind, values in (("wall", self.wall), ("cpu", self.cpu)):
            print(
                f"  {self.label:<34} {kind:<4} p50 {statistics.median(values):7.1f} ms  "
                f"p99 {percentile(values, 0.99):7.1f} ms"
            )


def ratio(top: Series, bottom: Series, kind: str) -> float:
    pairs = zip(getattr(top, kind), getattr(bottom, kind), strict=True)
    return float(statistics.median(a / b for a, b in pairs))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--other", default="", help="another checkout's root, run the same way")
    args = parser.parse_args()
    cli = str(Path(sys.executable).with_name("openassist"))  # the installed entry point
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        credentials = stack.enter_context(one_agent(root / "this"))
        command = [cli, "run", "echo hi", "-i", "bench-1", "--credentials", credentials]
        series = [
            Series("openassist run 'echo hi'", command, installed_env()),
            Series("baseline: python -c pass", [sys.executable, "-c", "pass"], installed_env()),
        ]
        if args.other:  # its CLI, server and agent
            other = str(Path(args.other).resolve())
            theirs = stack.enter_context(one_agent(root / "other", other))
            command = [cli, "run", "echo hi", "-i", "bench-1", "--credentials", theirs]
            series.append(Series(f"same, from {other}", command, installed_env(other)))
        for _ in range(3):  # warm-up: bytecode written, caches and connections warm
            for one in series:
                timed(one.argv, one.env)
        for _ in range(args.runs):
            for one in series:
                one.run()
    print(f"whole command, start to exit, {args.runs} rounds, one local agent (SQLite)")
    for one in series:
        one.show()
    command_series, floor = series[0], series[1]
    for kind in ("wall", "cpu"):
        print(f"  ratio to the baseline ({kind}): p50 {ratio(command_series, floor, kind):5.2f} x")
        if args.other:
            other_ratio = ratio(command_series, series[2], kind)
            print(f"  ratio to --other ({kind}):      p50 {other_ratio:5.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
