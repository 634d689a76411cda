"""The shared write batcher (store/batcher.py), on its own: who is written with whom, and who
hears what. The write function here records its batches and can be held open, so "while one
is in flight" is a state the test sets up, never a race against a timer."""

from __future__ import annotations

import asyncio

import pytest

from openassist.server.store.batcher import Batcher, Outcome

FOREVER = 3600.0  # a linger no test waits out: only a full batch or an urgent item ends it


class Recorder:
    """A write function: answers each item with its double (an error for negative items);
    ``hold`` keeps the next batches in flight until set."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.hold = asyncio.Event()
        self.hold.set()
        self.in_flight = 0
        self.most_in_flight = 0
        self.fail_with: Exception | None = None

    async def __call__(self, items: list[int]) -> list[Outcome[int]]:
        self.batches.append(list(items))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.hold.wait()
        finally:
            self.in_flight -= 1
        if self.fail_with is not None:
            raise self.fail_with
        return [Outcome(error=ValueError(f"bad {n}")) if n < 0 else Outcome(n * 2) for n in items]


async def _settle() -> None:
    """Let every ready task run until all wait on something."""
    for _ in range(20):
        await asyncio.sleep(0)


def test_a_lone_item_is_written_at_once_alone() -> None:
    async def main() -> tuple[int, list[list[int]]]:
        write = Recorder()
        batcher: Batcher[int, int] = Batcher(write, name="t", max_batch=10)
        return await batcher.submit(7), write.batches

    assert asyncio.run(main()) == (14, [[7]])


def test_items_that_arrive_while_a_batch_is_in_flight_go_together_next() -> None:
    async def main() -> tuple[list[int], list[list[int]]]:
        write = Recorder()
        batcher: Batcher[int, int] = Batcher(write, name="t", max_batch=10)
        write.hold.clear()
        first = asyncio.create_task(batcher.submit(1))
        await _settle()  # the first is in flight alone
        rest = [asyncio.create_task(batcher.submit(n)) for n in range(2, 7)]
        await _settle()
        assert write.batches == [[1]]  # the others wait for it
        write.hold.set()
        return await asyncio.gather(first, *rest), write.batches

    answers, batches = asyncio.run(main())
    assert answers == [2, 4, 6, 8, 10, 12]
    assert batches == [[1], [2, 3, 4, 5, 6]]


def test_a_batch_holds_at_most_max_batch_items_in_arrival_order() -> None:
    async def main() -> list[list[int]]:
        write = Recorder()
        batcher: Batcher[int, int] = Batcher(write, name="t", max_batch=3)
        await asyncio.gather(*(batcher.submit(n) for n in range(8)))
        return write.batches

    assert asyncio.run(main()) == [[0, 1, 2], [3, 4, 5], [6, 7]]


def test_an_item_s_error_reaches_its_caller_alone() -> None:
    async def main() -> list[object]:
        batcher: Batcher[int, int] = Batcher(Recorder(), name="t", max_batch=10)
        return await asyncio.gather(
            *(batcher.submit(n) for n in (1, -1, 2)), return_exceptions=True
        )

    one, bad, two = asyncio.run(main())
    assert (one, two) == (2, 4)
    assert isinstance(bad, ValueError) and str(bad) == "bad -1"


def test_a_batch_that_fails_as_a_whole_fails_its_callers_and_the_next_batch_is_written() -> None:
    async def main() -> tuple[list[object], int]:
        write = Recorder()
        batcher: Batcher[int, int] = Batcher(write, name="t", max_batch=10)
        write.fail_with = RuntimeError("store down")
        failed = await asyncio.gather(
            *(batcher.submit(n) for n in range(3)), return_exceptions=True
        )
        write.fail_with = None
        return list(failed), await batcher.submit(5)

    failed, after = asyncio.run(main())
    assert [str(error) for error in failed] == ["store down"] * 3
    assert after == 10


def test_a_caller_that_went_away_leaves_the_others_their_answers() -> None:
    async def main() -> tuple[list[int], list[list[int]]]:
        write = Recorder()
        batcher: Batcher[int, int] = Batcher(write, name="t", max_batch=10)
        write.hold.clear()
        first = asyncio.create_task(batcher.submit(1))
        await _settle()
        gone, kept = asyncio.create_task(batcher.submit(2)), asyncio.create_task(batcher.submit(3))
        await _settle()
        gone.cancel()
        write.hold.set()
        return list(await asyncio.gather(first, kept)), write.batches

    answers, batches = asyncio.run(main())
    assert answers == [2, 6]
    assert batches == [[1], [2, 3]]  # written all the same: only the answer is dropped


def test_several_writers_keep_that_many_batches_in_flight_and_no_more() -> None:
    async def main() -> tuple[list[int], list[list[int]], int]:
        write = Recorder()
        batcher: Batcher[int, int] = Batcher(write, name="t", max_batch=10, writers=2)
        write.hold.clear()
        first = asyncio.create_task(batcher.submit(1))
        await _settle()
        second = asyncio.create_task(batcher.submit(2))  # a writer is free: at once, alone
        await _settle()
        rest = [asyncio.create_task(batcher.submit(n)) for n in (3, 4)]
        await _settle()
        assert write.batches == [[1], [2]]  # both writers busy: 3 and 4 wait
        write.hold.set()
        answers = await asyncio.gather(first, second, *rest)
        return list(answers), write.batches, write.most_in_flight

    answers, batches, most = asyncio.run(main())
    assert answers == [2, 4, 6, 8]
    assert batches == [[1], [2], [3, 4]]
    assert most == 2


def test_with_a_linger_items_wait_for_a_full_batch() -> None:
    async def main() -> tuple[list[int], list[list[int]]]:
        write = Recorder()
        batcher: Batcher[int, int] = Batcher(write, name="t", max_batch=3, linger_s=FOREVER)
        waiting = [asyncio.create_task(batcher.submit(n)) for n in (1, 2)]
        await _settle()
        assert write.batches == []  # lingering for others
        waiting.append(asyncio.create_task(batcher.submit(3)))  # full: written now
        return list(await asyncio.gather(*waiting)), write.batches

    assert asyncio.run(main()) == ([2, 4, 6], [[1, 2, 3]])


def test_with_a_linger_an_urgent_item_is_written_at_once_with_those_waiting() -> None:
    async def main() -> tuple[list[int], list[list[int]]]:
        write = Recorder()
        batcher: Batcher[int, int] = Batcher(
            write, name="t", max_batch=10, linger_s=FOREVER, urgent=lambda n: n >= 100
        )
        waiting = [asyncio.create_task(batcher.submit(n)) for n in (1, 2)]
        await _settle()
        assert write.batches == []
        waiting.append(asyncio.create_task(batcher.submit(100)))
        return list(await asyncio.gather(*waiting)), write.batches

    assert asyncio.run(main()) == ([2, 4, 200], [[1, 2, 100]])


def test_a_linger_runs_out_and_writes_what_waits() -> None:
    async def main() -> list[list[int]]:
        write = Recorder()
        batcher: Batcher[int, int] = Batcher(write, name="t", max_batch=10, linger_s=0.01)
        await batcher.submit(1)
        return write.batches

    assert asyncio.run(main()) == [[1]]


@pytest.mark.parametrize("writers", [1, 3])
def test_many_callers_each_get_their_own_answer(writers: int) -> None:
    async def main() -> tuple[list[int], list[list[int]]]:
        write = Recorder()
        batcher: Batcher[int, int] = Batcher(write, name="t", max_batch=7, writers=writers)
        return list(await asyncio.gather(*(batcher.submit(n) for n in range(50)))), write.batches

    answers, batches = asyncio.run(main())
    assert answers == [n * 2 for n in range(50)]
    assert sorted(n for batch in batches for n in batch) == list(range(50))
    assert max(len(batch) for batch in batches) <= 7
