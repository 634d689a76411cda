"""Every registered action is driven through an official SDK, unmodified, somewhere in tests/e2e.

``COVERAGE`` names, for each action, the e2e tests that call it through an SDK; the first test
below fails when an action is registered without an entry (or an entry names no real action,
or a test that does not exist or never mentions the action). The rest of this module drives,
through the current SDK (``alibabacloud_ecs20140526``, ACS3-HMAC-SHA256, only endpoint,
credentials and region set), the actions that test_official_sdks.py does not; the legacy SDK
(``aliyunsdkecs`` + ``aliyunsdkcore``) drives them in test_legacy_sdk_actions.py.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import json
import os
import pwd
import re
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException

from openassist.server.api import endpoint  # noqa: F401  (importing registers the actions)
from openassist.server.api.registry import ACTIONS
from tests.e2e.test_official_sdks import (
    FINAL,
    REGION,
    current_client,
    poll_until,
    wait_final_current,
    without_proxies,
)
from tests.support.cluster import Agent, Cluster, wait_until

__all__ = ["without_proxies"]  # the autouse fixture applies here too

OFFICIAL = "test_official_sdks.py"
OOS = "test_oos_sdk.py"
NODE = "test_node_sdk.py"
HERE = "test_sdk_every_action.py"
RAM = "test_ram_sdk.py"
LEGACY = "test_legacy_sdk_actions.py"
GROUPS = "test_sdk_resource_groups.py"

# action -> the e2e tests ("file::test") that drive it through an official SDK, unmodified.
COVERAGE: dict[str, tuple[str, ...]] = {
    "RunCommand": (
        f"{OFFICIAL}::test_current_sdk_v3_runs_a_command_and_reads_its_result",
        f"{OFFICIAL}::test_current_sdk_v1_runs_a_command_and_reads_its_result",
        f"{OFFICIAL}::test_legacy_sdk_runs_a_command_and_reads_its_result",
        f"{NODE}::test_node_sdk_runs_and_describes",
    ),
    "DescribeInvocations": (
        f"{OFFICIAL}::test_current_sdk_v3_describes_invocations_with_output",
        f"{HERE}::test_current_sdk_pages_120_invocations_each_once",
        f"{LEGACY}::test_legacy_sdk_pages_120_invocations_each_once",
        f"{NODE}::test_node_sdk_runs_and_describes",
    ),
    "DescribeInvocationResults": (
        f"{OFFICIAL}::test_current_sdk_v3_runs_a_command_and_reads_its_result",
        f"{OFFICIAL}::test_legacy_sdk_runs_a_command_and_reads_its_result",
        f"{NODE}::test_node_sdk_runs_and_describes",
    ),
    "ModifyInvocationAttribute": (f"{HERE}::test_current_sdk_runs_and_modifies_a_schedule",),
    "StopInvocation": (
        f"{OFFICIAL}::test_current_sdk_v3_stops_a_running_command",
        f"{LEGACY}::test_legacy_sdk_invokes_describes_and_stops",
    ),
    "DescribeCloudAssistantStatus": (
        f"{OFFICIAL}::test_current_sdk_v3_reports_the_agent_online",
        f"{LEGACY}::test_legacy_sdk_sees_the_agent",
    ),
    "DescribeManagedInstances": (
        f"{OFFICIAL}::test_current_sdk_v3_lists_the_managed_instance",
        f"{LEGACY}::test_legacy_sdk_sees_the_agent",
    ),
    "CreateActivation": (
        f"{OFFICIAL}::test_current_sdk_v3_creates_an_activation",
        f"{HERE}::test_current_sdk_activation_lifecycle",
        f"{LEGACY}::test_legacy_sdk_activation_lifecycle",
    ),
    "DescribeActivations": (
        f"{HERE}::test_current_sdk_activation_lifecycle",
        f"{LEGACY}::test_legacy_sdk_activation_lifecycle",
    ),
    "DisableActivation": (
        f"{HERE}::test_current_sdk_activation_lifecycle",
        f"{LEGACY}::test_legacy_sdk_activation_lifecycle",
    ),
    "DeleteActivation": (
        f"{HERE}::test_current_sdk_activation_lifecycle",
        f"{LEGACY}::test_legacy_sdk_activation_lifecycle",
    ),
    "CreateCommand": (
        f"{HERE}::test_current_sdk_command_lifecycle",
        f"{LEGACY}::test_legacy_sdk_command_lifecycle",
    ),
    "DescribeCommands": (
        f"{HERE}::test_current_sdk_command_lifecycle",
        f"{LEGACY}::test_legacy_sdk_command_lifecycle",
    ),
    "ModifyCommand": (
        f"{HERE}::test_current_sdk_command_lifecycle",
        f"{LEGACY}::test_legacy_sdk_command_lifecycle",
    ),
    "DeleteCommand": (
        f"{HERE}::test_current_sdk_command_lifecycle",
        f"{LEGACY}::test_legacy_sdk_command_lifecycle",
    ),
    "InvokeCommand": (
        f"{HERE}::test_current_sdk_command_lifecycle",
        f"{LEGACY}::test_legacy_sdk_invokes_describes_and_stops",
    ),
    "SendFile": (
        f"{HERE}::test_current_sdk_sends_a_file",
        f"{LEGACY}::test_legacy_sdk_sends_a_file",
    ),
    "DescribeSendFileResults": (
        f"{HERE}::test_current_sdk_sends_a_file",
        f"{LEGACY}::test_legacy_sdk_sends_a_file",
    ),
    "ModifyManagedInstance": (
        f"{HERE}::test_current_sdk_renames_tags_and_deregisters_an_instance",
        f"{LEGACY}::test_legacy_sdk_renames_tags_and_deregisters_an_instance",
    ),
    "JoinResourceGroup": (
        f"{GROUPS}::test_current_sdk_moves_an_instance_to_another_resource_group",
    ),
    "DeregisterManagedInstance": (
        f"{HERE}::test_current_sdk_renames_tags_and_deregisters_an_instance",
        f"{LEGACY}::test_legacy_sdk_renames_tags_and_deregisters_an_instance",
    ),
    "TagResources": (
        f"{HERE}::test_current_sdk_renames_tags_and_deregisters_an_instance",
        f"{LEGACY}::test_legacy_sdk_renames_tags_and_deregisters_an_instance",
    ),
    "UntagResources": (
        f"{HERE}::test_current_sdk_renames_tags_and_deregisters_an_instance",
        f"{LEGACY}::test_legacy_sdk_renames_tags_and_deregisters_an_instance",
    ),
    "ListTagResources": (
        f"{HERE}::test_current_sdk_renames_tags_and_deregisters_an_instance",
        f"{LEGACY}::test_legacy_sdk_renames_tags_and_deregisters_an_instance",
    ),
    "DescribeCloudAssistantSettings": (
        f"{HERE}::test_current_sdk_agent_upgrade_settings_round_trip",
        f"{LEGACY}::test_legacy_sdk_agent_upgrade_settings_round_trip",
    ),
    "ModifyCloudAssistantSettings": (
        f"{HERE}::test_current_sdk_agent_upgrade_settings_round_trip",
        f"{LEGACY}::test_legacy_sdk_agent_upgrade_settings_round_trip",
    ),
    "CreateParameter": (f"{OOS}::test_plain_parameter_round_trip",),
    "GetParameter": (f"{OOS}::test_plain_parameter_round_trip",),
    "DeleteParameter": (f"{OOS}::test_plain_parameter_round_trip",),
    "CreateSecretParameter": (f"{OOS}::test_secret_parameter_round_trip",),
    "GetSecretParameter": (f"{OOS}::test_secret_parameter_round_trip",),
    "DeleteSecretParameter": (f"{OOS}::test_secret_parameter_round_trip",),
    "CreateUser": (f"{RAM}::test_user_lifecycle",),
    "GetUser": (f"{RAM}::test_user_lifecycle",),
    "ListUsers": (f"{RAM}::test_user_lifecycle",),
    "UpdateUser": (f"{RAM}::test_user_lifecycle",),
    "DeleteUser": (f"{RAM}::test_user_lifecycle",),
    "CreateAccessKey": (f"{RAM}::test_a_users_key_signs_as_that_user_until_disabled",),
    "ListAccessKeys": (f"{RAM}::test_a_users_key_signs_as_that_user_until_disabled",),
    "UpdateAccessKey": (f"{RAM}::test_a_users_key_signs_as_that_user_until_disabled",),
    "DeleteAccessKey": (f"{RAM}::test_a_users_key_signs_as_that_user_until_disabled",),
    "CreatePolicy": (f"{RAM}::test_policies_versions_and_attachments",),
    "GetPolicy": (f"{RAM}::test_policies_versions_and_attachments",),
    "ListPolicies": (f"{RAM}::test_policies_versions_and_attachments",),
    "DeletePolicy": (f"{RAM}::test_policies_versions_and_attachments",),
    "CreatePolicyVersion": (f"{RAM}::test_policies_versions_and_attachments",),
    "AttachPolicyToUser": (f"{RAM}::test_policies_versions_and_attachments",),
    "DetachPolicyFromUser": (f"{RAM}::test_policies_versions_and_attachments",),
    "ListPoliciesForUser": (f"{RAM}::test_policies_versions_and_attachments",),
    "CreateLoginProfile": (f"{RAM}::test_login_profiles_let_ram_users_sign_in_to_the_console",),
    "GetLoginProfile": (f"{RAM}::test_login_profiles_let_ram_users_sign_in_to_the_console",),
    "UpdateLoginProfile": (f"{RAM}::test_login_profiles_let_ram_users_sign_in_to_the_console",),
    "DeleteLoginProfile": (f"{RAM}::test_login_profiles_let_ram_users_sign_in_to_the_console",),
    "LookupEvents": (
        "test_audit_sdk.py::test_a_change_and_a_refusal_each_appear_once_with_their_user",
    ),
    # OpenAssist extensions: no SDK has a method for them, so they go through the legacy core
    # SDK's generic CommonRequest, which is how its users call any action it has no class for.
    "DiagnoseInvocation": (f"{LEGACY}::test_common_request_reaches_the_extensions",),
    "DescribeInvocationFullOutput": (f"{LEGACY}::test_common_request_reaches_the_extensions",),
    "ReleaseManagedInstance": (f"{LEGACY}::test_common_request_reaches_the_extensions",),
    "WaitInvocationResults": (f"{LEGACY}::test_common_request_reaches_the_extensions",),
}
# Registered actions that no official SDK drives, each with its reason. Empty today: even the
# extensions are reached through the legacy SDK's CommonRequest.
NOT_THROUGH_AN_SDK: dict[str, str] = {}


def _snake(action: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()


def _reached_source(module: Any, function: Any) -> str:
    """The source of ``function`` and of the module's functions it calls, transitively."""
    sources: list[str] = []
    seen: set[Any] = set()
    todo = [function]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        source = inspect.getsource(current)
        sources.append(source)
        for name in re.findall(r"\b([a-z_][a-z0-9_]*)\(", source):
            helper = getattr(module, name, None)
            if inspect.isfunction(helper):
                todo.append(helper)
    return "\n".join(sources)


