"""Condition operators: each compares the request context's value of a key with the values the
statement names.

Within one condition block every operator and every key must hold (AND); the values given for one
key are alternatives (OR). A negated operator (``StringNotEquals``, ``NotIpAddress`` ...) holds when
the value matches none of them. A key absent from the request: a positive operator does not hold,
a negated one does (there is nothing it could be equal to).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from openassist.server.policy.patterns import matches

Compare = Callable[[str, str], bool]


def _date(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _number(text: str) -> float:
    return float(text)


def _ip_in(value: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def _dates(check: Callable[[datetime, datetime], bool]) -> Compare:
    def compare(actual: str, expected: str) -> bool:
        try:
            return check(_date(actual), _date(expected))
        except ValueError:
            return False

    return compare


def _numbers(check: Callable[[float, float], bool]) -> Compare:
    def compare(actual: str, expected: str) -> bool:
        try:
            return check(_number(actual), _number(expected))
        except ValueError:
            return False

    return compare


@dataclass(frozen=True)
class Operator:
    compare: Compare
    negated: bool = False
    validate: Callable[[str], object] | None = None  # raises ValueError on a bad policy value


def _bool_value(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError("must be true or false")
    return text.lower() == "true"


def _network(text: str) -> object:
    return ipaddress.ip_network(text, strict=False)


_EQ: Compare = lambda a, e: a == e  # noqa: E731
_EQ_CI: Compare = lambda a, e: a.lower() == e.lower()  # noqa: E731
_LIKE: Compare = lambda a, e: matches(e, a)  # noqa: E731

CONDITION_OPERATORS: dict[str, Operator] = {
    "StringEquals": Operator(_EQ),
    "StringNotEquals": Operator(_EQ, negated=True),
    "StringEqualsIgnoreCase": Operator(_EQ_CI),
    "StringNotEqualsIgnoreCase": Operator(_EQ_CI, negated=True),
    "StringLike": Operator(_LIKE),
    "StringNotLike": Operator(_LIKE, negated=True),
    "NumericEquals": Operator(_numbers(lambda a, e: a == e), validate=_number),
    "NumericNotEquals": Operator(_numbers(lambda a, e: a == e), negated=True, validate=_number),
    "NumericLessThan": Operator(_numbers(lambda a, e: a < e), validate=_number),
    "NumericLessThanEquals": Operator(_numbers(lambda a, e: a <= e), validate=_number),
    "NumericGreaterThan": Operator(_numbers(lambda a, e: a > e), validate=_number),
    "NumericGreaterThanEquals": Operator(_numbers(lambda a, e: a >= e), validate=_number),
    "DateEquals": Operator(_dates(lambda a, e: a == e), validate=_date),
    "DateNotEquals": Operator(_dates(lambda a, e: a == e), negated=True, validate=_date),
    "DateLessThan": Operator(_dates(lambda a, e: a < e), validate=_date),
    "DateLessThanEquals": Operator(_dates(lambda a, e: a <= e), validate=_date),
    "DateGreaterThan": Operator(_dates(lambda a, e: a > e), validate=_date),
    "DateGreaterThanEquals": Operator(_dates(lambda a, e: a >= e), validate=_date),
    "Bool": Operator(lambda a, e: _bool_value(a) == _bool_value(e), validate=_bool_value),
    "IpAddress": Operator(_ip_in, validate=_network),
    "NotIpAddress": Operator(_ip_in, negated=True, validate=_network),
}


def normalise_key(key: str) -> str:
    """Condition keys compare case-insensitively up to their first ``/`` (``ecs:tag/Env`` keeps
    the tag key's case, as tags do)."""
    head, slash, tail = key.partition("/")
    return head.lower() + slash + tail


@dataclass(frozen=True)
class Condition:
    """One operator on one key with its alternative values."""

    operator: str
    key: str  # normalised
    values: tuple[str, ...]

    def holds(self, context: Mapping[str, str]) -> bool:
        operator = CONDITION_OPERATORS[self.operator]
        actual = context.get(self.key)
        if actual is None:
            return operator.negated
        try:
            matched = any(operator.compare(actual, value) for value in self.values)
        except ValueError:  # a context value of the wrong kind (e.g. Bool on "yes")
            matched = False
        return not matched if operator.negated else matched
