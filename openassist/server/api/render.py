"""Rendering a response body as JSON (default) or XML (``Format=XML``), API.md 1.5 and 1.6,
and the one place an error becomes an RPC response."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.sax.saxutils import escape

from starlette.responses import Response

from openassist.errors import ApiError, Throttled

JSON_TYPE = "application/json;charset=utf-8"
XML_TYPE = "text/xml;charset=utf-8"  # exactly what the SDK checks before parsing an XML error


# Characters XML 1.0 cannot carry even escaped; a stored value holding one (a name an older
# release took from an agent) would make the whole document unparsable for every client.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(_NOT_XML.sub("\ufffd", str(value)))


def _xml(name: str, value: Any) -> str:
    if isinstance(value, dict):
        inner = "".join(_xml(key, item) for key, item in value.items())
        return f"<{name}>{inner}</{name}>"
    if isinstance(value, list):
        # A list repeats its element: {"Invocation": [a, b]} -> <Invocation>a</Invocation>...
        return "".join(_xml(name, item) for item in value)
    return f"<{name}>{_xml_value(value)}</{name}>"


def render(body: dict[str, Any], root: str, wants_xml: bool) -> tuple[bytes, str]:
    """(content, media type) of ``body``; ``root`` names the XML root element."""
    if wants_xml:
        text = '<?xml version="1.0" encoding="UTF-8"?>' + _xml(root, body)
        return text.encode("utf-8"), XML_TYPE
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), JSON_TYPE


def error_response(error: ApiError, request_id: str, host: str, wants_xml: bool) -> Response:
    """The ECS error envelope of ``error`` with its HTTP status (API.md 1.6); a throttled call
    also says when to retry."""
    body = {"RequestId": request_id, "HostId": host, "Code": error.code, "Message": error.message}
    content, media = render(body, "Error", wants_xml)
    headers = {}
    if isinstance(error, Throttled):
        headers["x-acs-retry-after"] = str(error.fields["retry_after_s"])
    if error.http_status == 413:
        headers["connection"] = "close"  # the rest of the body is never read
    return Response(content, error.http_status, headers=headers, media_type=media)
