"""Bad input over the wire gets the documented code, never a 500, and never a half-written task
(signature refusals and paging: test_api_envelope.py)."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from openassist.cli.api_client import ApiCallError
from openassist.protocol.acs_signature import signed_v1_query
from tests.support.cluster import Agent, Cluster


def _send(cluster: Cluster, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://{cluster.endpoint}/?{urlencode(query)}") as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _signed(cluster: Cluster, when: datetime, **params: str) -> dict[str, str]:
    return signed_v1_query(
        {"RegionId": "local", "Version": "2014-05-26", **params},
        cluster.credentials.access_key_id,
        cluster.credentials.access_key_secret,
        "GET",
        when,
        secrets.token_hex(16),
    )


@pytest.fixture(scope="module")
def offline(cluster: Cluster) -> Agent:
    # Registered, never started: tasks on it end at once (ClientNotRunning), which keeps these
    # tests fast and their counts exact.
    return cluster.register_agent("offline-target")


def _task_count(cluster: Cluster, instance_id: str) -> int:
    return int(cluster.call("DescribeInvocations", InstanceId=instance_id)["TotalCount"])


def test_bad_input_gets_documented_codes_and_writes_nothing(
    cluster: Cluster, offline: Agent
) -> None:
    good = {"Type": "RunShellScript", "CommandContent": "true", "InstanceId.1": offline.instance_id}
    cases: list[tuple[dict[str, str], int, str]] = [
        ({"Type": ""}, 400, "MissingParameter.Type"),
        ({"Type": "Bogus"}, 404, "InvalidCmdType.NotFound"),
        ({"InstanceId.1": ""}, 400, "MissingParam.InstanceId"),
        ({"InstanceId.2": "mi-doesnotexist"}, 404, "InvalidInstance.NotFound"),
        ({"ContentEncoding": "Base64", "CommandContent": "%%%"}, 400, "CmdContent.DecodeError"),
        ({"CommandContent": "x" * 20000}, 403, "CmdContent.ExceedLimit"),
        ({"Timeout": "abc"}, 400, "InvalidParameter.Timeout"),
        ({f"InstanceId.{i}": f"mi-{i}" for i in range(1, 102)}, 403, "InstanceIds.ExceedLimit"),
        ({"RepeatMode": "Sometimes"}, 404, "InvalidRepeatMode.NotFound"),
        ({"TerminationMode": "Gently"}, 404, "InvalidTerminationMode.NotFound"),
    ]
    before = _task_count(cluster, offline.instance_id)
    for change, status, code in cases:
        with pytest.raises(ApiCallError) as error:
            cluster.call("RunCommand", **{**good, **change})
        assert (error.value.status, error.value.code) == (status, code), change
    assert _task_count(cluster, offline.instance_id) == before

    others: list[tuple[str, dict[str, str], int, str]] = [
        ("NoSuchAction", {}, 403, "InvalidAction"),
        ("DescribeInvocations", {"PageSize": "51"}, 400, "InvalidParam.PageSize"),
        ("DescribeInvocations", {"NextToken": "garbage"}, 400, "InvalidParameter.NextToken"),
        ("StopInvocation", {"InvokeId": "t-none"}, 404, "InvalidInvokeId.NotFound"),
        ("DescribeInvocations", {"RegionId": "cn-nowhere"}, 404, "InvalidRegionId.NotFound"),
    ]
    for action, params, status, code in others:
        with pytest.raises(ApiCallError) as error:
            cluster.call(action, **params)
        assert (error.value.status, error.value.code) == (status, code), action
