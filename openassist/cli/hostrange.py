"""Fold machine names into compact host ranges, as ClusterShell prints them:
``web-1 web-2 web-3 web-7 db`` becomes ``db,web-[1-3,7]``."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

# The last run of digits is the index; what surrounds it names the range. Compiled at first use
# (re keeps it): one machine's name folds to itself, and a short command has no pattern to make.
_INDEXED = r"^(.*?)(\d+)(\D*)$"


def _spans(numbers: list[int], width: int) -> str:
    """``[1, 2, 3, 7]`` -> ``1-3,7`` (zero-padded to ``width`` when the names were)."""
    parts: list[str] = []
    start = previous = numbers[0]
    for number in [*numbers[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        first, last = f"{start:0{width}d}", f"{previous:0{width}d}"
        parts.append(first if start == previous else f"{first}-{last}")
        if number is not None:
            start = previous = number
    return ",".join(parts)


def _join_padded(ranges: defaultdict[tuple[str, str, int], set[int]]) -> None:
    """``web-10`` has no leading zero but belongs with ``web-09``: unpadded numbers as long as
    a padded range's width join that range."""
    for (prefix, suffix, width), numbers in list(ranges.items()):
        if width == 0:
            continue
        unpadded = ranges.get((prefix, suffix, 0), set())
        same_width = {n for n in unpadded if len(str(n)) == width}
        numbers |= same_width
        unpadded -= same_width
        if (prefix, suffix, 0) in ranges and not unpadded:
            del ranges[(prefix, suffix, 0)]


def fold(names: Iterable[str]) -> list[str]:
    """The names as sorted ranges; a name without digits, or alone in its range, stays as is.
    ``web-01`` and ``web-1`` are different names, so zero-padded indexes fold apart."""
    unique = set(names)
    if len(unique) < 2:
        return list(unique)
    plain: set[str] = set()
    ranges: defaultdict[tuple[str, str, int], set[int]] = defaultdict(set)
    for name in unique:
        match = re.match(_INDEXED, name)
        if match is None:
            plain.add(name)
            continue
        prefix, digits, suffix = match.groups()
        width = len(digits) if digits.startswith("0") and len(digits) > 1 else 0
        ranges[(prefix, suffix, width)].add(int(digits))
    _join_padded(ranges)
    folded = list(plain)
    for (prefix, suffix, width), numbers in ranges.items():
        ordered = sorted(numbers)
        if len(ordered) == 1:
            folded.append(f"{prefix}{ordered[0]:0{width}d}{suffix}")
        else:
            folded.append(f"{prefix}[{_spans(ordered, width)}]{suffix}")
    return sorted(folded)


def fold_text(names: Iterable[str]) -> str:
    """The folded ranges joined with commas, as one line."""
    return ",".join(fold(names))
