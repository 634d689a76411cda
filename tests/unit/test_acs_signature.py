"""The pure signature functions: the API.md test vectors, encoding rules and round trips."""

from __future__ import annotations

import hashlib
import hmac
import sys
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openassist.protocol.acs_signature import (
    EMPTY_PAYLOAD_SHA256,
    authorization_v3,
    canonical_request_v3,
    format_timestamp,
    hmac_sha1,
    parse_authorization,
    percent_encode,
    sha1_constructor,
    sign_v1,
    sign_v3,
    signed_v1_query,
    string_to_sign_v1,
    string_to_sign_v3,
)

V1_VECTOR_PARAMS = {
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "Format": "XML",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "SignatureVersion": "1.0",
    "Timestamp": "2016-02-23T12:46:24Z",
    "Version": "2014-05-26",
}
V1_VECTOR_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
    "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
    "%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z"
    "%26Version%3D2014-05-26"
)
V3_VECTOR_QUERY = {
    "RegionId": "cn-hangzhou",
    "InstanceId.1": "i-test0001",
    "Type": "RunShellScript",
    "CommandContent": "echo hello world",
    "Timeout": "60",
}
V3_VECTOR_HEADERS = {
    "host": "ecs.cn-hangzhou.aliyuncs.com",
    "x-acs-action": "RunCommand",
    "x-acs-version": "2014-05-26",
    "x-acs-date": "2024-01-01T00:00:00Z",
    "x-acs-signature-nonce": "abcdef0123456789",
    "x-acs-content-sha256": EMPTY_PAYLOAD_SHA256,
}
V3_VECTOR_SIGNATURE = "e48c7b2c21beeca1a26a8d8a7f22ebf1455c7d8fb808b235cc0fcaead37ddb83"


def test_v1_vector_of_api_md_string_to_sign_and_signature() -> None:
    assert string_to_sign_v1("GET", V1_VECTOR_PARAMS) == V1_VECTOR_STRING_TO_SIGN
    assert sign_v1("testsecret", V1_VECTOR_STRING_TO_SIGN) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_v3_vector_of_api_md_canonical_request_and_authorization() -> None:
    canonical = canonical_request_v3(
        "POST", "/", V3_VECTOR_QUERY, V3_VECTOR_HEADERS, list(V3_VECTOR_HEADERS),
        EMPTY_PAYLOAD_SHA256,
    )  # fmt: skip
    assert canonical.split("\n")[2] == (
        "CommandContent=echo%20hello%20world&InstanceId.1=i-test0001&RegionId=cn-hangzhou"
        "&Timeout=60&Type=RunShellScript"
    )
    signature = sign_v3("testsecret", string_to_sign_v3(canonical))
    assert signature == V3_VECTOR_SIGNATURE
    assert authorization_v3("testid", list(V3_VECTOR_HEADERS), signature) == (
        "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;"
        "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        f"Signature={V3_VECTOR_SIGNATURE}"
    )


def test_v3_canonical_request_has_an_empty_line_before_signed_headers() -> None:
    canonical = canonical_request_v3(
        "post", "/", [("b", "2"), ("a", "")], {"Host": " h "}, ["HOST"], "p"
    )
    assert canonical == "POST\n/\na=&b=2\nhost:h\n\nhost\np"


def test_v3_canonical_request_refuses_an_absent_signed_header() -> None:
    with pytest.raises(ValueError, match="x-acs-date"):
        canonical_request_v3("POST", "/", {}, {"host": "h"}, ["host", "x-acs-date"], "p")


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("AZaz09-_.~", "AZaz09-_.~"),
        ("a b", "a%20b"),
        ("*", "%2A"),
        ("/", "%2F"),
        ("+", "%2B"),
        ("=&:", "%3D%26%3A"),
        ("é", "%C3%A9"),
        ('{"a":1}', "%7B%22a%22%3A1%7D"),
    ],
)
def test_percent_encode_keeps_only_unreserved_characters(raw: str, encoded: str) -> None:
    assert percent_encode(raw) == encoded


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text())
def test_percent_encode_is_what_urllib_quote_with_tilde_safe_gives(raw: str) -> None:
    """Its own table (urllib.parse costs a short command 11 million instructions): the same
    encoding the signatures were made with, for any text (non-ASCII and control characters)."""
    from urllib.parse import quote

    assert percent_encode(raw) == quote(raw, safe="~", encoding="utf-8")


