"""Format=XML answers in XML; a key over its rate limit is throttled with x-acs-retry-after."""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from openassist.protocol.acs_signature import signed_v1_query
from tests.support.cluster import Cluster


def _signed_url(cluster: Cluster, **params: str) -> str:
    query = signed_v1_query(
        {"RegionId": "local", "Version": "2014-05-26", **params},
        cluster.credentials.access_key_id,
        cluster.credentials.access_key_secret,
        "GET",
        datetime.now(UTC),
        secrets.token_hex(16),
    )
    return f"http://{cluster.endpoint}/?{urlencode(query)}"


def test_xml_success_and_error_bodies(cluster: Cluster) -> None:
    with urllib.request.urlopen(
        _signed_url(cluster, Action="DescribeInvocations", Format="XML")
    ) as response:
        assert response.headers["Content-Type"] == "text/xml;charset=utf-8"
        root = ET.fromstring(response.read())
    assert root.tag == "DescribeInvocationsResponse"
    assert root.find("RequestId") is not None and root.find("TotalCount") is not None
    try:
        urllib.request.urlopen(_signed_url(cluster, Action="NoSuchAction", Format="XML"))
        raise AssertionError("expected an error")
    except urllib.error.HTTPError as error:
        root = ET.fromstring(error.read())
        assert error.code == 403
    assert root.tag == "Error"
    assert root.findtext("Code") == "InvalidAction"


def test_throttling_carries_retry_after(tmp_path: Path) -> None:
    env = {"OPENASSIST_API_RATE_PER_KEY": "1", "OPENASSIST_API_BURST_PER_KEY": "3"}
    with Cluster.start(tmp_path, env=env) as small:
        statuses = []
        for _ in range(6):  # bounded: the bucket holds 3 and refills one per second
            try:
                with urllib.request.urlopen(_signed_url(small, Action="DescribeInvocations")):
                    statuses.append(200)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
                retry_after = error.headers["x-acs-retry-after"]
                body = error.read().decode()
        assert statuses[:3] == [200, 200, 200]
        assert 429 in statuses
        assert int(retry_after) >= 1
        assert '"Code":"Throttling"' in body
