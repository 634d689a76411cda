"""``docs/settings.md``, generated from ``ServerSettings``: every setting with its type, default,
environment variable and what it does (its comment in ``settings.py``).

Regenerate with ``python -m openassist.server.settings_reference > docs/settings.md``; a test
fails when the file and the class disagree.
"""

from __future__ import annotations

import inspect
import io
import sys
import tokenize
from dataclasses import MISSING, Field, fields
from pathlib import Path

from openassist.server import settings as settings_module
from openassist.server.settings import ENV_PREFIX, ServerSettings

REGENERATE = "python -m openassist.server.settings_reference > docs/settings.md"

_HEADER = """# Server settings

<!-- Generated from openassist/server/settings.py; do not edit. Regenerate with:
     {regenerate} -->

`openassist server` reads, in order: the defaults below, a TOML file named by
`OPENASSIST_CONFIG` (table `[server]`), the `OPENASSIST_*` environment variables, then
command-line flags (`--data-dir`, `--api-port`, ...). An unknown key in the file, or an
unknown `OPENASSIST_*` variable, stops the server at start with a message naming it.
Lists are comma-separated in a variable and TOML arrays in the file.

| setting | variable | type | default | what it does |
|---|---|---|---|---|
"""


def _comments() -> dict[str, str]:
    """Each class-level field's comment: the lines just above it and the one beside it."""
    source = inspect.getsource(settings_module)
    found: dict[str, str] = {}
    above: list[str] = []
    in_class = False
    lines = source.splitlines()
    comments = {
        token.start[0]: token.string.lstrip("#").strip()
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if line.startswith("class ServerSettings"):
            in_class = True
            continue
        if not in_class:
            continue
        if line and not line.startswith(" "):
            break  # the class ended
        if stripped.startswith("#"):
            above.append(comments.get(number, ""))
            continue
        name, colon, _rest = stripped.partition(":")
        if colon and name.isidentifier() and line.startswith("    ") and line[4] != " ":
            beside = comments.get(number, "")
            if beside.startswith("noqa"):
                beside = ""
            found[name] = " ".join(part for part in [*above, beside] if part)
        above = []
    return found


def _default(field: Field[object]) -> str:
    value = field.default if field.default is not MISSING else None
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value) or "(none)"
    if value == "":
        return "(empty)"
    return str(value)


def _kind(field: Field[object]) -> str:
    kind = str(field.type)
    return {"tuple[str, ...]": "list of strings"}.get(kind, kind)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """The whole of ``docs/settings.md``."""
    comments = _comments()
    rows = []
    for field in fields(ServerSettings):
        variable = ENV_PREFIX + field.name.upper()
        what = comments.get(field.name, "")
        rows.append(
            f"| `{field.name}` | `{variable}` | {_kind(field)} | `{_cell(_default(field))}` "
            f"| {_cell(what)} |"
        )
    return _HEADER.format(regenerate=REGENERATE) + "\n".join(rows) + "\n"


def undocumented() -> list[str]:
    """Settings without a comment to document them."""
    comments = _comments()
    return [field.name for field in fields(ServerSettings) if not comments.get(field.name)]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(render())
    else:
        sys.stdout.write(render())
