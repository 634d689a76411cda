"""A small signed RPC client for the CLI (HMAC-SHA1 v1 over plain HTTP, standard library only)."""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from openassist.protocol.acs_signature import signed_v1_query
from openassist.protocol.api_versions import version_of

DEFAULT_CREDENTIALS = Path(".openassist") / "admin-credentials.json"


class ApiCallError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    access_key_secret: str
    endpoint: str
    region_id: str

    def __repr__(self) -> str:  # the secret never appears in a repr or a log
        return f"Credentials({self.access_key_id!r}, endpoint={self.endpoint!r})"


def load_credentials(path: Path | None = None) -> Credentials:
    """From OPENASSIST_ACCESS_KEY_ID/_SECRET/_ENDPOINT/_REGION, else the server's credentials
    file (``--credentials``, or ``.openassist/admin-credentials.json``)."""
    env = os.environ
    if env.get("OPENASSIST_ACCESS_KEY_ID") and env.get("OPENASSIST_ACCESS_KEY_SECRET"):
        return Credentials(
            env["OPENASSIST_ACCESS_KEY_ID"],
            env["OPENASSIST_ACCESS_KEY_SECRET"],
            env.get("OPENASSIST_ENDPOINT", "127.0.0.1:8640"),
            env.get("OPENASSIST_REGION", "local"),
        )
    source = path or Path(env.get("OPENASSIST_DATA_DIR", ".openassist")) / "admin-credentials.json"
    document = json.loads(source.read_text())
    return Credentials(
        document["AccessKeyId"],
        document["AccessKeySecret"],
        document.get("Endpoint", "127.0.0.1:8640"),
        document.get("RegionId", "local"),
    )


class ApiClient:
    def __init__(self, credentials: Credentials, timeout_s: float = 30) -> None:
        self._credentials = credentials
        self._timeout = timeout_s

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
        request = urllib.request.Request(
            f"http://{self._credentials.endpoint}/",
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as error:
            try:
                document = json.loads(error.read())
            except ValueError:
                document = {}
            raise ApiCallError(
                error.code, document.get("Code", "HTTPError"), document.get("Message", str(error))
            ) from None
