"""The pure parts of the console's results table, target choice and charts, by tables."""

from __future__ import annotations

import re

import pytest

from openassist.errors import InvalidParameter
from openassist.server.console import charts, display, forms, result_table
from openassist.server.console.web import Form
from openassist.server.service.overview import OUTCOMES, HourBar
from openassist.server.store.fleet import name_pattern


@pytest.mark.parametrize(
    ("query", "counts", "tab", "sort", "page", "view"),
    [
        ({}, {"failed": 2, "completed": 5}, "failed", "name", 1, "table"),
        ({}, {"completed": 5}, "completed", "name", 1, "table"),
        ({}, {}, "all", "name", 1, "table"),
        ({"tab": "running"}, {"failed": 1}, "running", "name", 1, "table"),
        ({"tab": "x", "sort": "1;--", "page": "-3", "view": "y"}, {}, "all", "name", 1, "table"),
        ({"sort": "duration", "page": "7", "view": "groups"}, {}, "all", "duration", 7, "groups"),
        ({"page": "999999"}, {}, "all", "name", 1, "table"),
    ],
)
def test_the_table_state_read_from_the_query(
    query: dict[str, str], counts: dict[str, int], tab: str, sort: str, page: int, view: str
) -> None:
    ask = result_table.ask_of(query, counts)
    assert (ask.tab, ask.sort, ask.page, ask.view) == (tab, sort, page, view)


def test_sort_links_flip_and_reset_the_page() -> None:
    ask = result_table.ask_of({"tab": "all", "sort": "status", "page": "3"}, {})
    assert ask.sort_url("status") == "?tab=all&sort=status&dir=desc"
    assert ask.sort_url("name") == "?tab=all"
    assert ask.aria_sort("status") == "ascending" and ask.aria_sort("name") == "none"
    rows = ask.rows("t-1")
    assert (rows.offset, rows.limit, rows.statuses) == (100, 50, None)
    failed = result_table.ask_of({"tab": "failed"}, {}).rows("t-1")
    assert failed.statuses is not None and "Failed" in failed.statuses


@pytest.mark.parametrize(
    ("total", "page", "first", "last", "pages", "has_next"),
    [(0, 1, 0, 0, 1, False), (128, 3, 101, 128, 3, False), (1000, 1, 1, 50, 20, True)],
)
def test_the_pager(
    total: int, page: int, first: int, last: int, pages: int, has_next: bool
) -> None:
    ask = result_table.ask_of({"tab": "all", "page": str(page)}, {})
    found = result_table.pages(total, ask)
    assert (found["first"], found["last_row"], found["pages"]) == (first, last, pages)
    assert bool(found["next"]) is has_next


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("web-*", "web-%"),
        ("Node-09", "%node-09%"),
        ("db-?", "db-_"),
        ("50%_off", "%50\\%\\_off%"),
    ],
)
def test_name_patterns(text: str, pattern: str) -> None:
    assert name_pattern(text) == pattern


@pytest.mark.parametrize(
    ("fields", "how", "detail"),
    [
        ({"target": ["name"], "pattern": ["web-*"]}, "name", "web-*"),
        ({"target": ["tag"], "tag": ["role=web, zone=a"]}, "tag", (("role", "web"), ("zone", "a"))),
        ({"target": ["online"]}, "online", None),
        ({"instance_ids": ["mi-1, mi-2 mi-1"]}, "ids", ("mi-1", "mi-2")),
        ({"tag": ["role=db"]}, "tag", (("role", "db"),)),
    ],
)
def test_target_choices(fields: dict[str, list[str]], how: str, detail: object) -> None:
    choice = forms.choice_of(Form(fields))
    assert choice.how == how
    if how == "name":
        assert choice.pattern == detail
    elif how == "tag":
        assert choice.tags == detail
    elif how == "ids":
        assert choice.ids == detail


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({}, "MissingParam.InstanceId"),
        ({"target": ["name"]}, "MissingParam.InstanceId"),
        ({"target": ["tag"], "tag": [" , "]}, "MissingParam.InstanceId"),
        ({"tag": ["a=b"], "instance_id": ["mi-1"]}, "InvalidParameter.Targets"),
    ],
)
def test_incomplete_choices_are_refused_with_a_code(
    fields: dict[str, list[str]], code: str
) -> None:
    with pytest.raises(InvalidParameter) as refused:
        forms.choice_of(Form(fields))
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("ms", "text"), [(None, ""), (850, "850 ms"), (12_340, "12.3 s"), (245_000, "4 min 05 s")]
)
def test_durations(ms: int | None, text: str) -> None:
    assert display.duration(ms) == text


def test_hour_bars_stack_by_outcome_and_escape_their_text() -> None:
    bars = [
        HourBar(0, {"succeeded": 3, "failed": 1, "stopped": 0, "running": 0}),
        HourBar(3_600_000, dict.fromkeys(OUTCOMES, 0)),
    ]
    svg = str(charts.hour_bars(bars, "c", "<tasks> & more"))
    assert svg.startswith('<svg class="chart" id="c"') and 'role="img"' in svg
    assert "&lt;tasks&gt; &amp; more" in svg and "<tasks>" not in svg
    assert re.findall(r'data-total="(\d+)"', svg) == ["4", "0"]
    assert svg.count("<rect") == 2  # one per outcome with tasks; an empty hour has none
    assert "4 tasks: 3 succeeded, 1 failed" in svg and "style=" not in svg


def test_count_bars_escape_labels() -> None:
    svg = str(charts.count_bars([("<b>", 2, "#000")], "e", "Errors"))
    assert "&lt;b&gt;: 2" in svg and "<b>" not in svg
