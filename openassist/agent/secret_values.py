"""``{{oos-secret:NAME}}`` on the instance (issue 13.8): the server hands our agent its tasks with
these placeholders in place, and the agent asks for their values right before each run. The
values live in memory for that run only: in the script it starts (an owner-only file removed in
every path, swept at start after a crash), never in the schedule file, the journal or a command
line. The placeholder syntax is the server's (whitespace allowed inside the braces and around
the colon); a name the server returns no value for stays as written.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

from openassist.protocol import agent as wire

_REFERENCE = re.compile(r"\{\{\s*oos-secret\s*:\s*([A-Za-z0-9_.-]+)\s*\}\}")


def names(task: wire.TaskInfo) -> list[str]:
    """The secret parameters the task's command refers to (none without EnableParameter, when
    the text is the script's own)."""
    if not task.enableParameter:
        return []
    try:
        content = base64.b64decode(task.commandContent, validate=True)
    except (binascii.Error, ValueError):
        return []  # the run fails on its content anyway
    text = content.decode("utf-8", "surrogateescape")
    return list(dict.fromkeys(m.group(1) for m in _REFERENCE.finditer(text)))


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each secret placeholder whose value is known replaced by it."""
    if not values:
        return text
    return _REFERENCE.sub(lambda m: values.get(m.group(1), m.group(0)), text)
