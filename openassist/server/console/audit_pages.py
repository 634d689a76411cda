"""The Audit page: ActionTrail's LookupEvents in the console, with the same filters (event name,
resource, user, time range) and paging, newest first. Only for users whose policies may allow
``actiontrail:LookupEvents``; anyone else gets the API's refusal, recorded as an audit event."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response

from openassist.catalog import api
from openassist.errors import ApiError, InvalidParameter
from openassist.server.console import display, failures
from openassist.server.console.web import Console, Visit
from openassist.server.service.audit import DAY_MS, failed, new_event
from openassist.server.store.audit import EventFilter
from openassist.server.store.paging import decode_token, encode_token

PAGE_SIZE = 50
DEFAULT_WINDOW_MS = 7 * DAY_MS  # as LookupEvents: without a start, the last seven days
ACTION = "LookupEvents"
# Query fields, the LookupEvents parameter each stands for (named in errors) and its filter.
_TIMES = {"from": "StartTime", "to": "EndTime"}
_FILTERS = {"event": "event_name", "resource": "resource_name", "user": "user_name"}


def _time(query: dict[str, str], name: str, default: int) -> int:
    text = query.get(name, "").strip()
    if not text:
        return default
    moment = display.parse_when(text)
    if moment is None:
        raise InvalidParameter(api.LOOKUP_TIME_INVALID, parameter=_TIMES[name], value=text[:40])
    return moment


def event_filter(query: dict[str, str], now: int) -> EventFilter:
    """The page's filters as LookupEvents reads them; raises the API's InvalidParameter."""
    end = _time(query, "to", now + 1)
    start = _time(query, "from", end - DEFAULT_WINDOW_MS)
    found = {field: query.get(name, "").strip() for name, field in _FILTERS.items()}
    return EventFilter(start=start, end=end, **{k: v for k, v in found.items() if v})


def _before(token: str) -> int | None:
    """The sequence an ``after`` token names; any other token starts from the first page."""
    try:
        key = decode_token(token) if token else None
    except ValueError:
        return None
    return int(key[0]) if key and isinstance(key[0], int) else None


class AuditPages:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.audit = console.services.audit

    async def events(self, visit: Visit) -> Response:
        try:
            visit.refuse_unless(ACTION)
        except ApiError as error:
            await self._record_refusal(visit, error)
            return failures.plain(error)
        query = dict(visit.request.query_params)
        try:
            where = event_filter(query, self.audit.now_ms())
        except ApiError as error:
            return self.console.page(
                visit, "audit.html", 400, events=[], total=0, query=query, next_url="", error=error
            )
        page = await self.audit.lookup(where, PAGE_SIZE, _before(query.get("after", "")))
        kept = {k: v for k, v in query.items() if k != "after" and v}
        next_url = ""
        if page.next_key is not None:
            next_url = "?" + urlencode({**kept, "after": encode_token(page.next_key)})
        return self.console.page(
            visit,
            "audit.html",
            events=page.items,
            total=page.total,
            query=query,
            next_url=next_url,
            error=None,
        )

    async def _record_refusal(self, visit: Visit, error: ApiError) -> None:
        """A refusal by policy is an audit event, whichever door it came through."""
        event = new_event(
            now=self.audit.now_ms(),
            action=ACTION,
            source="console",
            user_name=visit.principal.user_name,
            access_key_id=visit.principal.access_key_id,
            source_ip=visit.context.get("acs:sourceip", ""),
            user_agent=visit.request.headers.get("user-agent", ""),
            request_id="",
            params={},
            event_type="ConsoleCall",
        )
        await self.audit.record(failed(event, error.code, error.message))
