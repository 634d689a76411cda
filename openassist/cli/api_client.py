"""A small signed RPC client for the CLI (HMAC-SHA1 v1 over http, or https verified with the
server's CA; standard library only, one kept-alive connection). Where credentials come from:
``cli/credentials.py``."""

from __future__ import annotations

import os
import sys
import time
from collections import namedtuple

from openassist.cli.documents import loads
from openassist.cli.http_wire import Connection, ConnectionClosed
from openassist.protocol.acs_signature import percent_encode, signed_v1_query
from openassist.protocol.api_versions import version_of


class ApiUnreachable(Exception):
    """The server could not be reached (or its certificate not verified); the message names the
    endpoint and where the credentials came from."""


class ApiCallError(Exception):
    def __init__(self, status: int, code: str, message: str, request_id: str = "") -> None:
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.status, self.code, self.message = status, code, message
        self.request_id = request_id  # what the server's log lines about the call carry


# Not dataclasses (a tenth of a short command's start-up) nor typing.NamedTuple (typing is as
# much): collections' namedtuple at run time, the same fields typed for the type checker.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NamedTuple

    class _CredentialFields(NamedTuple):
        access_key_id: str
        access_key_secret: str
        endpoint: str  # host:port (plain http) or http(s)://host:port
        region_id: str
        ca_file: str = ""  # the CA that verifies an https endpoint; empty: the system's
        source: str = ""  # where they were read, for error messages

else:
    _CredentialFields = namedtuple(
        "Credentials",
        "access_key_id access_key_secret endpoint region_id ca_file source",
        defaults=("", ""),
    )


class Credentials(_CredentialFields):
    __slots__ = ()

    def __repr__(self) -> str:  # the secret never appears in a repr or a log
        return f"Credentials({self.access_key_id!r}, endpoint={self.endpoint!r})"

    @property
    def url(self) -> str:
        return self.endpoint if "://" in self.endpoint else f"http://{self.endpoint}"


def split_url(url: str) -> tuple[str, str, int | None, str]:
    """(scheme, host name in lower case, port, path) as urllib.parse.urlsplit reads them: a plain
    ``scheme://host[:port][/path]`` in printable ASCII without urllib.parse (and the ipaddress
    module it loads, 11 million instructions of a short command: callgrind), any other with it."""
    scheme, _, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    host, colon, port = netloc.partition(":")
    plain = (
        scheme.isascii()
        and scheme.isalpha()
        and rest.isascii()
        and rest.isprintable()
        and not set("[]@?#%\\") & set(rest)
    )
    if plain and host and (not colon or (port.isdigit() and int(port) <= 65535)):
        return scheme.lower(), host.lower(), int(port) if colon else None, slash + path
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port, parts.path


class ApiClient:
    """With ``keep_alive`` the calls share one connection (a command makes several in a row;
    its owner closes it, or the process's end does); without, each call has its own."""

    def __init__(
        self, credentials: Credentials, timeout_s: float = 30, keep_alive: bool = False
    ) -> None:
        self._credentials = credentials
        self._timeout = timeout_s
        self._keep_alive = keep_alive
        scheme, host, port, path = split_url(credentials.url)
        if scheme not in ("http", "https"):
            raise ValueError(f"endpoint {credentials.url}: give http:// or https://")
        self._https = scheme == "https"
        self._host = host or "127.0.0.1"
        self._port = port or (443 if self._https else 80)
        self._path = (path or "/").rstrip("/") + "/"
        self._connection: Connection | None = None

    @property
    def region_id(self) -> str:
        return self._credentials.region_id

    def _connect(self) -> Connection:
        if self._connection is None:
            wrap = None
            if self._https:
                import ssl  # only for https: a large import for a short command

                context = ssl.create_default_context(cafile=self._credentials.ca_file or None)

                def wrap(plain: Any, host: str) -> Any:
                    return context.wrap_socket(plain, server_hostname=host)

            self._connection = Connection(self._host, self._port, self._timeout, wrap)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def call(self, action: str, params: dict[str, str]) -> dict[str, Any]:
        """Call ``action``; raises ApiCallError with the server's code and message."""
        merged = {"RegionId": self._credentials.region_id, **params}
        merged.update(Action=action, Version=version_of(action))
        signed = signed_v1_query(
            merged,
            self._credentials.access_key_id,
            self._credentials.access_key_secret,
            "POST",
            time.time(),  # not datetime.now(UTC): no datetime module to load
            os.urandom(16).hex(),  # what secrets.token_hex does, without importing random
        )
        # A form as urllib's urlencode makes it, but with %20 for a space (the server reads both)
        body = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in signed.items())
        encoded = body.encode("ascii")
        reused = self._connection is not None and self._connection.open
        try:
            status, data = self._post(encoded)
        except (ConnectionClosed, ConnectionResetError, BrokenPipeError) as error:
            self.close()
            if not reused:
                raise ApiUnreachable(self._unreachable(error)) from None
            # The server closed the idle kept-alive connection before reading this request:
            # a fresh connection sends it once more. Had the first copy been read after all,
            # the server refuses this one as a replay (same SignatureNonce): never run twice.
            try:
                status, data = self._post(encoded)
            except OSError as again:
                self.close()
                raise ApiUnreachable(self._unreachable(again)) from None
        except OSError as error:  # BadResponse included
            self.close()
            raise ApiUnreachable(self._unreachable(error)) from None
        except BaseException:  # Ctrl-C mid-call: the connection is half-used, never reuse it
            self.close()
            raise
        if not self._keep_alive:
            self.close()
        try:
            document = loads(data)
        except ValueError:
            document = {}
        if status >= 400 or not isinstance(document, dict):
            document = document if isinstance(document, dict) else {}
            raise ApiCallError(
                status,
                document.get("Code", "HTTPError"),
                document.get("Message", f"HTTP {status}"),
                document.get("RequestId", ""),
            )
        return document

    def _post(self, body: bytes) -> tuple[int, bytes]:
        return self._connect().post(self._path, body, "application/x-www-form-urlencoded")

    def _unreachable(self, error: Exception) -> str:
        ssl = sys.modules.get("ssl")  # loaded only if the endpoint is https
        reason = error
        credentials = self._credentials
        text = (
            f"cannot reach the OpenAssist API at {credentials.url} ({reason}); "
            f"credentials from {credentials.source or 'the caller'}"
        )
        if ssl is not None and isinstance(reason, ssl.SSLCertVerificationError):
            trusted = credentials.ca_file or "the system's CAs"
            text += f"; its certificate is not trusted by {trusted} (pass --ca <server ca.pem>)"
        return text
