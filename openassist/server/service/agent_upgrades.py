"""Agent self-upgrade on the server: the packages on offer, the operator's upgrade policy
(AgentUpgradeConfig of ModifyCloudAssistantSettings) and the answer to an update check.

Only our agent is offered packages (they are Python packages); the official agent is told
``need_update: 0``, as before, and keeps its own upgrade channel.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from openassist.catalog import api
from openassist.errors import InvalidParameter
from openassist.expressions.errors import FrequencyError
from openassist.expressions.zones import parse_zone
from openassist.protocol.agent_versions import (
    OURS,
    PACKAGE_GLOB,
    package_version,
    version_key,
)
from openassist.protocol.package_signature import signature_name
from openassist.server.service.clock import utc_now
from openassist.server.service.context import ServiceContext
from openassist.server.store import settings_documents

UPGRADE_CONFIG = "AgentUpgradeConfig"
_WINDOW = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class UpgradeConfig:
    Enabled: bool = False  # False: upgrade whenever a newer package is there
    TimeZone: str = "UTC"
    AllowedUpgradeWindow: tuple[str, ...] = ()  # "HH:mm-HH:mm" in TimeZone, used when Enabled
    BootstrapUpgrade: bool = True
    DisableUpgrade: bool = False  # True: never offer an upgrade


@dataclass(frozen=True)
class AgentPackage:
    version: str
    file_name: str
    path: Path
    sha256: str
    md5: str
    signature: str = ""  # base64, from the .sig file beside it (empty: unsigned, refused)


def zone(name: str) -> tzinfo:
    """An IANA name, UTC, or GMT+H:MM / GMT-H:MM (the expressions' own zone rules)."""
    try:
        return parse_zone(name or "UTC")
    except FrequencyError as error:
        raise InvalidParameter(api.UPGRADE_TIME_ZONE_INVALID, name=name, reason=error) from None


def parse_upgrade_config(text: str) -> UpgradeConfig:
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError
    except ValueError:
        raise InvalidParameter(api.UPGRADE_CONFIG_NOT_OBJECT) from None
    unknown = sorted(set(raw) - set(UpgradeConfig.__dataclass_fields__))
    if unknown:
        raise InvalidParameter(api.UPGRADE_CONFIG_UNKNOWN_FIELD, field=unknown[0])
    windows = raw.get("AllowedUpgradeWindow") or []
    if not isinstance(windows, list) or not all(
        isinstance(w, str) and _WINDOW.fullmatch(w) for w in windows
    ):
        raise InvalidParameter(api.UPGRADE_WINDOW_INVALID)
    config = UpgradeConfig(
        Enabled=bool(raw.get("Enabled", False)),
        TimeZone=str(raw.get("TimeZone") or "UTC"),
        AllowedUpgradeWindow=tuple(windows),
        BootstrapUpgrade=bool(raw.get("BootstrapUpgrade", True)),
        DisableUpgrade=bool(raw.get("DisableUpgrade", False)),
    )
    zone(config.TimeZone)  # refuses an unknown zone now, not at the next update check
    return config


def upgrade_allowed(config: UpgradeConfig, now: datetime) -> bool:
    if config.DisableUpgrade:
        return False
    if not config.Enabled or not config.AllowedUpgradeWindow:
        return True
    local = now.astimezone(zone(config.TimeZone))
    minute = local.hour * 60 + local.minute
    for window in config.AllowedUpgradeWindow:
        match = _WINDOW.fullmatch(window)
        assert match is not None  # checked when the config was taken
        start = int(match.group(1)) * 60 + int(match.group(2))
        end = int(match.group(3)) * 60 + int(match.group(4))
        inside = start <= minute < end if start <= end else (minute >= start or minute < end)
        if inside:
            return True
    return False


class AgentUpgradeService:
    def __init__(self, context: ServiceContext, packages_dir: Path, check_interval_s: int) -> None:
        self._ctx = context
        self._dir = packages_dir
        self.check_interval_s = check_interval_s
        self._digests: dict[tuple[str, int, int], tuple[str, str]] = {}

    async def config(self) -> UpgradeConfig:
        text = await self._ctx.db.read(
            lambda conn: settings_documents.get_document(conn, UPGRADE_CONFIG)
        )
        return parse_upgrade_config(text) if text else UpgradeConfig()

    async def set_config(self, config: UpgradeConfig) -> None:
        document = json.dumps(asdict(config))
        now = self._ctx.clock.now_ms()
        await self._ctx.db.write(
            lambda conn: settings_documents.put_document(conn, UPGRADE_CONFIG, document, now)
        )

    def newest_package(self) -> AgentPackage | None:
        found: list[tuple[tuple[int, ...], Path, str]] = []
        for path in self._dir.glob(PACKAGE_GLOB) if self._dir.is_dir() else ():
            version = package_version(path.name)
            if version:
                found.append((version_key(version), path, version))
        if not found:
            return None
        _key, path, version = max(found)
        sha256, md5 = self._digest(path)
        signature_file = path.with_name(signature_name(path.name))
        signature = signature_file.read_text().strip() if signature_file.is_file() else ""
        return AgentPackage(version, path.name, path, sha256, md5, signature)

    def _digest(self, path: Path) -> tuple[str, str]:
        status = path.stat()
        key = (path.name, status.st_mtime_ns, status.st_size)
        if key not in self._digests:
            data = path.read_bytes()
            digests = (hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest())  # noqa: S324 (the official field)
            self._digests[key] = digests
        return self._digests[key]

    async def offer(self, agent_version: str) -> AgentPackage | None:
        """The package to offer an agent reporting ``agent_version`` now, if any."""
        if not agent_version.startswith(OURS):
            return None
        running = version_key(agent_version[len(OURS) :])
        if not running:
            return None
        # A directory scan, and on a new package a read to hash it: off the event loop.
        package = await asyncio.to_thread(self.newest_package)
        if package is None or version_key(package.version) <= running:
            return None
        if not upgrade_allowed(await self.config(), utc_now(self._ctx.clock)):
            return None
        return package

    def package_bytes(self, file_name: str) -> bytes | None:
        package = self.newest_package()
        if package is None or package.file_name != file_name:
            return None  # only the package on offer is served, never another path
        return package.path.read_bytes()
