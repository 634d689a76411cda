"""The commands the README's "Operating OpenAssist" section gives, so tests run them as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def operating_commands(subsection: str) -> list[str]:
    """The shell commands in ``subsection``'s sh blocks (continuations joined, comments cut)."""
    text = README.read_text()
    section = text.split("## Operating OpenAssist", 1)[1].split("\n## ", 1)[0]
    part = section.split(f"### {subsection}\n", 1)[1].split("\n### ", 1)[0]
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", part, re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command:
                commands.append(command)
    return commands
