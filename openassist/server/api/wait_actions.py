"""WaitInvocationResults (an OpenAssist extension): a long poll that answers the moment a result
of a task (``t-...`` or ``f-...``) changes after the caller's cursor, so a client sees results as
soon as they are stored without polling. The caller then reads the rows as usual
(DescribeInvocationResults / DescribeSendFileResults), when FinishedCount says a run has ended
or whenever it wants to, and waits again with the new Cursor. With IncludeResults=true the
answer about a command task of at most ``ROWS_AT_MOST`` instances carries its rows, as
DescribeInvocationResults with ContentEncoding=PlainText shows them to this caller: the result
is seen in the answer itself, one round trip sooner."""

from __future__ import annotations

from typing import Any

from openassist.server.api.invocation_actions import task_results
from openassist.server.api.registry import Call, action

MAX_WAIT_S = 30  # below the clients' usual read timeouts (the CLI's is 30 s + margin)
ROWS_AT_MOST = 50  # one page of DescribeInvocationResults (MaxResults' default)


@action("WaitInvocationResults")
async def wait_invocation_results(call: Call) -> dict[str, Any]:
    p = call.params
    invoke_id = p.text("InvokeId", required=True)
    cursor = p.integer("Cursor", default=0, minimum=0, maximum=2**62)
    wait_s = p.integer("WaitSeconds", default=10, minimum=0, maximum=MAX_WAIT_S)
    include = p.boolean("IncludeResults")
    found = await call.services.result_waits.wait(invoke_id, cursor, wait_s)
    answer: dict[str, Any] = {
        "InvokeId": invoke_id,
        "Cursor": found.seq,
        "Changed": found.seq != cursor,
        "InvocationStatus": found.status,
        "InstanceCount": found.total,
        "FinishedCount": found.finished,  # instances in a final status
    }
    if include and invoke_id.startswith("t-") and found.total <= ROWS_AT_MOST:
        rows = await task_results(call, invoke_id, ROWS_AT_MOST)
        answer["InvocationResults"] = {"InvocationResult": rows}
    return answer
