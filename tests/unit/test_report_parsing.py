"""Reports in the official agent's spellings become the right service reports."""

from __future__ import annotations

from openassist.server.gateway.reports import parse_report
from openassist.server.service.delivery import ReportKind


def test_finish_report() -> None:
    query = {
        "taskId": "t-1",
        "invokeVersion": "0",
        "start": "10",
        "end": "20",
        "exitCode": "3",
        "dropped": "5",
    }
    report = parse_report(ReportKind.FINISH, query, b"tail")
    assert (report.invoke_id, report.start_ms, report.end_ms) == ("t-1", 10, 20)
    assert (report.exit_code, report.dropped, report.output) == (3, 5, b"tail")


def test_stopped_report_spells_exitcode_in_lower_case() -> None:
    report = parse_report(
        ReportKind.STOPPED, {"taskId": "t-1", "exitcode": "-1", "result": "killed"}, b""
    )
    assert report.exit_code == -1


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
        report = parse_report(
            ReportKind.INVALID, {"taskId": "t", "param": param, "value": value}, b""
        )
        assert report.error_code == code, (param, value)
        assert value in report.error_info


def test_error_report_keeps_its_code() -> None:
    report = parse_report(
        ReportKind.ERROR, {"taskId": "t", "errCode": "AccountNotExists", "errDesc": "user bob"}, b""
    )
    assert (report.error_code, report.error_info) == ("AccountNotExists", "user bob")
