"""The self-upgrade crash-loop guard: a version that fails to start is given up.

Each start of an installed version is noted (``versions/starts.json``) just before the agent
execs into it; its first heartbeat that the server takes clears the notes. A version with
``START_ATTEMPTS`` notes within ``START_WINDOW_S`` has failed to start that often (a service
manager restarted it each time): it is marked bad (``versions/bad.json``), never installed
again, and the agent falls back to the version it ran before (or to its own installed code).
Why is kept in ``versions/fallback`` and sent with heartbeats until the server has it.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from openassist.agent import clock

log = logging.getLogger("openassist.agent")

START_ATTEMPTS = 3
START_WINDOW_S = 600.0


def _versions(state_dir: Path) -> Path:
    return state_dir / "versions"


def _read(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _write(path: Path, value: object) -> None:
    """Replace ``path`` whole (a crash leaves the old or the new content, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    with open(partial, "w") as handle:
        handle.write(json.dumps(value) if not isinstance(value, str) else value)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)


def _recent(state_dir: Path, version: str, now: float) -> list[float]:
    starts = _read(_versions(state_dir) / "starts.json").get(version, [])
    return [t for t in starts if isinstance(t, int | float) and now - t < START_WINDOW_S]


def note_start(state_dir: Path, version: str) -> None:
    """About to exec into ``version``."""
    now = clock.now_s()
    _write(
        _versions(state_dir) / "starts.json", {version: [*_recent(state_dir, version, now), now]}
    )


def started_well(state_dir: Path, version: str) -> None:
    """``version`` is up: the server took its heartbeat."""
    path = _versions(state_dir) / "starts.json"
    if version in _read(path):
        path.unlink(missing_ok=True)


def crash_looping(state_dir: Path, version: str) -> bool:
    return len(_recent(state_dir, version, clock.now_s())) >= START_ATTEMPTS


def is_bad(state_dir: Path, version: str) -> bool:
    return version in _read(_versions(state_dir) / "bad.json")


def remember_previous(state_dir: Path, version: str) -> None:
    """Before ``versions/current`` names a new version: what it named, to fall back to."""
    _write(_versions(state_dir) / "previous", version + "\n")


def fall_back(state_dir: Path, version: str) -> str:
    """Mark ``version`` bad and make the previous version current again (or none: the agent's
    own installed code); returns why, as the heartbeat says it."""
    versions = _versions(state_dir)
    reason = (
        f"agent {version} failed to start {START_ATTEMPTS} times within {START_WINDOW_S:.0f} s; "
    )
    bad = _read(versions / "bad.json")
    bad[version] = reason.rstrip("; ")
    _write(versions / "bad.json", bad)
    try:
        previous = (versions / "previous").read_text().strip()
    except OSError:
        previous = ""
    usable = (
        previous
        and previous != version
        and not is_bad(state_dir, previous)
        and (versions / previous / "openassist" / "__init__.py").is_file()
    )
    if usable:
        _write(versions / "current", previous + "\n")
        reason += f"back to {previous}"
    else:
        (versions / "current").unlink(missing_ok=True)
        reason += "back to the installed agent"
    (versions / "starts.json").unlink(missing_ok=True)
    _write(versions / "fallback", reason)
    log.error("%s", reason)
    return reason


def fallback_report(state_dir: Path) -> str:
    """Why the agent fell back, until the server has been told (empty: nothing to tell)."""
    try:
        return (_versions(state_dir) / "fallback").read_text().strip()
    except OSError:
        return ""


def reported(state_dir: Path) -> None:
    (_versions(state_dir) / "fallback").unlink(missing_ok=True)
