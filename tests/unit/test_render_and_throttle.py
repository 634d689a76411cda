"""XML rendering of the envelope, and the per-key rate limit."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from openassist.server.api.render import render
from openassist.server.api.throttle import RateLimiter, ThrottlingError


def test_xml_repeats_list_elements_and_escapes_text() -> None:
    body = {
        "RequestId": "R",
        "Invocations": {"Invocation": [{"InvokeId": "t-1", "Timed": False}, {"InvokeId": "t-2"}]},
        "ActivationList": [{"ActivationId": "a<1>"}],
    }
    content, media = render(body, "DescribeInvocationsResponse", wants_xml=True)
    assert media == "text/xml;charset=utf-8"
    root = ET.fromstring(content)
    assert root.tag == "DescribeInvocationsResponse"
    assert [e.text for e in root.iter("InvokeId")] == ["t-1", "t-2"]
    assert root.find("Invocations/Invocation/Timed").text == "false"  # type: ignore[union-attr]
    assert root.find("ActivationList/ActivationId").text == "a<1>"  # type: ignore[union-attr]


def test_json_is_the_default() -> None:
    content, media = render({"RequestId": "R", "Name": "你好"}, "X", wants_xml=False)
    assert media == "application/json;charset=utf-8"
    assert content.decode() == '{"RequestId":"R","Name":"你好"}'


def test_rate_limit_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2, burst=3, clock=lambda: now[0])
    for _ in range(3):
        limiter.take("key")
    with pytest.raises(ThrottlingError) as error:
        limiter.take("key")
    assert error.value.retry_after_s == 1 and error.value.code == "Throttling"
    limiter.take("other-key")  # buckets are per key
    now[0] = 0.5
    limiter.take("key")
    with pytest.raises(ThrottlingError):
        limiter.take("key")
    RateLimiter(rate=0, burst=0).take("key")  # 0 disables the limit
