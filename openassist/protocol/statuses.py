"""Closed sets of the ECS Cloud Assistant API (API.md section 2)."""

from __future__ import annotations

from enum import StrEnum


class CommandType(StrEnum):
    RUN_SHELL_SCRIPT = "RunShellScript"
    RUN_BAT_SCRIPT = "RunBatScript"
    RUN_POWERSHELL_SCRIPT = "RunPowerShellScript"


class RepeatMode(StrEnum):
    ONCE = "Once"
    PERIOD = "Period"
    NEXT_REBOOT_ONLY = "NextRebootOnly"
    EVERY_REBOOT = "EveryReboot"
    DRY_RUN = "DryRun"


class InstanceStatus(StrEnum):
    """Per-instance ``InvocationStatus`` (API.md 2.4)."""

    PENDING = "Pending"
    SCHEDULED = "Scheduled"
    RUNNING = "Running"
    STOPPING = "Stopping"
    SUCCESS = "Success"
    FAILED = "Failed"
    INVALID = "Invalid"
    ABORTED = "Aborted"
    ERROR = "Error"
    TIMEOUT = "Timeout"
    CANCELLED = "Cancelled"
    TERMINATED = "Terminated"

    @property
    def is_final(self) -> bool:
        return self not in _ACTIVE


_ACTIVE = frozenset(
    {
        InstanceStatus.PENDING,
        InstanceStatus.SCHEDULED,
        InstanceStatus.RUNNING,
        InstanceStatus.STOPPING,
    }
)


class InvocationStatus(StrEnum):
    """Overall ``InvocationStatus`` of a task (API.md 2.5)."""

    PENDING = "Pending"
    SCHEDULED = "Scheduled"
    RUNNING = "Running"
    STOPPING = "Stopping"
    SUCCESS = "Success"
    FAILED = "Failed"
    STOPPED = "Stopped"
    PARTIAL_FAILED = "PartialFailed"

    @property
    def is_final(self) -> bool:
        return self.value not in _ACTIVE_OVERALL


_ACTIVE_OVERALL = frozenset({"Pending", "Scheduled", "Running", "Stopping"})


class InvokeRecordStatus(StrEnum):
    """Status of one run (API.md 2.7)."""

    RUNNING = "Running"
    FINISHED = "Finished"
    FAILED = "Failed"
    PARTIAL_FAILED = "PartialFailed"
    STOPPED = "Stopped"
    STOPPING = "Stopping"


class TerminationMode(StrEnum):
    PROCESS = "Process"
    PROCESS_TREE = "ProcessTree"
