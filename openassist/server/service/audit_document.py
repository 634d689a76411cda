"""An audit event as ActionTrail shows it: the one document LookupEvents answers and the audit
sink ships, built from the stored row (so both carry the same redaction)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from openassist.server.service.audit import changes
from openassist.server.service.guard import ACCOUNT_ID
from openassist.server.store.audit import AuditRecord


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_document(record: AuditRecord, region: str) -> dict[str, Any]:
    """ActionTrail's event fields (API 2020-07-06) for one stored event."""
    return {
        "eventId": record.event_id,
        "eventVersion": "1",
        "eventTime": _iso(record.event_time),
        "eventName": record.event_name,
        "eventSource": f"{record.event_source}.openassist",
        "serviceName": record.event_source.capitalize(),
        "eventType": record.event_type,
        "eventRW": "Write" if changes(record.event_name) else "Read",
        "acsRegion": region,
        "sourceIpAddress": record.source_ip,
        "userAgent": record.user_agent,
        "requestId": record.request_id,
        "userIdentity": {
            "type": "ram-user",
            "accountId": ACCOUNT_ID,
            "userName": record.user_name,
            "accessKeyId": record.access_key_id,
        },
        "resourceName": record.resource_name,
        "requestParameters": json.loads(record.request_parameters or "{}"),
        "errorCode": record.error_code,
        "errorMessage": record.error_message,
    }
