"""The catalog covers every code of the seed pages, with the seed's message and a fix."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from openassist.catalog import ENTRIES, CatalogEntry, Phase, Source, explain, index, lookup
from openassist.protocol.statuses import InstanceStatus

SEEDS = Path(__file__).parents[3] / "shared" / "seeds"

# A code is one CamelCase word with at least two capitals ("ExitCodeNonzero",
# "InvalidGMTOffsetForTimezone"); this keeps out "Note" and table prose.
_CODE = re.compile(r"[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*")


def _seed_rows() -> dict[str, set[str]]:
    """Map each code in the seed tables to the messages the seeds give for it.

    Rows look like ``Code | message | solution |`` or ``|Code|message|solution|``; cells may
    continue on following lines, which never start with a code followed by a ``|``.
    """
    rows: dict[str, set[str]] = {}
    for page in sorted(SEEDS.glob("*.txt")):
        for line in page.read_text(encoding="utf-8").splitlines():
            if "|" not in line:
                continue
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            code = cells[0]
            if not _CODE.fullmatch(code) or sum(c.isupper() for c in code) < 2:
                continue
            rows.setdefault(code, set())
            if len(cells) > 1 and cells[1]:
                rows[code].add(cells[1])
    return rows


SEED_ROWS = _seed_rows()


def test_seed_pages_yield_enough_codes_to_be_meaningful() -> None:
    assert len(SEED_ROWS) >= 50, sorted(SEED_ROWS)
    assert {"ExitCodeNonzero", "InvalidGMTOffsetForTimezone", "UserGroupNotExists"} <= set(
        SEED_ROWS
    )


@pytest.mark.parametrize("code", sorted(SEED_ROWS))
def test_every_seed_code_is_catalogued_with_seed_message_and_solution(code: str) -> None:
    entry = lookup(code)
    assert entry.code == code
    assert entry.message in SEED_ROWS[code]
    assert entry.solution.strip()


LEGACY_AND_SEND_FILE = (
    "ExecutionInterrupted",
    "TaskConcurrencyLimit",
    "InstanceNotExists",
    "FileCreateFail",
    "FileContentInvalid",
)


@pytest.mark.parametrize("code", LEGACY_AND_SEND_FILE)
def test_codes_known_only_from_the_api_reference_are_catalogued(code: str) -> None:
    assert lookup(code).solution.strip()


@pytest.mark.parametrize("entry", list(ENTRIES.values()), ids=list(ENTRIES))
def test_every_entry_is_complete_and_self_hosted(entry: CatalogEntry) -> None:
    assert ENTRIES[entry.code] is entry
    assert entry.message.endswith(".")
    assert entry.solution.strip()
    assert isinstance(entry.phase, Phase)
    assert isinstance(entry.source, Source)
    assert entry.status.is_final
    # Solutions are for a self-hosted server: no cloud console, tickets or RAM roles.
    for cloud_only in ("console.aliyun", "ticket", "RAM", "DescribeInstanceRamRole"):
        assert cloud_only not in entry.solution


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ExitCodeNonzero", InstanceStatus.FAILED),
        ("ExecutionTimeout", InstanceStatus.TIMEOUT),
        ("ExecutionException", InstanceStatus.ERROR),
        ("DeliveryTimeout", InstanceStatus.ABORTED),
        ("ClientNotRunning", InstanceStatus.ABORTED),
        ("ClientNotOnline", InstanceStatus.ABORTED),
        ("InstanceNotRunning", InstanceStatus.ABORTED),
        ("CommandNotApplicable", InstanceStatus.INVALID),
        ("InvalidCommandText", InstanceStatus.INVALID),
        ("CommandContentDecodeError", InstanceStatus.INVALID),
        ("InvalidSystemBuiltInParameter", InstanceStatus.INVALID),
        ("BadCronExpression", InstanceStatus.INVALID),
        ("TerminationException", InstanceStatus.ERROR),
        ("FileCreateFail", InstanceStatus.FAILED),
    ],
)
def test_key_codes_lead_to_the_documented_status(code: str, status: InstanceStatus) -> None:
    assert lookup(code).status is status


def test_phases_and_sources_of_some_codes() -> None:
    assert lookup("ContainerNotFound").phase is Phase.CONTAINER
    assert lookup("UserOrPasswordInvalid").phase is Phase.WINDOWS_USER
    assert lookup("TerminationException").phase is Phase.STOP
    assert lookup("FileAlreadyExists").phase is Phase.SEND_FILE
    assert lookup("DeliveryTimeout").source is Source.SERVER
    assert lookup("ExitCodeNonzero").source is Source.AGENT


def test_legacy_error_info_texts_from_the_api_reference() -> None:
    assert lookup("ExitCodeNonzero").legacy_info == "the command execution exit code is not zero"
    assert lookup("BadCronExpression").legacy_info == "the cron job expression is invalid"
    assert lookup("TaskConcurrencyLimit").legacy_info is None
    assert lookup("ClientRestarted").legacy_info is None


def test_lookup_of_unknown_code_raises_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match="NoSuchCode"):
        lookup("NoSuchCode")


def test_entries_cannot_be_changed() -> None:
    with pytest.raises(TypeError):
        ENTRIES["X"] = lookup("ExitCodeNonzero")  # type: ignore[index]


def test_index_refuses_a_code_defined_twice() -> None:
    entry = lookup("ExitCodeNonzero")
    with pytest.raises(ValueError, match="ExitCodeNonzero"):
        index([entry, entry])


def test_explain_renders_message_detail_and_solution_in_one_paragraph() -> None:
    text = explain("ExitCodeNonzero", "exit code 2")
    entry = lookup("ExitCodeNonzero")
    assert text == f"ExitCodeNonzero: {entry.message} Exit code 2. Recommended: {entry.solution}"
    assert "\n" not in text


def test_explain_without_detail() -> None:
    text = explain("DeliveryTimeout")
    assert text.startswith("DeliveryTimeout: The Cloud Assistant server failed")
    assert " Recommended: " in text


def test_explain_of_unknown_code_still_renders() -> None:
    assert explain("AgentSpecificCode", "disk full!") == "AgentSpecificCode: Disk full!"
    assert explain("AgentSpecificCode", "  ") == (
        "AgentSpecificCode: No description is known for this code."
    )


def test_catalog_imports_neither_server_agent_nor_cli() -> None:
    probe = (
        "import sys, openassist.catalog; "
        "print(sorted(m for m in sys.modules if m.startswith("
        "('openassist.server', 'openassist.agent', 'openassist.cli'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
