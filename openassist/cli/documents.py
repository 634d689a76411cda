"""JSON documents read as ``json.loads`` reads them, without importing json: its package (the
decoder's and the encoder's Python layers, their regular expressions) is 5 million instructions
of a short command's start (callgrind), and a command that prints text never writes JSON. The
reading itself is the same C scanner json.loads uses (``_json``), set up with json.loads'
defaults; anything it does not take whole (a document with a byte-order mark or in UTF-16,
surrounded by more than whitespace, invalid, or a Python without ``_json``) goes to json.loads,
which answers it or raises as it always has. (msgspec reads JSON too, but importing it costs a
short command more than all of its own work.)"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: a short command's start-up
if TYPE_CHECKING:
    from typing import Any

_WHITESPACE = " \t\n\r"  # JSON's own (json.decoder.WHITESPACE)
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Defaults:
    """What json's C scanner reads from a JSONDecoder: json.loads' defaults (float and int are
    its own fast paths)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__


try:
    from _json import make_scanner

    _defaults: Any = _Defaults()  # the stub wants a JSONDecoder: what the scanner reads of one
    _scan: Any = make_scanner(_defaults)
except (ImportError, AttributeError, TypeError):  # another Python: json.loads does it all
    _scan = None


def loads(data: bytes | str) -> Any:
    """``json.loads(data)``: the same value, or the same exception."""
    value, whole = _scanned(data) if _scan is not None else (None, False)
    if whole:
        return value
    import json

    return json.loads(data)


def _scanned(data: bytes | str) -> tuple[Any, bool]:
    """(value, True) when the C scanner took ``data`` whole; else (None, False)."""
    try:
        text = (data if isinstance(data, str) else data.decode("utf-8")).strip(_WHITESPACE)
        value, end = _scan(text, 0)
    except Exception:  # json.loads says what is wrong, in its own words
        return None, False
    return value, end == len(text)
