"""The shape of a catalog entry and the closed sets it uses."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from openassist.protocol.statuses import InstanceStatus


class Phase(StrEnum):
    """Where in a task's life the failure happens."""

    DELIVERY = "delivery"  # before the agent has the task: reachability, registration, version
    PREPARATION = "preparation"  # the agent has it but cannot set up the run: content, user, dir
    EXECUTION = "execution"  # the script was started
    SCHEDULE = "schedule"  # the Frequency of a timed task
    CONTAINER = "container"  # running inside a container
    WINDOWS_USER = "windows_user"  # running as a non-System Windows user
    STOP = "stop"  # StopInvocation
    SEND_FILE = "send_file"  # SendFile


class Source(StrEnum):
    """Who writes the code on the per-instance row."""

    SERVER = "server"  # the server decides (presence, sweeper, inventory)
    AGENT = "agent"  # the agent reports it
    API = "api"  # the server's API front end, while creating the task


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One per-instance error code.

    ``retryable`` means that sending the same request again, unchanged, may succeed once a
    transient condition clears (connectivity, restart, upgrade, load); False means someone must
    change the request or the instance first.
    ``legacy_info`` is the lower-case ErrorInfo text older clients saw (API.md 2.13, 5.12).
    """

    code: str
    phase: Phase
    status: InstanceStatus
    message: str
    solution: str
    retryable: bool
    source: Source
    legacy_info: str | None = None
