"""Every documented API error code that applies to a self-hosted server, caused for real over the
wire: the test checks the code, the HTTP status, and that the message names what to fix.

The codes come from API.md section 1 (envelope, signature, paging, tags, idempotency), section 3
(content, parameters, limits) and each action's "Errors" line in section 5. Where another module
already causes a code with a check of its side effects, it is named in COVERED_ELSEWHERE; this
module still sends it when a message check adds something.

Documented codes not produced here are in NOT_PRODUCED_HERE, each with its reason.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from openassist.cli.api_client import ApiCallError
from openassist.protocol.acs_signature import signed_v1_query
from tests.conftest import BACKENDS
from tests.support.cluster import Agent, Cluster, backend_cluster

# code -> the module that causes it together with a state it needs or a side effect it checks.
COVERED_ELSEWHERE = {
    "ActivationId.InUse": "test_activations.py",
    "EntityAlreadyExists.Parameter": "test_parameter_store.py",
    "EntityNotExists.ParameterVersion": "test_parameter_store.py",
    "ParameterStore.InvalidParameters": "test_parameter_store.py",
    "IdempotentParameterMismatch": "test_commands.py",
    "Throttling": "test_envelope_formats.py",
}

# Documented codes that this module does not cause, and why (a comment table kept as data so
# that a test can check it never overlaps the codes that are caused).
NOT_PRODUCED_HERE: dict[tuple[str, ...], str] = {
    (
        "Forbidden.RAM",
        "Forbidden.Unauthorized",
        "Forbidden.SubUser",
        "Forbidden.NotSupportRAM",
        "Forbidden.RiskControl",
        "Forbidden.AccessKeyDisabled",
        "Operation.Forbidden",
        "ParameterStore.NoPermission",
    ): "RAM authorization: every access key here is an administrator's, nothing is denied",
    ("TemporaryAccessKey.Error", "ParameterStore.NotSupported"): (
        "STS tokens and regions without OOS do not exist here (the store is built in)"
    ),
    ("InvalidResourceGroup.NotFound", "InvalidStatus.ResourceGroup"): (
        "resource groups do not exist here; ResourceGroupId is accepted and ignored"
    ),
    ("CmdCount.ExceedQuota", "Invocation.ExceedQuota", "CommandLimitExceeded"): (
        "quotas of a cloud account; a self-hosted server sets none"
    ),
    ("RegionId.ApiNotSupported",): "every action is served in every region this server serves",
    ("InvalidInstanceId.OSTypeUnsupported", "InvalidInstance.NotMatch"): (
        "decided per instance instead (CommandNotApplicable, InstanceDeregistered)"
    ),
    ("InvalidParameterCharacter.CommandName", "InvalidParameterCharset.Parameters"): (
        "names, descriptions and values take any characters (API.md 3.1)"
    ),
    ("WindowsPasswordName.ExceedLimit", "WindowsPasswordName.Missed"): (
        "Windows run-as: there is no Windows agent here and WindowsPasswordName is not read"
    ),
    (
        "MissingParam.Frequency",
        "InvalidParam.Frequency",
        "InvalidOperation.RepeatModeUnsupported",
    ): "schedules and ModifyInvocationAttribute are being built now, tested by their authors",
    ("IdempotentProcessing",): "needs a first request still in flight: a race, not a bad request",
    ("OperationConflict", "InternalError", "InternalError.Dispatch", "ServiceUnavailable"): (
        "not caused by a bad request"
    ),
}

Params = dict[str, str | None]
RUN: Params = {"Type": "RunShellScript", "CommandContent": "echo refused", "InstanceId.1": "<mi>"}
WITH_PARAMETER: Params = {**RUN, "CommandContent": "echo {{name}}", "EnableParameter": "true"}
SEND: Params = {"InstanceId.1": "<mi>", "Name": "f.txt", "TargetDir": "/tmp/codes", "Content": "x"}


def ids(name: str, count: int) -> Params:
    return {f"{name}.{i}": f"mi-nosuch{i:04d}" for i in range(1, count + 1)}


def tags(name: str, count: int) -> Params:
    return {f"{name}.{i}.Key": f"k{i}" for i in range(1, count + 1)}


def placeholders(count: int) -> str:
    return " ".join(f"{{{{p{i}}}}}" for i in range(count))


# (id, action, params, HTTP status, code, what the message must name). "<mi>" is a registered
# instance, "<cmd>" a command with the parameter {{name}}, "<task>" a task on <mi>; a value of
# None removes the parameter.
CASES: list[tuple[str, str, Params, int, str, str]] = [
    # RunCommand (API.md 5.1, 3)
    ("run-missing-type", "RunCommand", {**RUN, "Type": None}, 400, "MissingParameter.Type", "Type"),
    (
        "run-missing-content",
        "RunCommand",
        {**RUN, "CommandContent": None},
        400,
        "MissingParameter.CommandContent",
        "CommandContent",
    ),
    (
        "run-unknown-type",
        "RunCommand",
        {**RUN, "Type": "Bash"},
        404,
        "InvalidCmdType.NotFound",
        "Type",
    ),
    (
        "run-no-instance",
        "RunCommand",
        {**RUN, "InstanceId.1": None},
        400,
        "MissingParam.InstanceId",
        "InstanceId",
    ),
    (
        "run-unknown-instance",
        "RunCommand",
        {**RUN, "InstanceId.2": "mi-nosuch"},
        404,
        "InvalidInstance.NotFound",
        "mi-nosuch",
    ),
    (
        "run-101-instances",
        "RunCommand",
        {**RUN, **ids("InstanceId", 101)},
        403,
        "InstanceIds.ExceedLimit",
        "InstanceId",
    ),
    (
        "run-bad-base64",
        "RunCommand",
        {**RUN, "ContentEncoding": "Base64", "CommandContent": "echo hi"},
        400,
        "CmdContent.DecodeError",
        "Base64",
    ),
    (
        "run-content-over-24kb",
        "RunCommand",
        {**RUN, "CommandContent": "x" * 20000},
        403,
        "CmdContent.ExceedLimit",
        "CommandContent",
    ),
    (
        "run-blank-script",
        "RunCommand",
        {**RUN, "CommandContent": " \n "},
        400,
        "InvalidCommandText",
        "CommandContent",
    ),
    ("run-name-129", "RunCommand", {**RUN, "Name": "n" * 129}, 403, "CmdName.ExceedLimit", "Name"),
    (
        "run-description-513",
        "RunCommand",
        {**RUN, "Description": "d" * 513},
        403,
        "CmdDesc.ExceedLimit",
        "Description",
    ),
    (
        "run-working-dir-201",
        "RunCommand",
        {**RUN, "WorkingDir": "/" + "w" * 200},
        400,
        "InvalidParameter.WorkingDir",
        "WorkingDir",
    ),
    (
        "run-launcher-over-1kb",
        "RunCommand",
        {**RUN, "Launcher": "l" * 1025},
        403,
        "InvalidLauncher.LengthLimitExceeded",
        "Launcher",
    ),
    (
        "run-username-256",
        "RunCommand",
        {**RUN, "Username": "u" * 256},
        403,
        "Username.ExceedLimit",
        "Username",
    ),
    (
        "run-timeout-over-limit",
        "RunCommand",
        {**RUN, "Timeout": "86401"},
        403,
        "InvalidTimeout.ExceedLimit",
        "Timeout",
    ),
    (
        "run-timeout-not-a-number",
        "RunCommand",
        {**RUN, "Timeout": "soon"},
        400,
        "InvalidParameter.Timeout",
        "Timeout",
    ),
    (
        "run-unknown-repeat-mode",
        "RunCommand",
        {**RUN, "RepeatMode": "Sometimes"},
        404,
        "InvalidRepeatMode.NotFound",
        "RepeatMode",
    ),
    (
        "run-unknown-termination-mode",
        "RunCommand",
        {**RUN, "TerminationMode": "Gently"},
        404,
        "InvalidTerminationMode.NotFound",
        "TerminationMode",
    ),
    (
        "run-client-token-65",
        "RunCommand",
        {**RUN, "ClientToken": "t" * 65},
        400,
        "InvalidClientToken.Malformed",
        "ClientToken",
    ),
    (
        "run-boolean-not-true-or-false",
        "RunCommand",
        {**RUN, "EnableParameter": "yes"},
        400,
        "InvalidParameter.EnableParameter",
        "EnableParameter",
    ),
    (
        "run-container-id-not-hex",
        "RunCommand",
        {**RUN, "ContainerId": "docker://abc"},
        400,
        "InvalidContainerId.Malformed",
        "ContainerId",
    ),
    (
        "invoke-container-name-bad",
        "InvokeCommand",
        {"CommandId": "<cmd>", "InstanceId.1": "<mi>", "ContainerName": "-web/1"},
        400,
        "InvalidContainerName.Malformed",
        "ContainerName",
    ),
    # custom parameters (API.md 3.2)
    (
        "run-parameters-not-json",
        "RunCommand",
        {**WITH_PARAMETER, "Parameters": "{name"},
        400,
        "InvalidParameter.Parameters",
        "Parameters",
    ),
    (
        "run-11-parameters",
        "RunCommand",
        {**WITH_PARAMETER, "Parameters": json.dumps({f"p{i}": "v" for i in range(11)})},
        403,
        "ParameterCount.ExceedLimit",
        "10 parameters",
    ),
    (
        "run-parameter-name-65",
        "RunCommand",
        {**WITH_PARAMETER, "Parameters": json.dumps({"n" * 65: "v"})},
        403,
        "ParameterKey.ExceedLimit",
        "n" * 65,
    ),
    (
        "run-parameter-twice",
        "RunCommand",
        {**WITH_PARAMETER, "Parameters": '{"name": "a", "NAME": "b"}'},
        403,
        "ParameterKey.Duplicate",
        "'NAME'",
    ),
    (
        "run-parameter-not-a-string",
        "RunCommand",
        {**WITH_PARAMETER, "Parameters": '{"name": 1}'},
        403,
        "ParameterType.NotSupported",
        "'name'",
    ),
    (
        "run-parameters-while-disabled",
        "RunCommand",
        {**RUN, "Parameters": '{"name": "a"}'},
        400,
        "Parameter.Disabled",
        "EnableParameter",
    ),
    (
        "run-parameter-not-defined",
        "RunCommand",
        {**WITH_PARAMETER, "Parameters": '{"other": "a"}'},
        403,
        "Parameter.NotMatched",
        "'other'",
    ),
    (
        "run-parameter-without-value",
        "RunCommand",
        WITH_PARAMETER,
        400,
        "Parameter.MissingValue",
        "'name'",
    ),
    (
        "run-placeholder-without-name",
        "RunCommand",
        {**WITH_PARAMETER, "CommandContent": "echo {{}}"},
        400,
        "CmdParam.EmptyKey",
        "{{}}",
    ),
    (
        "run-placeholder-bad-name",
        "RunCommand",
        {**WITH_PARAMETER, "CommandContent": "echo {{a.b}}"},
        400,
        "CmdParam.InvalidParamName",
        "'a.b'",
    ),
    (
        "run-placeholder-name-65",
        "RunCommand",
        {**WITH_PARAMETER, "CommandContent": "echo {{" + "p" * 65 + "}}"},
        403,
        "CmdParamName.ExceedLimit",
        "64 bytes",
    ),
    (
        "run-21-placeholders",
        "RunCommand",
        {**WITH_PARAMETER, "CommandContent": "echo " + placeholders(21)},
        403,
        "CmdParamCount.ExceedLimit",
        "20 parameters",
    ),
    # tags and resource tags (API.md 1.11)
    ("run-21-tags", "RunCommand", {**RUN, **tags("Tag", 21)}, 400, "NumberExceed.Tags", "20 tags"),
    (
        "run-tag-without-key",
        "RunCommand",
        {**RUN, "Tag.1.Value": "v"},
        400,
        "MissingParameter.TagKey",
        "Tag.1.Key",
    ),
    (
        "run-tag-key-aliyun",
        "RunCommand",
        {**RUN, "Tag.1.Key": "aliyun:x"},
        400,
        "InvalidTagKey.Malformed",
        "Tag.1.Key",
    ),
    (
        "run-tag-value-url",
        "RunCommand",
        {**RUN, "Tag.1.Key": "k", "Tag.1.Value": "http://x"},
        400,
        "InvalidTagValue.Malformed",
        "Tag.1.Value",
    ),
    (
        "run-tag-twice",
        "RunCommand",
        {**RUN, "Tag.1.Key": "k", "Tag.2.Key": "k"},
        400,
        "Duplicate.TagKey",
        "'k'",
    ),
    (
        "run-21-resource-tags",
        "RunCommand",
        {**RUN, "InstanceId.1": None, **tags("ResourceTag", 21)},
        400,
        "NumberExceed.ResourceTags",
        "20 tags",
    ),
    (
        "run-resource-tag-without-key",
        "RunCommand",
        {**RUN, "InstanceId.1": None, "ResourceTag.1.Value": "v"},
        400,
        "MissingParameter.ResourceTagKey",
        "ResourceTag.1.Key",
    ),
    (
        "run-resource-tag-key-acs",
        "RunCommand",
        {**RUN, "InstanceId.1": None, "ResourceTag.1.Key": "acs:x"},
        400,
        "InvalidResourceTagKey.Malformed",
        "ResourceTag.1.Key",
    ),
    (
        "run-resource-tag-value-129",
        "RunCommand",
        {**RUN, "InstanceId.1": None, "ResourceTag.1.Key": "k", "ResourceTag.1.Value": "v" * 129},
        400,
        "InvalidResourceTagValue.Malformed",
        "ResourceTag.1.Value",
    ),
    (
        "run-resource-tag-twice",
        "RunCommand",
        {**RUN, "InstanceId.1": None, "ResourceTag.1.Key": "k", "ResourceTag.2.Key": "k"},
        400,
        "Duplicate.ResourceTagKey",
        "'k'",
    ),
    (
        "run-resource-tag-matches-nothing",
        "RunCommand",
        {**RUN, "InstanceId.1": None, "ResourceTag.1.Key": "nosuch", "ResourceTag.1.Value": "x"},
        400,
        "InvalidResourceTag.InstanceNotFound",
        "nosuch=x",
    ),
    (
        "run-resource-tag-and-instance",
        "RunCommand",
        {**RUN, "ResourceTag.1.Key": "k"},
        400,
        "InvalidResourceTag.ConflictWithInstanceIds",
        "InstanceId",
    ),
    # commands (API.md 5.2-5.6)
    (
        "create-without-name",
        "CreateCommand",
        {**RUN, "InstanceId.1": None, "CommandContent": "ZWNobw=="},
        400,
        "MissingParameter.Name",
        "Name",
    ),
    (
        "create-content-not-base64",
        "CreateCommand",
        {"Name": "c", "Type": "RunShellScript", "CommandContent": "echo hi"},
        400,
        "CmdContent.DecodeError",
        "ContentEncoding",
    ),
    (
        "invoke-without-command",
        "InvokeCommand",
        {"InstanceId.1": "<mi>"},
        400,
        "MissingParameter.CommandId",
        "CommandId",
    ),
    (
        "invoke-unknown-command",
        "InvokeCommand",
        {"CommandId": "c-nosuch", "InstanceId.1": "<mi>"},
        404,
        "InvalidCmdId.NotFound",
        "c-nosuch",
    ),
    (
        "invoke-without-instance",
        "InvokeCommand",
        {"CommandId": "<cmd>"},
        400,
        "MissingParam.InstanceId",
        "InstanceId",
    ),
    (
        "invoke-parameter-without-value",
        "InvokeCommand",
        {"CommandId": "<cmd>", "InstanceId.1": "<mi>"},
        400,
        "Parameter.MissingValue",
        "'name'",
    ),
    (
        "modify-unknown-command",
        "ModifyCommand",
        {"CommandId": "c-nosuch", "Name": "x"},
        404,
        "InvalidCmdId.NotFound",
        "c-nosuch",
    ),
    (
        "modify-name-129",
        "ModifyCommand",
        {"CommandId": "<cmd>", "Name": "n" * 129},
        403,
        "CmdName.ExceedLimit",
        "Name",
    ),
    (
        "delete-unknown-command",
        "DeleteCommand",
        {"CommandId": "c-nosuch"},
        404,
        "InvalidCmdId.NotFound",
        "c-nosuch",
    ),
    ("delete-without-id", "DeleteCommand", {}, 400, "MissingParameter.CommandId", "CommandId"),
    # paging (API.md 1.10) and Describe* filters
    (
        "page-size-51",
        "DescribeCommands",
        {"PageSize": "51"},
        400,
        "InvalidParam.PageSize",
        "PageSize",
    ),
    (
        "page-number-0",
        "DescribeActivations",
        {"PageNumber": "0"},
        400,
        "InvalidParam.PageNumber",
        "PageNumber",
    ),
    (
        "max-results-0",
        "DescribeManagedInstances",
        {"MaxResults": "0"},
        400,
        "InvalidParameter.MaxResults",
        "MaxResults",
    ),
    (
        "next-token-not-ours",
        "DescribeSendFileResults",
        {"NextToken": "AAAAAdDWBF2"},
        400,
        "InvalidParameter.NextToken",
        "NextToken",
    ),
    (
        "include-output-unnarrowed",
        "DescribeInvocations",
        {"IncludeOutput": "true"},
        400,
        "InvalidParameter.IncludeOutput",
        "InvokeId",
    ),
    (
        "unknown-record-status",
        "DescribeInvocationResults",
        {"InvokeRecordStatus": "Done"},
        400,
        "InvalidParameter.InvokeRecordStatus",
        "InvokeRecordStatus",
    ),
    (
        "describe-tag-twice",
        "DescribeInvocations",
        {"Tag.1.Key": "k", "Tag.2.Key": "k"},
        400,
        "Duplicate.TagKey",
        "'k'",
    ),
    # StopInvocation (API.md 5.9)
    ("stop-without-id", "StopInvocation", {}, 400, "MissingParameter.InvokeId", "InvokeId"),
    (
        "stop-unknown-task",
        "StopInvocation",
        {"InvokeId": "t-nosuch"},
        404,
        "InvalidInvokeId.NotFound",
        "invoke ID",
    ),
    (
        "stop-instance-not-in-task",
        "StopInvocation",
        {"InvokeId": "<task>", "InstanceId.1": "mi-other"},
        404,
        "InvalidInstanceId.NotFound",
        "mi-other",
    ),
    (
        "stop-51-instances",
        "StopInvocation",
        {"InvokeId": "<task>", **ids("InstanceId", 51)},
        403,
        "InstanceIds.ExceedLimit",
        "InstanceId",
    ),
    # SendFile (API.md 5.11)
    (
        "send-without-instance",
        "SendFile",
        {**SEND, "InstanceId.1": None},
        400,
        "MissingParam.InstanceId",
        "InstanceId",
    ),
    (
        "send-51-instances",
        "SendFile",
        {**SEND, **ids("InstanceId", 51)},
        403,
        "InstanceIds.ExceedLimit",
        "InstanceId",
    ),
    (
        "send-unknown-instance",
        "SendFile",
        {**SEND, "InstanceId.1": "mi-nosuch"},
        404,
        "InvalidInstance.NotFound",
        "mi-nosuch",
    ),
    ("send-without-name", "SendFile", {**SEND, "Name": None}, 400, "MissingParameter.Name", "Name"),
    (
        "send-without-dir",
        "SendFile",
        {**SEND, "TargetDir": None},
        400,
        "MissingParameter.TargetDir",
        "TargetDir",
    ),
    (
        "send-without-content",
        "SendFile",
        {**SEND, "Content": None},
        400,
        "MissingParameter.Content",
        "Content",
    ),
    ("send-name-256", "SendFile", {**SEND, "Name": "n" * 256}, 403, "FileName.ExceedLimit", "Name"),
    (
        "send-relative-dir",
        "SendFile",
        {**SEND, "TargetDir": "tmp"},
        400,
        "FileTargetDir.Invalid",
        "TargetDir",
    ),
    ("send-bad-mode", "SendFile", {**SEND, "FileMode": "rwx"}, 400, "FileMode.Invalid", "FileMode"),
    (
        "send-bad-content-type",
        "SendFile",
        {**SEND, "ContentType": "Binary"},
        400,
        "FileContentType.Invalid",
        "ContentType",
    ),
    (
        "send-bad-base64",
        "SendFile",
        {**SEND, "ContentType": "Base64", "Content": "%%"},
        400,
        "FileContent.DecodeError",
        "Base64",
    ),
    (
        "send-content-over-32kb",
        "SendFile",
        {**SEND, "Content": "x" * 30000},
        403,
        "FileSize.ExceedLimit",
        "Content",
    ),
    (
        "send-description-513",
        "SendFile",
        {**SEND, "Description": "d" * 513},
        403,
        "FileDesc.ExceedLimit",
        "Description",
    ),
    (
        "send-owner-65",
        "SendFile",
        {**SEND, "FileOwner": "o" * 65},
        400,
        "InvalidParameter.FileOwner",
        "FileOwner",
    ),
    (
        "send-group-65",
        "SendFile",
        {**SEND, "FileGroup": "g" * 65},
        400,
        "InvalidParameter.FileGroup",
        "FileGroup",
    ),
    (
        "send-timeout-over-limit",
        "SendFile",
        {**SEND, "Timeout": "86401"},
        403,
        "InvalidTimeout.ExceedLimit",
        "Timeout",
    ),
    (
        "send-21-tags",
        "SendFile",
        {**SEND, **tags("Tag", 21)},
        400,
        "NumberExceed.Tags",
        "20 tags",
    ),
    # agents, settings, activations, managed instances, tags (API.md 5.13-5.24)
    (
        "status-unknown-instance",
        "DescribeCloudAssistantStatus",
        {"InstanceId.1": "mi-nosuch"},
        404,
        "InvalidInstance.NotFound",
        "mi-nosuch",
    ),
    (
        "status-101-instances",
        "DescribeCloudAssistantStatus",
        ids("InstanceId", 101),
        403,
        "InstanceIds.ExceedLimit",
        "InstanceId",
    ),
    (
        "settings-without-type",
        "DescribeCloudAssistantSettings",
        {},
        400,
        "MissingParameter.SettingType",
        "SettingType",
    ),
    (
        "settings-cloud-only-type",
        "ModifyCloudAssistantSettings",
        {"SettingType": "InvocationDelivery", "AgentUpgradeConfig": "{}"},
        400,
        "InvalidSettingType.NotSupported",
        "InvocationDelivery",
    ),
    (
        "settings-not-json",
        "ModifyCloudAssistantSettings",
        {"SettingType": "AgentUpgradeConfig", "AgentUpgradeConfig": "on"},
        400,
        "InvalidParameter.AgentUpgradeConfig",
        "JSON",
    ),
    (
        "activation-bad-name",
        "CreateActivation",
        {"InstanceName": "1-starts-with-a-digit"},
        400,
        "InvalidParameter.InstanceName",
        "InstanceName",
    ),
    (
        "activation-bad-ip-range",
        "CreateActivation",
        {"IpAddressRange": "10.0.0.0/33"},
        400,
        "InvalidParameter.IpAddressRange",
        "10.0.0.0/33",
    ),
    (
        "activation-1001-instances",
        "CreateActivation",
        {"InstanceCount": "1001"},
        400,
        "InvalidParameter.InstanceCount",
        "InstanceCount",
    ),
    (
        "activation-ttl-0",
        "CreateActivation",
        {"TimeToLiveInHours": "0"},
        400,
        "InvalidParameter.TimeToLiveInHours",
        "TimeToLiveInHours",
    ),
    (
        "disable-unknown-activation",
        "DisableActivation",
        {"ActivationId": "NOSUCH-ACTIVATION"},
        404,
        "ActivationId.NotFound",
        "NOSUCH-ACTIVATION",
    ),
    (
        "delete-unknown-activation",
        "DeleteActivation",
        {"ActivationId": "NOSUCH-ACTIVATION"},
        404,
        "ActivationId.NotFound",
        "NOSUCH-ACTIVATION",
    ),
    (
        "managed-connected-maybe",
        "DescribeManagedInstances",
        {"Connected": "maybe"},
        400,
        "InvalidParameter.Connected",
        "Connected",
    ),
    (
        "rename-bad-name",
        "ModifyManagedInstance",
        {"InstanceId": "<mi>", "InstanceName": "x"},
        400,
        "InvalidParameter.InstanceName",
        "InstanceName",
    ),
    (
        "rename-unknown-instance",
        "ModifyManagedInstance",
        {"InstanceId": "mi-nosuch", "InstanceName": "renamed"},
        404,
        "InvalidInstanceId.NotFound",
        "mi-nosuch",
    ),
    (
        "deregister-unknown-instance",
        "DeregisterManagedInstance",
        {"InstanceId": "mi-nosuch"},
        404,
        "InvalidInstanceId.NotFound",
        "mi-nosuch",
    ),
    (
        "tag-other-resource-type",
        "TagResources",
        {"ResourceType": "instance", "ResourceId.1": "<mi>", "Tag.1.Key": "k"},
        400,
        "InvalidResourceType.NotSupported",
        "ResourceType",
    ),
    (
        "tag-without-resource",
        "TagResources",
        {"ResourceType": "managedinstance", "Tag.1.Key": "k"},
        400,
        "MissingParameter.ResourceId",
        "ResourceId",
    ),
    (
        "tag-without-tag",
        "TagResources",
        {"ResourceType": "managedinstance", "ResourceId.1": "<mi>"},
        400,
        "MissingParameter.Tag",
        "Tag.N.Key",
    ),
    (
        "tag-unknown-resource",
        "TagResources",
        {"ResourceType": "managedinstance", "ResourceId.1": "mi-nosuch", "Tag.1.Key": "k"},
        404,
        "InvalidResourceId.NotFound",
        "mi-nosuch",
    ),
    (
        "tag-51-resources",
        "TagResources",
        {"ResourceType": "managedinstance", **ids("ResourceId", 51), "Tag.1.Key": "k"},
        403,
        "InvalidResourceId.ExceedLimit",
        "ResourceId",
    ),
    (
        "untag-without-keys",
        "UntagResources",
        {"ResourceType": "managedinstance", "ResourceId.1": "<mi>"},
        400,
        "MissingParameter.TagKey",
        "TagKey.N",
    ),
    # OOS parameter store (API.md 7)
    (
        "get-unknown-parameter",
        "GetParameter",
        {"Name": "nosuch-parameter"},
        404,
        "EntityNotExists.Parameter",
        "nosuch-parameter",
    ),
    (
        "create-parameter-bad-type",
        "CreateParameter",
        {"Name": "p", "Type": "Number", "Value": "1"},
        400,
        "InvalidParameter.Type",
        "Type",
    ),
    # the envelope (API.md 1.6)
    ("unknown-action", "InstallCloudAssistant", {}, 403, "InvalidAction", "InstallCloudAssistant"),
    (
        "missing-region",
        "DescribeInvocations",
        {"RegionId": ""},
        400,
        "MissingParameter.RegionId",
        "RegionId",
    ),
    (
        "unknown-region",
        "DescribeInvocations",
        {"RegionId": "cn-nowhere"},
        404,
        "InvalidRegionId.NotFound",
        "RegionId",
    ),
]


@pytest.fixture(scope="module", params=BACKENDS)
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """As conftest's, without the per-key rate limit: this module sends hundreds of requests a
    second on purpose (Throttling itself: test_envelope_formats.py)."""
    env = {"OPENASSIST_API_RATE_PER_KEY": "0"}
    with backend_cluster(request.param, tmp_path_factory.mktemp("codes"), env) as running:
        yield running


@pytest.fixture(scope="module")
def offline(cluster: Cluster) -> Agent:
    # Registered, never started: tasks on it end at once (ClientNotRunning).
    return cluster.register_agent("codes-target")


@pytest.fixture(scope="module")
def known(cluster: Cluster, offline: Agent) -> dict[str, str]:
    """Values for the placeholders of CASES."""
    command = cluster.call(
        "CreateCommand",
        Name="codes-command",
        Type="RunShellScript",
        CommandContent="echo {{name}}",
        ContentEncoding="PlainText",
        EnableParameter="true",
    )["CommandId"]
    return {
        "<mi>": offline.instance_id,
        "<cmd>": command,
        "<task>": cluster.run("true", offline.instance_id),
    }


WRITERS = {"RunCommand", "InvokeCommand", "CreateCommand", "SendFile", "CreateActivation"}


def _rows(cluster: Cluster) -> tuple[int, int, int, int]:
    """How many tasks, commands, file tasks and activations the store holds."""
    return (
        int(cluster.call("DescribeInvocations")["TotalCount"]),
        int(cluster.call("DescribeCommands")["TotalCount"]),
        int(cluster.call("DescribeSendFileResults")["TotalCount"]),
        int(cluster.call("DescribeActivations")["TotalCount"]),
    )


@pytest.mark.parametrize(
    ("action", "params", "status", "code", "names"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_request_gets_the_documented_code_status_and_a_message_that_says_what_to_fix(
    cluster: Cluster,
    known: dict[str, str],
    action: str,
    params: dict[str, str | None],
    status: int,
    code: str,
    names: str,
) -> None:
    sent = {k: known.get(v, v) for k, v in params.items() if v is not None}
    before = _rows(cluster) if action in WRITERS else None
    with pytest.raises(ApiCallError) as refused:
        cluster.client().call(action, sent)
    error = refused.value
    assert (error.status, error.code) == (status, code), error.message
    assert names in error.message, error.message
    assert "Traceback" not in error.message
    if before is not None:
        assert _rows(cluster) == before  # a refusal writes nothing


def test_case_table_is_consistent() -> None:
    assert len({case[0] for case in CASES}) == len(CASES)
    caused = {case[4] for case in CASES}
    skipped = {code for codes in NOT_PRODUCED_HERE for code in codes}
    assert not caused & skipped
    assert not caused & set(COVERED_ELSEWHERE)
    here = Path(__file__).parent
    for code, module in COVERED_ELSEWHERE.items():
        assert f'"{code}"' in (here / module).read_text(), (code, module)


# --- the signature and the HTTP envelope, sent raw (API.md 1.3, 1.6-1.8) -----------------------


def _raw(
    cluster: Cluster, method: str, query: dict[str, str], body: bytes | None = None
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"http://{cluster.endpoint}/?{urlencode(query)}", data=body, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _signed(cluster: Cluster, when: datetime | None = None, **params: str) -> dict[str, str]:
    base = {"Action": "DescribeInvocations", "Version": "2014-05-26", "RegionId": "local"}
    return signed_v1_query(
        {**base, **params},
        cluster.credentials.access_key_id,
        cluster.credentials.access_key_secret,
        "GET",
        when or datetime.now(UTC),
        secrets.token_hex(16),
    )


def _without(query: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in query.items() if k not in names}


def test_envelope_refusals_name_what_to_fix(cluster: Cluster) -> None:
    good = _signed(cluster)
    stale = _signed(cluster, datetime.now(UTC) - timedelta(minutes=20))
    cases: list[tuple[str, dict[str, str], int, str, str]] = [
        ("PUT", good, 403, "UnsupportedHTTPMethod", "GET or POST"),
        ("DELETE", good, 403, "UnsupportedHTTPMethod", "DELETE"),
        ("GET", _without(good, "Signature"), 400, "IncompleteSignature", "Signature"),
        ("GET", {**good, "SignatureMethod": "HMAC-MD5"}, 400, "IncompleteSignature", "HMAC-MD5"),
        ("GET", _without(good, "SignatureNonce"), 400, "MissingParameter", "SignatureNonce"),
        ("GET", {**good, "Timestamp": "yesterday"}, 400, "IllegalTimestamp", "Timestamp"),
        ("GET", stale, 400, "InvalidTimeStamp.Expired", "15 minutes"),
        ("GET", {**good, "Signature": "AAAA"}, 400, "SignatureDoesNotMatch", "string to sign is:"),
        (
            "GET",
            {**good, "AccessKeyId": "OANOSUCH"},
            404,
            "InvalidAccessKeyId.NotFound",
            "access key",
        ),
        ("GET", _signed(cluster, Version="2016-01-01"), 400, "InvalidVersion", "2014-05-26"),
    ]
    for method, query, status, code, names in cases:
        got, body = _raw(cluster, method, query, b"" if method in ("PUT", "DELETE") else None)
        assert got == status, (method, code, body)
        if code:
            assert body["Code"] == code, body
            assert names in body["Message"], body
            assert body["RequestId"] and body["HostId"]
    # the same nonce twice: the second is a replay
    once = _signed(cluster)
    assert _raw(cluster, "GET", once)[0] == 200
    status, body = _raw(cluster, "GET", once)
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")
    assert "nonce" in body["Message"]
