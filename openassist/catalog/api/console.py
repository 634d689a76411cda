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
    "Choose at least one instance or a tag.",
    "InstanceId",
)
FORM_PARAMETER_LINE_INVALID = _E(
    "InvalidParameter.Parameters",
    _K.INVALID_PARAMETER,
    400,
    "Write parameters as name=value: {line}",
    "Parameters",
)
