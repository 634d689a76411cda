"""Errors of the RAM API (2015-05-01) and of access control on every action (issue 16)."""

from __future__ import annotations

from openassist.catalog.api.model import ApiErrorEntry as _E
from openassist.catalog.api.model import ErrorKind as _K

# Refusals by policy: ECS and OOS actions answer Forbidden.RAM, the RAM actions NoPermission.
NOT_AUTHORIZED_RAM = _E(
    "Forbidden.RAM",
    _K.FORBIDDEN,
    403,
    "User not authorized to operate on the specified resource: {action}{where} ({why}); ask an "
    "administrator for a policy that allows it.",
)
NOT_AUTHORIZED = _E(
    "NoPermission",
    _K.FORBIDDEN,
    403,
    "You are not authorized to do {action}{where} ({why}); ask an administrator for a policy "
    "that allows it.",
)

# Users, keys, policies.
RAM_NAME_INVALID = _E(
    "InvalidParameter.{field}.InvalidChars",
    _K.INVALID_PARAMETER,
    400,
    "{field} must be 1-64 characters of letters, digits, '.', '@', '-' and '_'; got {name!r}.",
    "{field}",
)
POLICY_NAME_INVALID = _E(
    "InvalidParameter.PolicyName.InvalidChars",
    _K.INVALID_PARAMETER,
    400,
    "PolicyName must be 1-128 characters of letters, digits and '-'; got {name!r}.",
    "PolicyName",
)
POLICY_TYPE_INVALID = _E(
    "InvalidParameter.PolicyType",
    _K.INVALID_PARAMETER,
    400,
    "PolicyType must be System or Custom; got {value!r}.",
    "PolicyType",
)
POLICY_DOCUMENT_INVALID = _E(
    "InvalidParameter.PolicyDocument", _K.INVALID_PARAMETER, 400, "{reason}", "PolicyDocument"
)
KEY_STATUS_INVALID = _E(
    "InvalidParameter.Status",
    _K.INVALID_PARAMETER,
    400,
    "Status must be Active or Inactive; got {value!r}.",
    "Status",
)
ROTATE_STRATEGY_INVALID = _E(
    "InvalidParameter.RotateStrategy",
    _K.INVALID_PARAMETER,
    400,
    "RotateStrategy must be None or {rotate_oldest}; got {value!r}.",
    "RotateStrategy",
)
USER_NOT_FOUND = _E(
    "EntityNotExist.User", _K.NOT_FOUND, 404, "The user {name} does not exist.", "UserName"
)
USER_EXISTS = _E(
    "EntityAlreadyExists.User", _K.CONFLICT, 409, "The user {name} already exists.", "UserName"
)
POLICY_NOT_FOUND = _E(
    "EntityNotExist.Policy",
    _K.NOT_FOUND,
    404,
    "The {policy_type} policy {name} does not exist.",
    "PolicyName",
)
POLICY_EXISTS = _E(
    "EntityAlreadyExists.Policy",
    _K.CONFLICT,
    409,
    "The policy {name} already exists.",
    "PolicyName",
)
USER_KEY_NOT_FOUND = _E(
    "EntityNotExist.User.AccessKey",
    _K.NOT_FOUND,
    404,
    "The access key {key_id} does not exist for the user {user}.",
    "UserAccessKeyId",
)
USER_HAS_KEYS = _E(
    "DeleteConflict.User.AccessKey",
    _K.CONFLICT,
    409,
    "The user {name} still has access keys; delete them first.",
    "UserName",
)
USER_HAS_POLICIES = _E(
    "DeleteConflict.User.Policy",
    _K.CONFLICT,
    409,
    "The user {name} still has policies attached; detach them first.",
    "UserName",
)
USER_KEYS_TOO_MANY = _E(
    "LimitExceeded.User.AccessKey",
    _K.LIMIT_EXCEEDED,
    409,
    "The user {name} already has {limit} access keys; delete one first.",
    "UserName",
)
POLICY_ATTACHED = _E(
    "DeleteConflict.Policy.User",
    _K.CONFLICT,
    409,
    "The policy {name} is attached to users; detach it first.",
    "PolicyName",
)
POLICY_VERSIONS_TOO_MANY = _E(
    "LimitExceeded.Policy.Version",
    _K.LIMIT_EXCEEDED,
    409,
    "The policy {name} has {limit} versions; delete one, or pass RotateStrategy={rotate_oldest}.",
    "PolicyName",
)
POLICY_ALREADY_ATTACHED = _E(
    "EntityAlreadyExists.User.Policy",
    _K.CONFLICT,
    409,
    "The policy {policy_name} is already attached to the user {user_name}.",
    "PolicyName",
)
POLICY_NOT_ATTACHED = _E(
    "EntityNotExist.User.Policy",
    _K.NOT_FOUND,
    404,
    "The policy {policy_name} ({policy_type}) is not attached to the user {user_name}.",
    "PolicyName",
)

# The audit trail (ActionTrail LookupEvents, 2020-07-06).
LOOKUP_TIME_INVALID = _E(
    "InvalidParameter.{parameter}",
    _K.INVALID_PARAMETER,
    400,
    "{parameter} must be a UTC time YYYY-MM-DDThh:mm:ssZ; got {value!r}.",
    "{parameter}",
)
LOOKUP_ATTRIBUTE_INVALID = _E(
    "InvalidParameter.LookupAttribute",
    _K.INVALID_PARAMETER,
    400,
    "LookupAttribute key {key!r} is not one of {keys}; each needs a Value.",
    "LookupAttribute",
)

# Console passwords (RAM login profiles).
LOGIN_PROFILE_EXISTS = _E(
    "EntityAlreadyExists.User.LoginProfile",
    _K.CONFLICT,
    409,
    "The user {name} already has a console password; change it with UpdateLoginProfile.",
    "UserName",
)
LOGIN_PROFILE_NOT_FOUND = _E(
    "EntityNotExist.User.LoginProfile",
    _K.NOT_FOUND,
    404,
    "The user {name} has no console password; give one with CreateLoginProfile.",
    "UserName",
)
PASSWORD_INVALID = _E(
    "InvalidParameter.Password",
    _K.INVALID_PARAMETER,
    400,
    "Password must be {minimum}-{maximum} characters.",
    "Password",
)
