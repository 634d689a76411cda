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

from sqlalchemy import Connection

from openassist.server.api.invocation_actions import result_rows, task_results, task_results_query
from openassist.server.api.registry import Call, action
from openassist.server.service.invocations import InvocationService, Results
from openassist.server.store.proposals import ResultsState

MAX_WAIT_S = 30  # below the clients' usual read timeouts (the CLI's is 30 s + margin)
ROWS_AT_MOST = 50  # one page of DescribeInvocationResults (MaxResults' default)


@action("WaitInvocationResults")
async def wait_invocation_results(call: Call) -> dict[str, Any]:
    p = call.params
    invoke_id = p.text("InvokeId", required=True)
    cursor = p.integer("Cursor", default=0, minimum=0, maximum=2**62)
    wait_s = p.integer("WaitSeconds", default=10, minimum=0, maximum=MAX_WAIT_S)
    include = p.boolean("IncludeResults") and invoke_id.startswith("t-")
    rows_query = InvocationService.results_query(*task_results_query(invoke_id, ROWS_AT_MOST, call))

    def rows_of(conn: Connection, state: ResultsState) -> Results | None:
        return rows_query(conn) if state.total <= ROWS_AT_MOST else None

    waits = call.services.result_waits
    found, listed = await waits.wait_with(invoke_id, cursor, wait_s, rows_of if include else None)
    answer: dict[str, Any] = {
        "InvokeId": invoke_id,
        "Cursor": found.seq,
        "Changed": found.seq != cursor,
        "InvocationStatus": found.status,
        "InstanceCount": found.total,
        "FinishedCount": found.finished,  # instances in a final status
    }
    if include and found.total <= ROWS_AT_MOST:
        # Read with the state (one read); on its own only when the wait ended without it.
        rows = result_rows(listed) if listed else await task_results(call, invoke_id, ROWS_AT_MOST)
        answer["InvocationResults"] = {"InvocationResult": rows}
    return answer
