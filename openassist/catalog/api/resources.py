"""Errors of the other resources: managed instances, activations, files, tags, settings, the
parameter store and agent upgrades (API.md 2.9, 5, 6)."""

from __future__ import annotations

from openassist.catalog.api.model import ApiErrorEntry as _E
from openassist.catalog.api.model import ErrorKind as _K

_TOO_LONG = "The parameter {parameter} is longer than {limit} characters."
_TOO_MANY = "At most {limit} values of {parameter} may be given; got {count}."

# Managed instances and activations.
INSTANCE_NOT_FOUND = _E(
    "InvalidInstanceId.NotFound",
    _K.NOT_FOUND,
    404,
    "The instance {instance_id} does not exist here.",
    "InstanceId",
)
MANAGED_INSTANCE_NOT_FOUND = _E(
    "InvalidResourceId.NotFound",
    _K.NOT_FOUND,
    404,
    "The managed instance {instance_id} does not exist here.",
    "InstanceId",
)
MANAGED_NAME_INVALID = _E(
    "InvalidParameter.InstanceName",
    _K.INVALID_PARAMETER,
    400,
    "InstanceName must be 2-128 characters, start with a letter and contain only letters, "
    "digits and . _ - :",
    "InstanceName",
)
ACTIVATION_NAME_INVALID = _E(
    "InvalidParameter.InstanceName",
    _K.INVALID_PARAMETER,
    400,
    "InstanceName must be 2-50 characters, start with a letter and contain only letters, "
    "digits and . _ - :",
    "InstanceName",
)
IP_RANGE_INVALID = _E(
    "InvalidParameter.IpAddressRange",
    _K.INVALID_PARAMETER,
    400,
    "IpAddressRange must be IPv4/IPv6 addresses or CIDR blocks; {value!r} is not.",
    "IpAddressRange",
)
CONNECTED_INVALID = _E(
    "InvalidParameter.Connected",
    _K.INVALID_PARAMETER,
    400,
    "Connected must be true or false.",
    "Connected",
)
INSTANCES_TOO_MANY = _E("InstanceIds.ExceedLimit", _K.LIMIT_EXCEEDED, 403, _TOO_MANY, "InstanceId")
ACTIVATION_NOT_FOUND = _E(
    "ActivationId.NotFound",
    _K.NOT_FOUND,
    404,
    "The activation {activation_id} does not exist.",
    "ActivationId",
)
ACTIVATION_IN_USE = _E(
    "ActivationId.InUse",
    _K.CONFLICT,
    403,
    "The activation {activation_id} still has registered instances; deregister them first "
    "(DeregisterManagedInstance).",
    "ActivationId",
)

# SendFile (API.md 2.9).
FILE_TARGETS_MISSING = _E(
    "MissingParam.InstanceId",
    _K.INVALID_PARAMETER,
    400,
    "Give at least one InstanceId.N.",
    "InstanceId",
)
FILE_NAME_TOO_LONG = _E("FileName.ExceedLimit", _K.LIMIT_EXCEEDED, 403, _TOO_LONG, "Name")
FILE_DESCRIPTION_TOO_LONG = _E(
    "FileDesc.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    403,
    _TOO_LONG,
    "Description",
)
FILE_TARGET_DIR_INVALID = _E(
    "FileTargetDir.Invalid",
    _K.INVALID_PARAMETER,
    400,
    "TargetDir must be an absolute path.",
    "TargetDir",
)
FILE_MODE_INVALID = _E(
    "FileMode.Invalid",
    _K.INVALID_PARAMETER,
    400,
    "FileMode must be permission bits in octal, such as 0644 or 755; set-uid, set-gid and "
    "sticky bits (4000, 2000, 1000) are refused.",
    "FileMode",
)
FILE_CONTENT_TYPE_INVALID = _E(
    "FileContentType.Invalid",
    _K.INVALID_PARAMETER,
    400,
    "ContentType must be PlainText or Base64.",
    "ContentType",
)
FILE_CONTENT_NOT_BASE64 = _E(
    "FileContent.DecodeError",
    _K.INVALID_PARAMETER,
    400,
    "Content is not valid Base64.",
    "Content",
)
FILE_TOO_LARGE = _E(
    "FileSize.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    403,
    "Content is {size} bytes after Base64 encoding; the limit is {limit}.",
    "Content",
)

# JoinResourceGroup: a managed instance moves to another resource group.
GROUP_RESOURCE_TYPE_UNSUPPORTED = _E(
    "InvalidResourceType.NotSupported",
    _K.INVALID_PARAMETER,
    400,
    "ResourceType must be instance (a managed instance, mi-...); got {value!r}.",
    "ResourceType",
)

# Tag actions (TagResources, UntagResources, ListTagResources).
RESOURCE_TYPE_UNSUPPORTED = _E(
    "InvalidResourceType.NotSupported",
    _K.INVALID_PARAMETER,
    400,
    "ResourceType must be {resource_type}; commands, invocations and activations are tagged with "
    "Tag.N when they are created. Got {value!r}.",
    "ResourceType",
)
RESOURCES_TOO_MANY = _E(
    "InvalidResourceId.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    403,
    _TOO_MANY,
    "ResourceId",
)
RESOURCE_IDS_MISSING = _E(
    "MissingParameter.ResourceId",
    _K.INVALID_PARAMETER,
    400,
    "Give at least one ResourceId.N.",
    "ResourceId",
)
RESOURCES_UNCHOSEN = _E(
    "MissingParameter.ResourceId",
    _K.INVALID_PARAMETER,
    400,
    "Give ResourceId.N or Tag.N.",
    "ResourceId",
)
TAGS_TO_SET_MISSING = _E(
    "MissingParameter.Tag",
    _K.INVALID_PARAMETER,
    400,
    "Give at least one Tag.N.Key to set.",
    "Tag",
)
TAG_KEYS_MISSING = _E(
    "MissingParameter.TagKey",
    _K.INVALID_PARAMETER,
    400,
    "Give TagKey.N, or All=true to remove every tag.",
    "TagKey",
)
TAG_KEYS_TOO_MANY = _E("NumberExceed.Tags", _K.LIMIT_EXCEEDED, 403, _TOO_MANY, "TagKey")

