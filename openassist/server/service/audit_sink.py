"""The audit sink: ships committed audit events to a SIEM's file or syslog.

Events are shipped from the store, never from the request: a row is read only once its
transaction committed, written to every outlet, and only then marked ``shipped`` (per row,
not a single high-water sequence: on PostgreSQL a transaction may commit after a later one,
and a cursor past it would skip its event). A crash or an outlet that is down leaves the rows
unshipped, so they go out later: at least once. A crash after an outlet took a batch but
before the mark committed ships that batch again (the same ``eventId``, for the SIEM to
fold); so does a batch one outlet refused (to every outlet, again). A failure recorded on an
already shipped event (the call failed after its first write committed) ships the event again
with its error code.

Several nodes on one PostgreSQL database each ship, and claim per row: one transaction locks
the batch (``FOR UPDATE SKIP LOCKED``, so another node's sink takes the next rows), writes it
to the outlets and marks it. SQLite has one node: it reads, writes out, then marks.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from openassist.server.service.audit_document import event_document
from openassist.server.service.audit_outlets import Line, Outlet, OutletError
from openassist.server.store import audit as store
from openassist.server.store.db import Database

BATCH = 500  # events per read, write and mark
POLL_S = 1.0  # how soon a committed event leaves when nothing is pending
MAX_BACKOFF_S = 30.0  # longest wait between attempts while an outlet is down
log = logging.getLogger(__name__)
# Told each attempt that had events to ship: how many it shipped, or None when it failed.
SinkObserver = Callable[[int | None], None]


def shipped_line(row: store.Unshipped, region: str) -> Line:
    record = row.record
    document = event_document(record, region)
    return Line(
        time_ms=record.event_time,
        name=record.event_name,
        failed=bool(record.error_code),
        text=json.dumps(document, ensure_ascii=True, separators=(",", ":")),
    )


class AuditSink:
    def __init__(
        self,
        db: Database,
        outlets: Sequence[Outlet],
        region: str,
        observe: SinkObserver | None = None,
    ) -> None:
        self._db = db
        self._outlets = list(outlets)
        self._region = region
        self._observe = observe or (lambda _shipped: None)
        # One thread does every outlet call, closing included: a close never races a write
        # still running after its task was cancelled (a reused descriptor would get its bytes).
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="audit-sink")

    async def ship_once(self) -> int:
        """Ship the oldest unshipped events (up to ``BATCH``); returns how many. Raises
        ``OutletError`` when an outlet refused them (they stay to ship)."""
        loop = asyncio.get_running_loop()
        if not self._db.is_sqlite:
            return await loop.run_in_executor(self._thread, self._ship_claimed)
        pending = await self._db.read(lambda conn: store.unshipped(conn, BATCH))
        if not pending:
            return 0
        await loop.run_in_executor(self._thread, self._write_out, pending)
        await self._db.write(lambda conn: store.mark_shipped(conn, pending))
        return len(pending)

    def _ship_claimed(self) -> int:
        """On the sink's thread, in one transaction of its own connection (not a writer
        thread's): claim a batch, write it out, mark it; an outlet that fails rolls it back."""
        with self._db.engine.begin() as conn:
            pending = store.unshipped(conn, BATCH, claim=True)
            if pending:
                self._write_out(pending)
                store.mark_shipped(conn, pending)
        return len(pending)

    def _write_out(self, pending: list[store.Unshipped]) -> None:
        lines = [shipped_line(row, self._region) for row in pending]
        for outlet in self._outlets:
            outlet.write(lines)

    def reopen(self) -> None:
        """Let every outlet go of its file or socket (SIGHUP from logrotate's ``postrotate``):
        on the sink's thread, after any write under way, so none is written to a file it left."""
        self._thread.submit(self._reopen_all)

    def _reopen_all(self) -> None:
        for outlet in self._outlets:
            outlet.reopen()
        log.info("audit sink: reopened on SIGHUP")

    async def run(self) -> None:
        """Ship until cancelled; an outlet that fails is logged and retried with a backoff."""
        backoff = POLL_S
        try:
            while True:
                try:
                    shipped = await self.ship_once()
                except Exception as error:
                    if isinstance(error, OutletError):
                        log.error("audit sink: %s; events wait in the store", error)
                    else:
                        log.exception("audit sink: shipping failed; events wait in the store")
                    self._observe(None)
                    backoff = min(backoff * 2, MAX_BACKOFF_S)
                    await asyncio.sleep(backoff)
                    continue
                if shipped:
                    self._observe(shipped)
                if shipped and backoff > POLL_S:
                    log.info("audit sink: shipping again")
                backoff = POLL_S
                if shipped < BATCH:  # a full batch: more may wait, go on at once
                    await asyncio.sleep(POLL_S)
        finally:
            for outlet in self._outlets:
                self._thread.submit(outlet.close)  # after any write still under way
            self._thread.shutdown(wait=False)
