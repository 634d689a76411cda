"""Server-side verification of signed RPC API requests (API.md sections 1.6 to 1.8).

``verify`` is pure apart from the nonce cache it may be handed: no I/O, no clock, no secrets store.
The server hands none and checks ``signature_nonce`` against its durable replay guard afterwards
(``service/replay.py``); the in-memory cache serves tools and tests.
The caller builds a ``SignedRequest`` from the HTTP request, passes a secret lookup and the
current time, and gets back the authenticated AccessKeyId or an ``Unauthenticated`` error with
the code and HTTP status the official SDKs expect.

Order of checks: shape of the signature, timestamp window, known key, signature, nonce. The
nonce is recorded only after the signature is proven, so unsigned junk can neither fill the
cache nor burn a nonce a genuine client is about to use.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from openassist.catalog import api
from openassist.errors import Unauthenticated
from openassist.protocol import acs_signature as sig

# Requests whose Timestamp / x-acs-date is further than this from server time are refused.
TIMESTAMP_WINDOW = timedelta(minutes=15)
# A request is acceptable while its timestamp is within +-15 minutes of server time, so a nonce
# first seen now may be replayed for up to 30 minutes (client clock 15 minutes ahead): keep it
# for the whole double window.
NONCE_RETENTION = 2 * TIMESTAMP_WINDOW
NONCE_CACHE_MAX_ENTRIES = 1_000_000

# The official signing doc's example signs exactly these; the SDK signs them and more.
V3_REQUIRED_SIGNED_HEADERS = frozenset(
    {
        "host",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
    }
)

_TIMESTAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


@dataclass(frozen=True)
class SignedRequest:
    """What verification needs of an HTTP request.

    ``params``: decoded query parameters merged with ``application/x-www-form-urlencoded`` body
    fields (v1 signs both). ``query``: the decoded URL query pairs alone, in any order (v3 signs
    only these). ``headers``: lower-case names; repeated headers joined with ``,``.
    """

    method: str
    path: str = "/"
    params: Mapping[str, str] = field(default_factory=dict)
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


class NonceCache(Protocol):
    """Remembers signature nonces per AccessKeyId to refuse replays."""

    def seen_or_add(self, access_key_id: str, nonce: str, now: datetime) -> bool:
        """Return True if the nonce was already used by this key; otherwise record it."""
        ...


class MemoryNonceCache:
    """In-process ``NonceCache`` for one server; a shared store is needed for several nodes.

    Entries expire ``retention`` after first sight. Beyond ``max_entries`` the oldest entries are
    dropped early: that reopens a replay window only for nonces of the oldest requests, and only
    under a load of ``max_entries`` requests per retention period (~550/s at the defaults).
    A lock makes it safe from threads as well as from one event loop (it never awaits).
    """

    def __init__(
        self,
        retention: timedelta = NONCE_RETENTION,
        max_entries: int = NONCE_CACHE_MAX_ENTRIES,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self._retention = retention
        self._max_entries = max_entries
        # Insertion order is first-sight order, so expiry only ever looks at the front.
        self._first_seen: OrderedDict[tuple[str, str], datetime] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._first_seen)

    def seen_or_add(self, access_key_id: str, nonce: str, now: datetime) -> bool:
        key = (access_key_id, nonce)
        with self._lock:
            self._expire(now)
            if key in self._first_seen:
                return True
            self._first_seen[key] = now
            while len(self._first_seen) > self._max_entries:
                self._first_seen.popitem(last=False)
            return False

    def _expire(self, now: datetime) -> None:
        horizon = now - self._retention
        while self._first_seen:
            oldest = next(iter(self._first_seen.values()))
            if oldest >= horizon:
                return
            self._first_seen.popitem(last=False)


SecretLookup = Callable[[str], str | None]


def verify(
    request: SignedRequest,
    lookup_secret: SecretLookup,
    nonces: NonceCache | None,
    now: datetime,
) -> str:
    """Check the request's v3 or v1 signature; return the authenticated AccessKeyId.

    v3 is chosen when ``Authorization`` starts with ``ACS3-``, v1 when a ``Signature`` parameter
    is present. ``now`` must be timezone-aware. Raises Unauthenticated with IncompleteSignature,
    MissingParameter, IllegalTimestamp, InvalidTimeStamp.Expired, InvalidAccessKeyId.NotFound,
    SignatureDoesNotMatch or SignatureNonceUsed (only with ``nonces``: without, the caller
    checks ``signature_nonce`` itself once this returned).
    """
    authorization = request.headers.get("authorization", "")
    if authorization.startswith("ACS3-"):
        return _verify_v3(request, authorization, lookup_secret, nonces, now)
    if "Signature" in request.params:
        return _verify_v1(request, lookup_secret, nonces, now)
    raise _incomplete("the request carries neither an ACS3 Authorization header nor Signature")


def signature_nonce(request: SignedRequest) -> str:
    """The nonce of a request ``verify`` accepted (v3 header or v1 parameter)."""
    if request.headers.get("authorization", "").startswith("ACS3-"):
        return request.headers["x-acs-signature-nonce"]
    return request.params["SignatureNonce"]


def nonce_used() -> Unauthenticated:
    return Unauthenticated(api.SIGNATURE_NONCE_USED)


def _verify_v1(
    request: SignedRequest, lookup_secret: SecretLookup, nonces: NonceCache | None, now: datetime
) -> str:
    params = request.params
    for name in ("AccessKeyId", "SignatureMethod", "SignatureVersion", "SignatureNonce"):
        if not params.get(name):
            raise _missing(name)
    if params["SignatureMethod"] != sig.V1_SIGNATURE_METHOD:
        raise _incomplete(f"SignatureMethod {params['SignatureMethod']!r} is not supported")
    if params["SignatureVersion"] != sig.V1_SIGNATURE_VERSION:
        raise _incomplete(f"SignatureVersion {params['SignatureVersion']!r} is not supported")
    _check_timestamp("Timestamp", params.get("Timestamp"), now)
    access_key_id = params["AccessKeyId"]
    secret = _secret_of(access_key_id, lookup_secret)
    string_to_sign = sig.string_to_sign_v1(request.method, params)
    _check_signature(sig.sign_v1(secret, string_to_sign), params["Signature"], string_to_sign)
    _check_nonce(nonces, access_key_id, params["SignatureNonce"], now)
    return access_key_id


def _verify_v3(
    request: SignedRequest,
    authorization: str,
    lookup_secret: SecretLookup,
    nonces: NonceCache | None,
    now: datetime,
) -> str:
    try:
        algorithm, access_key_id, signed_headers, signature = sig.parse_authorization(authorization)
    except ValueError as exc:
        raise _incomplete(str(exc)) from exc
    if algorithm != sig.V3_ALGORITHM:
        raise _incomplete(f"signature algorithm {algorithm!r} is not supported")
    headers = request.headers
    signed = {name.lower() for name in signed_headers}
    lacking = sorted(V3_REQUIRED_SIGNED_HEADERS - signed)
    if lacking:
        raise _incomplete(f"SignedHeaders must include {', '.join(lacking)}")
    # Content-Type decides whether the body's fields become parameters: with a body it must be
    # signed, or a replayed body could be read another way. The official SDKs always sign it.
    if request.body and "content-type" not in signed:
        raise _incomplete("SignedHeaders must include content-type when the request has a body")
    absent = sorted(name for name in signed if name not in headers)
    if absent:
        raise _incomplete(f"signed headers absent from the request: {', '.join(absent)}")
    if not headers["x-acs-signature-nonce"].strip():
        raise _incomplete("x-acs-signature-nonce is empty")
    hashed_payload = headers["x-acs-content-sha256"]
    actual = hashlib.sha256(request.body).hexdigest()
    if not hmac.compare_digest(hashed_payload.strip().lower(), actual):
        raise _incomplete("x-acs-content-sha256 is not the SHA-256 of the request body")
    _check_timestamp("x-acs-date", headers["x-acs-date"], now)
    secret = _secret_of(access_key_id, lookup_secret)
    canonical = sig.canonical_request_v3(
        request.method, request.path, request.query, headers, signed_headers, hashed_payload
    )
    string_to_sign = sig.string_to_sign_v3(canonical)
    _check_signature(sig.sign_v3(secret, string_to_sign), signature.lower(), string_to_sign)
    _check_nonce(nonces, access_key_id, headers["x-acs-signature-nonce"], now)
    return access_key_id


def _check_timestamp(name: str, value: str | None, now: datetime) -> None:
    if not value:
        raise Unauthenticated(api.TIMESTAMP_MISSING, parameter=name)
    if not _TIMESTAMP_RE.fullmatch(value):
        raise Unauthenticated(api.TIMESTAMP_MALFORMED, parameter=name)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:  # right shape, impossible date such as month 13
        raise Unauthenticated(api.TIMESTAMP_INVALID, parameter=name) from exc
    if abs(moment - now.astimezone(UTC)) > TIMESTAMP_WINDOW:
        raise Unauthenticated(api.TIMESTAMP_EXPIRED, value=value)


def _secret_of(access_key_id: str, lookup_secret: SecretLookup) -> str:
    secret = lookup_secret(access_key_id)
    if secret is None:
        raise Unauthenticated(api.ACCESS_KEY_NOT_FOUND)
    return secret


def _check_signature(expected: str, received: str, string_to_sign: str) -> None:
    if not hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8")):
        raise Unauthenticated(api.SIGNATURE_MISMATCH, string_to_sign=string_to_sign)


def _check_nonce(nonces: NonceCache | None, access_key_id: str, nonce: str, now: datetime) -> None:
    if nonces is not None and nonces.seen_or_add(access_key_id, nonce, now):
        raise nonce_used()


def _incomplete(reason: str) -> Unauthenticated:
    return Unauthenticated(api.INCOMPLETE_SIGNATURE, reason=reason)


def _missing(name: str) -> Unauthenticated:
    return Unauthenticated(api.MISSING_SIGNATURE_PARAMETER, parameter=name)
