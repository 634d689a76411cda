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


def test_unsent_bytes_are_bounded_and_their_drops_counted() -> None:
    tail = OutputTail(4)
    tail.add(b"ab")
    assert tail.take_new() == b"ab"
    tail.add(b"cdefgh")
    assert tail.take_new() == b"efgh"
    assert tail.unsent_dropped == 2
    assert (tail.data, tail.dropped) == (b"efgh", 4)
