"""Request signatures of the Alibaba Cloud RPC API (API.md sections 1.7 and 1.8), as pure functions.

Two schemes are in use by the official SDKs:

* v1, ``HMAC-SHA1``: the signature travels as the ``Signature`` parameter and covers every
  parameter (query plus form body) except itself. Used by the legacy ``aliyunsdkcore`` client,
  by the current SDK configured with ``signature_algorithm='v2'``, and by our CLI.
* v3, ``ACS3-HMAC-SHA256``: the signature travels in the ``Authorization`` header and covers the
  method, path, query, the signed headers and the SHA-256 of the body. The current SDK's default.

Standard library only; the server-side checks (time window, nonces, secrets) live in
``openassist.server.api.signature``. The v1 path, which every command of the CLI takes, loads
neither hashlib nor hmac (hashlib loads OpenSSL's libcrypto, 12 million instructions of the 100
a short command adds to the interpreter's start, callgrind) nor datetime, nor urllib.parse (11
million: it loads ipaddress); v3 imports them where it needs them.
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

TYPE_CHECKING = False  # typing is not imported at run time: a short command's start-up
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

V1_SIGNATURE_METHOD = "HMAC-SHA1"
V1_SIGNATURE_VERSION = "1.0"
V3_ALGORITHM = "ACS3-HMAC-SHA256"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
EMPTY_PAYLOAD_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # of b""
_SHA1_BLOCK = 64  # bytes: HMAC pads its key to the hash's block

QueryInput = Mapping[str, str] | Iterable[tuple[str, str]]


def percent_encode(s: str) -> str:
    """RFC 3986 encoding of the UTF-8 bytes of ``s``: only ``A-Za-z0-9-_.~`` stay as they are.

    Upper-case hex, space as ``%20``, ``*`` as ``%2A``, ``/`` as ``%2F`` (API.md 1.7 step 3).
    """
    encoded = s.encode("utf-8")
    if not encoded.rstrip(_UNRESERVED):  # as urllib.parse.quote: nothing to encode
        return s
    return "".join(map(_ENCODED.__getitem__, encoded))


_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
_ENCODED = [chr(byte) if byte in _UNRESERVED else f"%{byte:02X}" for byte in range(256)]


def string_to_sign_v1(method: str, params: Mapping[str, str]) -> str:
    """The v1 StringToSign of a request; ``params`` is query plus form body, decoded.

    A ``Signature`` entry is ignored; empty values (the legacy client's ``SignatureType=``) count.
    Python orders ``str`` by code point, which for UTF-8 is the byte order the spec asks for.
    """
    canonical = "&".join(
        f"{percent_encode(name)}={percent_encode(value)}"
        for name, value in sorted(params.items())
        if name != "Signature"
    )
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def sha1_constructor() -> Callable[[bytes], Any]:
    """Python's own SHA-1 where the build has it (no OpenSSL to load), else hashlib's."""
    try:
        from _sha1 import sha1  # type: ignore[import-not-found]  # C module without a stub
    except ImportError:  # a build that keeps OpenSSL's hashes only
        from hashlib import sha1
    constructor: Callable[[bytes], Any] = sha1
    return constructor


def hmac_sha1(key: bytes, message: bytes) -> bytes:
    """HMAC (RFC 2104) with SHA-1: what hmac.digest(key, message, "sha1") returns."""
    sha1 = sha1_constructor()
    if len(key) > _SHA1_BLOCK:
        key = sha1(key).digest()
    key = key.ljust(_SHA1_BLOCK, b"\0")
    inner = sha1(bytes(b ^ 0x36 for b in key) + message).digest()
    return bytes(sha1(bytes(b ^ 0x5C for b in key) + inner).digest())


def sign_v1(secret: str, string_to_sign: str) -> str:
    """Base64 of HMAC-SHA1 keyed with ``secret + "&"``."""
    digest = hmac_sha1((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"))
    return binascii.b2a_base64(digest, newline=False).decode("ascii")


def format_timestamp(moment: datetime | float) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` in UTC, as ``Timestamp`` and ``x-acs-date`` carry it, of an
    aware datetime or of a Unix time in seconds (``time.time()``: no datetime to import)."""
    if isinstance(moment, int | float):
        return time.strftime(TIMESTAMP_FORMAT, time.gmtime(moment))
    from datetime import UTC  # the caller made a datetime: the module is loaded

    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def signed_v1_query(
    params: Mapping[str, str],
    access_key_id: str,
    secret: str,
    method: str,
    now: datetime | float,
    nonce: str,
) -> dict[str, str]:
    """Return ``params`` plus the v1 common parameters and their ``Signature``, ready to send.

    ``params`` must hold ``Action`` and ``Version`` and every business parameter (those sent in
    a form body too, since v1 signs them all); ``now`` is a timezone-aware datetime or a Unix
    time in seconds.
    Raises ValueError if ``Action`` or ``Version`` is missing.
    """
    for required in ("Action", "Version"):
        if not params.get(required):
            raise ValueError(f"{required} must be given")
    signed = dict(params)
    signed.pop("Signature", None)
    signed.update(
        {
            "Format": params.get("Format", "JSON"),
            "SignatureMethod": V1_SIGNATURE_METHOD,
            "SignatureVersion": V1_SIGNATURE_VERSION,
            "SignatureNonce": nonce,
            "Timestamp": format_timestamp(now),
            "AccessKeyId": access_key_id,
        }
    )
    signed["Signature"] = sign_v1(secret, string_to_sign_v1(method, signed))
    return signed


def _query_pairs(query: QueryInput) -> list[tuple[str, str]]:
    if isinstance(query, Mapping):
        return list(query.items())
    return list(query)


def canonical_request_v3(
    method: str,
    path: str,
    query: QueryInput,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    hashed_payload: str,
) -> str:
    """The v3 CanonicalRequest (API.md 1.8 step 3).

    ``query`` is the decoded URL query only (never form-body fields: v3 covers the body through
    its hash). Names are encoded like values; the Python SDK leaves names raw, which is the same
    for every ASCII name the API uses. ``headers`` may use any case. Raises ValueError if a
    signed header is absent from ``headers``.
    """
    encoded_query = sorted(
        (percent_encode(name), percent_encode(value)) for name, value in _query_pairs(query)
    )
    canonical_query = "&".join(f"{name}={value}" for name, value in encoded_query)
    by_name = {name.lower(): value for name, value in headers.items()}
    names = sorted(name.lower() for name in signed_headers)
    lines = []
    for name in names:
        if name not in by_name:
            raise ValueError(f"signed header {name!r} is not in the request")
        lines.append(f"{name}:{by_name[name].strip()}\n")
    parts = [method.upper(), path or "/", canonical_query, "".join(lines), ";".join(names)]
    return "\n".join([*parts, hashed_payload])


def string_to_sign_v3(canonical_request: str) -> str:
    """``ACS3-HMAC-SHA256`` + newline + hex SHA-256 of the canonical request."""
    import hashlib

    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{V3_ALGORITHM}\n{digest}"


def sign_v3(secret: str, string_to_sign: str) -> str:
    """Lower-case hex HMAC-SHA256 keyed with the bare secret (no trailing ``&``)."""
    import hashlib
    import hmac

    return hmac.new(
        secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def authorization_v3(access_key_id: str, signed_headers: Sequence[str], signature: str) -> str:
    """The ``Authorization`` header value of a v3 request."""
    names = ";".join(sorted(name.lower() for name in signed_headers))
    return f"{V3_ALGORITHM} Credential={access_key_id},SignedHeaders={names},Signature={signature}"


_AUTHORIZATION_FIELDS = ("Credential", "SignedHeaders", "Signature")


def parse_authorization(value: str) -> tuple[str, str, tuple[str, ...], str]:
    """Split a v3 ``Authorization`` value into (algorithm, access key id, signed headers, sig).

    Tolerates spaces around the separators. Raises ValueError when the algorithm or any of
    ``Credential``, ``SignedHeaders``, ``Signature`` is missing, empty, repeated or unknown.
    """
    algorithm, _, rest = value.strip().partition(" ")
    if not algorithm or not rest.strip():
        raise ValueError("Authorization needs an algorithm followed by its fields")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, field_value = part.strip().partition("=")
        key, field_value = key.strip(), field_value.strip()
        if not sep or key not in _AUTHORIZATION_FIELDS:
            raise ValueError(f"unexpected Authorization field {part.strip()!r}")
        if key in fields:
            raise ValueError(f"Authorization field {key} is repeated")
        if not field_value:
            raise ValueError(f"Authorization field {key} is empty")
        fields[key] = field_value
    missing = [key for key in _AUTHORIZATION_FIELDS if key not in fields]
    if missing:
        raise ValueError(f"Authorization lacks {', '.join(missing)}")
    signed_headers = tuple(name.strip() for name in fields["SignedHeaders"].split(";"))
    if any(not name for name in signed_headers):
        raise ValueError("SignedHeaders has an empty name")
    return algorithm, fields["Credential"], signed_headers, fields["Signature"]
