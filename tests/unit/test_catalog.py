"""The catalog covers every code of the Cloud Assistant documentation, with its message and a fix.

The documentation's codes and messages are recorded in ``tests/fixtures/documented_codes.json``
(the failure tables of the two documentation pages the product was born from), so this test needs
nothing outside the repository.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from openassist.catalog import (
    DOCUMENTED_CODES,
    ENTRIES,
    CatalogEntry,
    Phase,
    Source,
    explain,
    index,
    lookup,
)
from openassist.protocol.statuses import InstanceStatus

FIXTURE = Path(__file__).parents[1] / "fixtures" / "documented_codes.json"
DOCUMENTED: dict[str, str] = json.loads(FIXTURE.read_text(encoding="utf-8"))["codes"]


def test_the_record_of_the_documentation_holds_its_fifty_codes() -> None:
    assert len(DOCUMENTED) == 50, sorted(DOCUMENTED)
    assert {"ExitCodeNonzero", "InvalidGMTOffsetForTimezone", "UserGroupNotExists"} <= set(
        DOCUMENTED
    )


def test_the_catalog_names_exactly_the_documented_codes() -> None:
    assert len(set(DOCUMENTED_CODES)) == len(DOCUMENTED_CODES), "a code is listed twice"
    assert list(DOCUMENTED_CODES) == list(DOCUMENTED)


@pytest.mark.parametrize("code", sorted(DOCUMENTED))
def test_every_documented_code_is_catalogued_with_its_message_and_a_solution(code: str) -> None:
    entry = lookup(code)
    assert entry.code == code
    assert entry.message == DOCUMENTED[code]
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
