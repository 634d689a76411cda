"""The agent channel's TLS material: a CA created at first start and a server (leaf)
certificate it issues.

Agents trust ``ca.pem`` only, so the leaf can be replaced without them noticing: at every start
the leaf is issued anew (same CA, new key) when it is missing, expires within ``RENEW_BEFORE``,
does not name exactly the configured names (``tls_hostnames`` plus loopback and the host's
name), was not issued by the CA, or does not match its key. Private keys are written owner-only
(0600); the new key and certificate are put in place by rename, key first, so a crash between
the two leaves a pair that does not match, which the next start re-issues.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from openassist.server.private_files import write_private

log = logging.getLogger(__name__)

_VALIDITY_DAYS_CA = 3650
_VALIDITY_DAYS_SERVER = 825
RENEW_BEFORE = dt.timedelta(days=30)  # a leaf closer than this to its end is renewed
_CA_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OpenAssist agent CA")])


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path

    @property
    def ca_key(self) -> Path:
        return self.ca_cert.with_name("ca.key")


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _names(extra: tuple[str, ...]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for name in ("localhost", "127.0.0.1", "::1", socket.gethostname(), *extra):
        try:
            general: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(name))
        except ValueError:
            general = x509.DNSName(name)
        if general not in names:
            names.append(general)
    return names


def ensure_tls(
    directory: Path, hostnames: tuple[str, ...] = (), now: dt.datetime | None = None
) -> TlsFiles:
    """Create the CA if missing, and issue the server certificate when it is missing or due
    (see the module's docstring); return the paths."""
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    now = now or dt.datetime.now(dt.UTC)
    if not files.ca_cert.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create_ca(files, now)
    renew_if_due(files, hostnames, now)
    return files


def renew_if_due(files: TlsFiles, hostnames: tuple[str, ...], now: dt.datetime) -> str:
    """Issue a new server certificate if the current one is due; returns why it was renewed
    ("" when it was not)."""
    wanted = _names(hostnames)
    why = _due(files, wanted, now)
    if not why:
        return ""
    try:
        ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), None)
    except (OSError, ValueError) as error:
        log.warning(
            "agent TLS certificate %s: %s, but it cannot be renewed: %s",
            files.server_cert,
            why,
            error,
        )
        return ""
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        log.warning(
            "agent TLS certificate %s: %s, but the CA key is not an EC key", files.server_cert, why
        )
        return ""
    until = _issue_leaf(files, ca_cert, ca_key, wanted, now)
    log.info(
        "agent TLS certificate %s: %s; issued a new one by the same CA, valid until %s",
        files.server_cert,
        why,
        until.date().isoformat(),
    )
    return why


def _due(files: TlsFiles, wanted: list[x509.GeneralName], now: dt.datetime) -> str:
    """Why the server certificate must be issued anew ("" when it need not)."""
    try:
        cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
        key = serialization.load_pem_private_key(files.server_key.read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    except FileNotFoundError:
        return "none yet"
    except (OSError, ValueError) as error:
        return f"unreadable ({error})"
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return "not issued by the agent CA"
    if cert.public_key() != key.public_key():
        return "does not match its key"
    left = cert.not_valid_after_utc - now
    if left < RENEW_BEFORE:
        return f"expires {cert.not_valid_after_utc.date().isoformat()}"
    try:
        present = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return "names no host"
    if set(present) != set(wanted):
        named = ", ".join(str(getattr(n, "value", n)) for n in wanted)
        return f"the configured names changed (now {named})"
    return ""


def _create_ca(files: TlsFiles, now: dt.datetime) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_CA_NAME)
        .issuer_name(_CA_NAME)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_VALIDITY_DAYS_CA))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    write_private(files.ca_key, _key_pem(ca_key))
    # Owner-only like everything in the data directory; agents get a copy of ca.pem.
    write_private(files.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM))


def _issue_leaf(
    files: TlsFiles,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    names: list[x509.GeneralName],
    now: dt.datetime,
) -> dt.datetime:
    """A new key and certificate for the server, put in place; returns its end of validity."""
    server_key = ec.generate_private_key(ec.SECP256R1())
    until = now + dt.timedelta(days=_VALIDITY_DAYS_SERVER)
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openassist")]))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(until)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    new_key = files.server_key.with_name(files.server_key.name + ".new")
    new_cert = files.server_cert.with_name(files.server_cert.name + ".new")
    write_private(new_key, _key_pem(server_key))
    write_private(new_cert, server_cert.public_bytes(serialization.Encoding.PEM))
    os.replace(new_key, files.server_key)
    os.replace(new_cert, files.server_cert)
    return until
