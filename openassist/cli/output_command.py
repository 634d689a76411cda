"""``openassist output t-... --instance mi-... [--follow]``: the full output of one run, raw
bytes to standard output; with --follow it keeps reading until the run has ended."""

from __future__ import annotations

import base64
import sys
import time

from openassist.cli.api_client import ApiClient

FOLLOW_POLL_S = 0.5


def show_output(client: ApiClient, invoke_id: str, instance_id: str, follow: bool) -> int:
    offset = 0
    out = sys.stdout.buffer
    while True:
        answer = client.call(
            "DescribeInvocationFullOutput",
            {"InvokeId": invoke_id, "InstanceId": instance_id, "Offset": str(offset)},
        )
        data = base64.b64decode(answer["Output"])
        if data:
            out.write(data)
            out.flush()
        offset = int(answer["NextOffset"])
        if answer["Finished"] or (not follow and offset >= int(answer["OutputSize"])):
            break
        if not data:
            time.sleep(FOLLOW_POLL_S)
    if answer["Truncated"]:
        produced = answer.get("ProducedSize", offset)
        print(
            f"\n[output incomplete: {offset} of the {produced} bytes the script produced are kept]",
            file=sys.stderr,
        )
    return 0
