"""A short command starts light: ``openassist run`` loads no module it does not use (shutil,
which argparse reaches for at every option to learn the terminal's width; configparser, for a
credentials file that is JSON), and its help still takes the terminal's width."""

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
print(sorted(m for m in ("shutil", "configparser") if m in sys.modules))
"""


def test_a_run_command_loads_neither_shutil_nor_configparser(tmp_path: Path) -> None:
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
