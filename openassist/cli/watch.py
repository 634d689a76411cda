"""Following tasks until every machine is final (or a deadline passes), handing each fresh
set of rows to a callback, so results can be shown the moment they are stored."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from openassist.cli.api_client import ApiClient
from openassist.cli.outcome import is_final
from openassist.cli.tasks import Row, task_rows

OnRows = Callable[[list[Row]], None]


def _all_rows(
    client: ApiClient, invoke_ids: Sequence[str], only: set[str] | None = None
) -> list[Row]:
    rows = [row for invoke_id in invoke_ids for row in task_rows(client, invoke_id)]
    return rows if only is None else [r for r in rows if r["InstanceId"] in only]


def follow(
    client: ApiClient,
    invoke_ids: Sequence[str],
    deadline_s: float,
    on_rows: OnRows,
    only: set[str] | None = None,
) -> list[Row]:
    """Poll until every row is final or ``deadline_s`` passes; the last rows seen (of the
    ``only`` instance ids when given)."""
    delay, end = 0.005, time.monotonic() + deadline_s
    while True:
        rows = _all_rows(client, invoke_ids, only)
        on_rows(rows)
        if (rows and all(is_final(r) for r in rows)) or time.monotonic() > end:
            return rows
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
