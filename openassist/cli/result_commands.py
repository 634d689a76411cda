"""``openassist results t-...|f-... [--wait]`` and ``openassist stop t-...``: a task's machines
(all, or those of ``-i``/``--tag``), shown and judged as ``openassist run`` shows them."""

from __future__ import annotations

import argparse
import sys

from openassist.cli.api_client import ApiClient
from openassist.cli.follow import follow_and_show
from openassist.cli.live import Presenter, mode_of
from openassist.cli.outcome import ExitCode, UsageError
from openassist.cli.targets import Selection, list_machines, resolve
from openassist.cli.tasks import Row, task_rows


def _selected(client: ApiClient, args: argparse.Namespace) -> set[str] | None:
    """The instance ids ``-i``/``--tag`` name; None when the command names none (all)."""
    selection = Selection.from_args(args)
    return None if selection.empty else {m.id for m in resolve(client, selection)}


def show_results(client: ApiClient, args: argparse.Namespace) -> int:
    wanted = _selected(client, args)
    rows: list[Row] = []
    for invoke_id in args.invoke_id:
        found = task_rows(client, invoke_id)
        if not found:
            print(f"openassist: no task {invoke_id}", file=sys.stderr)
            return ExitCode.ERROR
        rows += [r for r in found if wanted is None or r["InstanceId"] in wanted]
    if not rows:
        tasks = " ".join(args.invoke_id)
        raise UsageError(f"none of the machines selected with -i/--tag is in {tasks}")
    ids = sorted({r["InstanceId"] for r in rows})
    names = {m.id: m.name for m in list_machines(client, ids)} if ids else {}
    presenter = Presenter(mode_of(args.json, args.jsonl), names, group=args.group)
    if not args.wait:
        presenter.update(rows)
        return presenter.finish(args.invoke_id, rows)
    presenter.started(args.invoke_id, len(rows))
    return follow_and_show(client, args.invoke_id, presenter, deadline_s=24 * 3600, only=wanted)


def stop(client: ApiClient, args: argparse.Namespace) -> int:
    wanted = _selected(client, args)
    ids = sorted(wanted or ())
    for invoke_id in args.invoke_id:
        for start in range(0, max(len(ids), 1), 50):  # StopInvocation takes 50 instances
            params = {"InvokeId": invoke_id}
            params.update({f"InstanceId.{n}": i for n, i in enumerate(ids[start : start + 50], 1)})
            client.call("StopInvocation", params)
        where = f"{len(ids)} machine(s)" if ids else "every machine"
        print(f"stopping {invoke_id} on {where}; see: openassist results {invoke_id}")
    return ExitCode.OK
