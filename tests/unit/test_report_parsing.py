"""Reports in the official agent's spellings get the right catalog codes at the gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openassist.catalog import ENTRIES
from openassist.protocol.reports import ReportKind, decode_report
from openassist.server.gateway.reports import file_report, task_report

SHAPES: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "official_agent_requests.json").read_text()
)


@pytest.mark.parametrize(
    "case", SHAPES["invalid_params"]["cases"], ids=lambda c: f"{c['param']}={c['value'][:30]}"
)
def test_every_official_invalid_param_gets_its_catalog_code(case: dict[str, str]) -> None:
    query = {"taskId": "t", "invokeVersion": "0", "param": case["param"], "value": case["value"]}
    report = task_report(decode_report(ReportKind.INVALID, query))
    assert report.error_code == case["code"] and case["code"] in ENTRIES
    assert report.error_info == f"{case['param']}: {case['value']}"  # the cause, kept whole


@pytest.mark.parametrize("case", SHAPES["file_invalid_params"]["cases"], ids=lambda c: c["param"])
def test_every_official_send_file_invalid_param_gets_its_catalog_code(
    case: dict[str, str],
) -> None:
    query = {
        "taskId": "f-1",
        "taskType": "sendfile",
        "param": case["param"],
        "value": case["value"],
    }
    report = file_report(decode_report(ReportKind.INVALID, query))
    assert report.error_code == case["code"] and case["code"] in ENTRIES and report.invalid


def test_invalid_reports_map_parameters_to_catalog_codes() -> None:
    cases = {
        ("workingDirectory", "WorkingDirectoryNotExist: /nope"): "DirectoryNotExists",
        (
            "workingDirectory",
            "DefaultWorkingDirectoryNotAvailable: /root",
        ): "DefaultWorkingDirectoryNotAvailable",
        ("TypeInvalid", "TypeInvalid_RunBatScript"): "CommandNotApplicable",
        ("InvalidEnvironmentParameter", "ACS::Nope"): "InvalidSystemBuiltInParameter",
        ("cron", "CronExpressionExpired"): "CronExpressionExpired",
        ("cron", "something else"): "BadCronExpression",
        ("unheard-of", "x"): "InvalidCommandText",
        # The official agent's container checks: param is the category, value "<category>: ..."
        (
            "ContainerNotFound",
            "ContainerNotFound: The specified container does not exist.",
        ): "ContainerNotFound",
        (
            "ContainerConnectFailed",
            "ContainerConnectFailed: Unable to connect to container to invoke command. x",
        ): "ContainerConnectFailed",
    }
    for (param, value), code in cases.items():
        query = {"taskId": "t", "param": param, "value": value}
        report = task_report(decode_report(ReportKind.INVALID, query))
        assert report.error_code == code, (param, value)
        assert value in report.error_info


def test_error_report_keeps_its_code() -> None:
    query = {"taskId": "t", "errCode": "AccountNotExists", "errDesc": "user bob"}
    report = task_report(decode_report(ReportKind.ERROR, query))
    assert (report.error_code, report.error_info) == ("AccountNotExists", "user bob")
