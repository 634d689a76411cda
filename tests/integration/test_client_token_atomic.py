"""A ClientToken's record is written in the same transaction as the action's rows (issue 13).

The record and the action used to be two transactions: when the record's write failed after the
action's rows were committed (a crash, a full disk, a lost database connection between the two),
the token stayed "processing" for ever, and the documented remedy (a new token) ran the work a
second time. Here a real fault is injected in the store: a trigger makes writing a token's answer
fail, once; the retry with the same token must then run the action exactly once.
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from openassist.cli.api_client import ApiCallError
from tests.support.cluster import Agent, Cluster

SQLITE_FAULT = [
    "CREATE TRIGGER fail_answer_insert BEFORE INSERT ON client_tokens WHEN NEW.response <> '' "
    "BEGIN SELECT RAISE(ABORT, 'injected fault'); END",
    "CREATE TRIGGER fail_answer_update BEFORE UPDATE ON client_tokens WHEN NEW.response <> '' "
    "BEGIN SELECT RAISE(ABORT, 'injected fault'); END",
]
POSTGRES_FAULT = [
    "CREATE FUNCTION fail_answer() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected fault'; "
    "END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER fail_answer BEFORE INSERT OR UPDATE ON client_tokens FOR EACH ROW "
    "WHEN (NEW.response <> '') EXECUTE FUNCTION fail_answer()",
]
SQLITE_HEAL = ["DROP TRIGGER fail_answer_insert", "DROP TRIGGER fail_answer_update"]
POSTGRES_HEAL = ["DROP TRIGGER fail_answer ON client_tokens", "DROP FUNCTION fail_answer()"]


def _execute(cluster: Cluster, statements: list[str]) -> None:
    if cluster.database_url:
        with psycopg.connect(cluster.database_url, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement.encode())
    else:
        with sqlite3.connect(cluster.root / "data" / "openassist.db") as connection:
            for statement in statements:
                connection.execute(statement)


@pytest.fixture
def target(cluster: Cluster) -> Agent:
    return cluster.register_agent("token-target")  # never started: its tasks end at once


def _tasks(cluster: Cluster, instance_id: str) -> list[str]:
    found = cluster.call("DescribeInvocations", InstanceId=instance_id)
    return [task["InvokeId"] for task in found["Invocations"]["Invocation"]]


def test_a_failed_token_write_leaves_no_action_and_the_retry_runs_it_once(
    cluster: Cluster, target: Agent
) -> None:
    params = {
        "Type": "RunShellScript",
        "CommandContent": "echo once",
        "InstanceId.1": target.instance_id,
        "ClientToken": "token-atomic-1",
    }
    _execute(cluster, SQLITE_FAULT if not cluster.database_url else POSTGRES_FAULT)
    try:
        with pytest.raises(ApiCallError) as failed:
            cluster.call("RunCommand", **params)
        assert failed.value.code == "InternalError"
    finally:
        _execute(cluster, SQLITE_HEAL if not cluster.database_url else POSTGRES_HEAL)

    answer = cluster.call("RunCommand", **params)
    again = cluster.call("RunCommand", **params)

    assert again["InvokeId"] == answer["InvokeId"]
    assert _tasks(cluster, target.instance_id) == [answer["InvokeId"]]


def test_concurrent_requests_with_one_token_run_the_action_once(
    cluster: Cluster, target: Agent
) -> None:
    params = {
        "Type": "RunShellScript",
        "CommandContent": "echo racing",
        "InstanceId.1": target.instance_id,
        "ClientToken": "token-race-1",
    }
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: cluster.call("RunCommand", **params), range(8)))

    assert {answer["InvokeId"] for answer in answers} == {answers[0]["InvokeId"]}
    assert _tasks(cluster, target.instance_id) == [answers[0]["InvokeId"]]
