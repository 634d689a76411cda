"""A console user whose policies hide a machine cannot read that machine's output by typing the
URL of its full output or its card: both answer 404, as for a task they cannot see, and the
machines they may see still answer."""

from __future__ import annotations

import pytest

from tests.integration.test_access_enforcement import make_user
from tests.support.cluster import Cluster
from tests.support.console import console_client, sign_in
from tests.support.fleet_seed import SeededFleet, seed_fleet


@pytest.fixture(scope="module")
def fleet(cluster: Cluster) -> SeededFleet:
    return seed_fleet(cluster, machines=1000, week_tasks=0)


def test_the_output_of_a_hidden_machine_is_not_served(cluster: Cluster, fleet: SeededFleet) -> None:
    user = make_user(
        cluster,
        "web-only-reader",
        {
            "Effect": "Allow",
            "Action": "ecs:Describe*",
            "Resource": "acs:ecs:*:*:instance/*",
            "Condition": {"StringEquals": {"ecs:tag/role": "web"}},
        },
    )
    web, db = f"mi-seed{0:019d}", f"mi-seed{1:019d}"  # node-0000 role=web, node-0001 role=db
    task = f"/console/invocations/{fleet.invoke_id}/instances"
    with console_client(cluster) as client:
        assert sign_in(client, "key", user.key_id, user.secret).status_code == 303
        hidden = client.get(f"{task}/{db}/output")
        assert hidden.status_code == 404, hidden.text
        assert "Linux" not in hidden.text
        assert client.get(f"{task}/{db}").status_code == 404
        shown = client.get(f"{task}/{web}/output")
        assert shown.status_code == 200 and shown.text == "Linux 6.1.0-28-amd64 x86_64\n"
