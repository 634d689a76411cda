"""RAM actions (API version 2015-05-01): users, access keys, policies and attachments."""

from __future__ import annotations

from typing import Any

from openassist.catalog import api
from openassist.errors import InvalidParameter
from openassist.server.api.access import arn, authorize
from openassist.server.api.envelope import iso
from openassist.server.api.params import Params
from openassist.server.api.registry import Call, action
from openassist.server.service.identities import KeyView, UserChanges, check_user_name
from openassist.server.service.ram_policies import ROTATE_OLDEST, PolicyView
from openassist.server.service.system_policies import CUSTOM, SYSTEM
from openassist.server.store.records import PolicyVersion, RamUser

MAX_ITEMS = 1000
ACTIVE, INACTIVE = "Active", "Inactive"


def _user_fields(user: RamUser, *, full: bool = True) -> dict[str, Any]:
    fields = {
        "UserId": user.id,
        "UserName": user.name,
        "DisplayName": user.display_name,
        "MobilePhone": user.mobile_phone,
        "Email": user.email,
        "Comments": user.comments,
        "CreateDate": iso(user.created_at),
    }
    if full:
        fields.update(UpdateDate=iso(user.updated_at), LastLoginDate=iso(user.last_login_at))
    return fields


def _policy_fields(policy: PolicyView) -> dict[str, Any]:
    return {
        "PolicyName": policy.name,
        "PolicyType": policy.type,
        "Description": policy.description,
        "DefaultVersion": policy.default_version,
        "CreateDate": iso(policy.created_at),
        "UpdateDate": iso(policy.updated_at),
        "AttachmentCount": policy.attachment_count,
    }


def _version_fields(version: PolicyVersion, default: bool) -> dict[str, Any]:
    return {
        "VersionId": version.version_id,
        "IsDefaultVersion": default,
        "PolicyDocument": version.document,
        "CreateDate": iso(version.created_at),
    }


def _key_fields(key: KeyView) -> dict[str, Any]:
    return {
        "AccessKeyId": key.id,
        "Status": ACTIVE if key.enabled else INACTIVE,
        "CreateDate": iso(key.created_at),
    }


def _check(call: Call, *relative_ids: str) -> None:
    """The caller's policies must allow the action on each named user or policy."""
    authorize(call, [(arn("ram", "", relative), {}) for relative in relative_ids])


def _user_name(call: Call, *, default_to_caller: bool = False) -> str:
    """The UserName parameter (or the caller's own name), checked against the caller's policies."""
    name = call.params.text("UserName")
    if not name and default_to_caller and call.user_name:
        name = call.user_name
    _check(call, f"user/{check_user_name(name)}")
    return name


def _policy_name(call: Call) -> str:
    name = call.params.text("PolicyName", required=True, max_len=128)
    _check(call, f"policy/{name}")
    return name


def _policy_type(params: Params, *, required: bool = True) -> str:
    value = params.text("PolicyType", required=required)
    for known in (SYSTEM, CUSTOM):
        if value.lower() == known.lower():
            return known
    if not value and not required:
        return ""
    raise InvalidParameter(api.POLICY_TYPE_INVALID, value=value[:40])


def _max_items(params: Params) -> int:
    return params.integer("MaxItems", default=100, minimum=1, maximum=MAX_ITEMS)


def _field(params: Params, name: str, limit: int) -> str | None:
    """A detail to set (None: not given, keep it); "" clears it."""
    return params.text(name, max_len=limit) if name in params.raw() else None


def _new_user(params: Params) -> UserChanges:
    return UserChanges(
        display_name=_field(params, "DisplayName", 128),
        email=_field(params, "Email", 128),
        mobile_phone=_field(params, "MobilePhone", 32),
        comments=_field(params, "Comments", 128),
    )


def _user_changes(params: Params) -> UserChanges:
    return UserChanges(
        new_name=params.text("NewUserName") or None,
        display_name=_field(params, "NewDisplayName", 128),
        email=_field(params, "NewEmail", 128),
        mobile_phone=_field(params, "NewMobilePhone", 32),
        comments=_field(params, "NewComments", 128),
    )


@action("CreateUser")
async def create_user(call: Call) -> dict[str, Any]:
    name = _user_name(call)
    user = await call.services.identities.create_user(name, _new_user(call.params))
    return {"User": _user_fields(user, full=False)}


@action("GetUser")
async def get_user(call: Call) -> dict[str, Any]:
    user = await call.services.identities.get_user(_user_name(call))
    return {"User": _user_fields(user)}


@action("ListUsers")
async def list_users(call: Call) -> dict[str, Any]:
    _check(call, "user/*")
    users, marker = await call.services.identities.list_users(
        call.params.text("Marker"), _max_items(call.params)
    )
    return {
        "IsTruncated": bool(marker),
        "Marker": marker,
        "Users": {"User": [_user_fields(user) for user in users]},
    }


@action("UpdateUser")
async def update_user(call: Call) -> dict[str, Any]:
    user = await call.services.identities.update_user(_user_name(call), _user_changes(call.params))
    return {"User": _user_fields(user)}


@action("DeleteUser")
async def delete_user(call: Call) -> dict[str, Any]:
    await call.services.identities.delete_user(_user_name(call))
    return {}


@action("CreateAccessKey")
async def create_access_key(call: Call) -> dict[str, Any]:
    new, created_at = await call.services.identities.create_key(
        _user_name(call, default_to_caller=True)
    )
    return {
        "AccessKey": {
            "AccessKeyId": new.id,
            "AccessKeySecret": new.secret,
            "Status": ACTIVE,
            "CreateDate": iso(created_at),
        }
    }


