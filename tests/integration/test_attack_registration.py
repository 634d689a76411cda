"""Attack: an anonymous client with an activation code registers garbage (issue 13, low).

Registration used to accept any ``publicKey`` (each garbage key used up an activation slot, and
1024-bit or e=3 RSA keys were taken as instance identities) and any hostname or instance name:
one with control characters broke ``Format=XML`` for every client listing instances and put raw
terminal escape codes in the server log. Here the requests go to the real gateway over TLS, as
an agent's do.
"""

from __future__ import annotations

import json
import secrets
import ssl
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from openassist.agent.keys import public_key_field
from openassist.protocol import agent as wire
from openassist.protocol.acs_signature import signed_v1_query
from tests.support.cluster import Cluster

ESCAPE = "\x1b[2J\x1b[31mpwned\x07"


def _register(cluster: Cluster, **fields: str) -> tuple[int, dict[str, Any]]:
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    request = urllib.request.Request(
        f"https://127.0.0.1:{cluster.agent_port}{wire.REGISTER}",
        data=json.dumps(fields).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _key(bits: int = 2048, exponent: int = 65537) -> str:
    return public_key_field(rsa.generate_private_key(public_exponent=exponent, key_size=bits))


def _activation(cluster: Cluster) -> dict[str, str]:
    created = cluster.call("CreateActivation", InstanceCount="1")
    return {"activationId": created["ActivationId"], "activationCode": created["ActivationCode"]}


def _registered_count(cluster: Cluster, activation_id: str) -> int:
    found = cluster.call("DescribeActivations", ActivationId=activation_id)["ActivationList"]
    return int(found[0]["RegisteredCount"])


CASES = [
    ({"publicKey": "garbage"}, "InvalidPublicKey.Malformed"),
    (
        {"publicKey": "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KZ2FyYmFnZQ=="},
        "InvalidPublicKey.Malformed",
    ),
    ({"publicKey": _key(bits=1024)}, "InvalidPublicKey.Weak"),
    ({"publicKey": _key(exponent=3)}, "InvalidPublicKey.Weak"),
    ({"hostname": ESCAPE}, "InvalidHostname.Malformed"),
    ({"hostname": "h" * 10_000}, "InvalidHostname.Malformed"),
    ({"instanceName": f"web{ESCAPE}"}, "InvalidInstanceName.Malformed"),
    ({"instanceName": "n" * 10_000}, "InvalidInstanceName.Malformed"),
    ({"osVersion": "v" * 1000}, "InvalidParameter.osVersion"),
    ({"machineId": "m\x00"}, "InvalidParameter.machineId"),
]


@pytest.mark.parametrize(("fields", "code"), CASES, ids=[code for _, code in CASES])
def test_bad_registrations_are_refused_before_using_a_slot(
    cluster: Cluster, fields: dict[str, str], code: str
) -> None:
    activation = _activation(cluster)
    good = {"publicKey": _key(), "hostname": "host-1", "machineId": "m-1", "osType": "linux"}
    status, answer = _register(cluster, **activation, **{**good, **fields})

    assert (status, answer.get("errCode")) == (400, code), answer
    assert answer["errMsg"] and ESCAPE not in answer["errMsg"]
    assert _registered_count(cluster, activation["activationId"]) == 0
    status, answer = _register(cluster, **activation, **good)  # the slot is still there
    assert status == 200, answer
    assert b"\x1b" not in cluster.server_log.read_bytes()


def test_instance_listing_stays_valid_xml_with_any_stored_name(cluster: Cluster) -> None:
    """Names stored by an older release (which accepted control characters) still render."""
    activation = _activation(cluster)
    status, answer = _register(
        cluster, **activation, publicKey=_key(), hostname="clean", machineId="m-2"
    )
    assert status == 200, answer
    _store_name(cluster, answer["instanceId"], f"old{ESCAPE}\x00name")

    query = signed_v1_query(
        {
            "Action": "DescribeManagedInstances",
            "Version": "2014-05-26",
            "RegionId": "local",
            "InstanceId.1": answer["instanceId"],
            "Format": "XML",
        },
        cluster.credentials.access_key_id,
        cluster.credentials.access_key_secret,
        "GET",
        datetime.now(UTC),
        secrets.token_hex(16),
    )
    url = f"http://{cluster.endpoint}/?{urlencode(query)}"
    with urllib.request.urlopen(url, timeout=30) as reply:
        document = ElementTree.fromstring(reply.read())
    name = document.find(".//InstanceName")
    assert name is not None and name.text and name.text.startswith("old")
    listing = cluster.cli("instances")  # the CLI's table never hands the terminal an escape
    assert listing.returncode == 0, listing.stderr
    assert "old\\x1b[2J" in listing.stdout and "\x1b" not in listing.stdout


def _store_name(cluster: Cluster, instance_id: str, name: str) -> None:
    import sqlite3

    import psycopg

    if cluster.database_url:
        with psycopg.connect(cluster.database_url) as connection:
            connection.execute(
                "UPDATE instances SET name = %s WHERE id = %s",
                (name.replace("\x00", ""), instance_id),
            )
    else:
        with sqlite3.connect(cluster.root / "data" / "openassist.db") as connection:
            connection.execute("UPDATE instances SET name = ? WHERE id = ?", (name, instance_id))
