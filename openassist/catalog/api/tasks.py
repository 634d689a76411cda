"""Errors of commands and tasks: content, targets, schedules, containers, changes to a task and
the tags given when creating (API.md 2, 3, 4 and 1.11)."""

from __future__ import annotations

from openassist.catalog.api.model import ApiErrorEntry as _E
from openassist.catalog.api.model import ErrorKind as _K

_TOO_LONG = "The parameter {parameter} is longer than {limit} characters."
_NOT_ONE_OF = "The parameter {parameter} must be one of {allowed}; got {value!r}."
_TOO_MANY = "At most {limit} values of {parameter} may be given; got {count}."

# Saved commands and their content.
COMMAND_NOT_FOUND = _E(
    "InvalidCmdId.NotFound",
    _K.NOT_FOUND,
    404,
    "The command {command_id} does not exist.",
    "CommandId",
)
COMMAND_TYPE_NOT_FOUND = _E(
    "InvalidCmdType.NotFound", _K.INVALID_PARAMETER, 404, _NOT_ONE_OF, "Type"
)
COMMAND_NAME_TOO_LONG = _E("CmdName.ExceedLimit", _K.LIMIT_EXCEEDED, 403, _TOO_LONG, "Name")
COMMAND_DESCRIPTION_TOO_LONG = _E(
    "CmdDesc.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    403,
    _TOO_LONG,
    "Description",
)
LAUNCHER_TOO_LONG = _E(
    "InvalidLauncher.LengthLimitExceeded",
    _K.LIMIT_EXCEEDED,
    403,
    _TOO_LONG,
    "Launcher",
)
CONTENT_NOT_BASE64 = _E(
    "CmdContent.DecodeError",
    _K.INVALID_PARAMETER,
    400,
    "CommandContent is not valid Base64; encode the script with Base64 or set "
    "ContentEncoding=PlainText.",
    "CommandContent",
)
CONTENT_EMPTY = _E(
    "InvalidCommandText",
    _K.INVALID_PARAMETER,
    400,
    "CommandContent is empty; give the script to run.",
    "CommandContent",
)
CONTENT_TOO_LARGE = _E(
    "CmdContent.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    403,
    "CommandContent is {size} bytes after Base64 encoding; the limit is {limit}.",
    "CommandContent",
)
TIMEOUT_TOO_LARGE = _E(
    "InvalidTimeout.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    403,
    "The parameter {parameter} must be at most {limit}.",
    "Timeout",
)

