"""What ``openassist ecs --help`` and ``openassist ecs <Action> --help`` print: per action, one
line saying what it does and its parameters (wire names exact, as in API.md; ``*`` marks a
required one). Pure data: printing help never contacts the server.

The entries are data, one module a product (ECS, OOS, RAM, ActionTrail), in the format
``entries`` reads. A unit test keeps them and the server's registered actions equal, both ways.
"""

from __future__ import annotations

import re

from openassist.cli.action_reference import actiontrail, ecs, oos, ram
from openassist.cli.action_reference.entries import ActionReference, parse

REFERENCE: dict[str, ActionReference] = {
    name: entry
    for table in (ecs.TABLE, oos.TABLE, ram.TABLE, actiontrail.TABLE)
    for name, entry in parse(table).items()
}


def action_list() -> str:
    """``openassist ecs --help``: every action with its summary."""
    width = max(map(len, REFERENCE))
    lines = [
        "usage: openassist ecs <Action> [--Param value ...] [--credentials FILE]",
        "       openassist ecs <Action> --help    (the parameters of one action)",
        "",
        "Actions:",
    ]
    lines += [f"  {name:<{width}}  {REFERENCE[name].summary}" for name in sorted(REFERENCE)]
    return "\n".join(lines)


def action_help(action: str) -> str:
    """``openassist ecs <Action> --help``: what it does and its parameters."""
    reference = REFERENCE[action]
    width = max([len(p.name) for p in reference.parameters] + [len("RegionId")]) + 2
    lines = [
        f"usage: openassist ecs {action} [--Param value ...]",
        "",
        f"{action}: {reference.summary}",
        "",
        "Parameters (* = required; .N = repeat as .1, .2, ...):",
    ]
    for p in reference.parameters:
        lines.append(f"  --{p.name:<{width}} {'*' if p.required else ' '} {p.meaning}")
    lines.append(f"  --{'RegionId':<{width}}   region; default the one in the credentials")
    return "\n".join(lines)


def unknown_parameter(action: str, name: str) -> str | None:
    """None when ``name`` is one of ``action``'s parameters (``Name.N`` as ``Name.1`` ...);
    otherwise why not, with the closest parameter it may have meant. A parameter the server
    does not know is ignored there, so a misspelt one would change nothing without a word."""
    reference = REFERENCE.get(action)
    if reference is None:  # the server answers an unknown action itself
        return None
    known = [p.name for p in reference.parameters] + ["RegionId"]
    if any(_wire_pattern(candidate).fullmatch(name) for candidate in known):
        return None
    spelled = {candidate.replace(".N", ".1").lower(): candidate for candidate in known}
    import difflib  # only for a name it does not know: not on the path of a right one

    close = difflib.get_close_matches(name.lower(), list(spelled), n=1, cutoff=0.6)
    hint = f" (did you mean --{spelled[close[0]].replace('.N', '.1')}?)" if close else ""
    return (
        f"{action} has no parameter --{name}{hint}; `openassist ecs {action} --help` lists "
        "its parameters"
    )


def _wire_pattern(name: str) -> re.Pattern[str]:
    return re.compile(re.escape(name).replace(r"\.N", r"\.[1-9][0-9]*"))
