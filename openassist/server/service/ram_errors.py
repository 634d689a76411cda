"""The RAM API's error codes (2015-05-01), with messages that say what to do."""

from __future__ import annotations

from openassist.errors import ApiError


def user_not_found(name: str) -> ApiError:
    return ApiError("EntityNotExist.User", f"The user {name} does not exist.", 404)


def user_exists(name: str) -> ApiError:
    return ApiError("EntityAlreadyExists.User", f"The user {name} already exists.", 409)


def policy_not_found(name: str, policy_type: str) -> ApiError:
    return ApiError(
        "EntityNotExist.Policy", f"The {policy_type} policy {name} does not exist.", 404
    )


def policy_exists(name: str) -> ApiError:
    return ApiError("EntityAlreadyExists.Policy", f"The policy {name} already exists.", 409)


def bad_document(why: str) -> ApiError:
    return ApiError("InvalidParameter.PolicyDocument", why)


def key_not_found(key_id: str, user: str) -> ApiError:
    return ApiError(
        "EntityNotExist.User.AccessKey",
        f"The access key {key_id} does not exist for the user {user}.",
        404,
    )


def conflict(code: str, message: str) -> ApiError:
    return ApiError(code, message, 409)


def no_permission(action: str, reason: str) -> ApiError:
    return ApiError(
        "NoPermission",
        f"You are not authorized to do {action}: {reason}. Ask an administrator to attach a "
        "policy that allows it.",
        403,
    )