# Cloud Assistant settings.
SETTING_TYPE_UNSUPPORTED = _E(
    "InvalidSettingType.NotSupported",
    _K.INVALID_PARAMETER,
    400,
    "SettingType {value!r} is not available on this server; it keeps {supported} (output "
    "delivery to OSS/SLS and Session Manager are Alibaba Cloud services).",
    "SettingType",
)
SETTING_TYPES_MISSING = _E(
    "MissingParameter.SettingType",
    _K.INVALID_PARAMETER,
    400,
    "Give at least one SettingType.N.",
    "SettingType",
)
SETTING_TYPES_TOO_MANY = _E(
    "NumberExceed.SettingType",
    _K.LIMIT_EXCEEDED,
    403,
    _TOO_MANY,
    "SettingType",
)
UPGRADE_CONFIG_NOT_OBJECT = _E(
    "InvalidParameter.AgentUpgradeConfig",
    _K.INVALID_PARAMETER,
    400,
    "Give a JSON object.",
    "AgentUpgradeConfig",
)
UPGRADE_CONFIG_UNKNOWN_FIELD = _E(
    "InvalidParameter.AgentUpgradeConfig",
    _K.INVALID_PARAMETER,
    400,
    "Unknown field {field!r} in it.",
    "AgentUpgradeConfig",
)
UPGRADE_WINDOW_INVALID = _E(
    "InvalidParameter.AgentUpgradeConfig",
    _K.INVALID_PARAMETER,
    400,
    'AllowedUpgradeWindow must be a list of "HH:mm-HH:mm" strings.',
    "AgentUpgradeConfig",
)
UPGRADE_TIME_ZONE_INVALID = _E(
    "InvalidParameter.AgentUpgradeConfig",
    _K.INVALID_PARAMETER,
    400,
    "TimeZone {name!r}: {reason}.",
    "AgentUpgradeConfig",
)

# The OOS parameter store (API.md 3.4).
STORE_PARAMETER_NOT_FOUND = _E(
    "EntityNotExists.Parameter",
    _K.NOT_FOUND,
    404,
    "The parameter {name} does not exist.{hint}",
    "Name",
)
STORE_VERSION_NOT_FOUND = _E(
    "EntityNotExists.ParameterVersion",
    _K.NOT_FOUND,
    404,
    "The parameter {name} has no version {version}; its version is {current}.",
    "ParameterVersion",
)
STORE_PARAMETER_EXISTS = _E(
    "EntityAlreadyExists.Parameter",
    _K.CONFLICT,
    400,
    "A parameter named {name} already exists; delete it first or pick another name.",
    "Name",
)
STORE_NAME_INVALID = _E(
    "InvalidParameter.Name",
    _K.INVALID_PARAMETER,
    400,
    "Name must be 1-{limit} characters of letters, digits, - and _; got {name!r}.",
    "Name",
)
STORE_NAME_RESERVED = _E(
    "InvalidParameter.Name",
    _K.INVALID_PARAMETER,
    400,
    "Name must not start with ALIYUN, ACS, ALIBABA, ALICLOUD or OOS.",
    "Name",
)
STORE_VALUE_LENGTH = _E(
    "InvalidParameter.Value",
    _K.INVALID_PARAMETER,
    400,
    "Value must be 1-{limit} characters.",
    "Value",
)
STORE_VALUE_NOT_ALLOWED = _E(
    "InvalidParameter.Value",
    _K.INVALID_PARAMETER,
    400,
    "Value is not one of the AllowedValues.",
    "Value",
)
STORE_VALUE_NOT_MATCHED = _E(
    "InvalidParameter.Value",
    _K.INVALID_PARAMETER,
    400,
    "Value does not match {pattern!r}.",
    "Value",
)
STORE_VALUE_OUT_OF_RANGE = _E(
    "InvalidParameter.Value",
    _K.INVALID_PARAMETER,
    400,
    "Value is outside MinLength..MaxLength.",
    "Value",
)
STORE_CONSTRAINTS_NOT_OBJECT = _E(
    "InvalidParameter.Constraints",
    _K.INVALID_PARAMETER,
    400,
    "Constraints must be a JSON object.",
    "Constraints",
)
STORE_PATTERN_INVALID = _E(
    "InvalidParameter.Constraints",
    _K.INVALID_PARAMETER,
    400,
    "AllowedPattern {pattern!r} is not a regex.",
    "Constraints",
)
STORE_TAGS_INVALID = _E(
    "InvalidParameter.Tags",
    _K.INVALID_PARAMETER,
    400,
    'Tags must be a JSON object of strings: {{"k":"v"}}.',
    "Tags",
)
STORE_TYPE_INVALID = _E(
    "InvalidParameter.Type",
    _K.INVALID_PARAMETER,
    400,
    "Type must be {allowed}; got {value!r}.",
    "Type",
)
STORE_DECRYPTION_FAILED = _E("DecryptionFailed", _K.INTERNAL, 500, "{reason}")
