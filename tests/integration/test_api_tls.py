"""TLS on the API port and the CLI's credentials: https verified with the server's CA (or the
operator's certificate), named profiles usable from any directory, the official SDKs over https,
and errors that name the endpoint and the credentials file when the server cannot be reached."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi import utils_models as open_api_models
from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DescribeInvocationsRequest import DescribeInvocationsRequest

from openassist.cli.api_client import ApiClient, ApiUnreachable
from openassist.cli.credentials import read_file
from openassist.server.gateway.tls import ensure_tls
from tests.support.cluster import Cluster, free_port

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    env.pop("OPENASSIST_PROFILE", None)
    return {**env, **extra}


def _cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openassist.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("tls")
    with Cluster.start(root, env={"OPENASSIST_API_TLS": "on"}) as cluster:
        yield cluster


def _admin_file(cluster: Cluster) -> Path:
    return cluster.root / "data" / "admin-credentials.json"


def test_first_start_writes_an_https_endpoint_and_the_ca_to_verify_it(
    tls_cluster: Cluster,
) -> None:
    document = json.loads(_admin_file(tls_cluster).read_text())
    assert document["Endpoint"] == f"https://127.0.0.1:{tls_cluster.api_port}"
    assert Path(document["CaFile"]) == tls_cluster.ca_file.resolve()
    answer = ApiClient(read_file(_admin_file(tls_cluster))).call("DescribeInvocations", {})
    assert "Invocations" in answer
    plain = read_file(_admin_file(tls_cluster))
    plain_http = ApiClient(
        type(plain)(
            plain.access_key_id,
            plain.access_key_secret,
            f"127.0.0.1:{tls_cluster.api_port}",
            "local",
        )
    )
    with pytest.raises(ApiUnreachable):  # the port speaks TLS only
        plain_http.call("DescribeInvocations", {})


def test_cli_profiles_work_from_any_directory(tls_cluster: Cluster, tmp_path: Path) -> None:
    config, elsewhere = tmp_path / "config", tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _env(XDG_CONFIG_HOME=str(config))
    saved = _cli(
        "configure",
        "--from",
        str(_admin_file(tls_cluster)),
        "--profile",
        "lab",
        cwd=elsewhere,
        env=env,
    )
    assert saved.returncode == 0, saved.stderr
    profiles = config / "openassist" / "credentials"
    assert stat.S_IMODE(profiles.stat().st_mode) == 0o600
    assert stat.S_IMODE(profiles.parent.stat().st_mode) == 0o700
    text = profiles.read_text()
    assert "[lab]" in text and f"https://127.0.0.1:{tls_cluster.api_port}" in text

    by_flag = _cli("invocations", "--profile", "lab", cwd=elsewhere, env=env)
    assert by_flag.returncode == 0, by_flag.stderr
    assert "INVOKE ID" in by_flag.stdout
    by_variable = _cli("invocations", cwd=elsewhere, env={**env, "OPENASSIST_PROFILE": "lab"})
    assert by_variable.returncode == 0, by_variable.stderr

    missing = _cli("invocations", cwd=elsewhere, env=env)  # no default profile, no local server
    assert missing.returncode == 1
    assert str(profiles) in missing.stderr and "openassist configure" in missing.stderr
    unknown = _cli("invocations", "--profile", "prod", cwd=elsewhere, env=env)
    assert (
        unknown.returncode == 1
        and "no profile 'prod'" in unknown.stderr
        and "lab" in unknown.stderr
    )

    assert (
        _cli(
            "configure", "--from", str(_admin_file(tls_cluster)), cwd=elsewhere, env=env
        ).returncode
        == 0
    )
    by_default = _cli("ecs", "DescribeInvocations", cwd=elsewhere, env=env)
    assert by_default.returncode == 0, by_default.stderr
    assert "Invocations" in json.loads(by_default.stdout)


def test_an_unreachable_server_is_named_with_the_credentials_used(
    tls_cluster: Cluster, tmp_path: Path
) -> None:
    admin = _admin_file(tls_cluster)
    closed = f"https://127.0.0.1:{free_port()}"
    failed = _cli(
        "invocations", "--credentials", str(admin), "--endpoint", closed, cwd=tmp_path, env=_env()
    )
    assert failed.returncode == 1
    assert f"cannot reach the OpenAssist API at {closed}" in failed.stderr
    assert f"credentials from {admin}" in failed.stderr
    assert "Traceback" not in failed.stderr

    other_ca = ensure_tls(tmp_path / "other-ca").ca_cert
    untrusted = _cli(
        "invocations", "--credentials", str(admin), "--ca", str(other_ca), cwd=tmp_path, env=_env()
    )
    assert untrusted.returncode == 1
    assert "not trusted by" in untrusted.stderr and str(other_ca) in untrusted.stderr


def test_official_sdks_over_https_with_the_servers_ca(
    tls_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    credentials = read_file(_admin_file(tls_cluster))
    ca = str(tls_cluster.ca_file)
    current = Client(
        open_api_models.Config(
            access_key_id=credentials.access_key_id,
            access_key_secret=credentials.access_key_secret,
            endpoint=f"127.0.0.1:{tls_cluster.api_port}",
            protocol="https",
            region_id="local",
            ca=ca,
            connect_timeout=5000,
            read_timeout=15000,
        )
    )
    answer = current.describe_invocations(ecs.DescribeInvocationsRequest(region_id="local"))
    assert answer.status_code == 200
    legacy = AcsClient(
        credentials.access_key_id,
        credentials.access_key_secret,
        "local",
        port=tls_cluster.api_port,
        auto_retry=False,
        verify=ca,
        timeout=15,
    )
    request = DescribeInvocationsRequest()
    request.set_endpoint("127.0.0.1")
    request.set_protocol_type("https")
    assert "Invocations" in json.loads(legacy.do_action_with_exception(request))


def test_the_operators_certificate_is_served_when_given(tmp_path: Path) -> None:
    operator = ensure_tls(tmp_path / "operator-pki")  # stands in for the operator's own CA
    env = {
        "OPENASSIST_API_TLS": "on",
        "OPENASSIST_API_TLS_CERT_FILE": str(operator.server_cert),
        "OPENASSIST_API_TLS_KEY_FILE": str(operator.server_key),
    }
    with Cluster.start(tmp_path / "cluster", env=env) as cluster:
        found = read_file(cluster.root / "data" / "admin-credentials.json")
        assert found.endpoint.startswith("https://") and found.ca_file == ""
        trusting = type(found)(
            found.access_key_id,
            found.access_key_secret,
            found.endpoint,
            "local",
            ca_file=str(operator.ca_cert),
        )
        assert "Invocations" in ApiClient(trusting).call("DescribeInvocations", {})
        servers_ca = type(found)(
            found.access_key_id,
            found.access_key_secret,
            found.endpoint,
            "local",
            ca_file=str(cluster.ca_file),
        )
        with pytest.raises(ApiUnreachable, match="not trusted"):
            ApiClient(servers_ca).call("DescribeInvocations", {})
