"""The parameter store (OOS actions) and its use in commands: {{oos:...}} and {{oos-secret:...}}
resolve on the instance, secrets are sealed at rest with a key outside the database, and a
secret never shows up in the stored command, the server's log, or anything the agent keeps."""

from __future__ import annotations

import base64
import hashlib
import stat
from typing import Any

import pytest
import sqlalchemy as sa

from openassist.cli.api_client import ApiCallError
from tests.support.cluster import Agent, Cluster

SECRET_VALUE = "s3cr3t-Пароль-4711"


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Agent:
    return cluster.new_agent("store-user")


@pytest.fixture(scope="module")
def stored(cluster: Cluster) -> dict[str, Any]:
    plain = cluster.call("CreateParameter", Name="db_host", Type="String", Value="db.internal")
    secret = cluster.call(
        "CreateSecretParameter", Name="db_password", Value=SECRET_VALUE, Description="prod db"
    )
    return {"plain": plain["Parameter"], "secret": secret["Parameter"]}


def _refused(cluster: Cluster, action: str, **params: str) -> ApiCallError:
    with pytest.raises(ApiCallError) as refused:
        cluster.call(action, **params)
    return refused.value


def test_create_and_get_both_kinds(cluster: Cluster, stored: dict[str, Any]) -> None:
    assert stored["plain"]["Type"] == "String" and stored["plain"]["ParameterVersion"] == 1
    assert stored["secret"]["Type"] == "Secret" and stored["secret"]["KeyId"]
    got = cluster.call("GetParameter", Name="db_host")["Parameter"]
    assert (got["Value"], got["Id"]) == ("db.internal", stored["plain"]["Id"])
    hidden = cluster.call("GetSecretParameter", Name="db_password")["Parameter"]
    assert hidden["Value"] is None and hidden["Description"] == "prod db"
    shown = cluster.call("GetSecretParameter", Name="db_password", WithDecryption="True")
    assert shown["Parameter"]["Value"] == SECRET_VALUE


def test_refusals_name_the_problem(cluster: Cluster, stored: dict[str, Any]) -> None:
    reserved = _refused(cluster, "CreateParameter", Name="AcsThing", Type="String", Value="v")
    assert (reserved.status, reserved.code) == (400, "InvalidParameter.Name")
    bad_type = _refused(cluster, "CreateParameter", Name="x1", Type="Number", Value="1")
    assert bad_type.code == "InvalidParameter.Type"
    duplicate = _refused(cluster, "CreateParameter", Name="db_host", Type="String", Value="v")
    assert duplicate.code == "EntityAlreadyExists.Parameter"
    missing = _refused(cluster, "GetParameter", Name="nope")
    assert (missing.status, missing.code) == (404, "EntityNotExists.Parameter")
    wrong_kind = _refused(cluster, "GetParameter", Name="db_password")
    assert wrong_kind.code == "EntityNotExists.Parameter" and "GetSecretParameter" in str(
        wrong_kind
    )
    version = _refused(cluster, "GetParameter", Name="db_host", ParameterVersion="2")
    assert version.code == "EntityNotExists.ParameterVersion"
    constrained = _refused(
        cluster,
        "CreateParameter",
        Name="port",
        Type="String",
        Value="http",
        Constraints='{"AllowedPattern": "[0-9]+"}',
    )
    assert constrained.code == "InvalidParameter.Value"


