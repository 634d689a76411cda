"""A task's results as a table: what the query string asks for (tab, search, sort, page, view),
the links that change one of them (sortable headers, pager, view switch), and the page of rows
or groups that templates/results_table.html draws (a task's page and a split run's alike)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from openassist.catalog import ENTRIES
from openassist.server.console import display
from openassist.server.service.guard import Guard
from openassist.server.service.task_tables import TaskTableService
from openassist.server.store.task_rows import SORTS, OutputGroup, ResultLine, RowQuery

ROWS_PER_PAGE = 50
GROUPS_PER_PAGE = 20
VIEWS = ("table", "groups")
COLUMNS = (
    ("name", "Machine"),
    ("status", "Status"),
    ("exit_code", "Exit code"),
    ("duration", "Duration"),
    ("output", "First line of output, or error code"),
)


@dataclass(frozen=True)
class TableAsk:
    """The table's state, read from the query string (anything unknown falls back)."""

    tab: str  # an outcome key, or "all"
    search: str
    sort: str
    descending: bool
    page: int  # from 1
    view: str
    same_as: str

    def rows(self, *invoke_ids: str) -> RowQuery:
        per_page = GROUPS_PER_PAGE if self.view == "groups" else ROWS_PER_PAGE
        statuses = None
        if self.tab != "all":
            outcome = next(o for o in display.OUTCOMES if o.key == self.tab)
            statuses = tuple(sorted(s.value for s in outcome.statuses))
        return RowQuery(
            invoke_ids=invoke_ids,
            statuses=statuses,
            search=self.search,
            same_as=self.same_as,
            sort=self.sort,
            descending=self.descending,
            offset=(self.page - 1) * per_page,
            limit=per_page,
        )

    def params(self, **changes: str | int) -> dict[str, str]:
        """The query string of this state with ``changes``; defaults are left out."""
        values: dict[str, str | int] = {
            "tab": self.tab,
            "q": self.search,
            "sort": self.sort if self.sort != "name" else "",
            "dir": "desc" if self.descending else "",
            "page": self.page if self.page > 1 else "",
            "view": self.view if self.view != "table" else "",
            "same": self.same_as,
        }
        values.update(changes)
        defaults = {"sort": "name", "view": "table", "page": 1}
        return {k: str(v) for k, v in values.items() if v not in ("", None, defaults.get(k))}

    def url(self, **changes: str | int) -> str:
        return "?" + urlencode(self.params(**changes))

    def sort_url(self, column: str) -> str:
        """Sorting on ``column``: ascending, or the other way when it is already sorted on."""
        flip = column == self.sort and not self.descending
        return self.url(sort=column, dir="desc" if flip else "", page="")

    def aria_sort(self, column: str) -> str:
        if column != self.sort:
            return "none"
        return "descending" if self.descending else "ascending"


def _page(text: str) -> int:
    return int(text) if text.isdigit() and 0 < int(text) < 100_000 else 1


def ask_of(query: Mapping[str, str], counts: Mapping[str, int]) -> TableAsk:
    """The table's state; without a tab, the failures first when there are any, else the
    first outcome with rows (all when there are none)."""
    tab = query.get("tab", "")
    if tab not in (*display.OUTCOME_KEYS, "all"):
        tab = next((k for k in ("failed", *display.OUTCOME_KEYS) if counts.get(k)), "all")
    sort = query.get("sort", "")
    view = query.get("view", "")
    return TableAsk(
        tab=tab,
        search=query.get("q", "").strip()[:128],
        sort=sort if sort in SORTS else "name",
        descending=query.get("dir") == "desc",
        page=_page(query.get("page", "")),
        view=view if view in VIEWS else "table",
        same_as=query.get("same", "").strip()[:64],
    )


def pages(total: int, ask: TableAsk) -> dict[str, str | int]:
    """The pager: which rows are shown, and the links to the pages around."""
    per_page = GROUPS_PER_PAGE if ask.view == "groups" else ROWS_PER_PAGE
    last = max(1, -(-total // per_page))
    first = (ask.page - 1) * per_page
    return {
        "first": min(total, first + 1),
        "last_row": min(total, first + per_page),
        "page": ask.page,
        "pages": last,
        "previous": ask.url(page=ask.page - 1 if ask.page > 2 else "") if ask.page > 1 else "",
        "next": ask.url(page=ask.page + 1) if ask.page < last else "",
    }


async def table_of(
    tables: TaskTableService,
    query: Mapping[str, str],
    counts: Mapping[str, int],
    invoke_ids: tuple[str, ...],
    guard: Guard,
) -> dict[str, Any]:
    """What templates/results_table.html needs to draw the rows of ``invoke_ids`` (one task, or
    the tasks of a split run as one table) as ``query`` asks, tabs counted by ``counts``."""
    ask = ask_of(query, counts)
    rows: list[ResultLine] = []
    groups: list[OutputGroup] = []
    if ask.view == "groups":
        groups, shown = await tables.groups(ask.rows(*invoke_ids), guard)
    else:
        rows, shown = await tables.rows(ask.rows(*invoke_ids), guard)
    return {
        "ask": ask,
        "table_rows": rows,
        "groups": groups,
        "shown": shown,
        "pager": pages(shown, ask),
        "columns": COLUMNS,
        "solutions": {g.error_code: _solution(g.error_code) for g in groups},
        "active": display.ACTIVE,
        "live_url": ask.url(fragment=1),
    }


def _solution(code: str) -> str:
    entry = ENTRIES.get(code)
    return entry.solution if entry else ""
