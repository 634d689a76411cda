"""Host ranges: names fold into ``prefix[ranges]suffix`` and nothing is lost or invented."""

from __future__ import annotations

import re

from openassist.cli.hostrange import fold, fold_text


def _expand(folded: str) -> set[str]:
    match = re.fullmatch(r"(.*)\[([\d,-]+)\](.*)", folded)
    if match is None:
        return {folded}
    prefix, spans, suffix = match.groups()
    names: set[str] = set()
    for span in spans.split(","):
        first, _, last = span.partition("-")
        width = len(first) if first.startswith("0") else 0
        for number in range(int(first), int(last or first) + 1):
            names.add(f"{prefix}{number:0{width}d}{suffix}")
    return names


def test_consecutive_indexes_fold_into_spans() -> None:
    assert fold(["web-1", "web-2", "web-3", "web-7"]) == ["web-[1-3,7]"]
    assert fold_text(["web-3", "db", "web-1", "web-2"]) == "db,web-[1-3]"


def test_a_lone_index_and_names_without_digits_stay_as_they_are() -> None:
    assert fold(["web-4", "mi-abc", "db"]) == ["db", "mi-abc", "web-4"]


def test_suffixes_and_prefixes_keep_ranges_apart() -> None:
    names = ["rack1-node2.lab", "rack1-node3.lab", "rack2-node2.lab", "node5"]
    assert fold(names) == ["node5", "rack1-node[2-3].lab", "rack2-node2.lab"]


def test_zero_padded_names_keep_their_padding() -> None:
    names = [f"db{n:02d}" for n in (1, 2, 3, 9, 10, 11)]
    assert fold(names) == ["db[01-03,09-11]"]
    assert fold(["db01", "db1"]) == ["db01", "db1"]  # two different machines


def test_folding_round_trips() -> None:
    names = {f"web-{n}" for n in (1, 2, 5, 6, 7, 20)} | {"db01", "db02", "db10", "cache"}
    expanded: set[str] = set()
    for item in fold(names):
        expanded |= _expand(item)
    assert expanded == names


def test_one_name_and_none_fold_to_themselves() -> None:
    for name in ("web-01", "x-0", "db", "rack1-node2.lab", "007", "web-9x"):
        assert fold([name, name]) == [name]
        assert fold_text([name]) == name
    assert fold([]) == []
