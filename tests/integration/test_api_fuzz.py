"""Random, oversized and mistyped parameters at every action: never a 500, never a traceback,
always the error envelope; and a refused RunCommand never leaves a task behind."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openassist.cli.api_client import ApiCallError
from openassist.server.api import endpoint  # noqa: F401  (registers the actions)
from openassist.server.api.registry import ACTIONS
from tests.support.cluster import Cluster

NAMES = [
    "Type",
    "CommandContent",
    "ContentEncoding",
    "InstanceId",
    "InstanceId.1",
    "InstanceId.2",
    "Timeout",
    "WorkingDir",
    "Username",
    "Name",
    "Description",
    "RepeatMode",
    "Frequency",
    "EnableParameter",
    "Parameters",
    "KeepCommand",
    "Launcher",
    "TerminationMode",
    "ClientToken",
    "InvokeId",
    "CommandId",
    "PageNumber",
    "PageSize",
    "MaxResults",
    "NextToken",
    "Tag.1.Key",
    "Tag.1.Value",
    "IncludeOutput",
    "InvokeRecordStatus",
    "InvokeStatus",
    "ActivationId",
    "InstanceCount",
    "TimeToLiveInHours",
    "IpAddressRange",
    "InstanceName",
    "Connected",
    "OSType",
]
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "true",
            "False",
            "null",
            "{}",
            "[]",
            '{"a": 1}',
            "t-x",
            "mi-x",
            "RunShellScript",
            "Base64",
            "PlainText",
            "%%%",
            "9" * 30,
        ]
    ),
    st.integers(min_value=1, max_value=40_000).map(lambda n: "a" * n),  # oversized values
    st.integers().map(str),
)
PARAMS = st.dictionaries(
    st.sampled_from(NAMES) | st.text(min_size=1, max_size=12), VALUES, max_size=8
)


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(action=st.sampled_from(sorted(ACTIONS)), params=PARAMS)
def test_no_action_fails_with_a_server_error(
    cluster: Cluster, action: str, params: dict[str, str]
) -> None:
    params = {k: v.replace("\x00", "") for k, v in params.items() if "\x00" not in k}
    params.pop("RegionId", None)
    try:
        answer = cluster.client().call(action, params)
    except ApiCallError as error:
        assert error.status < 500, (action, params, error)
        assert error.code and error.message and "Traceback" not in error.message
        return
    assert answer["RequestId"]


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(params=PARAMS)
def test_a_refused_run_command_writes_nothing(cluster: Cluster, params: dict[str, str]) -> None:
    before = cluster.call("DescribeInvocations")["TotalCount"]
    params = {k: v for k, v in params.items() if "\x00" not in k + v and k != "RegionId"}
    try:
        cluster.client().call("RunCommand", params)
    except ApiCallError:
        assert cluster.call("DescribeInvocations")["TotalCount"] == before
