"""ActionTrail's LookupEvents (API version 2020-07-06): the audit trail, newest first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from openassist.catalog import api
from openassist.errors import InvalidParameter
from openassist.server.api.envelope import iso, page_query
from openassist.server.api.params import Params
from openassist.server.api.registry import Call, action
from openassist.server.service.audit import DAY_MS
from openassist.server.service.audit_document import event_document
from openassist.server.store.audit import EventFilter
from openassist.server.store.paging import encode_token

LOOKUP_ATTRIBUTE = "LookupAttribute"  # LookupAttribute.N.Key / .Value, N = 1-10
DEFAULT_WINDOW_MS = 7 * DAY_MS  # without StartTime: the last seven days
# LookupAttribute keys and the filter field each sets.
_ATTRIBUTES = {
    "EventName": "event_name",
    "ServiceName": "event_source",
    "User": "user_name",
    "UserName": "user_name",
    "EventId": "event_id",
    "EventAccessKeyId": "access_key_id",
    "ResourceName": "resource_name",
}


def _time(params: Params, name: str, default: int) -> int:
    text = params.text(name)
    if not text:
        return default
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidParameter(api.LOOKUP_TIME_INVALID, parameter=name, value=text[:40]) from None
    return int(moment.timestamp() * 1000)


def _filters(params: Params, start: int, end: int) -> EventFilter:
    found: dict[str, str] = {}
    for n in range(1, 11):
        key = params.text(f"{LOOKUP_ATTRIBUTE}.{n}.Key")
        if not key:
            continue
        value = params.text(f"{LOOKUP_ATTRIBUTE}.{n}.Value")
        field = _ATTRIBUTES.get(key)
        if field is None or not value:
            keys = ", ".join(sorted(_ATTRIBUTES))
            raise InvalidParameter(api.LOOKUP_ATTRIBUTE_INVALID, key=key[:60], keys=keys)
        found[field] = value.lower() if field == "event_source" else value
    return EventFilter(start=start, end=end, **found)


@action("LookupEvents")
async def lookup_events(call: Call) -> dict[str, Any]:
    p = call.params
    now = call.services.audit.now_ms()
    end = _time(p, "EndTime", now + 1)
    start = _time(p, "StartTime", end - DEFAULT_WINDOW_MS)
    where = _filters(p, start, end)
    query = page_query(p)
    before = int(query.after[0]) if query.after else None
    page = await call.services.audit.lookup(where, query.limit, before)
    return {
        "StartTime": iso(start),
        "EndTime": iso(end),
        "NextToken": encode_token(page.next_key) if page.next_key else "",
        "Events": [event_document(record, call.region) for record in page.items],
    }
