"""The vendor's RAM SDK (``alibabacloud_ram20150501``), unmodified, against the server's RAM
actions: users, access keys, policies and attachments, with RAM's fields and error codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ram20150501 import models as ram
from alibabacloud_ram20150501.client import Client
from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest

from tests.e2e.test_official_sdks import REGION, current_client, without_proxies
from tests.support.cluster import Cluster
from tests.support.console import console_client, sign_in, text_of

__all__ = ["without_proxies"]  # the autouse fixture applies here too

READ_ONLY = "AliyunECSAssistantReadOnlyAccess"


def ram_client(cluster: Cluster, key_id: str = "", secret: str = "") -> Client:
    return Client(
        open_api_models.Config(
            access_key_id=key_id or cluster.credentials.access_key_id,
            access_key_secret=secret or cluster.credentials.access_key_secret,
            endpoint=cluster.endpoint,
            protocol="http",
            region_id=REGION,
            connect_timeout=5000,
            read_timeout=15000,
        )
    )


def refused(call: Any, *args: Any) -> tuple[str, int]:
    with pytest.raises(ClientException) as error:
        call(*args)
    return error.value.code, error.value.status_code


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def test_the_first_key_belongs_to_the_admin_user_with_administrator_access(
    cluster: Cluster,
) -> None:
    client = ram_client(cluster)
    keys = client.list_access_keys(ram.ListAccessKeysRequest(user_name="admin")).body
    assert [k.access_key_id for k in keys.access_keys.access_key] == [
        cluster.credentials.access_key_id
    ]
    assert keys.access_keys.access_key[0].status == "Active"
    mine = client.list_access_keys(ram.ListAccessKeysRequest()).body  # no UserName: the caller
    assert mine.access_keys.access_key[0].access_key_id == cluster.credentials.access_key_id
    policies = client.list_policies_for_user(ram.ListPoliciesForUserRequest(user_name="admin"))
    [policy] = policies.body.policies.policy
    assert (policy.policy_name, policy.policy_type) == ("AdministratorAccess", "System")
    system = client.list_policies(ram.ListPoliciesRequest(policy_type="System")).body
    names = {p.policy_name for p in system.policies.policy}
    assert {"AdministratorAccess", "AliyunECSAssistantFullAccess", READ_ONLY} <= names


def test_user_lifecycle(cluster: Cluster) -> None:
    client = ram_client(cluster)
    created = client.create_user(
        ram.CreateUserRequest(
            user_name="alice", display_name="Alice", email="alice@example.com", comments="ops"
        )
    ).body.user
    assert (created.user_name, created.display_name, created.email) == (
        "alice",
        "Alice",
        "alice@example.com",
    )
    assert len(created.user_id) == 16 and created.create_date.endswith("Z")
    assert refused(client.create_user, ram.CreateUserRequest(user_name="alice")) == (
        "EntityAlreadyExists.User",
        409,
    )
    assert refused(client.create_user, ram.CreateUserRequest(user_name="bad name!"))[0] == (
        "InvalidParameter.UserName.InvalidChars"
    )
    client.create_user(ram.CreateUserRequest(user_name="bob"))
    got = client.get_user(ram.GetUserRequest(user_name="alice")).body.user
    assert got.user_id == created.user_id and got.comments == "ops"

    first = client.list_users(ram.ListUsersRequest(max_items=1)).body
    assert first.is_truncated and [u.user_name for u in first.users.user] == ["admin"]
    rest = client.list_users(ram.ListUsersRequest(max_items=10, marker=first.marker)).body
    assert not rest.is_truncated
    assert [u.user_name for u in rest.users.user] == ["alice", "bob"]

    renamed = client.update_user(
        ram.UpdateUserRequest(user_name="bob", new_user_name="robert", new_comments="renamed")
    ).body.user
    assert (renamed.user_name, renamed.comments) == ("robert", "renamed")
    assert refused(client.get_user, ram.GetUserRequest(user_name="bob")) == (
        "EntityNotExist.User",
        404,
    )
    client.delete_user(ram.DeleteUserRequest(user_name="robert"))
    assert refused(client.delete_user, ram.DeleteUserRequest(user_name="robert"))[0] == (
        "EntityNotExist.User"
    )


def test_policies_versions_and_attachments(cluster: Cluster) -> None:
    client = ram_client(cluster)
    client.create_user(ram.CreateUserRequest(user_name="carol"))
    assert refused(
        client.create_policy,
        ram.CreatePolicyRequest(policy_name="broken", policy_document='{"Version": "2"}'),
    ) == ("InvalidParameter.PolicyDocument", 400)
    v1 = document({"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"})
    created = client.create_policy(
        ram.CreatePolicyRequest(policy_name="describe-only", policy_document=v1, description="d")
    ).body.policy
    assert (created.policy_type, created.default_version) == ("Custom", "v1")
    assert refused(
        client.create_policy,
        ram.CreatePolicyRequest(policy_name="describe-only", policy_document=v1),
    ) == ("EntityAlreadyExists.Policy", 409)

    v2 = document({"Effect": "Allow", "Action": ["ecs:Describe*", "ecs:List*"], "Resource": "*"})
    version = client.create_policy_version(
        ram.CreatePolicyVersionRequest(policy_name="describe-only", policy_document=v2)
    ).body.policy_version
    assert (version.version_id, version.is_default_version) == ("v2", False)
    got = client.get_policy(ram.GetPolicyRequest(policy_name="describe-only", policy_type="Custom"))
    assert got.body.policy.default_version == "v1"
    client.create_policy_version(
        ram.CreatePolicyVersionRequest(
            policy_name="describe-only", policy_document=v2, set_as_default=True
        )
    )
    got = client.get_policy(ram.GetPolicyRequest(policy_name="describe-only", policy_type="Custom"))
    assert got.body.default_policy_version.version_id == "v3"
    assert json.loads(got.body.default_policy_version.policy_document) == json.loads(v2)
    assert refused(
        client.get_policy, ram.GetPolicyRequest(policy_name="nope", policy_type="Custom")
    ) == ("EntityNotExist.Policy", 404)

    attach = ram.AttachPolicyToUserRequest(
        policy_type="Custom", policy_name="describe-only", user_name="carol"
    )
    client.attach_policy_to_user(attach)
    assert refused(client.attach_policy_to_user, attach) == ("EntityAlreadyExists.User.Policy", 409)
    client.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(
            policy_type="System", policy_name=READ_ONLY, user_name="carol"
        )
    )
    listed = client.list_policies_for_user(ram.ListPoliciesForUserRequest(user_name="carol"))
    assert {p.policy_name for p in listed.body.policies.policy} == {"describe-only", READ_ONLY}
    counted = client.get_policy(
        ram.GetPolicyRequest(policy_name="describe-only", policy_type="Custom")
    ).body.policy
    assert counted.attachment_count == 1
    assert refused(client.delete_policy, ram.DeletePolicyRequest(policy_name="describe-only")) == (
        "DeleteConflict.Policy.User",
        409,
    )
    assert refused(client.delete_user, ram.DeleteUserRequest(user_name="carol")) == (
        "DeleteConflict.User.Policy",
        409,
    )
    client.detach_policy_from_user(
        ram.DetachPolicyFromUserRequest(
            policy_type="Custom", policy_name="describe-only", user_name="carol"
        )
    )
    assert refused(
        client.detach_policy_from_user,
        ram.DetachPolicyFromUserRequest(
            policy_type="Custom", policy_name="describe-only", user_name="carol"
        ),
    ) == ("EntityNotExist.User.Policy", 404)
    client.delete_policy(ram.DeletePolicyRequest(policy_name="describe-only"))
    custom = client.list_policies(ram.ListPoliciesRequest(policy_type="Custom")).body
    assert "describe-only" not in {p.policy_name for p in custom.policies.policy}


def test_a_users_key_signs_as_that_user_until_disabled(cluster: Cluster) -> None:
    admin = ram_client(cluster)
    admin.create_user(ram.CreateUserRequest(user_name="dave"))
    key = admin.create_access_key(ram.CreateAccessKeyRequest(user_name="dave")).body.access_key
    assert key.status == "Active" and key.access_key_secret
    listed = admin.list_access_keys(ram.ListAccessKeysRequest(user_name="dave")).body
    assert [k.access_key_id for k in listed.access_keys.access_key] == [key.access_key_id]
    assert not any(k.to_map().get("AccessKeySecret") for k in listed.access_keys.access_key)

    dave = ram_client(cluster, key.access_key_id, key.access_key_secret)
    # No policy yet: refused at the door, RAM's code for RAM actions.
    assert refused(dave.list_users, ram.ListUsersRequest()) == ("NoPermission", 403)
    admin.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(policy_type="System", policy_name=READ_ONLY, user_name="dave")
    )
    ecs_as_dave = current_client(
        cluster, access_key_id=key.access_key_id, secret=key.access_key_secret
    )
    ecs_as_dave.describe_invocations(ecs.DescribeInvocationsRequest(region_id=REGION))
    assert refused(
        ecs_as_dave.run_command,
        ecs.RunCommandRequest(
            region_id=REGION, type="RunShellScript", command_content="id", instance_id=["mi-x"]
        ),
    ) == ("Forbidden.RAM", 403)
    assert refused(dave.create_user, ram.CreateUserRequest(user_name="mallory")) == (
        "NoPermission",
        403,
    )

    admin.create_access_key(ram.CreateAccessKeyRequest(user_name="dave"))  # room to rotate
    assert refused(admin.create_access_key, ram.CreateAccessKeyRequest(user_name="dave")) == (
        "LimitExceeded.User.AccessKey",
        409,
    )
    admin.update_access_key(
        ram.UpdateAccessKeyRequest(
            user_name="dave", user_access_key_id=key.access_key_id, status="Inactive"
        )
    )
    # Refused at once (this node dropped its cache with the change), with RAM's code for a
    # disabled key, through the ECS SDK and the RAM SDK alike.
    assert refused(
        ecs_as_dave.describe_invocations, ecs.DescribeInvocationsRequest(region_id=REGION)
    ) == ("InvalidAccessKeyId.Inactive", 400)
    assert refused(dave.list_users, ram.ListUsersRequest()) == ("InvalidAccessKeyId.Inactive", 400)
    # Someone who only knows the key id (a wrong secret) learns nothing about its status.
    guesser = ram_client(cluster, key.access_key_id, "not-the-secret")
    assert refused(guesser.list_users, ram.ListUsersRequest())[0] == "SignatureDoesNotMatch"
    admin.update_access_key(
        ram.UpdateAccessKeyRequest(
            user_name="dave", user_access_key_id=key.access_key_id, status="Active"
        )
    )
    ecs_as_dave.describe_invocations(ecs.DescribeInvocationsRequest(region_id=REGION))
    assert refused(admin.delete_user, ram.DeleteUserRequest(user_name="dave"))[0] == (
        "DeleteConflict.User.AccessKey"
    )
    assert refused(
        admin.update_access_key,
        ram.UpdateAccessKeyRequest(
            user_name="dave", user_access_key_id="OAnope", status="Inactive"
        ),
    ) == ("EntityNotExist.User.AccessKey", 404)
    for listed_key in admin.list_access_keys(
        ram.ListAccessKeysRequest(user_name="dave")
    ).body.access_keys.access_key:
        admin.delete_access_key(
            ram.DeleteAccessKeyRequest(
                user_name="dave", user_access_key_id=listed_key.access_key_id
            )
        )
    assert (
        refused(ecs_as_dave.describe_invocations, ecs.DescribeInvocationsRequest(region_id=REGION))[
            0
        ]
        == "InvalidAccessKeyId.NotFound"
    )


def test_each_action_answers_only_under_its_own_version(cluster: Cluster) -> None:
    client = AcsClient(
        cluster.credentials.access_key_id,
        cluster.credentials.access_key_secret,
        REGION,
        port=cluster.api_port,
        auto_retry=False,
        timeout=15,
    )
    request = CommonRequest(domain="127.0.0.1", version="2014-05-26", action_name="ListUsers")
    request.set_protocol_type("http")
    with pytest.raises(ServerException) as error:
        client.do_action_with_exception(request)
    assert error.value.get_error_code() == "InvalidVersion"
    request = CommonRequest(domain="127.0.0.1", version="2015-05-01", action_name="ListUsers")
    request.set_protocol_type("http")
    answer = json.loads(client.do_action_with_exception(request))
    assert "admin" in [u["UserName"] for u in answer["Users"]["User"]]


def test_login_profiles_let_ram_users_sign_in_to_the_console(cluster: Cluster) -> None:
    admin = ram_client(cluster)
    admin.create_user(ram.CreateUserRequest(user_name="eve"))
    admin.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(policy_type="System", policy_name=READ_ONLY, user_name="eve")
    )
    assert refused(
        admin.create_login_profile,
        ram.CreateLoginProfileRequest(user_name="eve", password="short"),
    ) == ("InvalidParameter.Password", 400)
    profile = admin.create_login_profile(
        ram.CreateLoginProfileRequest(user_name="eve", password="first-Passw0rd")
    ).body.login_profile
    assert profile.user_name == "eve" and profile.create_date
    assert refused(
        admin.create_login_profile,
        ram.CreateLoginProfileRequest(user_name="eve", password="other-Passw0rd"),
    ) == ("EntityAlreadyExists.User.LoginProfile", 409)
    got = admin.get_login_profile(ram.GetLoginProfileRequest(user_name="eve")).body
    assert got.login_profile.user_name == "eve"

    with console_client(cluster) as browser:
        assert sign_in(browser, "user", "eve", "first-Passw0rd").status_code == 303
        page = browser.get("/console/instances")
        assert page.status_code == 200 and "Run command" not in text_of(page.text)
        admin.update_login_profile(
            ram.UpdateLoginProfileRequest(user_name="eve", password="second-Passw0rd")
        )
        # A new password ends the sessions of the old one at once.
        assert browser.get("/console/instances").status_code == 303
    with console_client(cluster) as browser:
        assert sign_in(browser, "user", "eve", "first-Passw0rd").status_code == 401
        assert sign_in(browser, "user", "eve", "second-Passw0rd").status_code == 303
    last = admin.get_user(ram.GetUserRequest(user_name="eve")).body.user
    assert last.last_login_date
    admin.delete_login_profile(ram.DeleteLoginProfileRequest(user_name="eve"))
    assert refused(admin.get_login_profile, ram.GetLoginProfileRequest(user_name="eve")) == (
        "EntityNotExist.User.LoginProfile",
        404,
    )
    with console_client(cluster) as browser:
        assert sign_in(browser, "user", "eve", "second-Passw0rd").status_code == 401
