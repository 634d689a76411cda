"""Wildcard patterns of the policy language: ``*`` matches any run of characters (also none),
``?`` exactly one; everything else is literal."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """A regular expression that matches exactly what the wildcard ``pattern`` matches."""
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return compile_pattern(pattern, ignore_case).fullmatch(value) is not None
