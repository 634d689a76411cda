"""``openassist users``, ``keys``, ``policies`` and ``audit`` against a real server: a user made,
given a policy and a key from the command line can act within it, and the audit shows it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cluster import Cluster


def test_users_keys_policies_and_audit_from_the_command_line(
    cluster: Cluster, tmp_path: Path
) -> None:
    assert cluster.cli("users", "create", "ops").returncode == 0
    document = tmp_path / "describe.json"
    document.write_text(
        json.dumps(
            {
                "Version": "1",
                "Statement": [{"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}],
            }
        )
    )
    made = cluster.cli("policies", "create", "describe-all", "--file", str(document))
    assert made.returncode == 0, made.stderr
    assert cluster.cli("users", "attach", "ops", "describe-all").returncode == 0
    attached = cluster.cli("users", "policies", "ops", "--json")
    assert [p["PolicyName"] for p in json.loads(attached.stdout)["Policies"]] == ["describe-all"]
    listed = cluster.cli("policies", "list")
    assert "AdministratorAccess" in listed.stdout and "describe-all" in listed.stdout

    created = cluster.cli("keys", "create", "--user", "ops")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    assert key["AccessKeySecret"] and "shown this once" in created.stderr
    keys = cluster.cli("keys", "list", "--user", "ops")
    assert key["AccessKeyId"] in keys.stdout and key["AccessKeySecret"] not in keys.stdout
    assert cluster.cli("keys", "disable", key["AccessKeyId"], "--user", "ops").returncode == 0
    assert "Inactive" in cluster.cli("keys", "list", "--user", "ops").stdout

    refused = cluster.cli("users", "delete", "ops")
    assert refused.returncode == 1 and "DeleteConflict.User.AccessKey" in refused.stderr
    events = json.loads(cluster.cli("audit", "--user", "admin", "--json").stdout)["Events"]
    names = [e["eventName"] for e in events]
    assert {"CreateUser", "CreatePolicy", "AttachPolicyToUser", "CreateAccessKey"} <= set(names)
    assert "DeleteUser" in names
    text = cluster.cli("audit", "--event", "DeleteUser")
    assert "DeleteConflict.User.AccessKey" in text.stdout and "admin" in text.stdout
