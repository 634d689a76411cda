"""The codes the Cloud Assistant documentation lists in its failure tables.

These fifty are the wire contract: the official agent and the cloud service report them, clients
and operators match on them, and their catalog messages are the documentation's own. Every other
catalog code is known only from the API reference (legacy ErrorInfo texts) or is OpenAssist's.
"""

from __future__ import annotations

# In the order of the documentation's tables: common errors, then schedule, container, Windows
# user, stop and SendFile codes. tests/fixtures/documented_codes.json records their messages.
DOCUMENTED_CODES: tuple[str, ...] = (
    "InstanceNotRunning",
    "InstanceRestarted",
    "ClientNotRunning",
    "ClientNetworkBlocked",
    "SecurityGroupRuleDenied",
    "ClientNotResponse",
    "ClientNeedUpgrade",
    "ClientNotOnline",
    "DeliveryTimeout",
    "ExecutionTimeout",
    "ExecutionException",
    "ExitCodeNonzero",
    "ClientRestarted",
    "InstanceReleased",
    "DirectoryNotExists",
    "ClientIsUpgrading",
    "InstanceDeregistered",
    "InvalidSystemBuiltInParameter",
    "DefaultWorkingDirectoryNotAvailable",
    "CommandNotApplicable",
    "InvalidCommandText",
    "CommandContentDecodeError",
    "AccountNotExists",
    "BadCronExpression",
    "CronExpressionExpired",
    "InvalidGMTOffsetForTimezone",
    "InvalidGMTOffsetHourForTimezone",
    "InvalidGMTOffsetMinuteForTimezone",
    "TimezoneInformationCorrupt",
    "InvalidRateExpression",
    "RateFrequencyTooLarge",
    "InvalidAtExpression",
    "AtExpressionExpired",
    "InvalidContainerName",
    "UnsupportedContainerRuntime",
    "InvalidContainerId",
    "ContainerConnectFailed",
    "ContainerStateAbnormal",
    "ContainerNotFound",
    "ContainerNameDuplicated",
    "ContainerNameAndIdNotMatch",
    "UserOrPasswordInvalid",
    "QueryParameterStoreFailed",
    "InstanceRoleInvalid",
    "TerminationException",
    "FileAlreadyExists",
    "FileNameInvalid",
    "FilePathInvalid",
    "FileAuthorityInvalid",
    "UserGroupNotExists",
)
