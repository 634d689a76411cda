"""Every per-instance error code: phase, resulting status, message and recommended solution.

One table, one place: API responses, the CLI, the console and ``diagnose`` render the same entry.
Must not import ``openassist.server``, ``openassist.agent`` or ``openassist.cli``.

Public face: ``CatalogEntry``, ``Phase``, ``Source``, ``ENTRIES`` (code -> entry), ``lookup``,
``explain`` and ``DOCUMENTED_CODES`` (the codes of the Cloud Assistant documentation's failure
tables). Messages of documented codes are the documentation's own (the wire contract); solutions
are written for a self-hosted OpenAssist deployment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from openassist.catalog import environments, files, fleet, preparation, schedule
from openassist.catalog.documented import DOCUMENTED_CODES
from openassist.catalog.model import CatalogEntry, Phase, Source

__all__ = ["DOCUMENTED_CODES", "ENTRIES", "CatalogEntry", "Phase", "Source", "explain", "lookup"]


def index(entries: Iterable[CatalogEntry]) -> Mapping[str, CatalogEntry]:
    """Map code -> entry; raises ValueError if a code appears twice (one code, one meaning)."""
    table: dict[str, CatalogEntry] = {}
    for entry in entries:
        if entry.code in table:
            raise ValueError(f"catalog code {entry.code} is defined twice")
        table[entry.code] = entry
    return MappingProxyType(table)


ENTRIES: Mapping[str, CatalogEntry] = index(
    fleet.ENTRIES + preparation.ENTRIES + schedule.ENTRIES + environments.ENTRIES + files.ENTRIES
)


def lookup(code: str) -> CatalogEntry:
    """Return the entry for ``code``; raises KeyError naming the code if it is not catalogued."""
    try:
        return ENTRIES[code]
    except KeyError:
        raise KeyError(f"unknown error code {code!r}: not in openassist.catalog") from None


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    text = text[:1].upper() + text[1:]  # details are often legacy lower-case ErrorInfo texts
    return text if text.endswith((".", "!", "?")) else text + "."


def explain(code: str, detail: str | None = None) -> str:
    """Render ``Code: message Detail. Recommended: solution`` as one paragraph.

    A code that is not catalogued (the official agent may report codes of its own) still renders,
    with its detail and no recommendation, because a rendering path must never fail.
    """
    parts = [f"{code}:"]
    entry = ENTRIES.get(code)
    if entry is not None:
        parts.append(_sentence(entry.message))
    if detail and detail.strip():
        parts.append(_sentence(detail))
    if entry is not None:
        parts.append(f"Recommended: {_sentence(entry.solution)}")
    elif len(parts) == 1:
        parts.append("No description is known for this code.")
    return " ".join(parts)
