"""Agent protocol messages decode from the official agent's JSON, agent versions are compared
by their numbers, and overall task statuses know which are final."""

from __future__ import annotations

import msgspec
import pytest

from openassist.protocol import agent as wire
from openassist.protocol.agent_versions import (
    package_name,
    package_version,
    upgrade_needed,
    version_key,
)
from openassist.protocol.api_versions import ECS_VERSION, OOS_VERSION, version_of
from openassist.protocol.statuses import InvocationStatus


def test_a_registration_decodes_with_its_tags_and_defaults() -> None:
    body = (
        b'{"activationCode":"a-1","activationId":"ID","publicKey":"PEM","hostname":"h",'
        b'"tag":[{"key":"env","value":"prod"}],"unknownField":1}'
    )
    request = wire.decode_register(body)
    assert (request.activationCode, request.hostname, request.osType) == ("a-1", "h", "")
    assert request.tag == [wire.Tag("env", "prod")]


def test_a_registration_without_its_code_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="activationCode"):
        wire.decode_register(b'{"activationId":"ID","publicKey":"PEM"}')


def test_a_task_list_decodes_runs_stops_and_files() -> None:
    body = wire.encode(
        {
            "instanceId": "mi-1",
            "run": [{"task": {"taskID": "t-1", "timeOut": "5"}}],
            "stop": [{"task": {"taskID": "t-2"}}],
            "file": [],
        }
    )
    listing = wire.decode_task_list(body)
    assert listing.code == 200 and listing.instanceId == "mi-1"
    assert [item.task.taskID for item in listing.run] == ["t-1"]
    assert listing.run[0].task.timeOut == "5"
    assert [item.task.taskID for item in listing.stop] == ["t-2"]
    assert wire.decode_task_list(b"{}").run == []


@pytest.mark.parametrize(
    ("version", "key"),
    [("1.2.10", (1, 2, 10)), ("2.2.3.282", (2, 2, 3, 282)), ("1.x", ()), ("", ())],
)
def test_version_keys_compare_numbers_not_text(version: str, key: tuple[int, ...]) -> None:
    assert version_key(version) == key


@pytest.mark.parametrize(
    ("agent_version", "feature", "needed"),
    [
        ("openassist-0.1.9", "container", "openassist-0.2.0"),
        ("openassist-0.2.0", "container", None),
        ("openassist-0.10.0", "schedule", None),
        ("openassist-dev", "schedule", None),  # unknown version: benefit of the doubt
        ("2.2.3.100", "schedule", "2.2.3.282"),
        ("2.2.3.282", "schedule", None),
        ("2.2.3.100", "container", None),  # the official version that brings it is unknown
        ("", "schedule", None),
    ],
)
def test_upgrade_needed_names_the_version_that_brings_the_feature(
    agent_version: str, feature: str, needed: str | None
) -> None:
    assert upgrade_needed(agent_version, feature) == needed


def test_package_names_carry_their_version() -> None:
    assert package_name("0.3.1") == "openassist-agent-0.3.1.zip"
    assert package_version(package_name("0.3.1")) == "0.3.1"
    assert package_version("openassist-agent-latest.zip") is None
    assert package_version("openassist-agent-0.3.1.tar.gz") is None
    assert package_version("other-0.3.1.zip") is None


@pytest.mark.parametrize("status", list(InvocationStatus))
def test_an_overall_status_is_final_unless_the_task_may_still_change(
    status: InvocationStatus,
) -> None:
    active = {"Pending", "Scheduled", "Running", "Stopping"}
    assert status.is_final is (status.value not in active)


def test_parameter_store_actions_answer_in_the_oos_version() -> None:
    assert version_of("GetSecretParameter") == OOS_VERSION
    assert version_of("RunCommand") == ECS_VERSION
