"""A short command starts light: ``openassist run`` loads no module it does not use (shutil,
which argparse reaches for at every option to learn the terminal's width; configparser, for a
credentials file that is JSON; typing, whose names only the type checker needs; locale, which
gettext loads for every argparse message), its help loads no API client, and its help still takes
the terminal's width. Only the named command's parser is built, and a command argparse finds
elsewhere than the first plain word still gets all of its options. (The whole ``run`` against a
real server: tests/integration/test_cli_light_run.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from openassist.cli.main import main

PROBE = """
import sys
from openassist.cli import credentials, main
argv = ["run", "echo hi", "-i", "web-1", "--credentials", sys.argv[1]]
args, _ = main._parser(argv).parse_known_args(argv)
credentials.resolve(credentials.Choice(credentials_file=args.credentials))
print(sorted(m for m in ("shutil", "configparser", "typing", "locale") if m in sys.modules))
"""


def test_a_run_command_loads_no_shutil_configparser_typing_or_locale(tmp_path: Path) -> None:
    document = {"AccessKeyId": "k", "AccessKeySecret": "s", "Endpoint": "127.0.0.1:1"}
    (tmp_path / "credentials.json").write_text(json.dumps(document))
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "credentials.json")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("columns", [60, 200])
def test_help_wraps_at_the_width_columns_gives(
    columns: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= columns - 2
    assert max(map(len, lines)) > columns - 20  # filled to the width, not to a fixed one


def _imported(*argv: str) -> set[str]:
    """The modules ``openassist ARGV`` loads, as ``python -X importtime`` lists them."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "openassist.cli.main", *argv],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip() for line in lines[1:]}  # the first is the heading


def test_the_width_is_read_once_per_parser_not_per_option(monkeypatch: pytest.MonkeyPatch) -> None:
    """argparse makes a formatter at every option (its metavar check): each read COLUMNS and
    asked the terminal, some 30 times for one ``run``."""
    from openassist.cli import parsing
    from openassist.cli.main import _parser

    reads: list[int] = []
    columns = parsing._columns

    def counted() -> int:
        reads.append(columns())
        return reads[-1]

    monkeypatch.setattr(parsing, "_columns", counted)
    _parser(["run", "echo hi", "-i", "web-1"])
    assert len(reads) == 2  # the main parser's and run's


def test_a_commands_help_loads_neither_the_api_client_nor_json() -> None:
    loaded = _imported("run", "--help")
    assert "argparse" in loaded  # the listing is read right
    light = {"json", "socket", "_socket", "openassist.cli.api_client", "locale"}
    assert sorted(loaded & light) == []


def test_a_command_after_an_abbreviated_option_gets_all_its_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--log-f", "json", "run", "--help"])  # --log-format json: not the command
    assert exited.value.code == 0
    assert "--max-concurrency" in capsys.readouterr().out


def test_the_main_help_lists_every_command_even_with_one_named_after_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help", "run"])
    out = capsys.readouterr().out
    assert "run a shell script on machines and show the results" in out
    assert "the full output of one run (raw bytes)" in out
