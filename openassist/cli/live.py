"""Showing a task's machines as they finish: text (name first, status, exit code, duration,
then the output), ``--json`` (one document at the end) or ``--jsonl`` (one line per machine as
it finishes); with ``-b/--group`` identical outputs are shown once with the machines that
produced them, folded into host ranges. On a terminal a line of counts is kept up to date."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum

from openassist.cli.hostrange import fold_text
from openassist.cli.outcome import ExitCode, exit_code, is_final, verdict
from openassist.cli.rollout_progress import BUDGET_SPENT, RolloutProgress

TYPE_CHECKING = False  # typing is not imported at run time: a short command's start-up
if TYPE_CHECKING:
    from typing import Any, TextIO

Row = dict[str, "Any"]


class Mode(Enum):
    TEXT = "text"
    JSON = "json"
    JSONL = "jsonl"


def _json_text(value: Any, **options: Any) -> str:
    """``json.dumps``, loaded for --json and --jsonl only: a command printing text reads its
    answers without the json package (cli/documents.py)."""
    import json

    return json.dumps(value, **options)


def mode_of(json_flag: bool, jsonl_flag: bool) -> Mode:
    return Mode.JSONL if jsonl_flag else Mode.JSON if json_flag else Mode.TEXT


def _second_of_day(text: str) -> int | None:
    """The second of the day of ``YYYY-MM-DDThh:mm:ssZ`` (the API's form of a time), else None."""
    clock = text[11:19]
    if len(text) != 20 or text[10] != "T" or text[19] != "Z" or clock[2::3] != "::":
        return None
    hours, minutes, seconds = clock[:2], clock[3:5], clock[6:]
    if not (hours + minutes + seconds).isdigit():
        return None
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds)


def _seconds(row: Mapping[str, Any]) -> float | None:
    start = row.get("StartTime") or ""
    end = row.get("FinishedTime") or row.get("FinishTime") or ""
    if not (start and end):
        return None
    if start[:10] == end[:10]:  # one day's times: no datetime module to load for them
        first, last = _second_of_day(start), _second_of_day(end)
        if first is not None and last is not None:
            return float(max(last - first, 0))
    from datetime import datetime

    try:
        delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    except ValueError:
        return None
    return max(delta.total_seconds(), 0.0)


def duration_text(row: Mapping[str, Any]) -> str:
    """The API's times are whole seconds: ``<1 s`` when start and end share a second."""
    seconds = _seconds(row)
    if seconds is None:
        return ""
    return "<1 s" if seconds < 1 else f"{seconds:.0f} s"


def headline(label: str, row: Mapping[str, Any]) -> str:
    """``web-1: Failed, exit 3, 40 ms, ExitCodeNonzero: ...``"""
    parts = [row["InvocationStatus"]]
    if "ExitCode" in row and is_final(row) and row.get("StartTime"):  # it ran: its exit code
        parts.append(f"exit {row['ExitCode']}")
    if duration := duration_text(row):
        parts.append(duration)
    if row.get("ErrorCode"):
        error = row["ErrorCode"] + (f": {row['ErrorInfo']}" if row.get("ErrorInfo") else "")
        parts.append(error)
    return f"{label}: {', '.join(parts)}"


