"""The RPC envelope: times, paging fields, success and error bodies (API.md 1.5, 1.6, 1.10)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from openassist.catalog import api
from openassist.catalog.api import ApiErrorEntry
from openassist.errors import InvalidParameter
from openassist.server.api.params import Params
from openassist.server.store.paging import Page, PageQuery, decode_token, encode_token

MAX_PAGE_SIZE = 50
MAX_PAGE_NUMBER = 10**9  # keeps the row offset within the store's 64-bit integers


def iso(ms: int | None) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` as the API writes times; empty when unknown."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_output(data: bytes, encoding: str) -> str:
    """Output and content are Base64 unless the caller asked for PlainText."""
    if encoding.lower() == "plaintext":
        return data.decode("utf-8", errors="replace")
    return base64.b64encode(data).decode("ascii")


def output_encoding(params: Params) -> str:
    value = params.text("ContentEncoding", default="Base64")
    return "PlainText" if value.lower() == "plaintext" else "Base64"


def page_query(params: Params) -> PageQuery:
    """Either scheme of API.md 1.10; NextToken/MaxResults win when present."""
    token = params.text("NextToken")
    if token or params.text("MaxResults"):
        limit = _bounded(params, "MaxResults", api.MAX_RESULTS_INVALID)
        if not token:
            return PageQuery(limit=limit)
        try:
            return PageQuery(limit=limit, after=decode_token(token))
        except ValueError:
            raise InvalidParameter(api.NEXT_TOKEN_INVALID) from None
    size = _bounded(params, "PageSize", api.PAGE_SIZE_INVALID)
    number = params.text("PageNumber", default="1")
    if not number.isdigit() or not 1 <= int(number) <= MAX_PAGE_NUMBER:
        raise InvalidParameter(api.PAGE_NUMBER_INVALID, maximum=MAX_PAGE_NUMBER, value=number[:20])
    return PageQuery(limit=size, offset=(int(number) - 1) * size)


def _bounded(params: Params, name: str, refusal: ApiErrorEntry) -> int:
    text = params.text(name, default="10")
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise InvalidParameter(refusal, parameter=name, maximum=MAX_PAGE_SIZE, value=text)
    return int(text)


def paging_fields(page: Page[Any], query: PageQuery) -> dict[str, Any]:
    return {
        "TotalCount": page.total,
        "PageNumber": query.offset // query.limit + 1 if query.after is None else 1,
        "PageSize": query.limit,
        "NextToken": encode_token(page.next_key) if page.next_key else "",
    }


def tag_list(pairs: list[tuple[str, str]]) -> dict[str, list[dict[str, str]]]:
    """``Tags.Tag[]`` as the wrapped responses spell it."""
    return {"Tag": [{"TagKey": key, "TagValue": value} for key, value in pairs]}
