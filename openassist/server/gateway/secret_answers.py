"""Our agent's two requests about ``{{oos-secret:...}}`` (issue 13.8), answered for the
instance that signed them: a task's secret values right before a run, and a task's command with
its placeholders (to clean a schedule file an earlier release wrote with the values in). Both
only for a task of that instance that has not ended; otherwise 404 QueryParameterStoreFailed,
saying why. The values go over TLS and are kept by the agent in memory only."""

from __future__ import annotations

import base64
import logging

import msgspec

from openassist.protocol import agent as wire
from openassist.server.service.delivery import DeliveryService, SecretsUnavailable

log = logging.getLogger(__name__)

_REFUSED = "QueryParameterStoreFailed"


async def secret_values(
    delivery: DeliveryService, instance_id: str, task_id: str
) -> tuple[msgspec.Struct, int]:
    try:
        values = await delivery.secret_values(instance_id, task_id)
    except SecretsUnavailable as why:
        log.info("%s: no secret values for %r: %s", instance_id, task_id[:64], why)
        return wire.SecretValuesResponse(code=404, errCode=_REFUSED, errMsg=str(why)), 404
    return wire.SecretValuesResponse(code=200, values=values), 200


async def task_content(
    delivery: DeliveryService, instance_id: str, task_id: str
) -> tuple[msgspec.Struct, int]:
    try:
        content = await delivery.template(instance_id, task_id)
    except SecretsUnavailable as why:
        return wire.TaskContentResponse(code=404, errCode=_REFUSED, errMsg=str(why)), 404
    encoded = base64.b64encode(content).decode()
    return wire.TaskContentResponse(code=200, content=encoded), 200
