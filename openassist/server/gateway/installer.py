"""The one-line agent install: ``/agent/install.sh`` and the package it fetches, on the agent
gateway port (TLS), without a signature: a machine that is not registered yet has no key.

The script is ``install.sh`` beside this module with this server's address (as the client
reached it), its CA certificate and the package on offer (name and SHA-256) filled in; the
package is the one self-upgrade offers (``openassist agent package``), public code.
"""

from __future__ import annotations

import asyncio
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from openassist.server.service.agent_upgrades import AgentUpgradeService


class AgentInstaller:
    def __init__(self, upgrades: AgentUpgradeService, ca_pem: str) -> None:
        self._upgrades = upgrades
        self._ca_pem = ca_pem.strip()
        self._template = resources.files(__package__).joinpath("install.sh").read_text()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/agent/install.sh", self.script, methods=["GET"]),
            Route("/agent/packages/{file_name}", self.package, methods=["GET"]),
        ]

    async def script(self, request: Request) -> Response:
        package = await asyncio.to_thread(self._upgrades.newest_package)
        if package is None:
            return Response(
                b"the server offers no agent package: make one with "
                b"`openassist agent package --out <data-dir>/agent-packages`\n",
                404,
                media_type="text/plain",
            )
        text = (
            self._template.replace("@SERVER@", request.url.netloc)
            .replace("@PACKAGE@", package.file_name)
            .replace("@SHA256@", package.sha256)
            .replace("@CA@", self._ca_pem)
        )
        return Response(text, media_type="text/x-shellscript")

    async def package(self, request: Request) -> Response:
        data = await asyncio.to_thread(
            self._upgrades.package_bytes, request.path_params["file_name"]
        )
        if data is None:
            return Response(b"no such agent package on offer\n", 404, media_type="text/plain")
        return Response(data, media_type="application/zip")
