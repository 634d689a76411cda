"""The agent's output tail keeps the last bytes exactly and counts the rest."""

from __future__ import annotations

from openassist.agent.output import OutputTail


def test_tail_keeps_the_last_quota_bytes_and_counts_dropped() -> None:
    tail = OutputTail(10)
    for chunk in (b"0123", b"456789", b"abcdef", b"\xff\xfe"):
        tail.add(chunk)
    assert tail.data == b"89abcdef\xff\xfe"
    assert tail.dropped == 8


def test_new_bytes_are_handed_out_once() -> None:
    tail = OutputTail(100)
    tail.add(b"one ")
    assert tail.take_new() == b"one "
    assert tail.take_new() == b""
    tail.add(b"two")
    assert tail.take_new() == b"two"
    assert tail.data == b"one two"
