"""The console's own wording of API codes, for form fields the API spells differently.

Issue 15.4 moves these checks into the service layer, so the console and the API answer with
the same entries; until then the console keeps its messages here.
"""

from __future__ import annotations

from openassist.catalog.api.model import ApiErrorEntry as _E
from openassist.catalog.api.model import ErrorKind as _K

FORM_NUMBER_INVALID = _E(
    "Invalid{parameter}",
    _K.INVALID_PARAMETER,
    400,
    "{parameter} must be a whole number from 1 to {limit}.",
    "{parameter}",
)
FORM_TARGETS_BOTH = _E(
    "InvalidParameter.Targets",
    _K.INVALID_PARAMETER,
    400,
    "Choose instances or a tag, not both: clear one of them.",
    "Targets",
)
FORM_TARGETS_MISSING = _E(
    "MissingParam.InstanceId",
    _K.INVALID_PARAMETER,
    400,
    "Choose at least one instance or a tag.",
    "InstanceId",
)
FORM_TAGGED_NONE = _E(
    "InvalidResourceTag.InstanceNotFound",
    _K.NOT_FOUND,
    400,
    "No instance carries the tag.",
    "ResourceTag",
)
FORM_TARGETS_TOO_MANY = _E(
    "InstanceIds.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    400,
    "At most {limit} instances per task.",
    "InstanceId",
)
FORM_INSTANCES_TOO_MANY = _E(
    "InstanceIds.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    400,
    "At most {limit} instances.",
    "InstanceId",
)
FORM_COMMAND_TYPE_INVALID = _E(
    "InvalidCmdType.NotFound",
    _K.INVALID_PARAMETER,
    400,
    "Choose a command type from the list.",
    "Type",
)
FORM_SCRIPT_EMPTY = _E(
    "InvalidCommandText",
    _K.INVALID_PARAMETER,
    400,
    "The script is empty; write the commands to run.",
    "CommandContent",
)
FORM_SCRIPT_TOO_LARGE = _E(
    "CmdContent.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    400,
    "The script is over {limit} bytes after Base64 encoding.",
    "CommandContent",
)
FORM_PARAMETER_LINE_INVALID = _E(
    "InvalidParameter.Parameters",
    _K.INVALID_PARAMETER,
    400,
    "Write parameters as name=value: {line}",
    "Parameters",
)
FORM_COMMAND_NAME_MISSING = _E(
    "MissingParameter.Name",
    _K.INVALID_PARAMETER,
    400,
    "Give the command a name.",
    "Name",
)
FORM_SAVED_COMMAND_GONE = _E(
    "InvalidCmdId.NotFound",
    _K.NOT_FOUND,
    400,
    "The saved command no longer exists.",
    "CommandId",
)
FORM_FILE_NAME_MISSING = _E(
    "MissingParameter.Name",
    _K.INVALID_PARAMETER,
    400,
    "Give the file a name.",
    "Name",
)
FORM_TARGET_DIR_INVALID = _E(
    "FileTargetDir.Invalid",
    _K.INVALID_PARAMETER,
    400,
    "The target directory must be an absolute path.",
    "TargetDir",
)
FORM_FILE_TOO_LARGE = _E(
    "FileSize.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    400,
    "The content is over 32 KB after Base64 encoding.",
    "Content",
)
