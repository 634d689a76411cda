"""The agent's journal on disk: survives reopening, ignores a torn last line, compacts."""

from __future__ import annotations

import stat
from pathlib import Path

from openassist.agent import journal as journal_module
from openassist.agent.journal import Journal


def test_entries_survive_reopening(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path)
    journal.started(("t-1", 0), "boot-a")
    journal.process(("t-1", 0), 4242)
    journal.started(("t-2", 0), "boot-a")
    journal.finished(("t-2", 0), "finish", {"taskId": "t-2", "exitCode": "0"}, b"\xffout")
    journal.started(("t-3", 0), "boot-a")
    journal.finished(("t-3", 0), "finish", {"taskId": "t-3"}, b"")
    journal.settled(("t-3", 0))
    again = Journal.open(tmp_path)
    assert [e.key for e in again.interrupted()] == [("t-1", 0)]
    assert again.entries[("t-1", 0)].pgid == 4242
    [pending] = again.unsettled()
    assert pending.key == ("t-2", 0)
    assert pending.report is not None
    assert pending.report["output"].encode("latin-1") == b"\xffout"
    assert again.seen(("t-3", 0))
    assert stat.S_IMODE((tmp_path / "journal.jsonl").stat().st_mode) == 0o600


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path)
    journal.started(("t-1", 0), "boot")
    with (tmp_path / "journal.jsonl").open("a") as handle:
        handle.write('{"e":"finished","task":"t-1","v":0,"rep')
    again = Journal.open(tmp_path)
    assert [e.key for e in again.interrupted()] == [("t-1", 0)]


def test_compaction_keeps_what_is_still_needed(tmp_path: Path, monkeypatch: object) -> None:
    journal = Journal.open(tmp_path)
    for index in range(20):
        key = (f"t-{index}", 0)
        journal.started(key, "boot")
        if index % 2:
            journal.finished(key, "finish", {}, b"")
            journal.settled(key)
    journal.compact()
    again = Journal.open(tmp_path)
    assert len(again.interrupted()) == 10
    assert all(again.seen((f"t-{index}", 0)) for index in range(20))
    assert journal_module.KEEP_SETTLED_S > 0


def test_queued_reports_wait_until_settled_then_go_at_compaction(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path)
    waiting, taken = ("t-1#1", 3), ("t-1#2", 3)
    journal.queued(waiting, "finish", {"taskId": "t-1", "currentTime": "1"}, b"out\xff")
    journal.queued(taken, "finish", {"taskId": "t-1", "currentTime": "2"}, b"")
    journal.settled(taken)
    again = Journal.open(tmp_path)
    [pending] = again.unsettled()
    assert pending.key == waiting and pending.report is not None
    assert pending.report["output"].encode("latin-1") == b"out\xff"
    assert again.interrupted() == []  # a queued report is not a run cut short
    again.compact()
    assert set(Journal.open(tmp_path).entries) == {waiting}
