"""A directory where test scripts record when they ran, by their own clocks: one file per run
with the instance id (when the task enables parameters), start and finish time. Rollout tests
check concurrency, error budgets and exactly-once from the machines' side, not the server's."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    instance_id: str  # empty unless the script was written with_instance_id
    start: float
    end: float


class RunLog:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def made_in(cls, tmp_path: Path) -> RunLog:
        directory = tmp_path / "runs"
        directory.mkdir()
        directory.chmod(0o777)  # scripts run as other users (run-as tests) write here too
        return cls(directory)

    def script(self, body: str = "sleep 0.4", *, with_instance_id: bool = False) -> str:
        """``body`` between two clock readings, its exit code kept. With ``with_instance_id``
        the run names its machine through ``{{ACS::InstanceId}}`` (EnableParameter=true)."""
        who = "{{ACS::InstanceId}} " if with_instance_id else ""
        return (
            f"s=$(date +%s.%N); {body}; rc=$?; e=$(date +%s.%N); "
            f'echo "{who}$s $e" > "$(mktemp -p {self.directory} run.XXXXXX)"; exit $rc'
        )

    def runs(self) -> list[Run]:
        """The runs recorded so far (a run still writing its file is left for the next look)."""
        found = []
        for path in self.directory.glob("run.*"):
            fields = path.read_text().split()
            if len(fields) == 2:
                found.append(Run("", float(fields[0]), float(fields[1])))
            elif len(fields) == 3:
                found.append(Run(fields[0], float(fields[1]), float(fields[2])))
        return found


def most_at_once(runs: Iterable[Run]) -> int:
    """The most runs that overlapped. An end sorts before a start at the same instant:
    touching runs did not overlap."""
    events = sorted([(r.start, 1) for r in runs] + [(r.end, -1) for r in runs])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most
