"""Following tasks until every machine is final (or a deadline passes), handing each fresh set
of rows to a callback the moment they are stored: the server's WaitInvocationResults answers
when a task's results change after our cursor; a server without it is polled instead."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from openassist.cli.api_client import ApiCallError, ApiClient
from openassist.cli.outcome import is_final
from openassist.cli.tasks import Row, task_rows

OnRows = Callable[[list[Row]], None]
LONG_WAIT_S = 10  # one waiting call; the client's read timeout (30 s) is well above it


class _Tasks:
    """The rows of each task, read again only when more of its machines have finished (or,
    with ``every_change``, when anything changed: the live counts line shows running ones)."""

    def __init__(
        self,
        client: ApiClient,
        invoke_ids: Sequence[str],
        only: set[str] | None,
        every_change: bool,
    ) -> None:
        self.client, self.only, self.every_change = client, only, every_change
        self.cursors = dict.fromkeys(invoke_ids, 0)
        self.finished = dict.fromkeys(invoke_ids, -1)
        self.rows: dict[str, list[Row] | None] = dict.fromkeys(invoke_ids)

    def _read(self, invoke_id: str) -> list[Row]:
        rows = task_rows(self.client, invoke_id)
        return rows if self.only is None else [r for r in rows if r["InstanceId"] in self.only]

    def all_rows(self) -> list[Row]:
        return [row for rows in self.rows.values() for row in rows or ()]

    def unfinished(self) -> list[str]:
        return [i for i, rows in self.rows.items() if not rows or not all(map(is_final, rows))]

    def _included(self, answer: Row) -> list[Row] | None:
        """The task's rows when the answer carries all of them (IncludeResults: a small task,
        every row visible to us), else None: they are read then."""
        rows = answer.get("InvocationResults", {}).get("InvocationResult")
        if not isinstance(rows, list) or len(rows) != int(answer["InstanceCount"]):
            return None
        return rows if self.only is None else [r for r in rows if r["InstanceId"] in self.only]

    def wait(self, invoke_id: str, wait_s: float) -> None:
        """Block until ``invoke_id``'s results change (or ``wait_s``); re-read them if needed."""
        answer = self.client.call(
            "WaitInvocationResults",
            {
                "InvokeId": invoke_id,
                "Cursor": str(self.cursors[invoke_id]),
                "WaitSeconds": str(max(0, int(wait_s))),
                "IncludeResults": "true",  # a server before it ignores it: the rows are read
            },
        )
        changed = int(answer["Cursor"]) != self.cursors[invoke_id]
        self.cursors[invoke_id] = int(answer["Cursor"])
        finished = int(answer["FinishedCount"])
        if (
            self.rows[invoke_id] is None
            or finished != self.finished[invoke_id]
            or (changed and self.every_change)
        ):
            self.finished[invoke_id] = finished
            included = self._included(answer)
            self.rows[invoke_id] = self._read(invoke_id) if included is None else included

    def read_all(self) -> None:
        for invoke_id in self.rows:
            self.rows[invoke_id] = self._read(invoke_id)


def _unsupported(error: ApiCallError) -> bool:
    """An older server: it does not know the action."""
    return error.code.startswith(("InvalidAction", "UnsupportedAction")) or error.status == 404


def follow(
    client: ApiClient,
    invoke_ids: Sequence[str],
    deadline_s: float,
    on_rows: OnRows,
    only: set[str] | None = None,
    every_change: bool = False,
) -> list[Row]:
    """Until every row is final or ``deadline_s`` passes; the last rows seen (of the ``only``
    instance ids when given). The first rows are read when the server first answers: right
    after RunCommand they are all Pending."""
    end = time.monotonic() + deadline_s
    tasks = _Tasks(client, invoke_ids, only, every_change)
    turn = 0
    while (waiting := tasks.unfinished()) and (left := end - time.monotonic()) > 0:
        # With several tasks (a split run), short waits on each in turn keep all of them live.
        wait_s = min(left, LONG_WAIT_S if len(waiting) == 1 else 1)
        try:
            tasks.wait(waiting[turn % len(waiting)], wait_s)
        except ApiCallError as error:
            if not _unsupported(error):
                raise
            return _poll(client, invoke_ids, end, on_rows, only)
        turn += 1
        on_rows(tasks.all_rows())
    if any(rows is None for rows in tasks.rows.values()):
        tasks.read_all()  # the deadline passed before the server answered about some task
    return tasks.all_rows()


def _poll(
    client: ApiClient,
    invoke_ids: Sequence[str],
    end: float,
    on_rows: OnRows,
    only: set[str] | None,
) -> list[Row]:
    delay = 0.005
    while True:
        rows = [row for i in invoke_ids for row in task_rows(client, i)]
        rows = rows if only is None else [r for r in rows if r["InstanceId"] in only]
        on_rows(rows)
        if (rows and all(map(is_final, rows))) or time.monotonic() > end:
            return rows
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
