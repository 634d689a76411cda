"""The RAM API's errors (2015-05-01), raised from the API error catalog."""

from __future__ import annotations

from openassist.catalog import api
from openassist.errors import Conflict, InvalidParameter, LimitExceeded, NotFound


def user_not_found(name: str) -> NotFound:
    return NotFound(api.RAM_USER_NOT_FOUND, name=name)


def user_exists(name: str) -> Conflict:
    return Conflict(api.RAM_USER_EXISTS, name=name)


def policy_not_found(name: str, policy_type: str) -> NotFound:
    return NotFound(api.RAM_POLICY_NOT_FOUND, name=name, policy_type=policy_type)


def policy_exists(name: str) -> Conflict:
    return Conflict(api.RAM_POLICY_EXISTS, name=name)


def bad_document(why: str) -> InvalidParameter:
    return InvalidParameter(api.RAM_POLICY_DOCUMENT_INVALID, why=why)


def key_not_found(key_id: str, name: str) -> NotFound:
    return NotFound(api.RAM_KEY_NOT_FOUND, key_id=key_id, name=name)


def key_limit(name: str, limit: int) -> LimitExceeded:
    return LimitExceeded(api.RAM_KEY_LIMIT, name=name, limit=limit)


def already_attached(name: str, policy_name: str) -> Conflict:
    return Conflict(api.RAM_ALREADY_ATTACHED, name=name, policy_name=policy_name)
