"""Errors of custom parameters: the names a command defines, the values a task gives, the
parameter store references, and the OOS spelling of the same checks (API.md 3.2, 3.4)."""

from __future__ import annotations

from openassist.catalog.api.model import ApiErrorEntry as _E
from openassist.catalog.api.model import ErrorKind as _K

# Custom parameters: the names a command defines (API.md 3.2).
PLACEHOLDER_EMPTY = _E(
    "CmdParam.EmptyKey",
    _K.INVALID_PARAMETER,
    400,
    "A {{{{}}}} placeholder has no parameter name.",
    "CommandContent",
)
PLACEHOLDER_NAME_TOO_LONG = _E(
    "CmdParamName.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    403,
    "Parameter name {name}... is over 64 bytes.",
    "CommandContent",
)
PLACEHOLDER_NAME_INVALID = _E(
    "CmdParam.InvalidParamName",
    _K.INVALID_PARAMETER,
    400,
    "Parameter name {name!r} may contain only letters, digits, - and _.",
    "CommandContent",
)
PLACEHOLDERS_TOO_MANY = _E(
    "CmdParamCount.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    403,
    "A command may define at most {limit} parameters; it has {count}.",
    "CommandContent",
)

# Custom parameters: the values a task gives.
PARAMETERS_DISABLED = _E(
    "Parameter.Disabled",
    _K.INVALID_PARAMETER,
    400,
    "Parameters were given but the command does not enable parameters; set EnableParameter=true.",
    "Parameters",
)
PARAMETER_NOT_DEFINED = _E(
    "Parameter.NotMatched",
    _K.INVALID_PARAMETER,
    403,
    "The command defines no parameter {name!r}; it defines {defined}.",
    "Parameters",
)
PARAMETER_VALUE_MISSING = _E(
    "Parameter.MissingValue",
    _K.INVALID_PARAMETER,
    400,
    "Give a value for the parameter {name!r} (an empty string is allowed).",
    "Parameters",
)
PARAMETERS_NOT_OBJECT = _E(
    "InvalidParameter.Parameters",
    _K.INVALID_PARAMETER,
    400,
    "Parameters must be a JSON object.",
    "Parameters",
)
PARAMETERS_TOO_MANY = _E(
    "ParameterCount.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    403,
    "At most {limit} parameters may be given.",
    "Parameters",
)
PARAMETER_NAME_DUPLICATE = _E(
    "ParameterKey.Duplicate",
    _K.INVALID_PARAMETER,
    403,
    "The parameter {name!r} is given twice in Parameters (names ignore case).",
    "Parameters",
)
PARAMETER_NAME_MALFORMED = _E(
    "InvalidParameter.Parameters",
    _K.INVALID_PARAMETER,
    400,
    "Parameter name {name!r} must be 1-64 of A-Z a-z 0-9 _ -.",
    "Parameters",
)
PARAMETER_NAME_TOO_LONG = _E(
    "ParameterKey.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    403,
    "Parameter name {name!r} must be 1-64 of A-Z a-z 0-9 _ -.",
    "Parameters",
)
PARAMETER_VALUE_NOT_STRING = _E(
    "ParameterType.NotSupported",
    _K.INVALID_PARAMETER,
    403,
    "The value of parameter {name!r} must be a string.",
    "Parameters",
)
STORE_REFERENCE_INVALID = _E(
    "ParameterStore.InvalidParameters",
    _K.INVALID_PARAMETER,
    403,
    "{problem}",
    "CommandContent",
)

# Scheduled OOS executions (schedule_actions): the OOS spelling of the same checks.
OOS_CONTENT_NOT_BASE64 = _E(
    "InvalidCommandContent.DecodeError",
    _K.INVALID_PARAMETER,
    400,
    "CommandContent is not valid Base64.",
    "CommandContent",
)
OOS_CONTENT_TOO_LARGE = _E(
    "InvalidCommandContent.LengthLimitExceeded",
    _K.LIMIT_EXCEEDED,
    403,
    "CommandContent is longer than {limit} bytes after Base64 encoding.",
    "CommandContent",
)
OOS_PARAMETER_DUPLICATE = _E(
    "InvalidParameters.KeyDuplicate",
    _K.INVALID_PARAMETER,
    400,
    "The key {name!r} repeats.",
    "Parameters",
)
OOS_PARAMETERS_NOT_OBJECT = _E(
    "InvalidParameters.KeyMalformed",
    _K.INVALID_PARAMETER,
    400,
    "Parameters must be a JSON object.",
    "Parameters",
)
OOS_PARAMETERS_TOO_MANY = _E(
    "InvalidParameters.CountLimitExceeded",
    _K.LIMIT_EXCEEDED,
    403,
    "At most {limit} parameters may be given.",
    "Parameters",
)
OOS_PARAMETER_NAME_EMPTY = _E(
    "InvalidParameters.KeyEmpty",
    _K.INVALID_PARAMETER,
    400,
    "A parameter name is empty.",
    "Parameters",
)
OOS_PARAMETER_NAME_TOO_LONG = _E(
    "InvalidParameters.KeyLengthLimitExceeded",
    _K.LIMIT_EXCEEDED,
    403,
    "Parameter names are at most {limit} characters.",
    "Parameters",
)
OOS_PARAMETER_NAME_MALFORMED = _E(
    "InvalidParameters.KeyMalformed",
    _K.INVALID_PARAMETER,
    400,
    "Parameter name {name!r} must be made of A-Z a-z 0-9 _ -.",
    "Parameters",
)
OOS_PARAMETER_VALUE_NOT_STRING = _E(
    "InvalidParameters.ValueTypeUnsupported",
    _K.INVALID_PARAMETER,
    403,
    "The value of parameter {name!r} must be a string.",
    "Parameters",
)
