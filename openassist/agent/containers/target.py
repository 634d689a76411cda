"""Which container a task names: its ContainerId / ContainerName checked, the runtime chosen,
and the one container picked from the engine's list, or the catalog code saying why not.

Matching: an id matches the container whose id starts with it (``docker ps`` prints 12 digits);
a name matches the runtime name (without Docker's leading '/') or the Kubernetes container name
(label ``io.kubernetes.container.name``), so one name can match containers of several pods.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from openassist.agent.tasks import Unrunnable
from openassist.protocol.reports import ReportKind

RUNTIMES = ("docker", "containerd", "cri-o")
# Where a CRI runtime listens (the official agent looks at the same places).
CRI_SOCKETS = {
    "containerd": ("/run/containerd/containerd.sock",),
    "cri-o": ("/run/crio/crio.sock", "/var/run/crio/crio.sock"),
}
K8S_NAME_LABEL = "io.kubernetes.container.name"
_HEX_ID = re.compile(r"[0-9a-f]{1,64}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


@dataclass(frozen=True)
class Wanted:
    runtime: str  # "docker", "containerd" or "cri-o"; "" when the id did not say
    container_id: str  # lowercase hex, a prefix of the full id, or ""
    name: str


@dataclass(frozen=True)
class Container:
    id: str
    name: str
    state: str


def invalid(code: str, info: str) -> Unrunnable:
    return Unrunnable(ReportKind.INVALID, code, f"{code}: {info}")


def connect_failed(info: str) -> Unrunnable:
    # An Error, not Invalid: the runtime being unreachable is the instance's trouble.
    info = f"ContainerConnectFailed: {info}"
    return Unrunnable(ReportKind.ERROR, "ContainerConnectFailed", info)


def wanted(container_id: str, container_name: str) -> Wanted:
    """The task's container, checked; raises Unrunnable for a malformed one."""
    runtime, separator, bare = container_id.rpartition("://")
    if separator and runtime not in RUNTIMES:
        raise invalid(
            "UnsupportedContainerRuntime",
            f"the runtime {runtime!r} of {container_id} is not one of {', '.join(RUNTIMES)}",
        )
    if container_id and not _HEX_ID.fullmatch(bare.lower()):
        raise invalid("InvalidContainerId", f"{container_id!r} is not a hexadecimal container id")
    name = container_name.removeprefix("/")
    if container_name and not _NAME.fullmatch(name):
        raise invalid(
            "InvalidContainerName",
            f"{container_name!r} must start with a letter or digit and hold only letters, "
            "digits, '.', '_' and '-'",
        )
    return Wanted(runtime, bare.lower(), name)


def cri_socket(runtime: str) -> str | None:
    """The socket of a CRI runtime present on this instance (any, for ``runtime`` "")."""
    for name, paths in CRI_SOCKETS.items():
        if runtime in ("", name):
            for path in paths:
                if os.path.exists(path):
                    return path
    return None


def _summary(entry: dict[str, Any]) -> Container:
    names = [str(n).removeprefix("/") for n in entry.get("Names") or []]
    return Container(str(entry.get("Id", "")), names[0] if names else "", str(entry.get("State")))


def _named(entry: dict[str, Any], name: str) -> bool:
    names = {str(n).removeprefix("/") for n in entry.get("Names") or []}
    labels = entry.get("Labels") or {}
    return name in names or labels.get(K8S_NAME_LABEL) == name


def pick(entries: list[dict[str, Any]], want: Wanted) -> Container:
    """The one running container of the engine's list that the task names; raises Unrunnable
    (ContainerNotFound, ContainerNameDuplicated, ContainerNameAndIdNotMatch, InvalidContainerId
    for an id prefix shared by several, ContainerStateAbnormal)."""
    by_id = [
        e for e in entries if want.container_id and str(e.get("Id")).startswith(want.container_id)
    ]
    by_name = [e for e in entries if want.name and _named(e, want.name)]
    what = want.container_id or want.name
    if want.container_id and len(by_id) > 1:
        raise invalid(
            "InvalidContainerId",
            f"the id prefix {want.container_id} matches {len(by_id)} containers; give the full id",
        )
    found = by_id if want.container_id else by_name
    if not found:
        raise invalid("ContainerNotFound", f"no container {what} on this instance")
    if want.container_id and want.name and found[0] not in by_name:
        raise invalid(
            "ContainerNameAndIdNotMatch",
            f"the container {want.container_id} is named {_summary(found[0]).name}, "
            f"not {want.name}",
        )
    if len(found) > 1:
        ids = ", ".join(_summary(e).id[:12] for e in found)
        raise invalid(
            "ContainerNameDuplicated",
            f"{len(found)} containers are named {want.name} ({ids}); give ContainerId instead",
        )
    chosen = _summary(found[0])
    if chosen.state != "running":
        raise invalid(
            "ContainerStateAbnormal",
            f"the container {chosen.name or chosen.id[:12]} is {chosen.state}, not running",
        )
    return chosen
