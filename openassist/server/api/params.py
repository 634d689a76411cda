"""Reading RPC parameters with the documented error codes (API.md 1.2, 1.6); an action names
its own entry (``too_long=api.COMMAND_NAME_TOO_LONG``) where its code differs from the generic
``InvalidParameter.<Name>``."""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, Mapping
from enum import StrEnum
from typing import TypeVar

from openassist.catalog import api
from openassist.catalog.api import ApiErrorEntry
from openassist.errors import DomainError, InvalidParameter

E = TypeVar("E", bound=StrEnum)

_INT64 = 2**63
_TRUE = {"true"}
_FALSE = {"false"}


# Read by the endpoint itself, never by an action.
_COMMON = frozenset(
    {
        "Action",
        "Version",
        "RegionId",
        "Format",
        "AccessKeyId",
        "Signature",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "Timestamp",
        "ClientToken",
    }
)


class _Recorded(Mapping[str, str]):
    """The parameters, remembering which names were looked up (iteration alone does not
    count: readers of ``Name.N`` families say their prefix)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.given = values
        self.asked: set[str] = set()
        self.prefixes: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return self.given[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self.asked.add(name)
        return name in self.given

    def __iter__(self) -> Iterator[str]:
        return iter(self.given)

    def items(self) -> ItemsView[str, str]:  # walking them reads none in particular
        return self.given.items()

    def __len__(self) -> int:
        return len(self.given)


class Params:
    """The merged query and form parameters of one request, with typed readers."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = _Recorded(values)

    def raw(self) -> Mapping[str, str]:
        return self._values

    def reads_family(self, prefix: str) -> None:
        """A reader that walks ``raw()`` for ``prefix...`` names says so here."""
        self._values.prefixes.add(prefix)

    def unread(self) -> list[str]:
        """Names given that no reader looked at (misspelt or unknown parameters)."""
        recorded = self._values
        return sorted(
            name
            for name in recorded.given
            if name not in recorded.asked
            and name not in _COMMON
            and not name.startswith(tuple(recorded.prefixes))
        )

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        default: str = "",
        max_len: int | None = None,
        too_long: ApiErrorEntry = api.PARAMETER_TOO_LONG,
    ) -> str:
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise InvalidParameter(api.MISSING_PARAMETER, parameter=name)
            return default
        if max_len is not None and len(value) > max_len:
            raise DomainError.of(too_long, parameter=name, limit=max_len)
        return value

    def integer(
        self,
        name: str,
        *,
        default: int,
        minimum: int | None = None,
        maximum: int | None = None,
        too_large: ApiErrorEntry = api.PARAMETER_TOO_LARGE,
    ) -> int:
        text = self._values.get(name)
        if text is None or text == "":
            return default
        try:
            value = int(text)
        except ValueError:
            raise InvalidParameter(api.PARAMETER_NOT_INTEGER, parameter=name, value=text) from None
        if not -_INT64 <= value < _INT64:  # beyond what the store's integers hold
            raise InvalidParameter(api.PARAMETER_OUT_OF_RANGE, parameter=name)
        if minimum is not None and value < minimum:
            raise InvalidParameter(api.PARAMETER_TOO_SMALL, parameter=name, minimum=minimum)
        if maximum is not None and value > maximum:
            raise DomainError.of(too_large, parameter=name, limit=maximum)
        return value

    def boolean(self, name: str, *, default: bool = False) -> bool:
        text = self._values.get(name)
        if text is None or text == "":
            return default
        lowered = text.lower()  # the Python SDK sends True/False, others true/false
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise InvalidParameter(api.PARAMETER_NOT_BOOLEAN, parameter=name, value=text)

    def choice(
        self,
        name: str,
        kind: type[E],
        *,
        default: E | None = None,
        not_found: ApiErrorEntry,
    ) -> E | None:
        text = self._values.get(name)
        if text is None or text == "":
            return default
        for member in kind:
            if member.value.lower() == text.lower():
                return member
        allowed = ", ".join(m.value for m in kind)
        raise DomainError.of(not_found, parameter=name, allowed=allowed, value=text)

    def repeated(
        self,
        name: str,
        *,
        max_items: int | None = None,
        too_many: ApiErrorEntry = api.PARAMETER_TOO_MANY,
    ) -> list[str]:
        """A repeated parameter ``Name.1 ... Name.N``; also accepts a JSON-free plain ``Name``."""
        items: list[tuple[int, str]] = []
        prefix = name + "."
        self.reads_family(prefix)
        for key, value in self._values.items():
            if key.startswith(prefix) and key[len(prefix) :].isdigit() and value != "":
                items.append((int(key[len(prefix) :]), value))
        values = [value for _index, value in sorted(items)]
        if not values and self._values.get(name):
            values = [self._values[name]]
        if max_items is not None and len(values) > max_items:
            raise DomainError.of(too_many, parameter=name, limit=max_items, count=len(values))
        return values
