"""The fleet commands (``run``, ``send-file``, ``results``, ``stop``, ``invocations``,
``instances``, ``output``, ``diagnose``, ``ecs``): friendly views over the RPC API. Each command's
module is imported when it runs, so ``openassist run`` loads only what it uses."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from openassist.cli.api_client import ApiCallError, ApiClient, ApiUnreachable
from openassist.cli.credentials import Choice, CredentialsNotFound, resolve
from openassist.cli.outcome import ExitCode, UsageError


def client_for(args: argparse.Namespace) -> ApiClient:
    """The API client the command line asks for (``--credentials``, ``--profile``,
    ``--endpoint``, ``--ca``); raises CredentialsNotFound or ValueError."""
    choice = Choice(
        credentials_file=args.credentials or "",
        profile=args.profile or "",
        endpoint=args.endpoint or "",
        ca_file=args.ca or "",
    )
    return ApiClient(resolve(choice), keep_alive=True)


def run_task_command(args: argparse.Namespace, extra: Sequence[str]) -> int:
    """Run the command; every error becomes one line on stderr and exit 1, Ctrl-C exit 130."""
    try:
        client = client_for(args)
    except (CredentialsNotFound, ValueError) as error:
        print(f"openassist: {error}", file=sys.stderr)
        return ExitCode.ERROR
    try:
        return _dispatch(client, args, extra)
    except (ApiCallError, ApiUnreachable, UsageError) as error:
        print(f"openassist: {error}", file=sys.stderr)
        return ExitCode.ERROR
    except KeyboardInterrupt:  # outside a wait: nothing started that needs a hint
        print(file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK  # the reader of our output went away (``| head``): nothing to say
    finally:
        client.close()


def _dispatch(client: ApiClient, args: argparse.Namespace, extra: Sequence[str]) -> int:
    command = args.command
    if command == "run":
        from openassist.cli.run_command import run

        return run(client, args)
    if command == "send-file":
        from openassist.cli.file_command import send_file

        return send_file(client, args)
    if command in ("results", "stop"):
        from openassist.cli.result_commands import show_results, stop

        return show_results(client, args) if command == "results" else stop(client, args)
    if command in ("invocations", "instances"):
        from openassist.cli import listings

        return (
            listings.invocations(client, args)
            if command == "invocations"
            else (listings.instances(client, args))
        )
    if command == "output":
        if args.invoke_id.startswith("f-"):
            raise UsageError(
                f"{args.invoke_id} is a file task: it has no output; its outcome per machine: "
                f"openassist results {args.invoke_id} (why one failed: openassist diagnose)"
            )
        from openassist.cli.output_command import show_output
        from openassist.cli.targets import one_machine

        instance_id = one_machine(client, args.instance)
        return show_output(client, args.invoke_id, instance_id, args.follow)
    if command == "diagnose":
        from openassist.cli.diagnosis import show_diagnosis

        return show_diagnosis(client, args)
    if command in ("users", "keys", "policies", "audit"):
        from openassist.cli import access_commands

        friendly = getattr(access_commands, command)
        return int(friendly(client, args))
    return _ecs(client, args.action, extra)


def _ecs(client: ApiClient, action: str, extra: Sequence[str]) -> int:
    """``--Name value`` pairs become parameters, as in the vendor's CLI."""
    params: dict[str, str] = {}
    items = list(extra)
    while items:
        name = items.pop(0)
        if not name.startswith("--") or not items:
            print(f"openassist ecs: expected --Name value pairs, got {name!r}", file=sys.stderr)
            return ExitCode.ERROR
        params[name[2:]] = items.pop(0)
    from openassist.cli.action_reference import unknown_parameter

    for name in params:
        refusal = unknown_parameter(action, name)
        if refusal:
            raise UsageError(refusal)  # before any call: the server would ignore it silently
    region = params.pop("RegionId", client.region_id)
    answer = client.call(action, {"RegionId": region, **params})
    import json  # its answer only: the other commands read theirs without json (documents.py)

    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0