def test_every_registered_action_is_driven_through_an_official_sdk() -> None:
    assert set(COVERAGE) | set(NOT_THROUGH_AN_SDK) == set(ACTIONS)
    assert not set(COVERAGE) & set(NOT_THROUGH_AN_SDK)
    e2e = Path(__file__).parent
    for action, tests in COVERAGE.items():
        assert tests, action
        for test in tests:
            file_name, test_name = test.split("::")
            module = importlib.import_module(f"tests.e2e.{file_name.removesuffix('.py')}")
            function = getattr(module, test_name, None)
            assert callable(function), f"{action}: {test} does not exist"
            source = _reached_source(module, function)
            if file_name == NODE:  # the test runs a script; the calls are in the script
                source = (e2e / "node" / "ecs_client.js").read_text()
                spelled = action[0].lower() + action[1:]
            else:
                spelled = _snake(action)
            assert spelled in source or f"{action}Request" in source or f'"{action}"' in source, (
                f"{test} does not call {action}"
            )


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def agent(cluster: Cluster) -> Agent:
    return cluster.new_agent("every-action-target")


@pytest.fixture(scope="module")
def client(cluster: Cluster) -> Client:
    return current_client(cluster)


# --- timed tasks: a schedule started, modified, its runs kept, stopped --------------------------


