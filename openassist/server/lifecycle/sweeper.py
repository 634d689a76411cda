"""What never answered: the rules that end tasks the agents did not (pure, no I/O).

``overdue`` looks at one per-instance row and the facts around it and says which catalog code
ends it, if any. The service applies the verdicts with the store's compare-and-set, so two
server nodes sweeping at once cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass

from openassist.protocol.statuses import InstanceStatus as S
from openassist.server.lifecycle.transition import EventKind


@dataclass(frozen=True)
class SweepRules:
    delivery_timeout_ms: int  # a task not started this long after creation was not delivered
    response_grace_ms: int  # beyond its own timeout, a running task whose agent went silent
    stop_timeout_ms: int  # a stop not confirmed in this long could not be carried out
    online_window_ms: int  # an agent without a heartbeat this long is offline


@dataclass(frozen=True)
class Overdue:
    code: str
    event: EventKind
    info: str


def overdue(
    status: S,
    now: int,
    created_at: int,
    start_at: int | None,
    stop_at: int | None,
    timeout_s: int,
    last_heartbeat_at: int | None,
    rules: SweepRules,
    delivered_at: int | None = None,
) -> Overdue | None:
    """The verdict for one row, or None while it may still end by itself."""
    online = last_heartbeat_at is not None and now - last_heartbeat_at <= rules.online_window_ms
    # Scheduled rows wait for their next run (or boot) on the agent's clock: never swept.
    if status is S.PENDING and now - created_at > rules.delivery_timeout_ms:
        if not online:
            return Overdue(
                "ClientNotOnline",
                EventKind.ABORTED,
                "the agent went offline before the task could be delivered.",
            )
        heard = delivered_at is not None or (
            last_heartbeat_at is not None and last_heartbeat_at >= created_at
        )
        if not heard:
            # Silent since the task was created: it may be cut off from the server. It says so
            # when it comes back (ClientNetworkBlocked), or the online window passes first.
            return None
        return Overdue(
            "DeliveryTimeout",
            EventKind.ABORTED,
            f"the agent did not take the task within {rules.delivery_timeout_ms // 1000} s.",
        )
    if status is S.RUNNING and start_at is not None:
        limit = timeout_s * 1000 + rules.response_grace_ms
        if now - start_at > limit:
            return Overdue(
                "ClientNotResponse",
                EventKind.ERRORED,
                f"the agent reported nothing for {limit // 1000} s after the task "
                "started (its timeout plus a grace period).",
            )
    if status is S.STOPPING and stop_at is not None and now - stop_at > rules.stop_timeout_ms:
        return Overdue(
            "TerminationException",
            EventKind.ERRORED,
            f"the agent did not confirm the stop within {rules.stop_timeout_ms // 1000} s.",
        )
    return None
