"""JSON text from callers (API parameters, paging tokens): parsed with a bound on nesting.

Python's parser recurses once per level and a few thousand ``[`` end in RecursionError, which
would surface as a 500; deep values would also break whatever serialises them later. Every
caller of ``loads`` already answers ValueError with its parameter's documented code.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


def loads(text: str | bytes, **options: Any) -> Any:
    """``json.loads``; ValueError also for nesting deeper than MAX_DEPTH."""
    try:
        value = json.loads(text, **options)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if depth(value) > MAX_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


def depth(value: Any) -> int:
    """Levels of arrays and objects in a parsed value (iteratively: no recursion to exhaust)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in item)
    return deepest
