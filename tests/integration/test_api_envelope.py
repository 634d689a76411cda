"""The RPC envelope over the wire, with requests signed by our own signer and sent with httpx.

Signatures (stale, replayed, wrong, absent), the error body, documented codes for bad input
(never a 500, never a half-written task), both HTTP methods, booleans in any case, and paging
with either scheme returning every task exactly once.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from openassist.protocol.acs_signature import (
    authorization_v3,
    canonical_request_v3,
    format_timestamp,
    sign_v3,
    signed_v1_query,
    string_to_sign_v1,
    string_to_sign_v3,
)
from tests.support.cluster import Agent, Cluster

VERSION = "2014-05-26"
JSON_TYPE = "application/json"
FINAL = {"Success", "Failed", "Invalid", "Aborted", "Error", "Timeout", "Cancelled", "Terminated"}
PAGED_TASKS = 120
MAX_CONTENT_BASE64 = 24 * 1024


@dataclass
class Wire:
    """Signed raw requests to one cluster; every answer is checked for the envelope."""

    cluster: Cluster
    http: httpx.Client

    @property
    def base(self) -> str:
        return f"http://{self.cluster.endpoint}/"

    # -- signing ------------------------------------------------------------------------------

    def v1_params(
        self,
        action: str,
        params: dict[str, str],
        method: str,
        *,
        when: datetime | None = None,
        nonce: str = "",
        secret: str = "",
        access_key_id: str = "",
        version: str = VERSION,
        region: str | None = "local",
    ) -> dict[str, str]:
        base = {"Action": action, "Version": version, **params}
        if region is not None:
            base.setdefault("RegionId", region)
        return signed_v1_query(
            base,
            access_key_id or self.cluster.credentials.access_key_id,
            secret or self.cluster.credentials.access_key_secret,
            method,
            when or datetime.now(UTC),
            nonce or secrets.token_hex(16),
        )

    def v1_get(self, action: str, params: dict[str, str] | None = None, **kw: Any) -> httpx.Request:
        signed = self.v1_params(action, params or {}, "GET", **kw)
        return self.http.build_request("GET", f"{self.base}?{urlencode(signed)}")

    def v1_post_form(
        self, action: str, params: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Request:
        signed = self.v1_params(action, params or {}, "POST", **kw)
        return self.http.build_request(
            "POST",
            self.base,
            content=urlencode(signed).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def v3_headers(
        self,
        action: str,
        query: dict[str, str],
        body: bytes,
        *,
        when: datetime | None = None,
        nonce: str = "",
        secret: str = "",
        access_key_id: str = "",
        version: str = VERSION,
    ) -> tuple[dict[str, str], str]:
        """The headers of a v3 ``POST /`` and the string to sign they were signed with."""
        headers = {
            "host": self.cluster.endpoint,
            "x-acs-action": action,
            "x-acs-version": version,
            "x-acs-date": format_timestamp(when or datetime.now(UTC)),
            "x-acs-signature-nonce": nonce or secrets.token_hex(16),
            "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        }
        if body:  # with a body, Content-Type must be signed (it decides how the body is read)
            headers["content-type"] = "application/x-www-form-urlencoded"
        names = sorted(headers)
        canonical = canonical_request_v3(
            "POST", "/", query, headers, names, headers["x-acs-content-sha256"]
        )
        string_to_sign = string_to_sign_v3(canonical)
        signature = sign_v3(secret or self.cluster.credentials.access_key_secret, string_to_sign)
        headers["authorization"] = authorization_v3(
            access_key_id or self.cluster.credentials.access_key_id, names, signature
        )
        return headers, string_to_sign

    def v3_post(
        self,
        action: str,
        params: dict[str, str] | None = None,
        *,
        form: dict[str, str] | None = None,
        region: str | None = "local",
        **kw: Any,
    ) -> httpx.Request:
        query = dict(params or {})
        if region is not None and "RegionId" not in (form or {}):
            query.setdefault("RegionId", region)
        body = urlencode(form).encode() if form else b""
        headers, _ = self.v3_headers(action, query, body, **kw)
        url = f"{self.base}?{urlencode(query, quote_via=quote)}" if query else self.base
        return self.http.build_request("POST", url, content=body, headers=headers)

    # -- sending ------------------------------------------------------------------------------

    def send(self, request: httpx.Request) -> httpx.Response:
        response = self.http.send(request)
        assert response.status_code < 500, (response.status_code, response.text)
        assert response.headers["content-type"].startswith(JSON_TYPE), response.headers
        return response

    def ok(self, request: httpx.Request) -> dict[str, Any]:
        response = self.send(request)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert body["RequestId"]
        return body

    def refused(self, request: httpx.Request) -> tuple[int, dict[str, Any]]:
        """Send a request that must fail; check the error envelope; return (status, body)."""
        response = self.send(request)
        assert 400 <= response.status_code < 500, response.text
        body: dict[str, Any] = response.json()
        assert set(body) >= {"RequestId", "HostId", "Code", "Message"}, body
        assert body["RequestId"] and body["Code"] and body["Message"], body
        assert body["HostId"], body
        return response.status_code, body

    def call(self, action: str, **params: str) -> dict[str, Any]:
        return self.ok(self.v1_post_form(action, params))


@pytest.fixture(scope="module")
def wire(cluster: Cluster) -> Iterator[Wire]:
    # trust_env=False: no proxy variables, no .netrc; the server is on the loopback.
    with httpx.Client(trust_env=False, timeout=30) as http:
        yield Wire(cluster, http)


@pytest.fixture(scope="module")
def offline(cluster: Cluster) -> Agent:
    """Registered, never started: RunCommand on it ends at once as Aborted/ClientNotRunning."""
    return cluster.register_agent("envelope-offline")


def task_count(wire: Wire, instance_id: str | None = None) -> int:
    params = {"InstanceId": instance_id} if instance_id else {}
    return int(wire.call("DescribeInvocations", **params)["TotalCount"])


def wait_final(wire: Wire, invoke_id: str, deadline_s: float = 30) -> dict[str, Any]:
    end = time.monotonic() + deadline_s
    while True:
        answer = wire.call("DescribeInvocationResults", InvokeId=invoke_id)
        results = answer["Invocation"]["InvocationResults"]["InvocationResult"]
        if results and all(r["InvocationStatus"] in FINAL for r in results):
            return dict(results[0])
        assert time.monotonic() < end, f"{invoke_id} not final after {deadline_s} s: {results}"
        time.sleep(0.05)


# --- signatures and the error body -------------------------------------------------------------

SCHEMES = ["v1-get", "v1-post-form", "v3"]


def describe(wire: Wire, scheme: str, **kw: Any) -> httpx.Request:
    if scheme == "v1-get":
        return wire.v1_get("DescribeInvocations", **kw)
    if scheme == "v1-post-form":
        return wire.v1_post_form("DescribeInvocations", **kw)
    return wire.v3_post("DescribeInvocations", **kw)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_both_methods_and_signatures_are_answered(wire: Wire, scheme: str) -> None:
    body = wire.ok(describe(wire, scheme))
    assert {"TotalCount", "PageNumber", "PageSize", "Invocations"} <= set(body)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("skew_minutes", [-20, 20], ids=["20-min-old", "20-min-ahead"])
def test_stale_timestamp_is_expired(wire: Wire, scheme: str, skew_minutes: int) -> None:
    when = datetime.now(UTC) + timedelta(minutes=skew_minutes)
    status, body = wire.refused(describe(wire, scheme, when=when))
    assert (status, body["Code"]) == (400, "InvalidTimeStamp.Expired")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_reused_nonce_is_refused_the_second_time(wire: Wire, scheme: str) -> None:
    request = describe(wire, scheme)
    wire.ok(request)
    status, body = wire.refused(request)
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_v1_wrong_secret_names_the_server_string_to_sign(wire: Wire, method: str) -> None:
    params = wire.v1_params("DescribeInvocations", {}, method, secret="not-the-secret")
    if method == "GET":
        request = wire.http.build_request("GET", f"{wire.base}?{urlencode(params)}")
    else:
        request = wire.http.build_request(
            "POST",
            wire.base,
            content=urlencode(params).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    status, body = wire.refused(request)
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    # The legacy Python SDK splits the message on ':' and compares the tail to its own
    # StringToSign, so there must be a colon followed directly by the string to sign.
    assert ":" in body["Message"]
    assert body["Message"].split(":")[1] == string_to_sign_v1(method, params)


def test_v3_wrong_secret_names_the_server_string_to_sign(wire: Wire) -> None:
    query = {"RegionId": "local"}
    headers, string_to_sign = wire.v3_headers(
        "DescribeInvocations", query, b"", secret="not-the-secret"
    )
    request = wire.http.build_request(
        "POST", f"{wire.base}?{urlencode(query)}", content=b"", headers=headers
    )
    status, body = wire.refused(request)
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert ":" in body["Message"]
    assert body["Message"].split(":", 1)[1] == string_to_sign


@pytest.mark.parametrize("scheme", SCHEMES)
def test_refused_signature_does_not_burn_its_nonce(wire: Wire, scheme: str) -> None:
    nonce = secrets.token_hex(16)
    status, body = wire.refused(describe(wire, scheme, nonce=nonce, secret="not-the-secret"))
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    wire.ok(describe(wire, scheme, nonce=nonce))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unsigned_request_is_refused(wire: Wire, method: str) -> None:
    params = {"Action": "DescribeInvocations", "Version": VERSION, "RegionId": "local"}
    if method == "GET":
        request = wire.http.build_request("GET", f"{wire.base}?{urlencode(params)}")
    else:
        request = wire.http.build_request(
            "POST",
            wire.base,
            content=urlencode(params).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    status, body = wire.refused(request)
    assert status == 400
    assert body["Code"] in ("IncompleteSignature", "MissingParameter"), body


@pytest.mark.parametrize("scheme", SCHEMES)
def test_unknown_access_key_is_refused(wire: Wire, scheme: str) -> None:
    status, body = wire.refused(describe(wire, scheme, access_key_id="OANOSUCHKEY", secret="x"))
    assert body["Code"] == "InvalidAccessKeyId.NotFound"
    assert status in (400, 404)


def test_error_body_is_json_with_request_id_host_code_and_message(wire: Wire) -> None:
    response = wire.http.send(wire.v1_get("NoSuchAction"))
    assert response.status_code == 403
    assert response.headers["content-type"].lower().replace(" ", "") == (
        "application/json;charset=utf-8"
    )
    body = response.json()
    assert body["Code"] == "InvalidAction"
    assert body["HostId"] == wire.cluster.endpoint
    assert body["RequestId"] and body["Message"]


# --- bad RunCommand input: documented code, no 500, nothing written ---------------------------


def _many_ids(count: int) -> dict[str, str | None]:
    return {f"InstanceId.{i}": f"mi-nosuch{i:04d}" for i in range(1, count + 1)}


# (change to a good request, HTTP status, code); a value of None removes the parameter.
RUN_COMMAND_REFUSALS: list[tuple[str, dict[str, str | None], int, str]] = [
    ("missing-type", {"Type": None}, 400, "MissingParameter.Type"),
    ("unknown-type", {"Type": "Bogus"}, 404, "InvalidCmdType.NotFound"),
    ("no-instance", {"InstanceId.1": None}, 400, "MissingParam.InstanceId"),
    ("unknown-instance", {"InstanceId.2": "mi-doesnotexist0"}, 404, "InvalidInstance.NotFound"),
    (
        "bad-base64",
        {"ContentEncoding": "Base64", "CommandContent": "not base64!"},
        400,
        "CmdContent.DecodeError",
    ),
    (
        "content-over-24kb",
        {"CommandContent": "x" * (MAX_CONTENT_BASE64 // 4 * 3 + 1)},
        403,
        "CmdContent.ExceedLimit",
    ),
    ("timeout-not-a-number", {"Timeout": "abc"}, 400, "InvalidParameter.Timeout"),
    ("101-instances", _many_ids(101), 403, "InstanceIds.ExceedLimit"),
]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [case[1:] for case in RUN_COMMAND_REFUSALS],
    ids=[case[0] for case in RUN_COMMAND_REFUSALS],
)
def test_refused_run_command_has_documented_code_and_writes_nothing(
    wire: Wire, offline: Agent, change: dict[str, str | None], status: int, code: str
) -> None:
    params: dict[str, str] = {
        "Type": "RunShellScript",
        "CommandContent": "echo refused",
        "InstanceId.1": offline.instance_id,
    }
    for name, value in change.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    everywhere, on_instance = task_count(wire), task_count(wire, offline.instance_id)
    got_status, body = wire.refused(wire.v1_post_form("RunCommand", params))
    assert (got_status, body["Code"]) == (status, code), body
    assert task_count(wire) == everywhere
    assert task_count(wire, offline.instance_id) == on_instance


def test_content_of_exactly_24kb_after_base64_is_accepted(wire: Wire, offline: Agent) -> None:
    content = "#" * (MAX_CONTENT_BASE64 // 4 * 3 - 1) + "\n"
    assert len(base64.b64encode(content.encode())) == MAX_CONTENT_BASE64
    before = task_count(wire, offline.instance_id)
    answer = wire.call(
        "RunCommand",
        Type="RunShellScript",
        CommandContent=content,
        **{"InstanceId.1": offline.instance_id},
    )
    assert answer["InvokeId"].startswith("t-")
    assert task_count(wire, offline.instance_id) == before + 1


# --- bad input to other actions and to the envelope -------------------------------------------

OTHER_REFUSALS: list[tuple[str, str, dict[str, str], int, str]] = [
    ("unknown-action", "NoSuchAction", {}, 403, "InvalidAction"),
    ("missing-region", "DescribeInvocations", {"RegionId": ""}, 400, "MissingParameter.RegionId"),
    (
        "unknown-region",
        "DescribeInvocations",
        {"RegionId": "cn-nowhere"},
        404,
        "InvalidRegionId.NotFound",
    ),
    ("page-size-51", "DescribeInvocations", {"PageSize": "51"}, 400, "InvalidParam.PageSize"),
    ("page-size-0", "DescribeInvocations", {"PageSize": "0"}, 400, "InvalidParam.PageSize"),
    ("page-number-0", "DescribeInvocations", {"PageNumber": "0"}, 400, "InvalidParam.PageNumber"),
    (
        "max-results-51",
        "DescribeInvocations",
        {"MaxResults": "51"},
        400,
        "InvalidParameter.MaxResults",
    ),
    (
        "garbage-next-token",
        "DescribeInvocations",
        {"NextToken": "garbage"},
        400,
        "InvalidParameter.NextToken",
    ),
    (
        "results-garbage-next-token",
        "DescribeInvocationResults",
        {"NextToken": "AAAAAdDWBF2"},
        400,
        "InvalidParameter.NextToken",
    ),
    (
        "boolean-not-true-or-false",
        "DescribeInvocations",
        {"IncludeOutput": "yes", "InvokeId": "t-any"},
        400,
        "InvalidParameter.IncludeOutput",
    ),
    (
        "stop-unknown-invoke-id",
        "StopInvocation",
        {"InvokeId": "t-doesnotexist0"},
        404,
        "InvalidInvokeId.NotFound",
    ),
]


@pytest.mark.parametrize("scheme", ["v1", "v3"])
@pytest.mark.parametrize(
    ("action", "params", "status", "code"),
    [case[1:] for case in OTHER_REFUSALS],
    ids=[case[0] for case in OTHER_REFUSALS],
)
def test_bad_input_has_documented_code(
    wire: Wire, scheme: str, action: str, params: dict[str, str], status: int, code: str
) -> None:
    params = dict(params)
    region = params.pop("RegionId", "local") or None  # "" means: send no RegionId at all
    if scheme == "v1":
        request = wire.v1_get(action, params, region=region)
    else:
        request = wire.v3_post(action, params, region=region)
    got_status, body = wire.refused(request)
    assert (got_status, body["Code"]) == (status, code), body


@pytest.mark.parametrize("scheme", ["v1", "v3"])
@pytest.mark.parametrize("version", ["2016-01-01", "", "2014-05-26x"])
def test_wrong_version_is_a_client_error(wire: Wire, scheme: str, version: str) -> None:
    if scheme == "v1" and not version:
        # v1 signing needs a Version; send one of spaces, which no server may accept.
        version = " "
    if scheme == "v1":
        request = wire.v1_get("DescribeInvocations", version=version)
    else:
        request = wire.v3_post("DescribeInvocations", version=version)
    status, body = wire.refused(request)
    assert status == 400, body
    assert body["Code"] not in ("InternalError", "SignatureDoesNotMatch"), body


# --- booleans, methods and encodings ----------------------------------------------------------


@pytest.fixture(scope="module")
def finished_task(wire: Wire, offline: Agent) -> str:
    invoke_id = str(
        wire.call(
            "RunCommand",
            Type="RunShellScript",
            CommandContent="echo flags",
            **{"InstanceId.1": offline.instance_id},
        )["InvokeId"]
    )
    wait_final(wire, invoke_id)
    return invoke_id


@pytest.mark.parametrize("value", ["TRUE", "True", "true", "tRuE"])
def test_include_output_true_in_any_case(wire: Wire, finished_task: str, value: str) -> None:
    for request in (
        wire.v1_get("DescribeInvocations", {"InvokeId": finished_task, "IncludeOutput": value}),
        wire.v3_post("DescribeInvocations", {"InvokeId": finished_task, "IncludeOutput": value}),
    ):
        [task] = wire.ok(request)["Invocations"]["Invocation"]
        [instance] = task["InvokeInstances"]["InvokeInstance"]
        assert "Output" in instance


@pytest.mark.parametrize("value", ["FALSE", "False", "false"])
def test_include_output_false_in_any_case(wire: Wire, finished_task: str, value: str) -> None:
    request = wire.v1_get(
        "DescribeInvocations", {"InvokeId": finished_task, "IncludeOutput": value}
    )
    [task] = wire.ok(request)["Invocations"]["Invocation"]
    [instance] = task["InvokeInstances"]["InvokeInstance"]
    assert "Output" not in instance


SCRIPT = "echo 'a b' && echo ~*/+%&=?#:;,\"$HOME\" && printf 'caf\\303\\251 你好\\n'"


@pytest.mark.parametrize("scheme", ["v1-get", "v1-post-form", "v3-query", "v3-form"])
def test_run_command_over_each_method_keeps_the_script_byte_for_byte(
    wire: Wire, offline: Agent, scheme: str
) -> None:
    params = {
        "Type": "RunShellScript",
        "CommandContent": SCRIPT,
        "InstanceId.1": offline.instance_id,
        "EnableParameter": "False",
    }
    if scheme == "v1-get":
        request = wire.v1_get("RunCommand", params)
    elif scheme == "v1-post-form":
        request = wire.v1_post_form("RunCommand", params)
    elif scheme == "v3-query":
        request = wire.v3_post("RunCommand", params)
    else:
        request = wire.v3_post("RunCommand", {"RegionId": "local"}, form=params)
    invoke_id = wire.ok(request)["InvokeId"]
    answer = wire.call("DescribeInvocations", InvokeId=invoke_id, ContentEncoding="PlainText")
    [task] = answer["Invocations"]["Invocation"]
    assert task["CommandContent"] == SCRIPT
    assert [i["InstanceId"] for i in task["InvokeInstances"]["InvokeInstance"]] == [
        offline.instance_id
    ]


# --- paging ------------------------------------------------------------------------------------


@dataclass
class Paged:
    instance_id: str
    invoke_ids: set[str]


@pytest.fixture(scope="module")
def paged(cluster: Cluster, wire: Wire) -> Paged:
    """PAGED_TASKS tasks on an instance of their own (registered, agent never started)."""
    agent = cluster.register_agent("envelope-paging")
    created: list[str] = []
    deadline = time.monotonic() + 60
    for index in range(PAGED_TASKS):
        assert time.monotonic() < deadline, f"only {index} tasks created in 60 s"
        answer = wire.call(
            "RunCommand",
            Type="RunShellScript",
            CommandContent=f"echo {index}",
            **{"InstanceId.1": agent.instance_id},
        )
        created.append(answer["InvokeId"])
    assert len(set(created)) == PAGED_TASKS
    result = wait_final(wire, created[-1])
    assert (result["InvocationStatus"], result["ErrorCode"]) == ("Aborted", "ClientNotRunning")
    return Paged(agent.instance_id, set(created))


def _token_pages(wire: Wire, action: str, instance_id: str, size: int) -> list[list[str]]:
    pages: list[list[str]] = []
    token = ""
    for _ in range(PAGED_TASKS // size + 3):  # bounded: one page more than needed, and a spare
        params = {"InstanceId": instance_id, "MaxResults": str(size)}
        if token:
            params["NextToken"] = token
        answer = wire.call(action, **params)
        pages.append(_ids(action, answer))
        token = _paging(action, answer)["NextToken"]
        if not token:
            return pages
    raise AssertionError(f"NextToken never ran out after {len(pages)} pages")


def _number_pages(
    wire: Wire, action: str, instance_id: str, size: int
) -> tuple[list[list[str]], list[dict[str, Any]]]:
    pages: list[list[str]] = []
    paging: list[dict[str, Any]] = []
    for number in range(1, PAGED_TASKS // size + 3):  # bounded: every page plus an empty one
        answer = wire.call(
            action, InstanceId=instance_id, PageNumber=str(number), PageSize=str(size)
        )
        pages.append(_ids(action, answer))
        paging.append(_paging(action, answer))
        if not pages[-1]:
            return pages, paging
    raise AssertionError(f"page {len(pages)} of {size} is still not empty")


def _ids(action: str, answer: dict[str, Any]) -> list[str]:
    if action == "DescribeInvocations":
        return [t["InvokeId"] for t in answer["Invocations"]["Invocation"]]
    return [r["InvokeId"] for r in answer["Invocation"]["InvocationResults"]["InvocationResult"]]


def _paging(action: str, answer: dict[str, Any]) -> dict[str, Any]:
    return answer if action == "DescribeInvocations" else answer["Invocation"]


ACTIONS = ["DescribeInvocations", "DescribeInvocationResults"]


@pytest.mark.parametrize("action", ACTIONS)
def test_token_paging_returns_every_task_exactly_once(
    wire: Wire, paged: Paged, action: str
) -> None:
    pages = _token_pages(wire, action, paged.instance_id, 7)
    seen = [invoke_id for page in pages for invoke_id in page]
    assert len(seen) == len(set(seen)) == PAGED_TASKS
    assert set(seen) == paged.invoke_ids
    assert all(len(page) == 7 for page in pages[:-1])
    assert len(pages) == -(-PAGED_TASKS // 7)


@pytest.mark.parametrize("action", ACTIONS)
def test_page_number_paging_returns_every_task_exactly_once(
    wire: Wire, paged: Paged, action: str
) -> None:
    pages, paging = _number_pages(wire, action, paged.instance_id, 13)
    seen = [invoke_id for page in pages for invoke_id in page]
    assert len(seen) == len(set(seen)) == PAGED_TASKS
    assert set(seen) == paged.invoke_ids
    assert [len(page) for page in pages] == [13] * 9 + [3, 0]
    for number, fields in enumerate(paging, start=1):
        assert fields["TotalCount"] == PAGED_TASKS
        assert int(fields["PageNumber"]) == number
        assert int(fields["PageSize"]) == 13


def test_instance_filter_keeps_other_instances_tasks_out(
    wire: Wire, paged: Paged, offline: Agent
) -> None:
    answer = wire.call("DescribeInvocations", InstanceId=paged.instance_id, MaxResults="50")
    for task in answer["Invocations"]["Invocation"]:
        instances = {i["InstanceId"] for i in task["InvokeInstances"]["InvokeInstance"]}
        assert paged.instance_id in instances
        assert offline.instance_id not in instances


def test_token_paging_is_stable_while_tasks_are_added(cluster: Cluster, wire: Wire) -> None:
    agent = cluster.register_agent("envelope-growing")

    def run() -> str:
        answer = wire.call(
            "RunCommand",
            Type="RunShellScript",
            CommandContent="true",
            **{"InstanceId.1": agent.instance_id},
        )
        return str(answer["InvokeId"])

    original = {run() for _ in range(30)}
    seen: list[str] = []
    token = ""
    for _ in range(30 // 4 + 3):  # bounded
        params = {"InstanceId": agent.instance_id, "MaxResults": "4"}
        if token:
            params["NextToken"] = token
        answer = wire.call("DescribeInvocations", **params)
        seen += [t["InvokeId"] for t in answer["Invocations"]["Invocation"]]
        token = answer["NextToken"]
        if not token:
            break
        run()  # a new task between every two pages
    else:
        raise AssertionError("NextToken never ran out")
    assert len(seen) == len(set(seen))
    assert original <= set(seen)
