"""The agent's journal on disk: survives reopening, ignores a torn last line, compacts."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from openassist.agent import journal as journal_module
from openassist.agent.journal import Journal, TaskKind
from openassist.protocol.reports import ReportKind, TaskReport

FINISH = ReportKind.FINISH


def test_entries_survive_reopening(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path)
    journal.started(("t-1", 0), "boot-a")
    journal.process(("t-1", 0), 4242)
    journal.started(("t-2", 0), "boot-a")
    finished = TaskReport(kind=FINISH, task_id="t-2", exit_code=0, output=b"\xffout")
    journal.finished(("t-2", 0), finished)
    journal.started(("t-3", 0), "boot-a")
    journal.finished(("t-3", 0), TaskReport(kind=FINISH, task_id="t-3"))
    journal.settled(("t-3", 0))
    again = Journal.open(tmp_path)
    assert [e.key for e in again.interrupted()] == [("t-1", 0)]
    assert again.entries[("t-1", 0)].pgid == 4242
    [pending] = again.unsettled()
    assert pending.key == ("t-2", 0)
    assert pending.final_report == finished
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
            journal.finished(key, TaskReport(kind=FINISH, task_id=key[0]))
            journal.settled(key)
    journal.compact()
    again = Journal.open(tmp_path)
    assert len(again.interrupted()) == 10
    assert all(again.seen((f"t-{index}", 0)) for index in range(20))
    assert journal_module.KEEP_SETTLED_S > 0


def test_queued_reports_wait_until_settled_then_go_at_compaction(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path)
    waiting, taken = ("t-1#1", 3), ("t-1#2", 3)
    report = TaskReport(kind=FINISH, task_id="t-1", current_time_ms=1, output=b"out\xff")
    journal.queued(waiting, report)
    journal.queued(taken, TaskReport(kind=FINISH, task_id="t-1", current_time_ms=2))
    journal.settled(taken)
    again = Journal.open(tmp_path)
    [pending] = again.unsettled()
    assert pending.key == waiting and pending.final_report == report
    assert again.interrupted() == []  # a queued report is not a run cut short
    again.compact()
    assert set(Journal.open(tmp_path).entries) == {waiting}


def test_a_journal_written_by_an_earlier_version_is_read(tmp_path: Path) -> None:
    """The on-disk report is kind, query as sent and output: an upgraded agent still sends
    what the version before it left unsettled."""
    lines = [
        {"e": "started", "task": "t-1", "v": 2, "boot": "b", "at": 1.5},
        {
            "e": "finished",
            "task": "t-1",
            "v": 2,
            "report": {
                "kind": "stopped",
                "query": {"taskId": "t-1", "invokeVersion": "2", "exitcode": "-1"},
                "output": "\u00ff",
            },
        },
    ]
    (tmp_path / "journal.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    [pending] = Journal.open(tmp_path).unsettled()
    assert pending.final_report == TaskReport(
        kind=ReportKind.STOPPED, task_id="t-1", invoke_version=2, exit_code=-1, output=b"\xff"
    )


def test_the_task_kind_is_journaled_and_told_from_the_id_in_older_journals(
    tmp_path: Path,
) -> None:
    """Recovery reports a send-file task in its own shape: the journal records its kind; a
    journal written before the kind was recorded is read by the id's prefix, as it was then."""
    journal = Journal.open(tmp_path)
    journal.started(("x-file", 0), "boot-a", TaskKind.SEND_FILE)
    journal.started(("f-looks-like-a-file", 0), "boot-a", TaskKind.COMMAND)
    journal.process(("x-file", 0), 4242)
    journal.compact()
    with (tmp_path / "journal.jsonl").open("a") as old:
        old.write(json.dumps({"e": "started", "task": "f-old", "v": 0, "boot": "b"}) + "\n")
        old.write(json.dumps({"e": "started", "task": "t-old", "v": 1, "boot": "b"}) + "\n")
    kinds = {e.task_id: e.kind for e in Journal.open(tmp_path).interrupted()}
    assert kinds == {
        "x-file": TaskKind.SEND_FILE,
        "f-looks-like-a-file": TaskKind.COMMAND,
        "f-old": TaskKind.SEND_FILE,
        "t-old": TaskKind.COMMAND,
    }


def test_a_final_report_written_unsynced_is_read_back_once_synced(tmp_path: Path) -> None:
    """The agent sends a final report while its journal line is flushed (``sync``)."""
    journal = Journal.open(tmp_path)
    journal.started(("t-1", 0), "boot")
    report = TaskReport(kind=FINISH, task_id="t-1", exit_code=0, output=b"hi\n")
    journal.finished(("t-1", 0), report, sync=False)
    journal.sync()
    [pending] = Journal.open(tmp_path).unsettled()
    assert pending.final_report == report
