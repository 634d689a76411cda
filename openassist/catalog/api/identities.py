"""Errors of users, access keys, policies and their enforcement: RAM's codes (API 2015-05-01,
which answers conflicts with HTTP 409) and the refusals of a policy check."""

from __future__ import annotations

from openassist.catalog.api.model import ApiErrorEntry as _E
from openassist.catalog.api.model import ErrorKind as _K

_ASK = "ask an administrator for a policy that allows it."

RAM_USER_NOT_FOUND = _E(
    "EntityNotExist.User", _K.NOT_FOUND, 404, "The user {name} does not exist.", "UserName"
)
RAM_USER_EXISTS = _E(
    "EntityAlreadyExists.User", _K.CONFLICT, 409, "The user {name} already exists.", "UserName"
)
RAM_POLICY_NOT_FOUND = _E(
    "EntityNotExist.Policy",
    _K.NOT_FOUND,
    404,
    "The {policy_type} policy {name} does not exist.",
    "PolicyName",
)
RAM_POLICY_EXISTS = _E(
    "EntityAlreadyExists.Policy",
    _K.CONFLICT,
    409,
    "The policy {name} already exists (system policies' names are taken too).",
    "PolicyName",
)
RAM_POLICY_NAME_INVALID = _E(
    "InvalidParameter.PolicyName.InvalidChars",
    _K.INVALID_PARAMETER,
    400,
    "PolicyName must be 1-128 characters of letters, digits and '-'; got {name!r}.",
    "PolicyName",
)
RAM_POLICY_DOCUMENT_INVALID = _E(
    "InvalidParameter.PolicyDocument", _K.INVALID_PARAMETER, 400, "{why}", "PolicyDocument"
)
RAM_POLICY_TYPE_INVALID = _E(
    "InvalidParameter.PolicyType",
    _K.INVALID_PARAMETER,
    400,
    "PolicyType must be System or Custom; got {value!r}.",
    "PolicyType",
)
RAM_KEY_STATUS_INVALID = _E(
    "InvalidParameter.Status",
    _K.INVALID_PARAMETER,
    400,
    "Status must be Active or Inactive; got {value!r}.",
    "Status",
)
RAM_ROTATE_STRATEGY_INVALID = _E(
    "InvalidParameter.RotateStrategy",
    _K.INVALID_PARAMETER,
    400,
    "RotateStrategy must be None or DeleteOldestNonDefaultVersionWhenLimitExceeded; got {value!r}.",
    "RotateStrategy",
)
RAM_KEY_NOT_FOUND = _E(
    "EntityNotExist.User.AccessKey",
    _K.NOT_FOUND,
    404,
    "The access key {key_id} does not exist for the user {name}.",
    "UserAccessKeyId",
)
RAM_KEY_LIMIT = _E(
    "LimitExceeded.User.AccessKey",
    _K.LIMIT_EXCEEDED,
    409,
    "The user {name} already has {limit} access keys; delete one first.",
    "UserName",
)
RAM_USER_HAS_KEYS = _E(
    "DeleteConflict.User.AccessKey",
    _K.CONFLICT,
    409,
    "The user {name} still has access keys; delete them first.",
    "UserName",
)
RAM_USER_HAS_POLICIES = _E(
    "DeleteConflict.User.Policy",
    _K.CONFLICT,
    409,
    "The user {name} still has policies attached; detach them first.",
    "UserName",
)
RAM_POLICY_ATTACHED = _E(
    "DeleteConflict.Policy.User",
    _K.CONFLICT,
    409,
    "The policy {name} is attached to users; detach it first.",
    "PolicyName",
)
RAM_POLICY_VERSION_LIMIT = _E(
    "LimitExceeded.Policy.Version",
    _K.LIMIT_EXCEEDED,
    409,
    "The policy {name} has {limit} versions; delete one, or pass "
    "RotateStrategy=DeleteOldestNonDefaultVersionWhenLimitExceeded.",
    "PolicyName",
)
RAM_ALREADY_ATTACHED = _E(
    "EntityAlreadyExists.User.Policy",
    _K.CONFLICT,
    409,
    "The policy {policy_name} is already attached to the user {name}.",
    "PolicyName",
)
RAM_NOT_ATTACHED = _E(
    "EntityNotExist.User.Policy",
    _K.NOT_FOUND,
    404,
    "The policy {policy_name} ({policy_type}) is not attached to the user {name}.",
    "PolicyName",
)
# Refusals by policy: RAM's own actions (and ActionTrail's) answer NoPermission, ECS and OOS
# actions Forbidden.RAM. {resource} is " on <ARN>" or empty; {why} names the deciding policy.
NO_PERMISSION = _E(
    "NoPermission",
    _K.FORBIDDEN,
    403,
    "You are not authorized to do {action}{resource} ({why}); " + _ASK,
)
FORBIDDEN_RAM = _E(
    "Forbidden.RAM",
    _K.FORBIDDEN,
    403,
    "User not authorized to operate on the specified resource: {action}{resource} ({why}); " + _ASK,
)
