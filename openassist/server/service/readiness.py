"""Can an instance's agent take a task now? The catalog code when it cannot: gone, down,
refused, offline, upgrading, or too old for what the task needs."""

from __future__ import annotations

from collections.abc import Iterable

from openassist.protocol.agent_versions import upgrade_needed
from openassist.server.store.records import AgentState, Instance, RegistrationState

# An agent away for these reasons may come back: a task given a DeliveryDeadline waits for it.
QUEUED_WHILE = frozenset(
    {"InstanceNotRunning", "ClientNotRunning", "ClientNotOnline", "ClientIsUpgrading"}
)


# Taken out of the inventory: such an instance never takes a task again.
GONE = frozenset({"InstanceDeregistered", "InstanceReleased"})


def agent_absence_code(instance: Instance, now: int, online_window_ms: int) -> str | None:
    """Why the agent cannot take a task now, as a catalog code; None when it is online."""
    if instance.registration_state is RegistrationState.DEREGISTERED:
        return "InstanceDeregistered"
    if instance.registration_state is RegistrationState.RELEASED:
        return "InstanceReleased"
    if instance.agent_state is AgentState.SHUTDOWN:
        return "InstanceNotRunning"
    denied = instance.access_denied_at
    if denied is not None and (instance.last_heartbeat_at or 0) <= denied:
        return "SecurityGroupRuleDenied"
    if instance.last_heartbeat_at is None or instance.agent_state is AgentState.STOPPED:
        return "ClientNotRunning"
    if now - instance.last_heartbeat_at > online_window_ms:
        return "ClientNotOnline"
    if instance.agent_state is AgentState.UPGRADING:
        return "ClientIsUpgrading"
    return None


def absence_info(instance: Instance, code: str | None) -> str:
    if code == "InstanceDeregistered":
        return f"the managed instance {instance.id} was deregistered; register it again to use it."
    if code == "InstanceReleased":
        return f"the managed instance {instance.id} was deleted from the inventory."
    if code == "SecurityGroupRuleDenied":
        return (
            f"the agent of {instance.id} was refused by the server's agent access rules "
            "(allowed networks, or its activation's address range)."
        )
    if code == "InstanceNotRunning":
        return f"the agent of {instance.id} reported that the machine is shutting down."
    if code == "ClientNotRunning" and instance.agent_state is AgentState.STOPPED:
        return f"the agent of {instance.id} said goodbye when its service stopped."
    if code == "ClientNotRunning":
        return f"the agent of {instance.id} has never connected to this server."
    if code == "ClientIsUpgrading":
        return (
            f"the agent of {instance.id} is replacing itself with a newer version; run the "
            "command again in a minute."
        )
    if code == "ClientNotOnline":
        return f"the agent of {instance.id} has not sent a heartbeat for more than two minutes."
    return ""


def missing_feature(instance: Instance, features: Iterable[str]) -> str | None:
    """ClientNeedUpgrade's ErrorInfo when the agent's version lacks one of ``features``."""
    for feature in features:
        needed = upgrade_needed(instance.agent_version, feature)
        if needed:
            return (
                f"the task needs {feature} support, which agent {instance.agent_version} of "
                f"{instance.id} lacks; upgrade the agent to {needed} or newer."
            )
    return None
