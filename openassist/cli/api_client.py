"""A small signed RPC client for the CLI (HMAC-SHA1 v1 over http, or https verified with the
server's CA; standard library only). Where credentials come from: ``cli/credentials.py``."""

from __future__ import annotations

import json
import secrets
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from openassist.protocol.acs_signature import signed_v1_query
from openassist.protocol.api_versions import version_of


class ApiUnreachable(Exception):
    """The server could not be reached (or its certificate not verified); the message names the
    endpoint and where the credentials came from."""


class ApiCallError(Exception):
    def __init__(self, status: int, code: str, message: str, request_id: str = "") -> None:
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.status, self.code, self.message = status, code, message
        self.request_id = request_id  # what the server's log lines about the call carry


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    access_key_secret: str
    endpoint: str  # host:port (plain http) or http(s)://host:port
    region_id: str
    ca_file: str = ""  # the CA that verifies an https endpoint; empty: the system's
    source: str = ""  # where they were read, for error messages

    def __repr__(self) -> str:  # the secret never appears in a repr or a log
        return f"Credentials({self.access_key_id!r}, endpoint={self.endpoint!r})"

    @property
    def url(self) -> str:
        return self.endpoint if "://" in self.endpoint else f"http://{self.endpoint}"


class ApiClient:
    def __init__(self, credentials: Credentials, timeout_s: float = 30) -> None:
        self._credentials = credentials
        self._timeout = timeout_s
        scheme = credentials.url.split("://", 1)[0]
        if scheme not in ("http", "https"):
            raise ValueError(f"endpoint {credentials.url}: give http:// or https://")
        self._tls: ssl.SSLContext | None = None
        if scheme == "https":
            self._tls = ssl.create_default_context(cafile=credentials.ca_file or None)

    @property
    def region_id(self) -> str:
        return self._credentials.region_id

    def call(self, action: str, params: dict[str, str]) -> dict[str, Any]:
        """Call ``action``; raises ApiCallError with the server's code and message."""
        merged = {"RegionId": self._credentials.region_id, **params}
        merged.update(Action=action, Version=version_of(action))
        signed = signed_v1_query(
            merged,
            self._credentials.access_key_id,
            self._credentials.access_key_secret,
            "POST",
            datetime.now(UTC),
            secrets.token_hex(16),
        )
        body = urlencode(signed).encode()
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            self._credentials.url.rstrip("/") + "/",
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(  # noqa: S310 (the scheme is checked in __init__)
                request, timeout=self._timeout, context=self._tls
            ) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as error:
            try:
                document = json.loads(error.read())
            except ValueError:
                document = {}
            raise ApiCallError(
                error.code,
                document.get("Code", "HTTPError"),
                document.get("Message", str(error)),
                document.get("RequestId", ""),
            ) from None
        except (urllib.error.URLError, OSError) as error:
            raise ApiUnreachable(self._unreachable(error)) from None

    def _unreachable(self, error: Exception) -> str:
        reason = getattr(error, "reason", error)
        credentials = self._credentials
        text = (
            f"cannot reach the OpenAssist API at {credentials.url} ({reason}); "
            f"credentials from {credentials.source or 'the caller'}"
        )
        if isinstance(reason, ssl.SSLCertVerificationError):
            trusted = credentials.ca_file or "the system's CAs"
            text += f"; its certificate is not trusted by {trusted} (pass --ca <server ca.pem>)"
        return text
