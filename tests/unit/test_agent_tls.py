"""Which server certificates ``ensure_tls`` issues anew, and that it never replaces the CA."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from cryptography import x509

from openassist.server.gateway.tls import RENEW_BEFORE, ensure_tls


def _serial(path: Path) -> int:
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number


def test_a_fresh_leaf_with_the_same_names_is_kept(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path / "tls", ("a.example",))
    serial, ca = _serial(files.server_cert), files.ca_cert.read_bytes()
    ensure_tls(tmp_path / "tls", ("a.example",))
    assert (_serial(files.server_cert), files.ca_cert.read_bytes()) == (serial, ca)


def test_a_leaf_is_renewed_just_inside_the_window_and_not_before(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path / "tls")
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    outside = cert.not_valid_after_utc - RENEW_BEFORE - dt.timedelta(minutes=1)
    ensure_tls(tmp_path / "tls", now=outside)
    assert _serial(files.server_cert) == cert.serial_number
    ensure_tls(tmp_path / "tls", now=outside + dt.timedelta(minutes=2))
    assert _serial(files.server_cert) != cert.serial_number


def test_a_leaf_of_another_ca_or_a_foreign_key_is_replaced_by_one_of_this_ca(
    tmp_path: Path,
) -> None:
    files = ensure_tls(tmp_path / "tls")
    other = ensure_tls(tmp_path / "other")
    ca = files.ca_cert.read_bytes()
    shutil.copy(other.server_cert, files.server_cert)
    ensure_tls(tmp_path / "tls")
    issued = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    issued.verify_directly_issued_by(x509.load_pem_x509_certificate(ca))
    shutil.copy(other.server_key, files.server_key)  # a key that is not the certificate's
    ensure_tls(tmp_path / "tls")
    assert _serial(files.server_cert) != issued.serial_number
    assert files.ca_cert.read_bytes() == ca


def test_a_missing_leaf_is_issued_by_the_ca_that_agents_already_trust(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path / "tls")
    ca = files.ca_cert.read_bytes()
    files.server_cert.unlink()
    files.server_key.unlink()
    ensure_tls(tmp_path / "tls")
    assert files.ca_cert.read_bytes() == ca and files.server_cert.exists()
