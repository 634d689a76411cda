"""What one listener allows a client before its request reaches the application."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ListenerLimits:
    max_connections: int  # open connections (WebSockets included); more are refused with 503
    head_timeout_s: float  # a request line and headers must arrive within this; else 408
    max_head_bytes: int  # a request line and headers longer than this: 431
    read_timeout_s: float  # longest silence while a request body is being received
