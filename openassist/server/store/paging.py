"""Paging primitives for list queries: offset pages and opaque keyset tokens."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Connection, Select, select, tuple_

from openassist.catalog import api
from openassist.errors import InvalidParameter
from openassist.server import json_input

T = TypeVar("T")

# A key is a time (ms) and one or two ids: anything else was not made by ``encode_token``, and
# would reach the database as an integer it cannot hold or a row value of the wrong width.
_INT64 = range(-(2**63), 2**63)
_MAX_ID_CHARS = 256


@dataclass(frozen=True)
class PageQuery:
    """Either ``after`` (keyset, from a NextToken) or ``offset`` (PageNumber) is used."""

    limit: int
    offset: int = 0
    after: tuple[int | str, ...] | None = None

    @property
    def first(self) -> bool:
        """The first page."""
        return self.after is None and not self.offset


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    next_key: tuple[int | str, ...] | None


def encode_token(key: tuple[int | str, ...]) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[int | str, ...]:
    """Raises ValueError when the token was not made by ``encode_token``."""
    padded = token + "=" * (-len(token) % 4)
    try:
        value = json_input.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError("malformed token") from error
    if (
        not isinstance(value, list)
        or not 2 <= len(value) <= 3
        or type(value[0]) is not int
        or value[0] not in _INT64
        or not all(isinstance(v, str) and len(v) <= _MAX_ID_CHARS for v in value[1:])
    ):
        raise ValueError("malformed token")
    return tuple(value)


def fetch_page(
    conn: Connection,
    query: Select[Any],
    count_query: Select[Any] | int,
    key_columns: Sequence[ColumnElement[Any]],
    page: PageQuery,
    convert: Callable[[Any], T],
) -> Page[T]:
    """Run a newest-first list query with either paging scheme.

    Keyset paging on ``key_columns`` (all descending) returns each row exactly once even while
    rows are being added; offset paging serves the deprecated PageNumber/PageSize scheme.
    ``count_query`` is the query of the total, or the total when the caller knows it.
    """
    check_token(page, len(key_columns))
    total = count_query if isinstance(count_query, int) else conn.scalar(count_query)
    if page.after is not None:
        query = query.where(tuple_(*key_columns) < tuple_(*page.after))
    query = query.order_by(*(column.desc() for column in key_columns)).limit(page.limit + 1)
    if page.after is None and page.offset:
        query = query.offset(page.offset)
    return page_of(list(conn.execute(query)), int(total or 0), key_columns, page.limit, convert)


def page_of(
    rows: list[Any],
    total: int,
    key_columns: Sequence[ColumnElement[Any]],
    limit: int,
    convert: Callable[[Any], T],
) -> Page[T]:
    """A page from up to ``limit`` + 1 rows read in list order (one more: there is a next)."""
    more = len(rows) > limit
    rows = rows[:limit]
    next_key = None
    if more and rows:
        last = rows[-1]._mapping
        next_key = tuple(last[column] for column in key_columns)
    return Page(items=[convert(row) for row in rows], total=total, next_key=next_key)


def check_token(page: PageQuery, width: int) -> None:
    if page.after is not None and len(page.after) != width:
        raise InvalidParameter(api.NEXT_TOKEN_INVALID)  # a token of another list


def fetch_few(
    conn: Connection,
    keys: Select[Any],
    total: int,
    page: PageQuery,
    rows_of: Callable[[list[tuple[Any, ...]]], list[T]],
) -> Page[T]:
    """``fetch_page`` for a list known to hold few rows (``total``) among many: its keys (the
    columns ``keys`` selects, the list's order) are gathered first, so the database finds them
    by its most selective index instead of walking the list's order past every row that does
    not match, then ordered and paged the same way; ``rows_of`` reads a page's rows by key, in
    the keys' order."""
    found = keys.cte("few").prefix_with("MATERIALIZED")
    columns = list(found.c)
    check_token(page, len(columns))
    query = select(*columns)
    if page.after is not None:
        query = query.where(tuple_(*columns) < tuple_(*page.after))
    query = query.order_by(*(column.desc() for column in columns)).limit(page.limit + 1)
    if page.after is None and page.offset:
        query = query.offset(page.offset)
    chosen = [tuple(row) for row in conn.execute(query)]
    more = len(chosen) > page.limit
    chosen = chosen[: page.limit]
    next_key = chosen[-1] if more and chosen else None
    return Page(items=rows_of(chosen) if chosen else [], total=total, next_key=next_key)
