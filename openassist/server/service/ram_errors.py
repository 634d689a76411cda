"""The RAM API's errors (2015-05-01) the identity services raise, from the API error catalog."""

from __future__ import annotations

from openassist.catalog import api
from openassist.errors import Conflict, InvalidParameter, LimitExceeded, NotFound


def user_not_found(name: str) -> NotFound:
    return NotFound(api.USER_NOT_FOUND, name=name)


def user_exists(name: str) -> Conflict:
    return Conflict(api.USER_EXISTS, name=name)


def policy_not_found(name: str, policy_type: str) -> NotFound:
    return NotFound(api.POLICY_NOT_FOUND, name=name, policy_type=policy_type)


def policy_exists(name: str) -> Conflict:
    return Conflict(api.POLICY_EXISTS, name=name)


def bad_document(why: str) -> InvalidParameter:
    return InvalidParameter(api.POLICY_DOCUMENT_INVALID, reason=why)


def key_not_found(key_id: str, user: str) -> NotFound:
    return NotFound(api.USER_KEY_NOT_FOUND, key_id=key_id, user=user)


def key_limit(name: str, limit: int) -> LimitExceeded:
    return LimitExceeded(api.USER_KEYS_TOO_MANY, name=name, limit=limit)


def already_attached(user_name: str, policy_name: str) -> Conflict:
    return Conflict(api.POLICY_ALREADY_ATTACHED, user_name=user_name, policy_name=policy_name)