@action("ListAccessKeys")
async def list_access_keys(call: Call) -> dict[str, Any]:
    keys = await call.services.identities.list_keys(_user_name(call, default_to_caller=True))
    return {"AccessKeys": {"AccessKey": [_key_fields(key) for key in keys]}}


def _key_id(params: Params) -> str:
    return params.text("UserAccessKeyId", required=True, max_len=128)


@action("UpdateAccessKey")
async def update_access_key(call: Call) -> dict[str, Any]:
    status = call.params.text("Status", required=True)
    if status not in (ACTIVE, INACTIVE):
        raise InvalidParameter(api.KEY_STATUS_INVALID, value=status[:40])
    await call.services.identities.set_key_enabled(
        _user_name(call, default_to_caller=True), _key_id(call.params), status == ACTIVE
    )
    return {}


@action("DeleteAccessKey")
async def delete_access_key(call: Call) -> dict[str, Any]:
    await call.services.identities.delete_key(
        _user_name(call, default_to_caller=True), _key_id(call.params)
    )
    return {}


@action("CreatePolicy")
async def create_policy(call: Call) -> dict[str, Any]:
    p = call.params
    policy = await call.services.policies.create_policy(
        _policy_name(call),
        p.text("Description", max_len=1024),
        p.text("PolicyDocument", required=True),
    )
    fields = _policy_fields(policy)
    return {"Policy": {k: fields[k] for k in _CREATED_POLICY_FIELDS}}


_CREATED_POLICY_FIELDS = ("PolicyName", "PolicyType", "Description", "DefaultVersion", "CreateDate")


@action("GetPolicy")
async def get_policy(call: Call) -> dict[str, Any]:
    p = call.params
    policy = await call.services.policies.get_policy(_policy_name(call), _policy_type(p))
    default = PolicyVersion(policy.name, policy.default_version, policy.document, policy.updated_at)
    return {
        "Policy": {**_policy_fields(policy), "PolicyDocument": policy.document},
        "DefaultPolicyVersion": _version_fields(default, True),
    }


@action("ListPolicies")
async def list_policies(call: Call) -> dict[str, Any]:
    p = call.params
    _check(call, "policy/*")
    policies = await call.services.policies.list_policies(_policy_type(p, required=False))
    marker, limit = p.text("Marker"), _max_items(p)
    keyed = [(f"{policy.type}:{policy.name}", policy) for policy in policies]
    after = [(key, policy) for key, policy in keyed if not marker or key > marker]
    page = after[:limit]
    truncated = len(after) > limit
    return {
        "IsTruncated": truncated,
        "Marker": page[-1][0] if truncated else "",
        "Policies": {"Policy": [_policy_fields(policy) for _key, policy in page]},
    }


@action("DeletePolicy")
async def delete_policy(call: Call) -> dict[str, Any]:
    await call.services.policies.delete_policy(_policy_name(call))
    return {}


@action("CreatePolicyVersion")
async def create_policy_version(call: Call) -> dict[str, Any]:
    p = call.params
    rotate = p.text("RotateStrategy", default="None")
    if rotate not in ("None", ROTATE_OLDEST):
        raise InvalidParameter(
            api.ROTATE_STRATEGY_INVALID, rotate_oldest=ROTATE_OLDEST, value=rotate[:60]
        )
    set_default = p.boolean("SetAsDefault")
    version = await call.services.policies.create_version(
        _policy_name(call), p.text("PolicyDocument", required=True), set_default, rotate
    )
    return {"PolicyVersion": _version_fields(version, set_default)}


def _attachment(call: Call) -> tuple[str, str, str]:
    return _user_name(call), _policy_type(call.params), _policy_name(call)


@action("AttachPolicyToUser")
async def attach_policy_to_user(call: Call) -> dict[str, Any]:
    await call.services.policies.attach(*_attachment(call))
    return {}


@action("DetachPolicyFromUser")
async def detach_policy_from_user(call: Call) -> dict[str, Any]:
    await call.services.policies.detach(*_attachment(call))
    return {}


@action("ListPoliciesForUser")
async def list_policies_for_user(call: Call) -> dict[str, Any]:
    found = await call.services.policies.policies_for_user(_user_name(call))
    return {
        "Policies": {
            "Policy": [
                {
                    "PolicyName": policy.name,
                    "PolicyType": policy.type,
                    "Description": policy.description,
                    "DefaultVersion": policy.default_version,
                    "AttachDate": iso(attached_at),
                }
                for policy, attached_at in found
            ]
        }
    }


def _login_fields(user: RamUser) -> dict[str, Any]:
    return {
        "LoginProfile": {
            "UserName": user.name,
            "PasswordResetRequired": False,
            "MFABindRequired": False,
            "CreateDate": iso(user.updated_at),
        }
    }


@action("CreateLoginProfile")
async def create_login_profile(call: Call) -> dict[str, Any]:
    user = await call.services.identities.set_password(
        _user_name(call), call.params.text("Password", required=True), exists=False
    )
    return _login_fields(user)


@action("UpdateLoginProfile")
async def update_login_profile(call: Call) -> dict[str, Any]:
    name = _user_name(call)
    password = call.params.text("Password")
    if password:
        await call.services.identities.set_password(name, password, exists=True)
    else:
        await call.services.identities.login_profile(name)
    return {}


@action("GetLoginProfile")
async def get_login_profile(call: Call) -> dict[str, Any]:
    return _login_fields(await call.services.identities.login_profile(_user_name(call)))


@action("DeleteLoginProfile")
async def delete_login_profile(call: Call) -> dict[str, Any]:
    await call.services.identities.delete_password(_user_name(call))
    return {}
