"""A change to who may do what, made on one node, holds on the other at once: two server nodes on
one PostgreSQL database, the official RAM SDK changing keys, users and policies on node A and the
official ECS SDK calling node B with the changed key.

Both nodes cache access keys and principals for ``access_cache_s``, raised here to an hour: a
refusal on node B below comes from node A's message on the bus, not from the cache running out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_ram20150501 import models as ram
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.e2e.test_official_sdks import REGION, current_client, without_proxies
from tests.e2e.test_ram_sdk import READ_ONLY, ram_client
from tests.support.cluster import Cluster, postgres_admin_url, temporary_postgres_database

__all__ = ["without_proxies"]  # the autouse fixture applies here too

pytestmark = pytest.mark.skipif(
    not postgres_admin_url(), reason="several nodes share a PostgreSQL database"
)

CACHED_FOR_AN_HOUR = {"OPENASSIST_ACCESS_CACHE_S": "3600"}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Cluster]]:
    root = tmp_path_factory.mktemp("access-a")
    with (
        temporary_postgres_database() as url,
        Cluster.start(root, url, env=CACHED_FOR_AN_HOUR) as node_a,
        node_a.another_node(tmp_path_factory.mktemp("access-b")) as node_b,
    ):
        yield node_a, node_b


@dataclass(frozen=True)
class Reader:
    name: str
    key_id: str
    secret: str

    def on(self, node: Cluster) -> EcsClient:
        return current_client(node, access_key_id=self.key_id, secret=self.secret)

    def describe(self, node: Cluster) -> Any:
        return self.on(node).describe_invocations(ecs.DescribeInvocationsRequest(region_id=REGION))


def reader(node: Cluster, name: str) -> Reader:
    """A user with the read-only system policy and a key, made through ``node``."""
    admin = ram_client(node)
    admin.create_user(ram.CreateUserRequest(user_name=name))
    admin.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(policy_type="System", policy_name=READ_ONLY, user_name=name)
    )
    key = admin.create_access_key(ram.CreateAccessKeyRequest(user_name=name)).body.access_key
    return Reader(name, key.access_key_id, key.access_key_secret)


def refused(reader: Reader, node: Cluster) -> tuple[str, int]:
    with pytest.raises(ClientException) as error:
        reader.describe(node)
    return error.value.code, error.value.status_code


def test_a_key_disabled_on_node_a_is_refused_by_node_b_at_once(
    nodes: tuple[Cluster, Cluster],
) -> None:
    node_a, node_b = nodes
    carol = reader(node_a, "carol")
    carol.describe(node_b)  # node B has carol's key and principal cached now
    ram_client(node_a).update_access_key(
        ram.UpdateAccessKeyRequest(
            user_name="carol", user_access_key_id=carol.key_id, status="Inactive"
        )
    )
    assert refused(carol, node_b) == ("InvalidAccessKeyId.Inactive", 400)
    ram_client(node_a).update_access_key(
        ram.UpdateAccessKeyRequest(
            user_name="carol", user_access_key_id=carol.key_id, status="Active"
        )
    )
    carol.describe(node_b)  # and enabled again at once


def test_a_key_deleted_on_node_a_is_refused_by_node_b_at_once(
    nodes: tuple[Cluster, Cluster],
) -> None:
    node_a, node_b = nodes
    erin = reader(node_a, "erin")
    erin.describe(node_b)
    ram_client(node_a).delete_access_key(
        ram.DeleteAccessKeyRequest(user_name="erin", user_access_key_id=erin.key_id)
    )
    assert refused(erin, node_b) == ("InvalidAccessKeyId.NotFound", 404)


def test_a_policy_detached_on_node_a_no_longer_allows_on_node_b(
    nodes: tuple[Cluster, Cluster],
) -> None:
    node_a, node_b = nodes
    frank = reader(node_a, "frank")
    frank.describe(node_b)
    ram_client(node_a).detach_policy_from_user(
        ram.DetachPolicyFromUserRequest(
            policy_type="System", policy_name=READ_ONLY, user_name="frank"
        )
    )
    assert refused(frank, node_b) == ("Forbidden.RAM", 403)


def test_a_change_on_node_b_reaches_node_a_too(nodes: tuple[Cluster, Cluster]) -> None:
    node_a, node_b = nodes
    grace = reader(node_b, "grace")
    grace.describe(node_a)
    ram_client(node_b).update_access_key(
        ram.UpdateAccessKeyRequest(
            user_name="grace", user_access_key_id=grace.key_id, status="Inactive"
        )
    )
    assert refused(grace, node_a) == ("InvalidAccessKeyId.Inactive", 400)
