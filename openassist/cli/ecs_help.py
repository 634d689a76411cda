"""``openassist ecs --help`` and ``openassist ecs <Action> --help``, answered from the reference
table without contacting the server."""

from __future__ import annotations

import sys

from openassist.cli.action_reference import REFERENCE, action_help, action_list
from openassist.cli.outcome import ExitCode


def show_ecs_help(action: str, asked: bool) -> int:
    """Print the help asked for; 0 when help was asked, 1 for a missing or unknown action."""
    if action in ("", "--help", "-h"):
        print(action_list(), file=sys.stdout if asked else sys.stderr)
        return 0 if asked else ExitCode.ERROR
    if action not in REFERENCE:
        close = [name for name in REFERENCE if name.lower() == action.lower()]
        hint = f" (did you mean {close[0]}?)" if close else ""
        print(f"openassist ecs: unknown action {action!r}{hint}\n", file=sys.stderr)
        print(action_list(), file=sys.stderr)
        return ExitCode.ERROR
    print(action_help(action))
    return 0
