"""The command line's argparse, made quick for a short command: only the parser of the
subcommand named is built, argparse's messages skip gettext's catalog search, and its width
comes from os (not shutil)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from openassist.cli.outcome import ExitCode

TYPE_CHECKING = False  # typing is not imported at run time: a short command's start-up
if TYPE_CHECKING:
    from typing import Any, NoReturn


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` tells it (COLUMNS, else standard
    output's terminal, else 80), without importing shutil."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0 and sys.__stdout__ is not None:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (ValueError, OSError):
            columns = 0
    return columns or 80


def _as_written(message: str) -> str:
    return message


# argparse passes each of its messages (every parser's help option and group titles: some 60 for
# one command) through gettext, which each time searches the locale directories for a catalog of
# gettext's default "messages" domain, loading the locale module to name them: 14 million
# instructions of the 100 a short command adds to the interpreter's start (callgrind). No program
# here installs such a catalog, and without one gettext answers the message as written: so do we.
setattr(argparse, "_", _as_written)  # noqa: B010  # argparse's own global, not in its stub


class Parser(argparse.ArgumentParser):
    """Usage errors exit 1, as every other error of the command line does (argparse says 2)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.ERROR, f"{self.prog}: error: {message}\n")

    _width = 0  # read at this parser's first formatter: a parser lives for one command line

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes one at every add_argument (to check its metavar), and finds the width
        # through shutil: an import and a terminal query per option of a short command.
        self._width = self._width or _columns() - 2
        formatter: Any = self.formatter_class  # a HelpFormatter class: it takes a width
        made: argparse.HelpFormatter = formatter(prog=self.prog, width=self._width)
        return made


class _Unbuilt:
    """Stands in for the parser of a subcommand that was not asked for, to the code that adds
    its options: they are not built (building every subcommand's is a good part of a short
    command's start-up)."""

    def __getattr__(self, _name: str) -> Any:
        return lambda *_args, **_kwargs: self


class _NotBuilt:
    """Stands in for that parser in argparse's own map: argparse lists its name (usage, errors)
    and reaches it only if it reads another word as the command than ``command_in`` did; it
    takes none of the words then, and main() parses them again with every parser built."""

    def parse_known_args(
        self, args: Sequence[str], _namespace: object = None
    ) -> tuple[argparse.Namespace, list[str]]:
        return argparse.Namespace(), list(args)


class Subcommands:
    """Adds every subcommand (so ``--help`` and errors list them all), makes the parser of
    ``wanted`` only (all of them when None): an argparse parser for each of the twenty is a
    tenth of a short command's own work."""

    def __init__(self, parser: argparse.ArgumentParser, wanted: str | None) -> None:
        self._sub = parser.add_subparsers(dest="command", required=True)
        self._wanted = wanted

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        if self._wanted is None or self._wanted == name:
            made: argparse.ArgumentParser = self._sub.add_parser(name, **kwargs)
            return made
        placeholder: Any = _NotBuilt()
        self._sub._name_parser_map[name] = placeholder  # what add_parser would register
        unbuilt: Any = _Unbuilt()
        stand_in: argparse.ArgumentParser = unbuilt
        return stand_in


def command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option of the main
    parser), or None (and None when help is asked of the main parser: it lists them all)."""
    items = iter(argv)
    for item in items:
        if item in ("-h", "--help"):
            return None
        if item in ("--log-level", "--log-format"):
            next(items, None)
        elif not item.startswith("-"):
            return item
    return None
