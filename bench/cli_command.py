"""The whole `openassist run 'echo hi' -i NAME` command on one local agent, start to exit, as a
person at a terminal waits for it: interpreter start, imports, the API calls, the agent's run.

The command is what an operator installs: `pip install .` of the checkout into a new virtual
environment (made in a temporary directory, from a copy of the sources: no build/ left behind),
its console script run. Not the development environment's editable install: its start-up hooks
(the editable finder, coverage's .pth) import pathlib, importlib.util and more into every
process, doubling `python -c pass` there (89 against 38 million instructions, callgrind), and
hide what the command itself loads. `--dev` runs this environment's console script instead.

Each round runs, in turn, the command and the baseline (the same interpreter doing nothing:
`python -c pass`, the floor no Python command goes below), and with --other the same command from
another checkout of the package (installed the same way, e.g. from `git archive main | tar -x -C
/tmp/main`) with its own server and agent, so before/after figures come from one run on one
machine. Wall time is read around each child; CPU time (user + system) is the kernel's account of
it (wait4). Ratios are taken round by round.

Usage: .venv/bin/python -m bench.cli_command [--runs 40] [--other DIR] [--dev]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
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


def install(checkout: Path, where: Path) -> subprocess.Popen[bytes]:
    """Start making a virtual environment at ``where`` with ``checkout`` installed in it (not
    editable); its console script is ``where/bin/openassist`` once the process ends well."""
    sources = where.with_name(f"{where.name}-src")
    shutil.copytree(checkout / "openassist", sources / "openassist", ignore=_UNBUILT)
    shutil.copy(checkout / "pyproject.toml", sources)
    python, pip = where / "bin" / "python", ["-m", "pip", "install", "--quiet"]
    script = f"{sys.executable} -m venv {where} && {python} {' '.join(pip)} {sources}"
    return subprocess.Popen(["sh", "-c", script], stdout=subprocess.DEVNULL)


_UNBUILT = shutil.ignore_patterns("__pycache__", "*.pyc")


def installed(checkouts: dict[str, Path], root: Path) -> dict[str, Path]:
    """Each checkout installed in its own new environment (in parallel): its bin directory."""
    made = {
        label: install(checkout, root / f"venv-{label}") for label, checkout in checkouts.items()
    }
    for label, process in made.items():
        if process.wait() != 0:
            raise SystemExit(f"pip install of {checkouts[label]} failed")
    return {label: root / f"venv-{label}" / "bin" for label in checkouts}


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
    parser.add_argument("--dev", action="store_true", help="this environment's console script")
    args = parser.parse_args()
    this, other = Path(__file__).resolve().parents[1], Path(args.other or ".").resolve()
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if args.dev:  # this environment's entry point; the other checkout's modules on PYTHONPATH
            bins = dict.fromkeys(("this", "other"), Path(sys.executable).parent)
            their_path = str(other)
        else:
            bins = installed({"this": this} | ({"other": other} if args.other else {}), root)
            their_path = ""
        credentials = stack.enter_context(one_agent(root / "this"))
        cli = str(bins["this"] / "openassist")
        command = [cli, "run", "echo hi", "-i", "bench-1", "--credentials", credentials]
        nothing = [str(bins["this"] / "python"), "-c", "pass"]
        series = [
            Series("openassist run 'echo hi'", command, installed_env()),
            Series("baseline: python -c pass", nothing, installed_env()),
        ]
        if args.other:  # its CLI, server and agent
            theirs = stack.enter_context(one_agent(root / "other", str(other)))
            cli = str(bins["other"] / "openassist")
            command = [cli, "run", "echo hi", "-i", "bench-1", "--credentials", theirs]
            series.append(Series(f"same, from {other}", command, installed_env(their_path)))
        for _ in range(3):  # warm-up: bytecode written, caches and connections warm
            for one in series:
                timed(one.argv, one.env)
        for _ in range(args.runs):
            for one in series:
                one.run()
    how = "this environment's console script" if args.dev else "pip install . in a new venv"
    print(f"whole command, start to exit, {args.runs} rounds, one local agent (SQLite), {how}")
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