def test_current_sdk_runs_and_modifies_a_schedule(client: Client, agent: Agent) -> None:
    started = client.run_command(
        ecs.RunCommandRequest(
            region_id=REGION,
            type="RunShellScript",
            command_content="echo before",
            instance_id=[agent.instance_id],
            frequency="0 0 0 1 1 ? 2099",  # far away: nothing runs before the change
            timeout=5,
        )
    ).body
    invoke_id = str(started.invoke_id)

    def task() -> Any:
        answer = client.describe_invocations(
            ecs.DescribeInvocationsRequest(region_id=REGION, invoke_id=invoke_id)
        ).body
        return answer.invocations.invocation[0]

    assert (task().repeat_mode, task().timed) == ("Period", True)
    changed = client.modify_invocation_attribute(
        ecs.ModifyInvocationAttributeRequest(
            region_id=REGION,
            invoke_id=invoke_id,
            command_content=base64.b64encode(b"echo after").decode(),
            content_encoding="Base64",
            frequency="0/10 * * * * ?",
        )
    ).body
    assert str(changed.command_id) != str(started.command_id)

    def history() -> Any:
        answer = client.describe_invocation_results(
            ecs.DescribeInvocationResultsRequest(
                region_id=REGION,
                invoke_id=invoke_id,
                include_history=True,
                content_encoding="PlainText",
            )
        ).body
        return answer.invocation.invocation_results.invocation_result

    [run, *_] = wait_until(history, 60, interval_s=0.5, what="a run of the new schedule")
    assert (run.output, run.invoke_record_status) == ("after\n", "Finished")
    assert task().frequency == "0/10 * * * * ?"
    client.stop_invocation(ecs.StopInvocationRequest(region_id=REGION, invoke_id=invoke_id))
    wait_until(lambda: task().invocation_status == "Stopped", 30, what="the stop")


