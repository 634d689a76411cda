"""What only a console form can get wrong: the API has no such field (issue 15.4: every other
check is the service's, with the API's entries)."""

from __future__ import annotations

from openassist.catalog.api.model import ApiErrorEntry as _E
from openassist.catalog.api.model import ErrorKind as _K

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
    "Choose the machines: by name, by tag, every machine online, or instance IDs.",
    "InstanceId",
)
FORM_PARAMETER_LINE_INVALID = _E(
    "InvalidParameter.Parameters",
    _K.INVALID_PARAMETER,
    400,
    "Write parameters as name=value: {line}",
    "Parameters",
)
FORM_TARGETS_TOO_MANY = _E(
    "InstanceIds.ExceedLimit",
    _K.LIMIT_EXCEEDED,
    403,
    "{count} machines match, and one run from the console takes at most {limit}: narrow the "
    "choice (a tag, a name pattern such as web-1*).",
    "Targets",
)
FORM_TARGETS_NONE = _E(
    "InvalidParameter.Targets",
    _K.INVALID_PARAMETER,
    400,
    "No machine that you may use matches {wanted}: check the spelling, or choose another way.",
    "Targets",
)
