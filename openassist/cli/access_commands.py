"""``openassist users``, ``keys``, ``policies`` and ``audit``: friendly forms of the RAM
actions and of ActionTrail's LookupEvents (``openassist ecs <Action>`` reaches them raw). Their
options: ``access_parsers``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from openassist.cli.api_client import ApiClient
from openassist.cli.outcome import ExitCode, UsageError
from openassist.cli.table import render_table

TYPE_CHECKING = False  # typing is not imported at run time: a short command's start-up
if TYPE_CHECKING:
    from typing import Any

SYSTEM = "System"
CUSTOM = "Custom"


def _need(value: str, what: str) -> str:
    if not value:
        raise UsageError(f"give {what}")
    return value


def _print(args: argparse.Namespace, key: str, items: list[dict[str, Any]], table: str) -> int:
    if args.json:
        print(json.dumps({key: items}, indent=2, ensure_ascii=False))
    elif args.jsonl:
        for item in items:
            print(json.dumps(item, ensure_ascii=False))
    elif table:
        print(table)
    return ExitCode.OK


def users(client: ApiClient, args: argparse.Namespace) -> int:
    if args.action == "list":
        found: list[dict[str, Any]] = []
        params: dict[str, str] = {"MaxItems": "1000"}
        while True:
            answer = client.call("ListUsers", params)
            found += answer["Users"]["User"]
            if not answer.get("IsTruncated"):
                break
            params["Marker"] = answer["Marker"]
        rows = [[u["UserName"], u["UserId"], u["DisplayName"], u["CreateDate"]] for u in found]
        table = render_table(["NAME", "USER ID", "DISPLAY NAME", "CREATED"], rows)
        return _print(args, "Users", found, table)
    name = _need(args.name, "the user's name")
    if args.action == "create":
        user = client.call("CreateUser", {"UserName": name})["User"]
        return _print(args, "User", [user], f"created user {name} ({user['UserId']})")
    if args.action == "delete":
        client.call("DeleteUser", {"UserName": name})
        return _print(args, "User", [], f"deleted user {name}")
    if args.action == "policies":
        attached = client.call("ListPoliciesForUser", {"UserName": name})["Policies"]["Policy"]
        rows = [[p["PolicyName"], p["PolicyType"], p["AttachDate"]] for p in attached]
        return _print(
            args, "Policies", attached, render_table(["POLICY", "TYPE", "ATTACHED"], rows)
        )
    policy = _need(args.policy, "the policy's name")
    action = "AttachPolicyToUser" if args.action == "attach" else "DetachPolicyFromUser"
    kind = SYSTEM if args.system else CUSTOM
    client.call(action, {"UserName": name, "PolicyName": policy, "PolicyType": kind})
    verb = "attached" if args.action == "attach" else "detached"
    return _print(args, "Policies", [], f"{verb} {kind.lower()} policy {policy} to user {name}")


def keys(client: ApiClient, args: argparse.Namespace) -> int:
    owner = {"UserName": args.user} if args.user else {}
    if args.action == "list":
        found = client.call("ListAccessKeys", owner)["AccessKeys"]["AccessKey"]
        rows = [[k["AccessKeyId"], k["Status"], k["CreateDate"]] for k in found]
        return _print(args, "AccessKeys", found, render_table(["KEY", "STATUS", "CREATED"], rows))
    if args.action == "create":
        key = client.call("CreateAccessKey", owner)["AccessKey"]
        # The only time the secret exists outside the server: on stdout, never in argv or logs.
        document = {"AccessKeyId": key["AccessKeyId"], "AccessKeySecret": key["AccessKeySecret"]}
        print(json.dumps(document, indent=2))
        print("openassist: the secret is shown this once; keep it now.", file=sys.stderr)
        return ExitCode.OK
    key_id = _need(args.key_id, "the access key id")
    target = {**owner, "UserAccessKeyId": key_id}
    if args.action == "delete":
        client.call("DeleteAccessKey", target)
        return _print(args, "AccessKeys", [], f"deleted access key {key_id}")
    status = "Active" if args.action == "enable" else "Inactive"
    client.call("UpdateAccessKey", {**target, "Status": status})
    return _print(args, "AccessKeys", [], f"access key {key_id} is {status}")


def _document(args: argparse.Namespace) -> str:
    path = _need(args.file, "--file with the policy document")
    try:
        return Path(path).read_text()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None


def policies(client: ApiClient, args: argparse.Namespace) -> int:
    if args.action == "list":
        found: list[dict[str, Any]] = []
        params: dict[str, str] = {"MaxItems": "1000"}
        while True:
            answer = client.call("ListPolicies", params)
            found += answer["Policies"]["Policy"]
            if not answer.get("IsTruncated"):
                break
            params["Marker"] = answer["Marker"]
        rows = [
            [p["PolicyName"], p["PolicyType"], p["DefaultVersion"], str(p["AttachmentCount"])]
            for p in found
        ]
        table = render_table(["POLICY", "TYPE", "VERSION", "USERS"], rows)
        return _print(args, "Policies", found, table)
    name = _need(args.name, "the policy's name")
    if args.action == "show":
        kind = SYSTEM if args.system else CUSTOM
        policy = client.call("GetPolicy", {"PolicyName": name, "PolicyType": kind})["Policy"]
        return _print(args, "Policy", [policy], policy["PolicyDocument"])
    if args.action == "create":
        params = {"PolicyName": name, "PolicyDocument": _document(args)}
        if args.description:
            params["Description"] = args.description
        client.call("CreatePolicy", params)
        return _print(args, "Policy", [], f"created policy {name}")
    if args.action == "update":
        version = client.call(
            "CreatePolicyVersion",
            {
                "PolicyName": name,
                "PolicyDocument": _document(args),
                "SetAsDefault": "true",
                "RotateStrategy": "DeleteOldestNonDefaultVersionWhenLimitExceeded",
            },
        )["PolicyVersion"]
        return _print(args, "Policy", [], f"policy {name} is now {version['VersionId']}")
    client.call("DeletePolicy", {"PolicyName": name})
    return _print(args, "Policy", [], f"deleted policy {name}")


def audit(client: ApiClient, args: argparse.Namespace) -> int:
    params: dict[str, str] = {"MaxResults": "50"}
    filters = [("User", args.user), ("EventName", args.event), ("ResourceName", args.resource)]
    for n, (key, value) in enumerate([f for f in filters if f[1]], start=1):
        params[f"LookupAttribute.{n}.Key"], params[f"LookupAttribute.{n}.Value"] = key, value
    if args.since:
        params["StartTime"] = args.since
    if args.until:
        params["EndTime"] = args.until
    events: list[dict[str, Any]] = []
    while len(events) < args.limit:
        answer = client.call("LookupEvents", params)
        events += answer["Events"]
        if not answer.get("NextToken"):
            break
        params["NextToken"] = answer["NextToken"]
    events = events[: args.limit]
    rows = [
        [
            e["eventTime"],
            e["userIdentity"]["userName"] or e["userIdentity"]["accessKeyId"],
            e["eventName"],
            e["errorCode"] or "ok",
            e["sourceIpAddress"],
            e["resourceName"][:40],
        ]
        for e in events
    ]
    table = render_table(["TIME", "USER", "ACTION", "RESULT", "FROM", "RESOURCES"], rows)
    return _print(args, "Events", events, table)
