"""Server-side verification against requests the official SDKs really send.

A small HTTP server on 127.0.0.1 records each request as a ``SignedRequest``, verifies it with
``verify`` and answers like the ECS API (a JSON body, or the error body with its status). The
current SDK (v3 by default, v1 with ``signature_algorithm='v2'``) and the legacy core SDK (v1)
are pointed at it; see docs/sdk-clients.md for the recipes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_tea_openapi import utils_models as open_api_models
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.RunCommandRequest import RunCommandRequest
from darabonba.runtime import RuntimeOptions  # type: ignore[import-untyped]
from Tea.exceptions import TeaException

from openassist.errors import ApiError
from openassist.protocol import acs_signature as sig
from openassist.server.api.signature import MemoryNonceCache, SignedRequest, verify

ACCESS_KEY_ID = "LTAI-test-id"
SECRET = "test-secret-0123456789"
SUCCESS_BODY = {"RequestId": "X", "CommandId": "c-1", "InvokeId": "t-1"}
COMMAND = "echo 'hello *world*' ~/a+b & done"


@dataclass
class FakeEcs:
    """State shared between the test and the request handler thread."""

    secrets: dict[str, str] = field(default_factory=lambda: {ACCESS_KEY_ID: SECRET})
    nonces: MemoryNonceCache = field(default_factory=MemoryNonceCache)
    received: list[SignedRequest] = field(default_factory=list)
    port: int = 0

    def answer(self, request: SignedRequest) -> tuple[int, dict[str, Any]]:
        self.received.append(request)
        try:
            verify(request, self.secrets.get, self.nonces, datetime.now(UTC))
        except ApiError as exc:
            error = {"RequestId": "E", "HostId": "127.0.0.1", "Code": exc.code}
            return exc.http_status, {**error, "Message": exc.message}
        return 200, SUCCESS_BODY


def _signed_request(handler: http.server.BaseHTTPRequestHandler) -> SignedRequest:
    split = urlsplit(handler.path)
    query = tuple(parse_qsl(split.query, keep_blank_values=True))
    headers = {name.lower(): value for name, value in handler.headers.items()}
    body = handler.rfile.read(int(headers.get("content-length") or 0))
    params = dict(query)
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return SignedRequest(handler.command, split.path, params, query, headers, body)


@pytest.fixture
def fake_ecs(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEcs]:
    # Both SDKs read proxy variables themselves and would send loopback traffic to a proxy.
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    state = FakeEcs()

    class Handler(http.server.BaseHTTPRequestHandler):
        def handle_any(self) -> None:
            status, payload = state.answer(_signed_request(self))
            out = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = handle_any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _tea_client(port: int, secret: str = SECRET, algorithm: str | None = None) -> Any:
    config = open_api_models.Config(
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=secret,
        endpoint=f"127.0.0.1:{port}",
        protocol="http",
        region_id="cn-hangzhou",
        signature_algorithm=algorithm,
        connect_timeout=2000,
        read_timeout=5000,
    )
    return EcsClient(config)


def _tea_run_command(client: Any) -> dict[str, Any]:
    request = ecs_models.RunCommandRequest(
        region_id="cn-hangzhou",
        instance_id=["i-1", "i-2"],
        type="RunShellScript",
        command_content=COMMAND,
        enable_parameter=True,
        parameters={"name": "a b"},
        timeout=60,
    )
    body: dict[str, Any] = client.run_command(request).body.to_map()
    return body


def send_tea_v3(port: int, secret: str = SECRET) -> dict[str, Any]:
    return _tea_run_command(_tea_client(port, secret))


def send_tea_v1(port: int, secret: str = SECRET) -> dict[str, Any]:
    return _tea_run_command(_tea_client(port, secret, algorithm="v2"))


def send_tea_v3_form_body(port: int, secret: str = SECRET) -> dict[str, Any]:
    """v3 with a form body: the body is covered by x-acs-content-sha256, not the query."""
    params = open_api_models.Params(
        action="RunCommand", version="2014-05-26", protocol="HTTP", pathname="/",
        method="POST", auth_type="AK", style="RPC", req_body_type="formData", body_type="json",
    )  # fmt: skip
    request = open_api_models.OpenApiRequest(
        query={"RegionId": "cn-hangzhou"},
        body={"CommandContent": COMMAND, "InstanceId": ["i-1"], "Type": "RunShellScript"},
    )
    result: dict[str, Any] = _tea_client(port, secret).call_api(params, request, RuntimeOptions())
    body: dict[str, Any] = result["body"]
    return body


def _legacy_request(port: int, form_body: bool) -> Any:
    request = RunCommandRequest()
    request.set_endpoint("127.0.0.1")
    request.set_protocol_type("http")
    request.set_connect_timeout(2)
    request.set_read_timeout(5)
    request.set_InstanceIds(["i-1", "i-2"])
    request.set_Type("RunShellScript")
    request.set_EnableParameter(True)
    if form_body:
        request.add_body_params("CommandContent", COMMAND)
    else:
        request.set_CommandContent(COMMAND)
    return request


def _send_legacy(port: int, secret: str, form_body: bool) -> dict[str, Any]:
    client = AcsClient(ACCESS_KEY_ID, secret, "cn-hangzhou", auto_retry=False, port=port)
    raw = client.do_action_with_exception(_legacy_request(port, form_body))
    body: dict[str, Any] = json.loads(raw)
    return body


def send_legacy_v1(port: int, secret: str = SECRET) -> dict[str, Any]:
    return _send_legacy(port, secret, form_body=False)


def send_legacy_v1_form_body(port: int, secret: str = SECRET) -> dict[str, Any]:
    return _send_legacy(port, secret, form_body=True)


Sender = Callable[..., dict[str, Any]]
SENDERS: dict[str, Sender] = {
    "tea-v3": send_tea_v3,
    "tea-v3-form-body": send_tea_v3_form_body,
    "tea-v1": send_tea_v1,
    "legacy-v1": send_legacy_v1,
    "legacy-v1-form-body": send_legacy_v1_form_body,
}


@pytest.fixture(params=sorted(SENDERS))
def captured(request: pytest.FixtureRequest, fake_ecs: FakeEcs) -> SignedRequest:
    """One request as an SDK sent it, already accepted once by the fake server."""
    body = SENDERS[request.param](fake_ecs.port)
    assert body == SUCCESS_BODY
    assert len(fake_ecs.received) == 1
    return fake_ecs.received[0]


def _verify(
    request: SignedRequest,
    secrets: dict[str, str] | None = None,
    now: datetime | None = None,
) -> str:
    table = {ACCESS_KEY_ID: SECRET} if secrets is None else secrets
    return verify(request, table.get, MemoryNonceCache(), now or datetime.now(UTC))


def _error(request: SignedRequest, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        _verify(request, **kwargs)
    return info.value


def test_sdk_request_is_accepted_and_yields_the_access_key_id(captured: SignedRequest) -> None:
    assert _verify(captured) == ACCESS_KEY_ID


def test_replaying_an_sdk_request_is_refused(captured: SignedRequest, fake_ecs: FakeEcs) -> None:
    with pytest.raises(ApiError) as info:
        verify(captured, fake_ecs.secrets.get, fake_ecs.nonces, datetime.now(UTC))
    assert (info.value.code, info.value.http_status) == ("SignatureNonceUsed", 400)


def test_one_byte_of_secret_flipped_is_signature_does_not_match(captured: SignedRequest) -> None:
    flipped = chr(ord(SECRET[0]) ^ 1) + SECRET[1:]
    error = _error(captured, secrets={ACCESS_KEY_ID: flipped})
    assert (error.code, error.http_status) == ("SignatureDoesNotMatch", 400)
    # The legacy client does message.split(':')[1]; the string to sign must be exactly there.
    server_string_to_sign = error.message.split(":")[1]
    if "authorization" in captured.headers:
        assert server_string_to_sign.startswith("ACS3-HMAC-SHA256\n")
    else:
        assert server_string_to_sign == sig.string_to_sign_v1(captured.method, captured.params)


def test_tampered_parameter_is_signature_does_not_match(captured: SignedRequest) -> None:
    params = {**captured.params, "RegionId": "cn-beijing"}
    query = tuple((k, "cn-beijing" if k == "RegionId" else v) for k, v in captured.query)
    tampered = dataclasses.replace(captured, params=params, query=query)
    assert _error(tampered).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("offset", [timedelta(minutes=16), timedelta(minutes=-16)])
def test_timestamp_beyond_fifteen_minutes_is_expired(
    captured: SignedRequest, offset: timedelta
) -> None:
    error = _error(captured, now=datetime.now(UTC) + offset)
    assert (error.code, error.http_status) == ("InvalidTimeStamp.Expired", 400)


def test_timestamp_within_fifteen_minutes_is_accepted(captured: SignedRequest) -> None:
    assert _verify(captured, now=datetime.now(UTC) + timedelta(minutes=14)) == ACCESS_KEY_ID


def test_unknown_access_key_is_not_found(captured: SignedRequest) -> None:
    error = _error(captured, secrets={})
    assert (error.code, error.http_status) == ("InvalidAccessKeyId.NotFound", 404)


def test_legacy_client_reports_a_wrong_secret_from_our_error_message(fake_ecs: FakeEcs) -> None:
    # The legacy core turns SignatureDoesNotMatch into InvalidAccessKeySecret only when the text
    # after the ':' equals its own StringToSign: proof that our message parses as it expects.
    with pytest.raises(ServerException) as info:
        send_legacy_v1(fake_ecs.port, secret="wrong")
    assert info.value.get_error_code() == "InvalidAccessKeySecret"
    assert info.value.get_http_status() == 400


def test_current_client_reports_signature_does_not_match(fake_ecs: FakeEcs) -> None:
    with pytest.raises(TeaException) as info:
        send_tea_v3(fake_ecs.port, secret="wrong")
    assert info.value.code == "SignatureDoesNotMatch"
    assert info.value.status_code == 400


def test_current_client_reports_unknown_access_key(fake_ecs: FakeEcs) -> None:
    fake_ecs.secrets.clear()
    with pytest.raises(TeaException) as info:
        send_tea_v1(fake_ecs.port)
    assert info.value.code == "InvalidAccessKeyId.NotFound"


# --- Requests built by hand: the refusals no SDK would produce -----------------------------

NOW = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


def _v1_request(method: str = "GET", **overrides: str) -> SignedRequest:
    params = {"Action": "RunCommand", "Version": "2014-05-26", "RegionId": "cn-hangzhou"}
    signed = sig.signed_v1_query(params, ACCESS_KEY_ID, SECRET, method, NOW, "nonce-1")
    signed.update(overrides)
    return SignedRequest(method, "/", signed, tuple(signed.items()))


def _v3_request(
    body: bytes = b"",
    drop_signed: str = "",
    algorithm: str = sig.V3_ALGORITHM,
    overrides: dict[str, str] | None = None,
) -> SignedRequest:
    query = {"RegionId": "cn-hangzhou", "CommandContent": "echo hi"}
    headers = {
        "host": "127.0.0.1:8080",
        "x-acs-action": "RunCommand",
        "x-acs-version": "2014-05-26",
        "x-acs-date": sig.format_timestamp(NOW),
        "x-acs-signature-nonce": "nonce-3",
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    if body:
        headers["content-type"] = "application/x-www-form-urlencoded"
    signed_names = [name for name in headers if name != drop_signed]
    canonical = sig.canonical_request_v3(
        "POST", "/", query, headers, signed_names, headers["x-acs-content-sha256"]
    )
    signature = sig.sign_v3(SECRET, sig.string_to_sign_v3(canonical))
    authorization = sig.authorization_v3(ACCESS_KEY_ID, signed_names, signature)
    headers["authorization"] = authorization.replace(sig.V3_ALGORITHM, algorithm, 1)
    headers.update(overrides or {})
    return SignedRequest("POST", "/", query, tuple(query.items()), headers, body)


def _refusal(request: SignedRequest) -> tuple[str, int]:
    with pytest.raises(ApiError) as info:
        verify(request, {ACCESS_KEY_ID: SECRET}.get, MemoryNonceCache(), NOW)
    assert ":" in str(info.value)
    return info.value.code, info.value.http_status


def test_hand_built_requests_of_both_schemes_are_accepted() -> None:
    for request in (_v1_request(), _v1_request("POST"), _v3_request(), _v3_request(b"a=1")):
        assert verify(request, {ACCESS_KEY_ID: SECRET}.get, MemoryNonceCache(), NOW) == (
            ACCESS_KEY_ID
        )


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (SignedRequest("GET", "/", {"Action": "RunCommand"}), ("IncompleteSignature", 400)),
        (_v1_request(AccessKeyId=""), ("MissingParameter", 400)),
        (_v1_request(SignatureNonce=""), ("MissingParameter", 400)),
        (_v1_request(SignatureMethod="HMAC-SHA256"), ("IncompleteSignature", 400)),
        (_v1_request(SignatureVersion="2.0"), ("IncompleteSignature", 400)),
        (_v1_request(Timestamp=""), ("IllegalTimestamp", 400)),
        (_v1_request(Timestamp="2024-01-01 12:00:00"), ("IllegalTimestamp", 400)),
        (_v1_request(Timestamp="2024-13-01T12:00:00Z"), ("IllegalTimestamp", 400)),
        (_v1_request(Timestamp="2024-01-01T11:40:00Z"), ("InvalidTimeStamp.Expired", 400)),
        (_v1_request(Signature="AAAA"), ("SignatureDoesNotMatch", 400)),
        (
            _v3_request(overrides={"authorization": "ACS3-HMAC-SHA256 Credential=x"}),
            ("IncompleteSignature", 400),
        ),
        (_v3_request(algorithm="ACS3-HMAC-SM3"), ("IncompleteSignature", 400)),
        (_v3_request(drop_signed="x-acs-date"), ("IncompleteSignature", 400)),
        (_v3_request(drop_signed="host"), ("IncompleteSignature", 400)),
        (
            _v3_request(body=b"a=1", overrides={"x-acs-content-sha256": sig.EMPTY_PAYLOAD_SHA256}),
            ("IncompleteSignature", 400),
        ),
        (_v3_request(overrides={"x-acs-signature-nonce": " "}), ("IncompleteSignature", 400)),
        (_v3_request(overrides={"x-acs-date": "yesterday"}), ("IllegalTimestamp", 400)),
        (
            _v3_request(overrides={"x-acs-date": "2024-01-01T12:20:00Z"}),
            ("InvalidTimeStamp.Expired", 400),
        ),
        (_v3_request(overrides={"x-acs-action": "DeleteCommand"}), ("SignatureDoesNotMatch", 400)),
    ],
)
def test_malformed_or_tampered_requests_get_the_documented_code(
    request_: SignedRequest, expected: tuple[str, int]
) -> None:
    assert _refusal(request_) == expected


def test_v3_content_type_must_be_signed_when_there_is_a_body() -> None:
    """Unsigned, Content-Type could be flipped on a captured request so that its body's fields
    are read as parameters (or not): refused (issue 13, low)."""
    request = _v3_request(body=b"InstanceId.1=i-1", drop_signed="content-type")
    assert _refusal(request) == ("IncompleteSignature", 400)
    with pytest.raises(ApiError, match="content-type"):
        verify(request, {ACCESS_KEY_ID: SECRET}.get, MemoryNonceCache(), NOW)
    assert _refusal(_v3_request(drop_signed="content-type", overrides={"x-acs-action": "X"}))[
        0
    ] == ("SignatureDoesNotMatch")  # no body: Content-Type need not be signed


def test_v3_signed_header_missing_from_the_request_is_incomplete() -> None:
    request = _v3_request()
    headers = {k: v for k, v in request.headers.items() if k != "x-acs-version"}
    assert _refusal(dataclasses.replace(request, headers=headers)) == ("IncompleteSignature", 400)


def test_nonce_is_recorded_only_after_the_signature_is_proven() -> None:
    nonces = MemoryNonceCache()
    forged = _v1_request(Signature="AAAA")
    with pytest.raises(ApiError):
        verify(forged, {ACCESS_KEY_ID: SECRET}.get, nonces, NOW)
    assert len(nonces) == 0
    verify(_v1_request(), {ACCESS_KEY_ID: SECRET}.get, nonces, NOW)
    assert len(nonces) == 1


def test_nonce_cache_refuses_a_replay_per_access_key() -> None:
    nonces = MemoryNonceCache()
    assert nonces.seen_or_add("ak1", "n", NOW) is False
    assert nonces.seen_or_add("ak1", "n", NOW + timedelta(minutes=29)) is True
    assert nonces.seen_or_add("ak2", "n", NOW) is False


def test_nonce_cache_forgets_entries_after_the_retention() -> None:
    nonces = MemoryNonceCache(retention=timedelta(minutes=30))
    nonces.seen_or_add("ak", "old", NOW)
    nonces.seen_or_add("ak", "newer", NOW + timedelta(minutes=10))
    later = NOW + timedelta(minutes=31)
    assert nonces.seen_or_add("ak", "old", later) is False
    assert len(nonces) == 2  # "newer" is still within its retention, "old" is new again
    assert nonces.seen_or_add("ak", "newer", later) is True


def test_nonce_cache_drops_the_oldest_entries_beyond_its_cap() -> None:
    nonces = MemoryNonceCache(max_entries=2)
    for nonce in ("a", "b", "c"):
        assert nonces.seen_or_add("ak", nonce, NOW) is False
    assert len(nonces) == 2
    assert nonces.seen_or_add("ak", "c", NOW) is True
    assert nonces.seen_or_add("ak", "a", NOW) is False


def test_nonce_cache_needs_a_positive_cap() -> None:
    with pytest.raises(ValueError):
        MemoryNonceCache(max_entries=0)
