"""The vendor's OOS SDK (``alibabacloud_oos20190601``), unmodified, against the parameter store:
only the endpoint, the credentials and the region are set, as for the ECS SDKs."""

from __future__ import annotations

import pytest
from alibabacloud_oos20190601 import models as oos
from alibabacloud_oos20190601.client import Client
from alibabacloud_tea_openapi import utils_models as open_api_models

from tests.e2e.test_official_sdks import REGION, without_proxies
from tests.support.cluster import Cluster

__all__ = ["without_proxies"]  # the autouse fixture applies here too


def oos_client(cluster: Cluster) -> Client:
    return Client(
        open_api_models.Config(
            access_key_id=cluster.credentials.access_key_id,
            access_key_secret=cluster.credentials.access_key_secret,
            endpoint=cluster.endpoint,
            protocol="http",
            region_id=REGION,
            connect_timeout=5000,
            read_timeout=15000,
        )
    )


def test_secret_parameter_round_trip(cluster: Cluster) -> None:
    client = oos_client(cluster)
    created = client.create_secret_parameter(
        oos.CreateSecretParameterRequest(
            region_id=REGION,
            name="sdk-secret",
            value="hunter2-密码",
            description="made by the OOS SDK",
            tags={"team": "ops"},
        )
    ).body.parameter
    assert (created.name, created.type, created.parameter_version) == ("sdk-secret", "Secret", 1)
    assert created.tags == {"team": "ops"} and created.key_id
    hidden = client.get_secret_parameter(
        oos.GetSecretParameterRequest(region_id=REGION, name="sdk-secret")
    ).body.parameter
    assert hidden.value is None
    shown = client.get_secret_parameter(
        oos.GetSecretParameterRequest(region_id=REGION, name="sdk-secret", with_decryption=True)
    ).body.parameter
    assert shown.value == "hunter2-密码"
    client.delete_secret_parameter(
        oos.DeleteSecretParameterRequest(region_id=REGION, name="sdk-secret")
    )
    with pytest.raises(Exception) as missing:
        client.get_secret_parameter(
            oos.GetSecretParameterRequest(region_id=REGION, name="sdk-secret")
        )
    assert "EntityNotExists.Parameter" in str(missing.value)


def test_plain_parameter_round_trip(cluster: Cluster) -> None:
    client = oos_client(cluster)
    client.create_parameter(
        oos.CreateParameterRequest(
            region_id=REGION, name="sdk-plain", type="String", value="v1", client_token="tok-1"
        )
    )
    again = client.create_parameter(
        oos.CreateParameterRequest(
            region_id=REGION, name="sdk-plain", type="String", value="v1", client_token="tok-1"
        )
    ).body.parameter  # same ClientToken and parameters: the first answer, nothing new
    assert again.name == "sdk-plain"
    got = client.get_parameter(
        oos.GetParameterRequest(region_id=REGION, name="sdk-plain")
    ).body.parameter
    assert (got.value, got.type) == ("v1", "String")
    client.delete_parameter(oos.DeleteParameterRequest(region_id=REGION, name="sdk-plain"))
    with pytest.raises(Exception) as missing:
        client.get_parameter(oos.GetParameterRequest(region_id=REGION, name="sdk-plain"))
    assert "EntityNotExists.Parameter" in str(missing.value)
