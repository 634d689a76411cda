"""Ctrl-C while following a task: the task keeps running, so say which it is and how to follow
or stop it, then leave (exit 130) without a traceback. A second Ctrl-C soon after asks whether
to stop it now."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from openassist.cli.api_client import ApiCallError, ApiClient, ApiUnreachable
from openassist.cli.outcome import ExitCode

TYPE_CHECKING = False  # typing is not imported at run time: a short command's start-up
if TYPE_CHECKING:
    from typing import TextIO

SECOND_PRESS_S = 3.0  # how long a second Ctrl-C counts as "stop it"


def interrupted(
    client: ApiClient, invoke_ids: Sequence[str], err: TextIO | None = None
) -> ExitCode:
    err = err or sys.stderr
    ids = " ".join(invoke_ids)
    client.close()  # the interrupted call left its connection mid-request
    try:  # the hint is inside: a second Ctrl-C right after it must still count
        print(
            f"\ninterrupted; the task keeps running: {ids}\n"
            f"  follow it: openassist results {ids} --wait\n"
            f"  stop it:   openassist stop {ids}\n"
            f"(press Ctrl-C again within {SECOND_PRESS_S:.0f} s to stop it now)",
            file=err,
            flush=True,
        )
        time.sleep(SECOND_PRESS_S)
    except KeyboardInterrupt:
        _offer_stop(client, invoke_ids, err)
    return ExitCode.INTERRUPTED


def _offer_stop(client: ApiClient, invoke_ids: Sequence[str], err: TextIO) -> None:
    print(
        f"stop {' '.join(invoke_ids)} on every machine still running it? [y/N] ",
        end="",
        file=err,
        flush=True,
    )
    try:
        answer = sys.stdin.readline()
    except KeyboardInterrupt:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        print("not stopped", file=err)
        return
    for invoke_id in invoke_ids:
        try:
            client.call("StopInvocation", {"InvokeId": invoke_id})
        except (ApiCallError, ApiUnreachable) as error:
            print(f"openassist: could not stop {invoke_id}: {error}", file=err)
            continue
        print(f"stopping {invoke_id}", file=err)
