"""Reports in the official agent's spellings get the right catalog codes at the gateway."""

from __future__ import annotations

from openassist.protocol.reports import ReportKind, decode_report
from openassist.server.gateway.reports import task_report


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
