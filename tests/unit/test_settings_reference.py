"""docs/settings.md is the settings class, rendered; unknown ``OPENASSIST_*`` variables are
refused like unknown keys in the settings file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from openassist.errors import ConfigurationError
from openassist.server import settings_reference
from openassist.server.settings import (
    ENV_PREFIX,
    OTHER_PARTS_VARIABLES,
    TEST_VARIABLES_PREFIX,
    ServerSettings,
    load_server_settings,
)

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "settings.md"


def test_settings_reference_matches_the_settings_class() -> None:
    assert REFERENCE.read_text() == settings_reference.render(), (
        f"docs/settings.md is out of date; regenerate it with: {settings_reference.REGENERATE}"
    )


def test_every_setting_says_what_it_does() -> None:
    assert settings_reference.undocumented() == [], (
        "give each of these settings a comment in openassist/server/settings.py (above it or "
        f"beside it), then: {settings_reference.REGENERATE}"
    )


def test_the_reference_names_every_setting_with_its_variable_and_default() -> None:
    text = settings_reference.render()
    for name, variable in (("api_port", "OPENASSIST_API_PORT"), ("regions", "OPENASSIST_REGIONS")):
        assert f"| `{name}` | `{variable}` |" in text
    assert "| `8640` |" in text
    assert "RegionId values the API accepts" in text


def test_an_unknown_openassist_variable_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_server_settings({"OPENASSIST_API_PROT": "9000", "OPENASSIST_API_PORT": "9001"})
    assert "OPENASSIST_API_PROT" in str(refused.value)
    assert "docs/settings.md" in str(refused.value)


def test_other_parts_variables_and_other_prefixes_are_left_alone() -> None:
    environ = {
        "OPENASSIST_API_PORT": "9001",
        "OPENASSIST_ACCESS_KEY_ID": "LTAI",
        "OPENASSIST_AGENT_DIR": "/var/lib/x",
        TEST_VARIABLES_PREFIX + "POSTGRES_URL": "postgresql://x",
        "OPENASSISTANT_X": "not ours",
    }
    assert load_server_settings(environ).api_port == 9001


def test_every_variable_the_code_reads_is_a_setting_or_known_to_the_server() -> None:
    """A new ``OPENASSIST_*`` variable read anywhere (agent, CLI) must be named in
    ``OTHER_PARTS_VARIABLES``, or a server started from the same shell would refuse it."""
    settings = {ENV_PREFIX + name.upper() for name in ServerSettings.__dataclass_fields__}
    found: set[str] = set()
    for path in (ROOT / "openassist").rglob("*.py"):
        found |= set(re.findall(r"\bOPENASSIST_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    unknown = sorted(
        name
        for name in found - settings - OTHER_PARTS_VARIABLES
        if not name.startswith(TEST_VARIABLES_PREFIX)
    )
    assert unknown == [], "add them to OTHER_PARTS_VARIABLES in openassist/server/settings.py"


def test_the_server_does_not_start_with_a_misspelt_variable(tmp_path: Path) -> None:
    env = {**os.environ, "OPENASSIST_SWEEP_INTERVAL": "1"}  # the setting is sweep_interval_s
    started = subprocess.run(
        [sys.executable, "-m", "openassist.cli.main", "server", "--data-dir", str(tmp_path / "d")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 1
    assert "unknown environment variable OPENASSIST_SWEEP_INTERVAL" in started.stderr
    assert not (tmp_path / "d").exists()