class Presenter:
    def __init__(
        self,
        mode: Mode,
        names: Mapping[str, str],
        group: bool = False,
        out: TextIO | None = None,
        err: TextIO | None = None,
        max_concurrency: str = "",
    ) -> None:
        self.mode, self.names, self.group = mode, dict(names), group
        # A rollout (``--max-concurrency``): its batches as they start, and a spent budget.
        self.progress = RolloutProgress(max_concurrency, self.label) if max_concurrency else None
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.live = self.err.isatty() and mode is Mode.TEXT
        self.shown: set[tuple[str, str]] = set()  # (invoke id, instance id) already printed
        self._counts_shown = False

    def label(self, row: Mapping[str, Any]) -> str:
        instance_id = str(row["InstanceId"])
        return self.names.get(instance_id, instance_id)

    def document_row(self, row: Row) -> Row:
        """The API's row with the machine's InstanceName added."""
        return {**row, "InstanceName": self.names.get(row["InstanceId"], "")}

    def started(self, invoke_ids: Sequence[str], machines: int) -> None:
        if self.mode is Mode.TEXT:
            noun = "machine" if machines == 1 else "machines"
            print(f"task {', '.join(invoke_ids)} ({machines} {noun})", file=self.out, flush=True)

    def print_ids(self, invoke_ids: Sequence[str]) -> None:
        """Only the task ids (``--no-wait``, schedules)."""
        if self.mode is Mode.TEXT:
            print(f"task {', '.join(invoke_ids)}", file=self.out)
        else:
            print(
                _json_text({"InvokeId": invoke_ids[0], "InvokeIds": list(invoke_ids)}),
                file=self.out,
            )

    def update(self, rows: Iterable[Row]) -> None:
        """Print the rows that finished since the last call; refresh the counts line."""
        rows = list(rows)
        for row in rows:
            key = (str(row.get("InvokeId", "")), str(row["InstanceId"]))
            if key in self.shown or not is_final(row):
                continue
            self.shown.add(key)
            self.clear_counts()
            if self.mode is Mode.JSONL:
                print(_json_text(self.document_row(row), ensure_ascii=False), file=self.out)
            elif self.mode is Mode.TEXT and not self.group:
                self._print_one(row)
            self.out.flush()
        if self.progress is not None and self.mode is Mode.TEXT:
            for line in self.progress.lines(rows):
                self.clear_counts()
                print(line, file=self.out, flush=True)
        self._show_counts(rows)

    def _print_one(self, row: Row) -> None:
        print(headline(self.label(row), row), file=self.out)
        output = row.get("Output", "")
        if output:
            print(output.rstrip("\n"), file=self.out)
        if row.get("Dropped"):
            print(f"[{row['Dropped']} earlier bytes of output dropped]", file=self.out)

    def _show_counts(self, rows: Sequence[Row]) -> None:
        if not self.live or not rows:
            return
        done = sum(is_final(r) for r in rows)
        running = sum(r["InvocationStatus"] in ("Running", "Stopping") for r in rows)
        pending = sum(r["InvocationStatus"] in ("Pending", "Scheduled") for r in rows)
        failed = sum(is_final(r) and verdict(r) is not ExitCode.OK for r in rows)
        line = f"{done}/{len(rows)} done, {running} running, {pending} pending, {failed} failed"
        print(f"\r\x1b[K{line}", end="", file=self.err, flush=True)
        self._counts_shown = True

    def clear_counts(self) -> None:
        if self._counts_shown:
            print("\r\x1b[K", end="", file=self.err, flush=True)
            self._counts_shown = False

    def finish(self, invoke_ids: Sequence[str], rows: Sequence[Row]) -> ExitCode:
        """Show what is left (groups, the document, the summary); the command's exit code."""
        self.clear_counts()
        code = exit_code(rows)
        if self.mode is Mode.JSON:
            document = json_document(invoke_ids, [self.document_row(r) for r in rows])
            print(_json_text(document, indent=2, ensure_ascii=False), file=self.out)
        elif self.mode is Mode.TEXT:
            if self.group:
                self._print_groups(rows)
            else:
                for row in rows:  # never finished: still show where each machine stands
                    if not is_final(row):
                        print(headline(self.label(row), row), file=self.out)
            print(self.summary(rows), file=self.out)
        self.out.flush()
        return code

    def _print_groups(self, rows: Sequence[Row]) -> None:
        groups: dict[tuple[str, str, str, str], list[str]] = {}
        for row in rows:
            key = (
                row["InvocationStatus"],
                str(row.get("ExitCode", "")) if is_final(row) else "",
                str(row.get("ErrorCode", "")),
                str(row.get("Output", "")),
            )
            groups.setdefault(key, []).append(self.label(row))
        for (status, code, error, output), labels in sorted(
            groups.items(), key=lambda item: (-len(item[1]), item[0])
        ):
            facts = [status] + ([f"exit {code}"] if code else []) + ([error] if error else [])
            title = f"{fold_text(labels)} ({len(labels)}): {', '.join(facts)}"
            print("-" * min(len(title), 72), file=self.out)
            print(title, file=self.out)
            print("-" * min(len(title), 72), file=self.out)
            if output:
                print(output.rstrip("\n"), file=self.out)

    def summary(self, rows: Sequence[Row]) -> str:
        parts = []

        def kind(row: Row) -> ExitCode | str:
            # A rollout's targets cancelled by its spent error budget never ran: said apart.
            return BUDGET_SPENT if row.get("ErrorCode") == BUDGET_SPENT else verdict(row)

        for verdict_, word in (
            (ExitCode.OK, "succeeded"),
            (ExitCode.FAILED, "failed"),
            (ExitCode.UNREACHED, "not reached"),
            (BUDGET_SPENT, "not started (error budget spent)"),
        ):
            labels = [self.label(r) for r in rows if kind(r) == verdict_]
            if labels:
                parts.append(f"{len(labels)} {word} ({fold_text(labels)})")
        noun = "machine" if len(rows) == 1 else "machines"
        return f"{len(rows)} {noun}: {', '.join(parts) or 'none'}"


def json_document(invoke_ids: Sequence[str], rows: Sequence[Row]) -> dict[str, Any]:
    """One task's (or one split run's) rows, under the API's key for that kind of task."""
    first = invoke_ids[0] if invoke_ids else ""
    key = "InvokeInstances" if first.startswith("f-") else "InvocationResults"
    return {"InvokeId": first, "InvokeIds": list(invoke_ids), key: list(rows)}
