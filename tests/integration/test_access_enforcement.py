"""Policies enforced on every action, per target, before anything is written: the official ECS
and OOS SDKs signing with the keys of RAM users that the RAM SDK created, against a real server
with registered instances tagged staging and production."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_oos20190601 import models as oos
from alibabacloud_oos20190601.client import Client as OosClient
from alibabacloud_ram20150501 import models as ram
from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException

from openassist.cli.api_client import ApiCallError, ApiClient, Credentials
from tests.e2e.test_official_sdks import REGION, current_client, without_proxies
from tests.e2e.test_ram_sdk import READ_ONLY, document, ram_client
from tests.support.cluster import Cluster
from tests.support.console import console_client, sign_in

__all__ = ["without_proxies"]

STAGING, PRODUCTION = 8, 2


@dataclass(frozen=True)
class Fleet:
    staging: list[str]
    production: list[str]


@pytest.fixture(scope="module")
def fleet(cluster: Cluster) -> Fleet:
    """Ten registered instances (agents not running: tasks on them are still written)."""

    def tagged(env: str) -> str:
        return cluster.register_agent(env, **{"Tag.1.Key": "env", "Tag.1.Value": env}).instance_id

    return Fleet(
        [tagged("staging") for _ in range(STAGING)],
        [tagged("production") for _ in range(PRODUCTION)],
    )


@dataclass(frozen=True)
class User:
    name: str
    key_id: str
    secret: str

    def ecs(self, cluster: Cluster) -> EcsClient:
        return current_client(cluster, access_key_id=self.key_id, secret=self.secret)

    def oos(self, cluster: Cluster) -> OosClient:
        return OosClient(
            open_api_models.Config(
                access_key_id=self.key_id,
                access_key_secret=self.secret,
                endpoint=cluster.endpoint,
                protocol="http",
                region_id=REGION,
            )
        )


def make_user(cluster: Cluster, name: str, *statements: dict[str, Any], system: str = "") -> User:
    admin = ram_client(cluster)
    admin.create_user(ram.CreateUserRequest(user_name=name))
    if statements:
        admin.create_policy(
            ram.CreatePolicyRequest(
                policy_name=f"{name}-policy", policy_document=document(*statements)
            )
        )
        admin.attach_policy_to_user(
            ram.AttachPolicyToUserRequest(
                policy_type="Custom", policy_name=f"{name}-policy", user_name=name
            )
        )
    if system:
        admin.attach_policy_to_user(
            ram.AttachPolicyToUserRequest(policy_type="System", policy_name=system, user_name=name)
        )
    key = admin.create_access_key(ram.CreateAccessKeyRequest(user_name=name)).body.access_key
    return User(name, key.access_key_id, key.access_key_secret)


def refused(call: Any, *args: Any, **fields: Any) -> ClientException:
    with pytest.raises(ClientException) as error:
        call(*args, **fields)
    return error.value


def run(client: EcsClient, *instance_ids: str, **fields: Any) -> str:
    fields.setdefault("command_content", "id")
    request = ecs.RunCommandRequest(
        region_id=REGION, type="RunShellScript", instance_id=list(instance_ids) or None, **fields
    )
    return str(client.run_command(request).body.invoke_id)


def task_count(cluster: Cluster) -> int:
    return int(cluster.call("DescribeInvocations", MaxResults="50")["TotalCount"])


@pytest.fixture(scope="module")
def deployer(cluster: Cluster, fleet: Fleet) -> User:
    """May run only on staging instances, only as deploy; may describe everything it may see."""
    return make_user(
        cluster,
        "deployer",
        {
            "Effect": "Allow",
            "Action": "ecs:RunCommand",
            "Resource": "acs:ecs:*:*:instance/*",
            "Condition": {"StringEquals": {"ecs:tag/env": "staging", "ecs:RunAsUser": "deploy"}},
        },
        {
            "Effect": "Allow",
            "Action": ["ecs:Describe*"],
            "Resource": "acs:ecs:*:*:instance/*",
            "Condition": {"StringEquals": {"ecs:tag/env": "staging"}},
        },
    )


def test_a_call_on_ten_targets_with_two_refused_is_refused_whole(
    cluster: Cluster, fleet: Fleet, deployer: User
) -> None:
    before = task_count(cluster)
    error = refused(
        run, deployer.ecs(cluster), *fleet.staging, *fleet.production, username="deploy"
    )
    assert (error.code, error.status_code) == ("Forbidden.RAM", 403)
    assert any(f"instance/{i}" in error.message for i in fleet.production), error.message
    assert task_count(cluster) == before  # nothing written, nothing started


def test_staging_as_deploy_only_by_id_and_by_tag(
    cluster: Cluster, fleet: Fleet, deployer: User
) -> None:
    client = deployer.ecs(cluster)
    invoke_id = run(client, fleet.staging[0], username="deploy")
    task = cluster.call("DescribeInvocations", InvokeId=invoke_id)["Invocations"]["Invocation"][0]
    assert task["Username"] == "deploy"
    before = task_count(cluster)
    assert refused(run, client, fleet.staging[0]).code == "Forbidden.RAM"  # as root
    assert refused(run, client, fleet.staging[0], username="root").code == "Forbidden.RAM"
    assert refused(run, client, fleet.production[0], username="deploy").code == "Forbidden.RAM"
    production = [ecs.RunCommandRequestResourceTag(key="env", value="production")]
    assert refused(run, client, resource_tag=production, username="deploy").code == "Forbidden.RAM"
    assert task_count(cluster) == before
    staging = [ecs.RunCommandRequestResourceTag(key="env", value="staging")]
    by_tag = run(client, resource_tag=staging, username="deploy")
    answer = cluster.call("DescribeInvocationResults", InvokeId=by_tag, MaxResults="50")
    assert answer["Invocation"]["TotalCount"] == STAGING


def test_describe_shows_only_what_the_caller_may_see_with_consistent_counts(
    cluster: Cluster, fleet: Fleet, deployer: User
) -> None:
    admin_task = cluster.run("true", fleet.production[0])
    client = deployer.ecs(cluster)
    seen = client.describe_managed_instances(
        ecs.DescribeManagedInstancesRequest(region_id=REGION, max_results=50)
    ).body
    assert seen.total_count == STAGING
    assert {i.instance_id for i in seen.instances} == set(fleet.staging)
    pages: list[str] = []
    token = None
    while True:
        page = client.describe_invocations(
            ecs.DescribeInvocationsRequest(region_id=REGION, max_results=1, next_token=token)
        ).body
        pages += [i.invoke_id for i in page.invocations.invocation]
        total, token = page.total_count, page.next_token
        if not token:
            break
    assert admin_task not in pages and len(pages) == total == len(set(pages))
    assert (
        refused(
            client.describe_cloud_assistant_status,
            ecs.DescribeCloudAssistantStatusRequest(
                region_id=REGION, instance_id=[fleet.production[0]]
            ),
        ).code
        == "Forbidden.RAM"
    )


def test_an_explicit_deny_beats_an_allow(cluster: Cluster, fleet: Fleet) -> None:
    target = fleet.staging[1]
    user = make_user(
        cluster,
        "denied",
        {
            "Effect": "Deny",
            "Action": "ecs:RunCommand",
            "Resource": f"acs:ecs:*:*:instance/{target}",
        },
        system="AliyunECSAssistantFullAccess",
    )
    client = user.ecs(cluster)
    error = refused(run, client, target)
    assert error.code == "Forbidden.RAM" and "explicitly denied" in error.message
    run(client, fleet.staging[2])


def test_a_read_only_user_lists_results_but_changes_nothing(
    cluster: Cluster, fleet: Fleet, tmp_path: Any
) -> None:
    invoke_id = cluster.run("true", fleet.staging[3])
    cluster.call("CreateSecretParameter", Name="db-password", Value="s3cret")
    user = make_user(cluster, "reader", system=READ_ONLY)
    client = user.ecs(cluster)
    results = client.describe_invocation_results(
        ecs.DescribeInvocationResultsRequest(region_id=REGION, invoke_id=invoke_id)
    ).body.invocation
    assert results.total_count == 1
    before = task_count(cluster)
    attempts = [
        (run, client, fleet.staging[3]),
        (
            client.stop_invocation,
            ecs.StopInvocationRequest(region_id=REGION, invoke_id=invoke_id),
        ),
        (
            client.send_file,
            ecs.SendFileRequest(
                region_id=REGION,
                instance_id=[fleet.staging[3]],
                name="f",
                target_dir="/tmp",
                content="x",
            ),
        ),
    ]
    for call, *args in attempts:
        error = refused(call, *args)
        assert (error.code, error.status_code) == ("Forbidden.RAM", 403), call
    error = refused(
        user.oos(cluster).get_secret_parameter,
        oos.GetSecretParameterRequest(region_id=REGION, name="db-password", with_decryption=True),
    )
    assert (error.code, error.status_code) == ("Forbidden.RAM", 403)
    assert task_count(cluster) == before
    stopped = cluster.call("DescribeInvocationResults", InvokeId=invoke_id)["Invocation"]
    assert stopped["InvocationResults"]["InvocationResult"][0]["InvocationStatus"] != "Stopping"


def test_a_secret_in_a_command_needs_read_on_that_secret(cluster: Cluster, fleet: Fleet) -> None:
    cluster.call("CreateSecretParameter", Name="api-token", Value="t0ken")
    user = make_user(
        cluster,
        "runner",
        {"Effect": "Allow", "Action": "ecs:RunCommand", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "oos:GetSecretParameter",
            "Resource": "acs:oos:*:*:secretparameter/other-*",
        },
    )
    client = user.ecs(cluster)
    before = task_count(cluster)
    error = refused(
        run,
        client,
        fleet.staging[4],
        command_content="echo {{oos-secret:api-token}}",
        enable_parameter=True,
    )
    assert error.code == "Forbidden.RAM" and "secretparameter/api-token" in error.message
    assert task_count(cluster) == before
    run(client, fleet.staging[4], command_content="echo {{oos-secret:api-token}}")  # not filled


def test_output_and_diagnosis_of_a_machine_the_caller_may_not_see_are_refused(
    cluster: Cluster, fleet: Fleet, deployer: User
) -> None:
    invoke_id = cluster.run("echo production-output", fleet.production[1])
    own = cluster.credentials
    client = ApiClient(Credentials(deployer.key_id, deployer.secret, own.endpoint, own.region_id))
    for action, params in (
        ("DescribeInvocationFullOutput", {"InstanceId": fleet.production[1]}),
        ("DiagnoseInvocation", {}),
    ):
        with pytest.raises(ApiCallError) as error:
            client.call(action, {"InvokeId": invoke_id, **params})
        assert error.value.code == "Forbidden.RAM", action


def test_file_tasks_list_only_what_the_caller_may_see(
    cluster: Cluster, fleet: Fleet, deployer: User
) -> None:
    production = cluster.call(
        "SendFile",
        **{"InstanceId.1": fleet.production[0], "Name": "p", "TargetDir": "/tmp", "Content": "x"},
    )["InvokeId"]
    staging = cluster.call(
        "SendFile",
        **{"InstanceId.1": fleet.staging[5], "Name": "s", "TargetDir": "/tmp", "Content": "x"},
    )["InvokeId"]
    answer = (
        deployer.ecs(cluster)
        .describe_send_file_results(
            ecs.DescribeSendFileResultsRequest(region_id=REGION, max_results=50)
        )
        .body
    )
    shown = [task.invoke_id for task in answer.invocations.invocation]
    assert staging in shown and production not in shown
    assert answer.total_count == len(shown)


def _commands_seen(client: EcsClient, **fields: Any) -> tuple[list[str], int]:
    """Every command DescribeCommands lists to ``client``, one per page, and its TotalCount."""
    seen: list[str] = []
    token = None
    while True:
        page = client.describe_commands(
            ecs.DescribeCommandsRequest(region_id=REGION, max_results=1, next_token=token, **fields)
        ).body
        seen += [command.command_id for command in page.commands.command]
        total, token = page.total_count, page.next_token
        if not token:
            return seen, total


def test_describe_commands_lists_only_the_commands_the_caller_may_see(cluster: Cluster) -> None:
    def create(name: str, *tags: tuple[str, str]) -> str:
        labels: dict[str, str] = {}
        for index, (key, value) in enumerate(tags, start=1):
            labels[f"Tag.{index}.Key"], labels[f"Tag.{index}.Value"] = key, value
        return str(
            cluster.call(
                "CreateCommand", Name=name, Type="RunShellScript", CommandContent="aWQ=", **labels
            )["CommandId"]
        )

    first, second = create("first"), create("second")
    blue = [create("blue-1", ("team", "blue")), create("blue-2", ("team", "blue"))]
    describe = "ecs:DescribeCommands"
    named = make_user(
        cluster,
        "librarian",
        {
            "Effect": "Allow",
            "Action": describe,
            # One by its id, one by a prefix of its id (as c-abc* names a family).
            "Resource": [f"acs:ecs:*:*:command/{first}", f"acs:ecs:*:*:command/{second[:-3]}*"],
        },
    )
    seen, total = _commands_seen(named.ecs(cluster))
    assert sorted(seen) == sorted([first, second]) and total == 2
    by_number = (
        named.ecs(cluster)
        .describe_commands(
            ecs.DescribeCommandsRequest(region_id=REGION, page_size=1, page_number=2)
        )
        .body
    )
    assert by_number.total_count == 2 and len(by_number.commands.command) == 1
    tagged = make_user(
        cluster,
        "blue-team",
        {
            "Effect": "Allow",
            "Action": describe,
            "Resource": "acs:ecs:*:*:command/*",
            "Condition": {"StringEquals": {"ecs:tag/team": "blue"}},
        },
    )
    seen, total = _commands_seen(tagged.ecs(cluster))
    assert sorted(seen) == sorted(blue) and total == 2
    # A filter narrows within what the caller may see, never beyond it.
    assert _commands_seen(tagged.ecs(cluster), name="first") == ([], 0)
    everything, _ = _commands_seen(current_client(cluster))
    assert {first, second, *blue} <= set(everything)
    with console_client(cluster) as browser:  # the console's library and forms alike
        assert sign_in(browser, "key", named.key_id, named.secret).status_code == 303
        library = browser.get("/console/commands").text
        assert first in library and second in library and blue[0] not in library
        assert browser.get(f"/console/commands/{blue[0]}").status_code == 404
        assert blue[0] not in browser.get(f"/console/run?command={blue[0]}").text