# --- commands: create, describe, modify, invoke, delete ----------------------------------------


def test_current_sdk_command_lifecycle(client: Client, agent: Agent) -> None:
    script = "echo hello {{who}}"
    created = client.create_command(
        ecs.CreateCommandRequest(
            region_id=REGION,
            name="sdk-greeting",
            type="RunShellScript",
            command_content=base64.b64encode(script.encode()).decode(),  # its default: Base64
            description="made by the current SDK",
            enable_parameter=True,
            timeout=30,
            tag=[ecs.CreateCommandRequestTag(key="team", value="ops")],
        )
    ).body
    command_id = str(created.command_id)
    assert command_id.startswith("c-") and created.request_id

    def describe() -> Any:
        return client.describe_commands(
            ecs.DescribeCommandsRequest(
                region_id=REGION, command_id=command_id, content_encoding="PlainText"
            )
        ).body

    listed = describe()
    assert listed.total_count == 1
    [command] = listed.commands.command
    assert (command.name, command.description, command.type) == (
        "sdk-greeting",
        "made by the current SDK",
        "RunShellScript",
    )
    assert command.command_content == script
    assert command.enable_parameter is True
    assert command.parameter_names.parameter_name == ["who"]
    assert [(t.tag_key, t.tag_value) for t in command.tags.tag] == [("team", "ops")]

    client.modify_command(
        ecs.ModifyCommandRequest(
            region_id=REGION, command_id=command_id, name="sdk-greeting-2", timeout=45
        )
    )
    [command] = describe().commands.command
    assert (command.name, command.timeout) == ("sdk-greeting-2", 45)

    invoked = client.invoke_command(
        ecs.InvokeCommandRequest(
            region_id=REGION,
            command_id=command_id,
            instance_id=[agent.instance_id],
            parameters={"who": "sdk"},
        )
    ).body
    invoke_id = str(invoked.invoke_id)
    assert invoke_id.startswith("t-")
    result = wait_final_current(client, invoke_id)
    assert (result["InvocationStatus"], result["CommandId"]) == ("Success", command_id)
    assert base64.b64decode(result["Output"]) == b"hello sdk\n"
    [command] = describe().commands.command
    assert command.invoke_times == 1

    deleted = client.delete_command(
        ecs.DeleteCommandRequest(region_id=REGION, command_id=command_id)
    )
    assert deleted.status_code == 200 and deleted.body.request_id
    assert describe().total_count == 0
    with pytest.raises(ClientException) as gone:
        client.delete_command(ecs.DeleteCommandRequest(region_id=REGION, command_id=command_id))
    assert (gone.value.code, gone.value.status_code) == ("InvalidCmdId.NotFound", 404)


