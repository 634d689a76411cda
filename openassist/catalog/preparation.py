"""Codes the agent (or the server, when it can tell) raises while setting up a run.

All are Invalid (API.md 2.4: "command type or parameters invalid for this instance"): the request
names something this instance does not have, so sending it again unchanged cannot succeed.
"""

from __future__ import annotations

from openassist.catalog.model import CatalogEntry, Phase, Source
from openassist.protocol.statuses import InstanceStatus as S

ENTRIES: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        code="CommandNotApplicable",
        phase=Phase.PREPARATION,
        status=S.INVALID,
        message="The command type is not applicable to the specified instance.",
        solution=(
            "Use RunShellScript for Linux and FreeBSD instances, and RunBatScript or "
            "RunPowerShellScript for Windows instances; the OSType of each instance is shown by "
            "`openassist ecs DescribeCloudAssistantStatus --InstanceId.1 INSTANCE_ID`."
        ),
        retryable=False,
        source=Source.SERVER,
        legacy_info="the command is not applicable",
    ),
    CatalogEntry(
        code="InvalidCommandText",
        phase=Phase.PREPARATION,
        status=S.INVALID,
        message="The command content is invalid.",
        solution=(
            "Check the command content: it must be non-empty plaintext, or Base64 with "
            "ContentEncoding=Base64, and within the content size limit."
        ),
        retryable=False,
        source=Source.API,
    ),
    CatalogEntry(
        code="CommandContentDecodeError",
        phase=Phase.PREPARATION,
        status=S.INVALID,
        message="Failed to decode the command content.",
        solution=(
            "The content is not valid Base64. Encode the script with `base64 -w0 script.sh` and "
            "send it with ContentEncoding=Base64, or send it as plaintext."
        ),
        retryable=False,
        source=Source.API,
    ),
    CatalogEntry(
        code="InvalidSystemBuiltInParameter",
        phase=Phase.PREPARATION,
        status=S.INVALID,
        message="The built-in environment parameter is invalid.",
        solution=(
            "The command names a `{{ACS::...}}` parameter that does not exist. Use one of the "
            "built-ins (RegionId, AccountId, InstanceId, InstanceName, InvokeId, CommandId, "
            "ScriptFileName) with exact spelling, or rename it to a custom parameter; built-ins "
            "are resolved only with EnableParameter=true."
        ),
        retryable=False,
        source=Source.SERVER,
    ),
    CatalogEntry(
        code="AccountNotExists",
        phase=Phase.PREPARATION,
        status=S.INVALID,
        message="The specified user does not exist in the instance.",
        solution=(
            "Create the user on the instance (`useradd NAME`, or `net user NAME /add` on Windows), "
            "or pass an existing Username (for SendFile, FileOwner), then run the command again."
        ),
        retryable=False,
        source=Source.AGENT,
        legacy_info="the specified account does not exists",
    ),
    CatalogEntry(
        code="DirectoryNotExists",
        phase=Phase.PREPARATION,
        status=S.INVALID,
        message="The specified working directory does not exist in the instance.",
        solution=(
            "Create the directory on the instance (`mkdir -p DIR`, usable by the run-as user) or "
            "pass an existing WorkingDir, then run the command again."
        ),
        retryable=False,
        source=Source.AGENT,
        legacy_info="the specified directory does not exists",
    ),
    CatalogEntry(
        code="DefaultWorkingDirectoryNotAvailable",
        phase=Phase.PREPARATION,
        status=S.INVALID,
        message="The default working directory in the instance is not available.",
        solution=(
            "No WorkingDir was given and the run-as user's default (its home directory, or / for "
            "root) is missing or unusable. Create the home directory (`mkhomedir_helper NAME`) or "
            "fix its permissions, or pass WorkingDir explicitly."
        ),
        retryable=False,
        source=Source.AGENT,
    ),
)
