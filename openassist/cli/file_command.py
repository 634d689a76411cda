"""``openassist send-file LOCAL --to DIR -i ...``: SendFile (50 machines a call, shown as one
task), then each machine's outcome as it arrives, as ``openassist run`` shows scripts."""

from __future__ import annotations

import argparse
import base64
from pathlib import Path

from openassist.cli.api_client import ApiClient
from openassist.cli.follow import follow_and_show
from openassist.cli.live import Presenter, mode_of
from openassist.cli.outcome import ExitCode, UsageError
from openassist.cli.rollout_progress import follow_s, rollout_params
from openassist.cli.targets import Selection, resolve

BATCH = 50  # SendFile's InstanceId.N limit


def send_file(client: ApiClient, args: argparse.Namespace) -> int:
    local = Path(args.local)
    try:
        content = local.read_bytes()
    except OSError as error:
        raise UsageError(f"send-file: cannot read {local}: {error.strerror}") from None
    machines = resolve(client, Selection.from_args(args))
    params = {
        "Name": args.name or local.name,
        "TargetDir": args.to,
        "Content": base64.b64encode(content).decode(),
        "ContentType": "Base64",  # any bytes travel unchanged
        "FileMode": args.mode,
        "FileOwner": args.owner,
        "FileGroup": args.group,
        "Overwrite": "true" if args.overwrite else "false",
        "Timeout": str(args.timeout),
        **rollout_params(args),  # a rollout (README "Rollouts"); each call of BATCH is one
    }
    invoke_ids: list[str] = []
    for start in range(0, len(machines), BATCH):
        ids = {f"InstanceId.{n}": m.id for n, m in enumerate(machines[start : start + BATCH], 1)}
        invoke_ids.append(client.call("SendFile", {**params, **ids})["InvokeId"])
    presenter = Presenter(
        mode_of(args.json, args.jsonl),
        {m.id: m.name for m in machines},
        max_concurrency=args.max_concurrency,
    )
    if args.no_wait:
        presenter.print_ids(invoke_ids)
        return ExitCode.OK
    presenter.started(invoke_ids, len(machines))
    return follow_and_show(client, invoke_ids, presenter, follow_s(args, len(machines), BATCH))
