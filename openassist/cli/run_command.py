"""``openassist run SCRIPT | - | -f FILE`` on the selected machines: RunCommand (in batches of
the API's 100 instances, shown as one run), then each machine's result as it finishes."""

from __future__ import annotations

import argparse
import binascii
import sys

from openassist.cli.api_client import ApiCallError, ApiClient
from openassist.cli.follow import follow_and_show
from openassist.cli.live import Presenter, mode_of
from openassist.cli.outcome import ExitCode, UsageError
from openassist.cli.rollout_progress import follow_s, rollout_params
from openassist.cli.targets import Selection, resolve

BATCH = 100  # RunCommand's InstanceId.N limit


def script_of(args: argparse.Namespace) -> bytes:
    """The script: the argument, standard input (``-``) or a file (``-f FILE``)."""
    if args.file and args.script:
        raise UsageError(
            "give the script as an argument, '-' (standard input) or -f FILE, not both"
        )
    if args.file:
        try:
            with open(args.file, "rb") as script:  # (pathlib: a tenth of the command's start)
                return script.read()
        except OSError as error:
            raise UsageError(f"cannot read {args.file}: {error.strerror}") from None
    if args.script == "-":
        return sys.stdin.buffer.read()
    if args.script:
        return str(args.script).encode()
    raise UsageError("give the script: openassist run 'COMMAND' -i ..., run - < FILE, or -f FILE")


def _too_large(error: ApiCallError) -> str:
    return (
        f"openassist run: the script is too large for RunCommand: {error.message} "
        "Send it with `openassist send-file SCRIPT --to DIR -i ...` (SendFile), then run it "
        "with `openassist run 'sh DIR/SCRIPT' -i ...`."
    )


def run(client: ApiClient, args: argparse.Namespace) -> int:
    script = script_of(args)
    machines = resolve(client, Selection.from_args(args))
    params = {
        "Type": "RunShellScript",
        "CommandContent": binascii.b2a_base64(script, newline=False).decode(),
        "ContentEncoding": "Base64",  # any bytes of a file travel unchanged
        "Timeout": str(args.timeout),
    }
    optional = {
        "WorkingDir": args.workdir,
        "Username": args.user,
        "Frequency": args.frequency,
        "ContainerName": args.container_name,
        "ContainerId": args.container_id,
    }
    params.update({k: v for k, v in optional.items() if v})
    # A rollout (README "Rollouts"); each RunCommand call of BATCH machines is one.
    params.update(rollout_params(args))
    invoke_ids: list[str] = []
    for start in range(0, len(machines), BATCH):
        batch = machines[start : start + BATCH]
        ids = {f"InstanceId.{n}": m.id for n, m in enumerate(batch, start=1)}
        try:
            invoke_ids.append(client.call("RunCommand", {**params, **ids})["InvokeId"])
        except ApiCallError as error:
            if error.code == "CmdContent.ExceedLimit":
                print(_too_large(error), file=sys.stderr)
                return ExitCode.ERROR
            raise
    presenter = Presenter(
        mode_of(args.json, args.jsonl),
        {m.id: m.name for m in machines},
        group=args.group,
        max_concurrency=args.max_concurrency or "",
    )
    if args.frequency or args.no_wait:  # a schedule's runs come later: `openassist invocations`
        presenter.print_ids(invoke_ids)
        return ExitCode.OK
    presenter.started(invoke_ids, len(machines))
    return follow_and_show(client, invoke_ids, presenter, follow_s(args, len(machines), BATCH))
