"""The agent channel's server certificate is renewed by the same CA, at start, when it nears
its end or the configured names (``tls_hostnames``) change; agents registered before, which
trust the CA only, reconnect by themselves and keep working without registering again.

The near-expiry certificate is made by the test with the server's own CA key, as a server
started two years earlier would have it; the agent is a real agent process that stays up while
the server is killed and started again with the new settings."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.cluster import Agent, Cluster, wait_until

NEW_NAME = "agents.example.test"


def _leaf(tls: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate((tls / "server.pem").read_bytes())


def _names(cert: x509.Certificate) -> x509.SubjectAlternativeName:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value


def _plant_leaf_near_expiry(tls: Path, names: x509.SubjectAlternativeName) -> x509.Certificate:
    """A server certificate of the same CA and names that ends in three days."""
    ca_key = serialization.load_pem_private_key((tls / "ca.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca = x509.load_pem_x509_certificate((tls / "ca.pem").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openassist")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=822))
        .not_valid_after(now + dt.timedelta(days=3))
        .add_extension(names, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (tls / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tls / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert


def _served(cluster: Cluster, hostname: str) -> bytes:
    """The certificate the agent port serves to a client that trusts the CA and checks
    ``hostname`` (DER); raises ssl.SSLCertVerificationError when it does not name it."""
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    with (
        socket.create_connection(("127.0.0.1", cluster.agent_port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=hostname) as tls,
    ):
        served = tls.getpeercert(binary_form=True)
    assert served is not None
    return served


def _works(cluster: Cluster, agent: Agent) -> None:
    wait_until(lambda: cluster.online(agent.instance_id), 60, what="the agent to be back")
    [result] = cluster.wait_final(cluster.run("echo still here", agent.instance_id))
    assert (result["InvocationStatus"], result["Output"]) == ("Success", "still here\n")


def test_the_leaf_is_renewed_at_start_when_names_change_or_it_nears_its_end(
    tmp_path: Path,
) -> None:
    with Cluster.start(tmp_path) as cluster:
        tls = cluster.root / "data" / "tls"
        agent = cluster.new_agent("before-renewal")
        _works(cluster, agent)
        ca = cluster.ca_file.read_bytes()
        first = _leaf(tls)

        # The operator adds a name: the next start issues a leaf that names it.
        cluster.kill_server()
        cluster.env = {"OPENASSIST_TLS_HOSTNAMES": NEW_NAME}
        cluster.restart_server()
        renamed = _leaf(tls)
        assert renamed.serial_number != first.serial_number
        assert x509.DNSName(NEW_NAME) in _names(renamed)
        assert _served(cluster, NEW_NAME) == renamed.public_bytes(serialization.Encoding.DER)
        _works(cluster, agent)  # the same agent process, never registered again

        # A leaf three days from its end (same CA, same names) is replaced at start.
        cluster.kill_server()
        near = _plant_leaf_near_expiry(tls, _names(renamed))
        cluster.restart_server()
        renewed = _leaf(tls)
        assert renewed.serial_number != near.serial_number
        assert renewed.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=800)
        assert _names(renewed) == _names(renamed)
        assert _served(cluster, NEW_NAME) == renewed.public_bytes(serialization.Encoding.DER)
        assert cluster.ca_file.read_bytes() == ca  # the CA the agents trust stays
        _works(cluster, agent)


def test_a_running_server_renews_a_leaf_near_its_end_without_a_restart(tmp_path: Path) -> None:
    with Cluster.start(tmp_path, env={"OPENASSIST_TLS_RENEW_CHECK_S": "1"}) as cluster:
        tls = cluster.root / "data" / "tls"
        agent = cluster.new_agent("running-renewal")
        first = _leaf(tls)
        assert _served(cluster, "127.0.0.1") == first.public_bytes(serialization.Encoding.DER)
        near = _plant_leaf_near_expiry(tls, _names(first))

        def renewed() -> x509.Certificate | None:
            current = _leaf(tls)
            served = _served(cluster, "127.0.0.1")
            fresh = current.serial_number not in (first.serial_number, near.serial_number)
            live = served == current.public_bytes(serialization.Encoding.DER)
            return current if fresh and live else None

        current = wait_until(renewed, 30, 0.2, what="the running server to renew and serve it")
        assert current.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=800)
        _works(cluster, agent)
