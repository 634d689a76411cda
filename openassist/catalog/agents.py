"""The fix for the agent actually installed on the instance.

Catalog solutions name OpenAssist's agent (the ``openassist-agent`` service and its journal).
An instance running the official Cloud Assistant agent (aliyun_assist_client, which reports a
bare version such as ``2.2.3.578``) gets that agent's service and log file instead, and a note
where it behaves differently (docs/agent-protocol.md, "What operators should know").
"""

from __future__ import annotations

from openassist.catalog.fleet import AGENT_LOG
from openassist.protocol.agent_versions import OURS

OFFICIAL_SERVICE = "aliyun"  # its systemd unit (aliyun.service)
OFFICIAL_LOG = "/usr/local/share/aliyun-assist/{version}/log/aliyun_assist_main.log"

OFFICIAL_KILLS_SHELL_ONLY = (
    "The official agent ends a timed-out or stopped run by killing only the `sh` it started: "
    "commands the script left running (background jobs, pipelines) may still run; find them with "
    "`ps -eo pid,pgid,cmd` and end their group with `kill -TERM -PGID`."
)
OFFICIAL_KEEPS_HEAD_AND_TAIL = (
    "The official agent keeps only about the first 4 KB and the last 20 KB of output that "
    "arrives over time (Dropped counts the rest): write long output to a file on the instance."
)
_KILL_CODES = frozenset({"ExecutionTimeout", "TerminationException"})


def is_official(agent_version: str) -> bool:
    """Whether the instance's agent is the official one (an unknown version is taken as ours)."""
    return bool(agent_version) and not agent_version.startswith(OURS)


def solution_for(solution: str, agent_version: str) -> str:
    """``solution`` with the commands and log of the agent that reported ``agent_version``."""
    if not is_official(agent_version):
        return solution
    log = OFFICIAL_LOG.format(version=agent_version)
    return (
        solution.replace(AGENT_LOG, f"the agent log (`{log}`)")
        .replace("`journalctl -u openassist-agent`", f"`tail -n 200 {log}`")
        .replace("openassist-agent", OFFICIAL_SERVICE)
    )


def agent_notes(code: str, dropped: int, agent_version: str) -> list[str]:
    """What the installed agent does that explains this result, if anything."""
    if not is_official(agent_version):
        return []
    notes = [OFFICIAL_KILLS_SHELL_ONLY] if code in _KILL_CODES else []
    if dropped > 0:
        notes.append(OFFICIAL_KEEPS_HEAD_AND_TAIL)
    return notes
