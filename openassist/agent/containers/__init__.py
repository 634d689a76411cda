"""Running scripts inside containers (ContainerId / ContainerName): the container found through
the Docker Engine API on its unix socket, the script run in an exec of it with the host runner's
output, timeout and stop handling. Standard library only, like the rest of the agent.

CRI runtimes (containerd, cri-o) speak gRPC, which the agent does not carry: a task for one is
answered ContainerConnectFailed, naming the socket found and what is missing.
"""

from openassist.agent.containers.run import ContainerRun, find_container

__all__ = ["ContainerRun", "find_container"]
