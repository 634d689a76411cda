"""TLS on the API and console port: the certificate it serves and the endpoint clients use."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from openassist.errors import ConfigurationError
from openassist.server.gateway.tls import TlsFiles
from openassist.server.settings import ServerSettings


def api_certificate(settings: ServerSettings, server_ca: TlsFiles) -> TlsFiles | None:
    """The files the API listener serves, or None for plain http: the operator's certificate
    and key when given, else the certificate the server's CA issued (the agents' one)."""
    if not settings.api_tls_enabled:
        return None
    if not settings.api_tls_cert_file:
        return server_ca
    cert, key = Path(settings.api_tls_cert_file), Path(settings.api_tls_key_file)
    for path in (cert, key):
        if not path.is_file():
            raise ConfigurationError(f"API TLS file {path} does not exist")
    return TlsFiles(ca_cert=cert, server_cert=cert, server_key=key)


def api_endpoint(settings: ServerSettings) -> str:
    """``scheme://host:port`` of the API as a client on this host reaches it (a wildcard
    listen address is reached on loopback, which the server's certificate names)."""
    host = settings.api_host
    try:
        if ipaddress.ip_address(host).is_unspecified:
            host = "127.0.0.1"
    except ValueError:
        pass
    if ":" in host:
        host = f"[{host}]"
    return f"{settings.api_scheme}://{host}:{settings.api_port}"