# --- files ---------------------------------------------------------------------------------------


def test_current_sdk_sends_a_file(client: Client, agent: Agent, tmp_path: Path) -> None:
    owner = pwd.getpwuid(os.getuid()).pw_name
    sent = client.send_file(
        ecs.SendFileRequest(
            region_id=REGION,
            instance_id=[agent.instance_id],
            name="sdk.conf",
            target_dir=str(tmp_path / "conf"),
            content=base64.b64encode("from the SDK: 值\n".encode()).decode(),
            content_type="Base64",
            file_mode="0600",
            file_owner=owner,
            overwrite=True,
        )
    ).body
    invoke_id = str(sent.invoke_id)
    assert invoke_id.startswith("f-")

    def task() -> Any:
        answer = client.describe_send_file_results(
            ecs.DescribeSendFileResultsRequest(region_id=REGION, invoke_id=invoke_id)
        ).body
        [found] = answer.invocations.invocation
        return found

    poll_until(lambda: str(task().invocation_status), lambda s: s in FINAL, 30)
    found = task()
    assert (found.invocation_status, found.name, found.file_mode) == ("Success", "sdk.conf", "0600")
    assert (found.overwrite, found.vm_count) == ("true", 1)
    [row] = found.invoke_instances.invoke_instance
    assert (row.instance_id, row.invocation_status, row.error_code) == (
        agent.instance_id,
        "Success",
        "",
    )
    assert (tmp_path / "conf" / "sdk.conf").read_text() == "from the SDK: 值\n"


# --- activations -------------------------------------------------------------------------------


def test_current_sdk_activation_lifecycle(client: Client) -> None:
    created = client.create_activation(
        ecs.CreateActivationRequest(
            region_id=REGION,
            instance_name="sdk-fleet",
            description="current SDK",
            instance_count=3,
            time_to_live_in_hours=2,
            ip_address_range="127.0.0.0/8",
        )
    ).body
    activation_id = str(created.activation_id)

    def listed() -> Any:
        return client.describe_activations(
            ecs.DescribeActivationsRequest(region_id=REGION, activation_id=activation_id)
        ).body

    [found] = listed().activation_list
    assert (found.instance_name, found.instance_count, found.time_to_live_in_hours) == (
        "sdk-fleet",
        3,
        2,
    )
    assert (found.ip_address_range, found.disabled, found.registered_count) == (
        "127.0.0.0/8",
        False,
        0,
    )
    disabled = client.disable_activation(
        ecs.DisableActivationRequest(region_id=REGION, activation_id=activation_id)
    ).body.activation
    assert (disabled.activation_id, disabled.disabled) == (activation_id, True)
    assert listed().activation_list[0].disabled is True
    deleted = client.delete_activation(
        ecs.DeleteActivationRequest(region_id=REGION, activation_id=activation_id)
    ).body.activation
    assert (deleted.activation_id, deleted.description) == (activation_id, "current SDK")
    assert listed().total_count == 0


# --- managed instances: rename, tag, deregister ------------------------------------------------


def test_current_sdk_renames_tags_and_deregisters_an_instance(
    cluster: Cluster, client: Client
) -> None:
    machine = cluster.register_agent("sdk-machine")  # registered; no agent needs to run
    renamed = client.modify_managed_instance(
        ecs.ModifyManagedInstanceRequest(
            region_id=REGION, instance_id=machine.instance_id, instance_name="sdk-renamed"
        )
    ).body.instance
    assert (renamed.instance_id, renamed.instance_name) == (machine.instance_id, "sdk-renamed")

    client.tag_resources(
        ecs.TagResourcesRequest(
            region_id=REGION,
            resource_type="managedinstance",
            resource_id=[machine.instance_id],
            tag=[
                ecs.TagResourcesRequestTag(key="env", value="prod"),
                ecs.TagResourcesRequestTag(key="app", value="web"),
            ],
        )
    )

    def tags() -> dict[str, str]:
        answer = client.list_tag_resources(
            ecs.ListTagResourcesRequest(
                region_id=REGION, resource_type="managedinstance", resource_id=[machine.instance_id]
            )
        ).body
        items = answer.tag_resources.tag_resource
        assert {(i.resource_id, i.resource_type) for i in items} <= {
            (machine.instance_id, "managedinstance")
        }
        return {i.tag_key: i.tag_value for i in items}

    assert tags() == {"env": "prod", "app": "web"}
    client.untag_resources(
        ecs.UntagResourcesRequest(
            region_id=REGION,
            resource_type="managedinstance",
            resource_id=[machine.instance_id],
            tag_key=["app"],
        )
    )
    assert tags() == {"env": "prod"}

    gone = client.deregister_managed_instance(
        ecs.DeregisterManagedInstanceRequest(region_id=REGION, instance_id=machine.instance_id)
    ).body.instance
    assert (gone.instance_id, gone.instance_name) == (machine.instance_id, "sdk-renamed")
    assert gone.machine_id and gone.registration_time


