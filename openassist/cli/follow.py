"""Follow tasks and show their machines as they finish; Ctrl-C leaves them running."""

from __future__ import annotations

from collections.abc import Sequence

from openassist.cli.api_client import ApiClient
from openassist.cli.interrupt import interrupted
from openassist.cli.live import Presenter
from openassist.cli.watch import follow


def follow_and_show(
    client: ApiClient,
    invoke_ids: Sequence[str],
    presenter: Presenter,
    deadline_s: float,
    only: set[str] | None = None,
) -> int:
    """Show rows as they finish until all are final; ``only``: these instance ids' rows."""
    try:
        rows = follow(client, invoke_ids, deadline_s, presenter.update, only, presenter.live)
    except KeyboardInterrupt:
        presenter.clear_counts()
        return interrupted(client, invoke_ids)
    return presenter.finish(invoke_ids, rows)
