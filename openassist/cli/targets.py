"""Which machines a fleet command acts on: ``-i`` (instance ids, names or hostnames, exact or
glob), ``--tag KEY[=VALUE]`` (repeatable; every tag must match) and ``--all``."""

from __future__ import annotations

import argparse
import fnmatch
from collections import namedtuple
from collections.abc import Sequence

from openassist.cli.outcome import UsageError

TYPE_CHECKING = False  # typing is not imported at run time: a short command's start-up
if TYPE_CHECKING:  # nor the client: the parser imports this module for its options
    from typing import Any, NamedTuple

    from openassist.cli.api_client import ApiClient

    class _SelectionFields(NamedTuple):
        patterns: tuple[str, ...] = ()
        tags: tuple[tuple[str, str | None], ...] = ()
        every: bool = False

    class _MachineFields(NamedTuple):
        fields: dict[str, Any]

else:
    _SelectionFields = namedtuple("Selection", "patterns tags every", defaults=((), (), False))
    _MachineFields = namedtuple("Machine", "fields")

_GLOB = frozenset("*?[")
_PAGE = "50"


class TargetError(UsageError):
    """A selection that names nothing, or names something that does not exist."""


class Selection(_SelectionFields):
    __slots__ = ()

    @property
    def empty(self) -> bool:
        return not (self.patterns or self.tags or self.every)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Selection:
        patterns = [p for item in args.instance or () for p in item.split(",") if p]
        tags: list[tuple[str, str | None]] = []
        for item in args.tag or ():
            key, sep, value = item.partition("=")
            tags.append((key, value if sep else None))
        return cls(tuple(patterns), tuple(tags), bool(args.all))


def add_target_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    what = "machines" if required else "only these machines"
    parser.add_argument(
        "-i",
        "--instance",
        action="append",
        help=f"{what}: instance id, name or hostname, exact or glob ('web-*'); repeat or a,b",
    )
    parser.add_argument(
        "--tag", action="append", metavar="KEY[=VALUE]", help="machines with this tag (repeat)"
    )
    parser.add_argument("--all", action="store_true", help="every registered machine")


class Machine(_MachineFields):
    """One instance as DescribeManagedInstances shows it (``fields``)."""

    __slots__ = ()

    @property
    def id(self) -> str:
        return str(self.fields["InstanceId"])

    @property
    def name(self) -> str:
        """The label to show: its name, else its hostname, else its id."""
        return str(self.fields["InstanceName"] or self.fields["Hostname"] or self.id)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(
            k for k in (self.id, self.fields["InstanceName"], self.fields["Hostname"]) if k
        )

    def has_tags(self, wanted: Sequence[tuple[str, str | None]]) -> bool:
        tags = {t["TagKey"]: t["TagValue"] for t in self.fields.get("Tags", ())}
        return all(k in tags and (v is None or tags[k] == v) for k, v in wanted)


def list_machines(client: ApiClient, ids: Sequence[str] = ()) -> list[Machine]:
    """Every registered machine (or those of ``ids``), all pages."""
    found: list[Machine] = []
    chunks = [ids[i : i + 50] for i in range(0, len(ids), 50)] if ids else [()]
    for chunk in chunks:
        params = {"MaxResults": _PAGE}
        params.update({f"InstanceId.{n}": i for n, i in enumerate(chunk, start=1)})
        while True:
            answer = client.call("DescribeManagedInstances", params)
            found += [Machine(fields) for fields in answer["Instances"]]
            if not answer.get("NextToken"):
                break
            params["NextToken"] = answer["NextToken"]
    return found


def _near(pattern: str, machines: Sequence[Machine]) -> str:
    import difflib

    names = sorted({key for m in machines for key in m.keys})
    close = difflib.get_close_matches(pattern, names, n=5, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _matching(pattern: str, machines: Sequence[Machine]) -> list[Machine]:
    if _GLOB & set(pattern):
        return [m for m in machines if any(fnmatch.fnmatchcase(k, pattern) for k in m.keys)]
    return [m for m in machines if pattern in m.keys]


def _looks_like_ids(patterns: Sequence[str]) -> bool:
    return bool(patterns) and all(p.startswith("mi-") and not _GLOB & set(p) for p in patterns)


def resolve(client: ApiClient, selection: Selection) -> list[Machine]:
    """The machines selected, in a stable order (by label); raises TargetError when a pattern
    matches nothing (naming near matches) or the selection selects nobody."""
    if selection.empty:
        raise TargetError("say which machines: -i NAME|ID|GLOB, --tag KEY[=VALUE] or --all")
    if _looks_like_ids(selection.patterns) and not selection.every:
        machines = list_machines(client, selection.patterns)  # one small call for plain ids
        if len(machines) < len(set(selection.patterns)):
            machines = list_machines(client)  # an id that is not one: say what is near
    else:
        machines = list_machines(client)
    chosen = machines if selection.every or not selection.patterns else []
    seen = {m.id for m in chosen}
    for pattern in selection.patterns if not selection.every else ():
        matched = _matching(pattern, machines)
        if not matched:
            raise TargetError(f"no machine is named {pattern!r}{_near(pattern, machines)}")
        chosen += [m for m in matched if m.id not in seen]
        seen |= {m.id for m in matched}
    chosen = [m for m in chosen if m.has_tags(selection.tags)]
    if not chosen:
        tags = ", ".join(k if v is None else f"{k}={v}" for k, v in selection.tags)
        raise TargetError(f"no machine matches the selection (tags: {tags or 'none'})")
    return sorted(chosen, key=lambda m: (m.name, m.id))


def one_machine(client: ApiClient, pattern: str) -> str:
    """The id of the one machine ``pattern`` names (``output -i``); UsageError otherwise."""
    if _looks_like_ids([pattern]):
        return pattern  # the API says if there is no such instance in the task
    machines = resolve(client, Selection((pattern,)))
    if len(machines) > 1:
        names = ", ".join(m.name for m in machines[:5])
        raise TargetError(f"{pattern!r} names {len(machines)} machines ({names}); name one")
    return machines[0].id