# --- settings ----------------------------------------------------------------------------------


def test_current_sdk_agent_upgrade_settings_round_trip(client: Client) -> None:
    def describe() -> Any:
        return client.describe_cloud_assistant_settings(
            ecs.DescribeCloudAssistantSettingsRequest(
                region_id=REGION, setting_type=["AgentUpgradeConfig"]
            )
        ).body.agent_upgrade_config

    before = describe()
    client.modify_cloud_assistant_settings(
        ecs.ModifyCloudAssistantSettingsRequest(
            region_id=REGION,
            setting_type="AgentUpgradeConfig",
            agent_upgrade_config=ecs.ModifyCloudAssistantSettingsRequestAgentUpgradeConfig(
                enabled=True,
                time_zone="Asia/Shanghai",
                allowed_upgrade_window=["02:00-03:00", "14:00-15:00"],
            ),
        )
    )
    after = describe()
    assert (after.enabled, after.time_zone) == (True, "Asia/Shanghai")
    assert after.allowed_upgrade_windows.allowed_upgrade_window == ["02:00-03:00", "14:00-15:00"]
    restore = {
        "Enabled": before.enabled,
        "TimeZone": before.time_zone,
        "AllowedUpgradeWindow": before.allowed_upgrade_windows.allowed_upgrade_window,
        "BootstrapUpgrade": before.bootstrap_upgrade,
        "DisableUpgrade": before.disable_upgrade,
    }
    client.modify_cloud_assistant_settings(
        ecs.ModifyCloudAssistantSettingsRequest(
            region_id=REGION,
            setting_type="AgentUpgradeConfig",
            agent_upgrade_config=ecs.ModifyCloudAssistantSettingsRequestAgentUpgradeConfig(
                enabled=restore["Enabled"],
                time_zone=restore["TimeZone"],
                allowed_upgrade_window=restore["AllowedUpgradeWindow"],
                bootstrap_upgrade=restore["BootstrapUpgrade"],
                disable_upgrade=restore["DisableUpgrade"],
            ),
        )
    )
    assert json.dumps(describe().to_map(), sort_keys=True) == json.dumps(
        before.to_map(), sort_keys=True
    )


# --- paging 120 invocations with NextToken / MaxResults ----------------------------------------

PAGED_TASKS = 120


@pytest.fixture(scope="module")
def paged(cluster: Cluster) -> tuple[str, set[str]]:
    """PAGED_TASKS tasks on an instance of their own (registered, agent never started)."""
    machine = cluster.register_agent("sdk-paging")
    created = {cluster.run(f"echo {n}", machine.instance_id) for n in range(PAGED_TASKS)}
    assert len(created) == PAGED_TASKS
    return machine.instance_id, created


def test_current_sdk_pages_120_invocations_each_once(
    client: Client, paged: tuple[str, set[str]]
) -> None:
    instance_id, created = paged
    seen: list[str] = []
    token = None
    for _ in range(PAGED_TASKS // 50 + 3):  # bounded: the pages needed, and spares
        answer = client.describe_invocations(
            ecs.DescribeInvocationsRequest(
                region_id=REGION, instance_id=instance_id, max_results=50, next_token=token
            )
        ).body
        seen += [task.invoke_id for task in answer.invocations.invocation]
        token = answer.next_token or None
        if token is None:
            break
    assert len(seen) == PAGED_TASKS and set(seen) == created
