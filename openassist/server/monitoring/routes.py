"""``/metrics``, ``/healthz`` and ``/readyz``: for Prometheus and for load balancers.

None of them needs a signature. Prometheus cannot sign ACS requests, and what these pages show
is aggregate counts and timings with no identifier, secret or per-instance label; an operator
who wants them private moves /metrics to a listener of its own (the ``metrics`` setting) on an
address only the monitoring network reaches, or turns it off.
"""

from __future__ import annotations

import asyncio
import logging

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openassist.server.monitoring.metrics import CONTENT_TYPE, ServerMetrics
from openassist.server.service.clock import Clock
from openassist.server.store import tallies
from openassist.server.store.db import Database

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 5.0  # a database that takes longer to answer counts as unreachable


class Monitoring:
    def __init__(
        self, db: Database, metrics: ServerMetrics, clock: Clock, online_window_ms: int
    ) -> None:
        self._db = db
        self._metrics = metrics
        self._clock = clock
        self._window_ms = online_window_ms
        self._heads = Database.head_revisions()

    def health_routes(self) -> list[Route]:
        return [
            Route("/healthz", self.healthz, methods=["GET", "HEAD"]),
            Route("/readyz", self.readyz, methods=["GET", "HEAD"]),
        ]

    def metrics_routes(self) -> list[Route]:
        return [Route("/metrics", self.metrics, methods=["GET"])]

    async def healthz(self, _request: Request) -> Response:
        """The process is alive and its event loop answers."""
        return Response(b"ok\n", media_type="text/plain")

    async def readyz(self, _request: Request) -> Response:
        """Ready when the database answers and carries this release's newest migration."""
        try:
            found = await asyncio.wait_for(self._db.read(tallies.schema_revisions), READY_TIMEOUT_S)
        except Exception as error:  # any failure to reach the database: not ready
            log.warning("readiness: the database did not answer: %s", error)
            return _answer(503, database=f"unreachable ({type(error).__name__})")
        if found != self._heads:
            return _answer(
                503,
                database="reachable",
                migrations=f"database at {_list(found)}, this release needs {_list(self._heads)}",
            )
        return _answer(200, database="reachable", migrations=f"current ({_list(found)})")

    async def metrics(self, _request: Request) -> Response:
        body = await self._metrics.exposition(self._db, self._clock.now_ms(), self._window_ms)
        return Response(body, media_type=CONTENT_TYPE)


def _list(revisions: set[str]) -> str:
    return ", ".join(sorted(revisions)) or "none"


def _answer(status: int, **checks: str) -> Response:
    body = msgspec.json.encode({"ready": status == 200, **checks})
    return Response(body, status, media_type="application/json")
