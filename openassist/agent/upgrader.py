"""The agent's update checks, and the switch to a newer version when the server offers one.

While it upgrades the agent tells the server (heartbeat ``upgrading=<version>``, so new tasks
get ClientIsUpgrading), takes no new task and lets running ones finish; when they do not finish
within ``drain_s`` it gives up this round and says so with a normal heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from openassist.agent import start_guard, upgrade
from openassist.agent.channel import Channel, ChannelError
from openassist.protocol import agent as wire

log = logging.getLogger("openassist.agent")

FIRST_CHECK_S = 1.0
RETRY_S = 60.0


class Upgrader:
    def __init__(
        self,
        channel: Channel,
        state_dir: Path,
        busy: Callable[[], bool],
        drain_s: float = 600.0,
        ca_path: Path | None = None,
    ) -> None:
        self._channel = channel
        self._state_dir = state_dir
        self._ca_path = ca_path or state_dir / "ca.pem"
        self._busy = busy
        self._drain_s = drain_s
        self.upgrading = False

    async def run(self) -> tuple[str, Path]:
        """Check now and then at the server's interval; returns (version, directory) once a
        newer version is installed and the agent should restart into it."""
        await asyncio.sleep(FIRST_CHECK_S)
        while True:
            try:
                offer = await self._channel.update_check()
            except ChannelError as error:
                log.info("update check failed: %s", error)
                await asyncio.sleep(RETRY_S)
                continue
            if offer.need_update:
                installed = await self._upgrade(offer.update_info)
                if installed is not None:
                    return installed
            await asyncio.sleep(max(offer.next_interval, 1))

    async def _upgrade(self, info: wire.UpdateInfo) -> tuple[str, Path] | None:
        try:
            version = upgrade.package_version(info.file_name)
        except upgrade.PackageRefused as refused:
            log.warning("update offer ignored: %s", refused)
            return None
        if not upgrade.is_newer(version):
            return None
        if start_guard.is_bad(self._state_dir, version):
            return None  # it failed to start here before: never again
        self.upgrading = True
        installed: tuple[str, Path] | None = None
        try:
            await self._channel.heartbeat(upgrading=version)
            if await self._drained():
                data = await self._channel.download(info.file_name)
                await asyncio.to_thread(
                    upgrade.verify_signature, self._ca_path, info.file_name, data, info.signature
                )
                directory = await asyncio.to_thread(
                    upgrade.install, self._state_dir, info.file_name, data, info.sha256
                )
                installed = (version, directory)
                log.info("agent %s installed; restarting into it", version)
            else:
                log.warning("upgrade to %s postponed: tasks still running", version)
        except (ChannelError, upgrade.PackageRefused, OSError) as error:
            log.warning("upgrade to %s failed: %s", version, error)
        if installed is None:
            self.upgrading = False
            await self._clear()
        return installed

    async def _drained(self) -> bool:
        deadline = time.monotonic() + self._drain_s
        while self._busy():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.2)
        return True

    async def _clear(self) -> None:
        try:
            await self._channel.heartbeat()  # upgrading no more: the server takes tasks again
        except ChannelError as error:
            log.info("could not tell the server the upgrade was called off: %s", error)