def test_secret_is_sealed_at_rest_with_a_key_outside_the_database(
    cluster: Cluster, stored: dict[str, Any]
) -> None:
    url = cluster.database_url or f"sqlite:///{cluster.root / 'data' / 'openassist.db'}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = sa.text("SELECT name, value FROM parameters")
            rows: dict[str, str] = {r.name: r.value for r in conn.execute(query)}
    finally:
        engine.dispose()
    assert rows["db_host"] == "db.internal"
    assert rows["db_password"].startswith("aesgcm1:") and SECRET_VALUE not in rows["db_password"]
    key = cluster.root / "data" / "parameter-store.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_command_gets_the_values_and_keeps_the_placeholders(
    cluster: Cluster, agent: Agent, stored: dict[str, Any]
) -> None:
    # The script prints a digest of the secret, never the secret itself.
    script = 'echo "host={{oos:db_host}}"; printf %s "{{ oos-secret : db_password }}" | sha256sum'
    invoke_id = cluster.call(
        "RunCommand",
        **{"InstanceId.1": agent.instance_id},
        Type="RunShellScript",
        CommandContent=script,
        EnableParameter="true",
    )["InvokeId"]
    [result] = cluster.wait_final(invoke_id)
    assert result["InvocationStatus"] == "Success", result
    output = result["Output"]
    digest = hashlib.sha256(SECRET_VALUE.encode()).hexdigest()
    assert output == f"host=db.internal\n{digest}  -\n"
    described = cluster.call("DescribeInvocations", InvokeId=invoke_id)
    [task] = described["Invocations"]["Invocation"]
    stored_text = base64.b64decode(task["CommandContent"]).decode()
    assert "{{ oos-secret : db_password }}" in stored_text and SECRET_VALUE not in stored_text
    # Nothing the agent or the server keeps holds the secret; the script file is gone.
    leftover = [p for p in (agent.state_dir / "scripts").glob("*") if p.is_file()]
    assert leftover == []
    kept = [agent.log, cluster.server_log, *agent.state_dir.rglob("*")]
    for path in kept:
        if path.is_file():
            assert SECRET_VALUE.encode() not in path.read_bytes(), path


def test_secret_deleted_before_delivery_fails_with_query_parameter_store_failed(
    cluster: Cluster, agent: Agent
) -> None:
    cluster.call("CreateSecretParameter", Name="short_lived", Value="v1")
    agent.freeze()  # connected and online, but fetching nothing until thawed
    try:
        invoke_id = cluster.call(
            "RunCommand",
            **{"InstanceId.1": agent.instance_id},
            Type="RunShellScript",
            CommandContent="echo {{oos-secret:short_lived}}",
            EnableParameter="true",
        )["InvokeId"]
        cluster.call("DeleteSecretParameter", Name="short_lived")
    finally:
        agent.thaw()
    [result] = cluster.wait_final(invoke_id)
    assert (result["InvocationStatus"], result["ErrorCode"]) == (
        "Failed",
        "QueryParameterStoreFailed",
    )
    assert "{{oos-secret:short_lived}}" in result["ErrorInfo"]


def test_unknown_reference_is_refused_at_the_api(cluster: Cluster, agent: Agent) -> None:
    for placeholder, problem in (
        ("{{oos:absent}}", "names no parameter"),
        ("{{oos:db_password}}", "secret parameter"),
    ):
        refused = _refused(
            cluster,
            "RunCommand",
            **{"InstanceId.1": agent.instance_id},
            Type="RunShellScript",
            CommandContent=f"echo {placeholder}",
            EnableParameter="true",
        )
        assert (refused.status, refused.code) == (403, "ParameterStore.InvalidParameters")
        assert problem in refused.message


def test_without_enable_parameter_the_text_reaches_the_script(
    cluster: Cluster, agent: Agent, stored: dict[str, Any]
) -> None:
    invoke_id = cluster.run("echo '{{oos:db_host}}'", agent.instance_id)
    [result] = cluster.wait_final(invoke_id)
    assert result["Output"] == "{{oos:db_host}}\n"


def test_delete_then_get_is_not_found(cluster: Cluster) -> None:
    cluster.call("CreateParameter", Name="temp_param", Type="StringList", Value="a,b")
    cluster.call("DeleteParameter", Name="temp_param")
    assert _refused(cluster, "GetParameter", Name="temp_param").status == 404
    assert _refused(cluster, "DeleteParameter", Name="temp_param").status == 404