# Tasks: targets, mode, schedule.
INVOKE_NOT_FOUND = _E(
    "InvalidInvokeId.NotFound",
    _K.NOT_FOUND,
    404,
    "The specified invoke ID does not exist.",
    "InvokeId",
)
TARGETS_MISSING = _E(
    "MissingParam.InstanceId",
    _K.INVALID_PARAMETER,
    400,
    "Give at least one InstanceId.N, or ResourceTag.N to run on the instances tagged so.",
    "InstanceId",
)
TARGETS_BOTH = _E(
    "InvalidResourceTag.ConflictWithInstanceIds",
    _K.INVALID_PARAMETER,
    400,
    "Give either InstanceId.N or ResourceTag.N to choose the instances, not both.",
    "ResourceTag",
)
TAGGED_NONE = _E(
    "InvalidResourceTag.InstanceNotFound",
    _K.NOT_FOUND,
    400,
    "No managed instance is tagged {wanted}.",
    "ResourceTag",
)
TARGET_OUTSIDE_GROUP = _E(
    "InvalidResourceGroup.NotMatch",
    _K.INVALID_PARAMETER,
    400,
    "The managed instance {instance_id} is not in the resource group {group} (it is in "
    "{actual}). Leave it out of the targets, or give the ResourceGroupId of the activation "
    "that registered it.",
    "ResourceGroupId",
)
TAGGED_TOO_MANY = _E(
    "InstanceIds.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    403,
    "The ResourceTag.N match more than {limit} instances; narrow them.",
    "ResourceTag",
)
REPEAT_MODE_NOT_FOUND = _E(
    "InvalidRepeatMode.NotFound",
    _K.INVALID_PARAMETER,
    404,
    _NOT_ONE_OF,
    "RepeatMode",
)
TERMINATION_MODE_NOT_FOUND = _E(
    "InvalidTerminationMode.NotFound",
    _K.INVALID_PARAMETER,
    404,
    _NOT_ONE_OF,
    "TerminationMode",
)
FREQUENCY_MISSING = _E(
    "MissingParam.Frequency",
    _K.INVALID_PARAMETER,
    400,
    "RepeatMode=Period needs a Frequency: rate, at or cron.",
    "Frequency",
)
# The message starts with the per-instance catalog code the instance would report
# (BadCronExpression, RateFrequencyTooLarge ...).
FREQUENCY_INVALID = _E(
    "InvalidParam.Frequency",
    _K.INVALID_PARAMETER,
    400,
    "{code}: {detail}. The Frequency is {value!r}.",
    "Frequency",
)
USERNAME_TOO_LONG = _E("Username.ExceedLimit", _K.LIMIT_EXCEEDED, 403, _TOO_LONG, "Username")
CONTAINER_ID_MALFORMED = _E(
    "InvalidContainerId.Malformed",
    _K.INVALID_PARAMETER,
    400,
    "ContainerId must be the container's 64-character hexadecimal id, optionally prefixed with "
    "its runtime (docker://, containerd:// or cri-o://).",
    "ContainerId",
)
CONTAINER_NAME_MALFORMED = _E(
    "InvalidContainerName.Malformed",
    _K.INVALID_PARAMETER,
    400,
    "ContainerName must start with a letter or digit, contain only letters, digits, '.', '_' "
    "and '-', and be at most 255 characters long.",
    "ContainerName",
)
TASK_INSTANCE_NOT_FOUND = _E(
    "InvalidInstanceId.NotFound",
    _K.NOT_FOUND,
    404,
    "The instance {instance_id} is not a target of task {invoke_id}.",
    "InstanceId",
)
TASK_INSTANCES_NOT_FOUND = _E(
    "InvalidInstance.NotFound",
    _K.NOT_FOUND,
    404,
    "The specified instance does not exist: {instance_id}.",
    "InstanceId",
)
INSTANCE_GONE = _E(
    "InvalidInstance.NotFound",
    _K.NOT_FOUND,
    404,
    "The managed instance {instance_id} was {state}: it is no longer listed and takes no tasks. "
    "Register the machine again with an activation code to use it.",
    "InstanceId",
)
INCLUDE_OUTPUT_UNNARROWED = _E(
    "InvalidParameter.IncludeOutput",
    _K.INVALID_PARAMETER,
    400,
    "IncludeOutput=true needs InvokeId or InstanceId to narrow the tasks.",
    "IncludeOutput",
)
INCLUDE_HISTORY_WITHOUT_TASK = _E(
    "InvalidParameter.IncludeHistory",
    _K.INVALID_PARAMETER,
    400,
    "IncludeHistory=true needs the InvokeId of a Period or EveryReboot task.",
    "IncludeHistory",
)
INCLUDE_HISTORY_NOT_TIMED = _E(
    "InvalidParameter.IncludeHistory",
    _K.INVALID_PARAMETER,
    400,
    "Task {invoke_id} is {repeat_mode}; only Period and EveryReboot tasks keep a history of runs.",
    "IncludeHistory",
)
INVOKE_RECORD_STATUS_NOT_FOUND = _E(
    "InvalidParameter.InvokeRecordStatus",
    _K.INVALID_PARAMETER,
    400,
    _NOT_ONE_OF,
    "InvokeRecordStatus",
)
# DryRun=true (API.md 2.1): every check passed; the code tells the caller nothing ran.
DRY_RUN_PASSED = _E(
    "DryRunOperation",
    _K.DRY_RUN,
    400,
    "Request validation has been passed with DryRun flag set; nothing was run.",
    "DryRun",
)
# DryRun=true and an instance could not run it: the code is the per-instance catalog's.
DRY_RUN_REFUSED = _E(
    "{code}",
    _K.FORBIDDEN,
    403,
    "instance {instance_id}: {error_info}",
    "InstanceId",
)

# ModifyInvocationAttribute (API.md 2.12).
MODIFY_NOT_TIMED = _E(
    "InvalidOperation.RepeatModeUnsupported",
    _K.FORBIDDEN,
    403,
    "Task {invoke_id} is {repeat_mode}; only Period, NextRebootOnly and EveryReboot tasks can be "
    "modified.",
    "InvokeId",
)
MODIFY_FINISHED = _E(
    "InvalidOperation.InvokeAlreadyFinished",
    _K.CONFLICT,
    403,
    "Task {invoke_id} has ended ({status}); it cannot be modified.",
    "InvokeId",
)
MODIFY_FREQUENCY_NOT_PERIOD = _E(
    "InvalidParameter.Frequency",
    _K.INVALID_PARAMETER,
    400,
    "Task {invoke_id} is {repeat_mode}; only a Period task has a Frequency.",
    "Frequency",
)
MODIFY_FREQUENCY_INVALID = _E(
    "InvalidParameter.Frequency",
    _K.INVALID_PARAMETER,
    400,
    "{code}: {detail}. The Frequency is {value!r}.",
    "Frequency",
)
MODIFY_PARAMETERS_REFUSED = _E(
    "InvalidParameters.KeyNotMatch",
    _K.INVALID_PARAMETER,
    400,
    "{reason}",
    "Parameters",
)
MODIFY_TOO_MANY_INSTANCES = _E(
    "InvalidInstanceId.CountLimitExceeded",
    _K.LIMIT_EXCEEDED,
    403,
    "A task has at most {limit} instances.",
    "InstanceId",
)
MODIFY_TARGETS_TOO_MANY = _E(
    "InvalidInstanceId.CountLimitExceeded",
    _K.LIMIT_EXCEEDED,
    403,
    _TOO_MANY,
    "InstanceId",
)
MODIFY_INSTANCE_NOT_FOUND = _E(
    "InvalidInstanceId.NotFound",
    _K.NOT_FOUND,
    404,
    "The specified instance does not exist: {instance_id}.",
    "InstanceId",
)

