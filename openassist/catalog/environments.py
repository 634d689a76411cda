"""Codes about where the script runs: inside a container, or as a non-System Windows user."""

from __future__ import annotations

from openassist.catalog.model import CatalogEntry, Phase, Source
from openassist.protocol.statuses import InstanceStatus as S

_LIST = "`docker ps --no-trunc` or `crictl ps -a`"


def _container(code: str, message: str, solution: str, *, retryable: bool = False) -> CatalogEntry:
    # Invalid: the ContainerId/ContainerName does not designate a usable container here.
    # The one exception, a runtime that cannot be reached, is an Error (see below).
    return CatalogEntry(
        code=code,
        phase=Phase.CONTAINER,
        status=S.ERROR if retryable else S.INVALID,
        message=message,
        solution=solution,
        retryable=retryable,
        source=Source.AGENT,
    )


def _windows(code: str, message: str, solution: str, source: Source) -> CatalogEntry:
    return CatalogEntry(
        code=code,
        phase=Phase.WINDOWS_USER,
        status=S.INVALID,
        message=message,
        solution=solution,
        retryable=False,
        source=source,
    )


ENTRIES: tuple[CatalogEntry, ...] = (
    _container(
        "InvalidContainerName",
        "The container name is invalid.",
        "The container name must start with a letter or digit, contain only letters, digits, "
        "`.`, `_` and `-`, and be at most 255 characters long.",
    ),
    _container(
        "UnsupportedContainerRuntime",
        "The container runtime included in the container ID is not supported.",
        "Only docker, containerd and cri-o containers are supported; prefix the 64-hex "
        "ContainerId with `docker://`, `containerd://` or `cri-o://`, or give it without a prefix.",
    ),
    _container(
        "InvalidContainerId",
        "The container ID is invalid.",
        f"Pass the full 64-character hexadecimal id, as printed by {_LIST}, optionally prefixed "
        "with `docker://`, `containerd://` or `cri-o://`.",
    ),
    _container(
        "ContainerConnectFailed",
        "Cannot connect to the container.",
        "The agent reaches containers through the Docker Engine API on its unix socket "
        "(/var/run/docker.sock, or the path in OPENASSIST_AGENT_DOCKER_SOCKET or "
        "DOCKER_HOST=unix://... of the agent's service). Check that dockerd runs "
        "(`systemctl status docker`) and that the agent can open that socket, then run the "
        "command again. Containers managed by containerd or cri-o alone (CRI, no Docker) "
        "cannot be reached by the OpenAssist agent; ErrorInfo names the socket it found.",
        # Error: the runtime being down is an environment failure, not a bad parameter.
        retryable=True,
    ),
    _container(
        "ContainerStateAbnormal",
        "The container status is abnormal.",
        f"Commands run only in running containers. Check its state with {_LIST} and start it "
        "(`docker start NAME`) before running the command.",
    ),
    _container(
        "ContainerNotFound",
        "The container does not exist.",
        f"No container with that id or name exists on the instance; list them with {_LIST} "
        "(or `kubectl get pods -o wide` to find the node) and pass an existing one.",
    ),
    _container(
        "ContainerNameDuplicated",
        "The node has containers with the same name. The container on which to run the command "
        "cannot be identified.",
        "Several containers on the instance answer to this name (Kubernetes gives the "
        "container of every replica of a pod the same name); pass ContainerId instead "
        f"(see {_LIST}).",
    ),
    _container(
        "ContainerNameAndIdNotMatch",
        "The container ID and container name do not match.",
        f"The ContainerId and ContainerName name different containers. Check both with {_LIST}, "
        "or pass only one of them.",
    ),
    _windows(
        "UserOrPasswordInvalid",
        "The username or password is incorrect.",
        "Windows refused the logon. Check that Username exists on the instance and that the "
        "secret parameter named by WindowsPasswordName holds its current password (update it with "
        "the server's parameter store), and that the account is not locked or disabled.",
        Source.AGENT,
    ),
    _windows(
        "QueryParameterStoreFailed",
        "Failed to pull parameters from Parameter Store.",
        "A parameter the task needs could not be read: the secret named by WindowsPasswordName, "
        "or a {{oos:NAME}} / {{oos-secret:NAME}} in the command, was deleted after the task was "
        "created, or the server's parameter store key no longer opens it. Check it exists "
        "(`openassist ecs GetSecretParameter --Name NAME` or GetParameter), recreate it if needed, "
        "then run the command again.",
        Source.SERVER,
    ),
    _windows(
        "InstanceRoleInvalid",
        "The instance role is not granted to the instance.",
        "The instance is not allowed to read the password parameter. See the parameter access "
        "rules configured on the server and grant this instance (or its group) read access to "
        "the parameter named by WindowsPasswordName.",
        Source.SERVER,
    ),
)
