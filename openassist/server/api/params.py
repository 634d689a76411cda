"""Reading RPC parameters with the documented error codes (API.md 1.2, 1.6)."""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, Mapping
from enum import StrEnum
from typing import TypeVar

from openassist.errors import ApiError

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
        too_long_code: str | None = None,
    ) -> str:
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise ApiError(
                    f"MissingParameter.{name}",
                    f"The input parameter “{name}” that is mandatory for processing this "
                    "request is not supplied.",
                )
            return default
        if max_len is not None and len(value) > max_len:
            raise ApiError(
                too_long_code or f"InvalidParameter.{name}",
                f"The parameter {name} is longer than {max_len} characters.",
                403 if too_long_code else 400,
            )
        return value

    def integer(
        self,
        name: str,
        *,
        default: int,
        minimum: int | None = None,
        maximum: int | None = None,
        too_large_code: str | None = None,
    ) -> int:
        text = self._values.get(name)
        if text is None or text == "":
            return default
        try:
            value = int(text)
        except ValueError:
            raise ApiError(
                f"InvalidParameter.{name}",
                f"The parameter {name} must be an integer, got {text!r}.",
            ) from None
        if not -_INT64 <= value < _INT64:  # beyond what the store's integers hold
            raise ApiError(f"InvalidParameter.{name}", f"The parameter {name} is out of range.")
        if minimum is not None and value < minimum:
            raise ApiError(
                f"InvalidParameter.{name}", f"The parameter {name} must be at least {minimum}."
            )
        if maximum is not None and value > maximum:
            raise ApiError(
                too_large_code or f"InvalidParameter.{name}",
                f"The parameter {name} must be at most {maximum}.",
                403 if too_large_code else 400,
            )
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
        raise ApiError(
            f"InvalidParameter.{name}", f"The parameter {name} must be true or false, got {text!r}."
        )

    def choice(
        self,
        name: str,
        kind: type[E],
        *,
        default: E | None = None,
        not_found_code: str,
        status: int = 404,
    ) -> E | None:
        text = self._values.get(name)
        if text is None or text == "":
            return default
        for member in kind:
            if member.value.lower() == text.lower():
                return member
        allowed = ", ".join(m.value for m in kind)
        raise ApiError(
            not_found_code, f"The parameter {name} must be one of {allowed}; got {text!r}.", status
        )

    def repeated(
        self, name: str, *, max_items: int | None = None, too_many_code: str = ""
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
            raise ApiError(
                too_many_code or f"InvalidParameter.{name}",
                f"At most {max_items} values of {name} may be given; got {len(values)}.",
                403,
            )
        return values