def test_v1_string_to_sign_ignores_signature_and_keeps_empty_values() -> None:
    params = {"b": "x y", "SignatureType": "", "Signature": "zzz", "A": "1"}
    assert string_to_sign_v1("post", params) == "POST&%2F&A%3D1%26SignatureType%3D%26b%3Dx%2520y"


def test_signed_v1_query_round_trips_through_the_string_to_sign() -> None:
    now = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    params = {"Action": "RunCommand", "Version": "2014-05-26", "CommandContent": "echo *"}
    query = signed_v1_query(params, "ak", "sk", "GET", now, "n-1")
    assert query["Timestamp"] == "2024-05-06T07:08:09Z"
    assert query["Format"] == "JSON"
    assert query["SignatureMethod"] == "HMAC-SHA1"
    assert query["SignatureVersion"] == "1.0"
    assert query["SignatureNonce"] == "n-1"
    assert query["AccessKeyId"] == "ak"
    assert query["Signature"] == sign_v1("sk", string_to_sign_v1("GET", query))
    assert query["Signature"] != sign_v1("sk", string_to_sign_v1("POST", query))


@pytest.mark.parametrize("absent", ["Action", "Version"])
def test_signed_v1_query_requires_action_and_version(absent: str) -> None:
    params = {"Action": "RunCommand", "Version": "2014-05-26"}
    del params[absent]
    with pytest.raises(ValueError, match=absent):
        signed_v1_query(params, "ak", "sk", "GET", datetime.now(UTC), "n")


def test_format_timestamp_converts_to_utc() -> None:
    from datetime import timedelta, timezone

    moment = datetime(2024, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    assert format_timestamp(moment) == "2024-01-01T00:00:00Z"


def test_parse_authorization_reads_the_sdk_form_and_tolerates_spaces() -> None:
    value = "ACS3-HMAC-SHA256 Credential=ak , SignedHeaders=host; x-acs-date ,Signature=ab12"
    assert parse_authorization(value) == (
        "ACS3-HMAC-SHA256",
        "ak",
        ("host", "x-acs-date"),
        "ab12",
    )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SHA256 ",
        "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host",
        "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host,Signature=",
        "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host,Signature=a,Signature=b",
        "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host,Signature=a,Extra=1",
        "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;;date,Signature=a",
        "ACS3-HMAC-SHA256 Credential,SignedHeaders=host,Signature=a",
    ],
)
def test_parse_authorization_refuses_malformed_values(value: str) -> None:
    with pytest.raises(ValueError):
        parse_authorization(value)


@pytest.mark.parametrize("key_size", [0, 1, 20, 63, 64, 65, 200])
@pytest.mark.parametrize("message", [b"", b"GET&%2F&Action%3DRunCommand", bytes(range(256)) * 3])
def test_hmac_sha1_is_the_standard_librarys(key_size: int, message: bytes) -> None:
    key = bytes((7 * n + 3) % 256 for n in range(key_size))
    assert hmac_sha1(key, message) == hmac.digest(key, message, "sha1")


def test_a_python_without_its_own_sha1_signs_with_hashlibs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "_sha1", None)  # as a build without the module: ImportError
    assert sha1_constructor() is hashlib.sha1
    assert sign_v1("testsecret", V1_VECTOR_STRING_TO_SIGN) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_a_unix_time_and_a_datetime_sign_the_same_timestamp() -> None:
    moment = datetime(2016, 2, 23, 12, 46, 24, 900000, tzinfo=UTC)
    assert format_timestamp(moment.timestamp()) == format_timestamp(moment)
    assert format_timestamp(moment.timestamp()) == "2016-02-23T12:46:24Z"
    params = {"Action": "DescribeRegions", "Version": "2014-05-26"}
    by_float = signed_v1_query(params, "testid", "testsecret", "GET", moment.timestamp(), "n")
    assert by_float == signed_v1_query(params, "testid", "testsecret", "GET", moment, "n")


def test_the_empty_payload_hash_is_sha256_of_nothing() -> None:
    assert hashlib.sha256(b"").hexdigest() == EMPTY_PAYLOAD_SHA256