# Tags given when creating (Tag.N / ResourceTag.N, API.md 1.11); ``kind`` is "" or "Resource".
TAGS_TOO_MANY = _E(
    "NumberExceed.{kind}Tags",
    _K.LIMIT_EXCEEDED,
    400,
    "At most {limit} tags may be given.",
    "{name}",
)
TAG_KEY_MISSING = _E(
    "MissingParameter.{kind}TagKey",
    _K.INVALID_PARAMETER,
    400,
    "{name}.{index}.Key is missing.",
    "{name}",
)
TAG_KEY_MALFORMED = _E(
    "Invalid{kind}TagKey.Malformed",
    _K.INVALID_PARAMETER,
    400,
    "{name}.{index}.Key must be 1-64 characters, not start with aliyun or acs: and not contain "
    "http:// or https://.",
    "{name}",
)
TAG_VALUE_MALFORMED = _E(
    "Invalid{kind}TagValue.Malformed",
    _K.INVALID_PARAMETER,
    400,
    "{name}.{index}.Value must be at most 128 characters without http:// or https://.",
    "{name}",
)
TAG_KEY_DUPLICATE = _E(
    "Duplicate.{kind}TagKey",
    _K.INVALID_PARAMETER,
    400,
    "The tag key {key!r} is given twice.",
    "{name}",
)

# Rollout limits (OpenAssist extension, README, "Rollouts"): MaxConcurrency and MaxErrors are a
# whole number or a percentage of the targets.
ROLLOUT_LIMIT_MALFORMED = _E(
    "InvalidRolloutLimit.Malformed",
    _K.INVALID_PARAMETER,
    400,
    "The parameter {parameter} must be a whole number or a percentage such as 10%; got {value!r}.",
    "{parameter}",
)
ROLLOUT_LIMIT_NEGATIVE = _E(
    "InvalidRolloutLimit.Negative",
    _K.INVALID_PARAMETER,
    400,
    "The parameter {parameter} cannot be negative; got {value!r}.",
    "{parameter}",
)
ROLLOUT_CONCURRENCY_ZERO = _E(
    "InvalidRolloutLimit.Zero",
    _K.INVALID_PARAMETER,
    400,
    "The parameter {parameter} must let at least one target run; got {value!r}. Give 1 or more, "
    "or a percentage above 0%.",
    "{parameter}",
)
ROLLOUT_BATCH_WAIT_ALONE = _E(
    "InvalidRolloutLimit.BatchWaitWithoutConcurrency",
    _K.INVALID_PARAMETER,
    400,
    "BatchWait spaces the batches of a rollout: give MaxConcurrency too (BatchWait is {value}).",
    "BatchWait",
)
DELIVERY_DEADLINE_MALFORMED = _E(
    "InvalidDeliveryDeadline.Malformed",
    _K.INVALID_PARAMETER,
    400,
    "DeliveryDeadline must be whole seconds from now (such as 3600) or a UTC time such as "
    "2030-01-02T03:04:05Z; got {value!r}.",
    "DeliveryDeadline",
)
DELIVERY_DEADLINE_OUT_OF_RANGE = _E(
    "InvalidDeliveryDeadline.OutOfRange",
    _K.INVALID_PARAMETER,
    400,
    "DeliveryDeadline must be from 1 second to {limit} seconds after the task is created; "
    "got {value!r}.",
    "DeliveryDeadline",
)
ROLLOUT_TIMED_TASK = _E(
    "InvalidRolloutLimit.TimedTask",
    _K.INVALID_PARAMETER,
    400,
    "MaxConcurrency, MaxErrors and BatchWait roll out a run of the whole fleet (a task that runs "
    "once, or each fire of a Period task); a {repeat_mode} task runs on each machine at its own "
    "boot. Run it without them.",
    "RepeatMode",
)
ROLLOUT_PERCENT_TOO_LARGE = _E(
    "InvalidRolloutLimit.PercentTooLarge",
    _K.INVALID_PARAMETER,
    400,
    "The parameter {parameter} is a percentage of the targets and cannot exceed 100%; "
    "got {value!r}.",
    "{parameter}",
)
