"""DescribeInvocationFullOutput (an OpenAssist extension): the whole output of one run, kept up
to the server's cap, read in slices from a byte offset (poll with NextOffset to follow it)."""

from __future__ import annotations

from typing import Any

from openassist.server.api.access import guard_of
from openassist.server.api.envelope import encode_output, output_encoding
from openassist.server.api.registry import Call, action

MAX_SLICE = 4 * 1024 * 1024


@action("DescribeInvocationFullOutput")
async def describe_invocation_full_output(call: Call) -> dict[str, Any]:
    p = call.params
    invoke_id = p.text("InvokeId", required=True)
    instance_id = p.text("InstanceId", required=True)
    offset = p.integer("Offset", default=0, minimum=0, maximum=2**62)
    limit = p.integer("MaxBytes", default=1024 * 1024, minimum=1, maximum=MAX_SLICE)
    await call.services.fleet.check_instances([instance_id], guard_of(call))
    row, found = await call.services.invocations.full_output(invoke_id, instance_id, offset, limit)
    next_offset = offset + len(found.data)
    # What the script produced, as far as the agent told: the tail on the row and every byte
    # dropped before it (by the agent, such as the official one's cut of slow output, or by the
    # row's 24 KB quota). The full output is complete only if it holds all of that.
    produced = len(row.output) + row.dropped
    complete = not row.full_truncated and found.size >= produced
    return {
        "InvokeId": invoke_id,
        "InstanceId": instance_id,
        "InvocationStatus": row.status.value,
        "Output": encode_output(found.data, output_encoding(p)),
        "Offset": offset,
        "NextOffset": next_offset,
        "OutputSize": found.size,  # bytes kept and readable here
        "ProducedSize": max(produced, found.size),
        "Truncated": not complete,
        # Nothing more will come: the run has ended and every stored byte was read.
        "Finished": row.status.is_final and next_offset >= found.size,
    }
