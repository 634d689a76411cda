"""One action's help entry, and the table format the product modules write them in.

A line ``Action: summary`` opens an entry; each indented line under it is a parameter,
``Name: meaning`` (``Name*`` for a required one); ``+PAGING``, ``+TAGS`` and ``+TAG_FILTER``
stand for the parameter groups of those names.
"""

from __future__ import annotations

from dataclasses import dataclass

PAGING = (
    "PageNumber: page to return, from 1 (page scheme)",
    "PageSize: rows per page, 1-50, default 10 (page scheme)",
    "MaxResults: rows per page, 1-50, default 10 (token scheme)",
    "NextToken: the NextToken of the previous answer (token scheme)",
)
TAG_FILTER = ("Tag.N.Key: only the resources with this tag (N = 1-20)", "Tag.N.Value: its value")
TAGS = ("Tag.N.Key: a tag to attach (N = 1-20)", "Tag.N.Value: its value")

_BLOCKS = {"+PAGING": PAGING, "+TAGS": TAGS, "+TAG_FILTER": TAG_FILTER}


@dataclass(frozen=True)
class Parameter:
    name: str
    required: bool
    meaning: str


@dataclass(frozen=True)
class ActionReference:
    name: str
    summary: str
    parameters: tuple[Parameter, ...]


def _parameter(line: str) -> Parameter:
    name, meaning = line.split(": ", 1)
    return Parameter(name.rstrip("*"), name.endswith("*"), meaning)


def parse(table: str) -> dict[str, ActionReference]:
    found: dict[str, ActionReference] = {}
    name, summary = "", ""
    params: list[Parameter] = []
    for line in [*table.strip("\n").splitlines(), "End: ."]:
        if not line.startswith(" "):
            if name:
                found[name] = ActionReference(name, summary, tuple(params))
            name, summary = line.split(": ", 1)
            params = []
        elif line.strip() in _BLOCKS:
            params += [_parameter(item) for item in _BLOCKS[line.strip()]]
        else:
            params.append(_parameter(line.strip()))
    return found
