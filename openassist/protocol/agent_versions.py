"""Which agent versions can do what. Our agent reports ``openassist-X.Y.Z``; the official agent
its own ``A.B.C.D``. A task that needs a feature an agent's version lacks gets ClientNeedUpgrade
instead of a failure the agent could not explain."""

from __future__ import annotations

OURS = "openassist-"

# feature -> (first OpenAssist agent version, first official agent version or None if unknown)
FEATURES: dict[str, tuple[str, str | None]] = {
    "container": ("0.2.0", None),  # ContainerId / ContainerName
    "schedule": ("0.2.0", "2.2.3.282"),  # rate(...) / at(...) / time zones in Frequency
}


def version_key(version: str) -> tuple[int, ...]:
    parts = version.split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else ()


def upgrade_needed(agent_version: str, feature: str) -> str | None:
    """The version that brings ``feature`` when ``agent_version`` is older; None when it is
    new enough or its version is unknown (an unknown version is given the benefit of doubt)."""
    ours, official = FEATURES[feature]
    if agent_version.startswith(OURS):
        needed: str | None = ours
        running = version_key(agent_version[len(OURS) :])
    else:
        needed, running = official, version_key(agent_version)
    if needed is None or not running or running >= version_key(needed):
        return None
    return f"{OURS}{needed}" if agent_version.startswith(OURS) else needed


# Our agent's upgrade packages: ``openassist-agent-<version>.zip`` (cli ``agent package`` makes
# them, the server offers the newest, the agent installs one).
PACKAGE_GLOB = "openassist-agent-*.zip"
_PACKAGE_PREFIX, _PACKAGE_SUFFIX = "openassist-agent-", ".zip"


def package_name(version: str) -> str:
    return f"{_PACKAGE_PREFIX}{version}{_PACKAGE_SUFFIX}"


def package_version(file_name: str) -> str | None:
    """The version a package's file name carries; None for any other name."""
    if not (file_name.startswith(_PACKAGE_PREFIX) and file_name.endswith(_PACKAGE_SUFFIX)):
        return None
    version = file_name[len(_PACKAGE_PREFIX) : -len(_PACKAGE_SUFFIX)]
    return version if version_key(version) else None
