"""Logs as an operator reads them: one JSON object per line when asked, each naming the request,
the user and the instance it is about; the agent says when it loses and regains the server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from openassist.cli.api_client import ApiCallError
from tests.support.cluster import Cluster, _child_env, wait_until


def _events(log: Path) -> list[dict[str, Any]]:
    """Every line of ``log`` as a JSON object (fails on any line that is not one)."""
    lines = log.read_text().splitlines()
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"{log.name}: not one JSON event per line: {line!r}") from None
    return events


def _find(log: Path, **wanted: str) -> dict[str, Any] | None:
    """The first event whose fields contain ``wanted`` (``message`` by substring)."""
    message = wanted.pop("message", "")
    for event in _events(log):
        if message in event["message"] and wanted.items() <= event.items():
            return event
    return None


def test_json_logs_name_request_user_and_instance_and_the_agent_says_lost_and_found(
    tmp_path: Path,
) -> None:
    with Cluster.start(
        tmp_path, env={"OPENASSIST_LOG_FORMAT": "json"}, log_level="info"
    ) as cluster:
        key_id = cluster.credentials.access_key_id
        with pytest.raises(ApiCallError) as refused:
            cluster.call(
                "RunCommand",
                Type="RunShellScript",
                CommandContent="true",
                **{"InstanceId.1": "mi-nosuchinstance"},
            )
        request_id = refused.value.request_id
        event = _find(cluster.server_log, request_id=request_id, user=key_id)
        assert event is not None, cluster.server_log.read_text()[-2000:]
        assert event["message"] == "RunCommand refused: InvalidInstance.NotFound (HTTP 404)"
        assert event["level"] == "INFO" and event["time"].endswith("Z")

        agent = cluster.register_agent("logged")
        with agent.log.open("ab") as out:
            agent.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "openassist.cli.main",
                    "--log-format",
                    "json",
                    "agent",
                    "run",
                    "--state-dir",
                    str(agent.state_dir),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=_child_env(),
            )
        wait_until(lambda: cluster.online(agent.instance_id), 30, what="the agent online")
        mine = {"instance_id": agent.instance_id}
        wait_until(
            lambda: _find(cluster.server_log, message="agent connected from 127.0.0.1", **mine),
            30,
            what="the server to log the agent's connection",
        )

        cluster.kill_server()
        lost = wait_until(
            lambda: _find(agent.log, message="lost the server 127.0.0.1:", **mine),
            60,
            interval_s=0.2,
            what="the agent to say it lost the server",
        )
        assert lost["level"] == "WARNING"
        cluster.restart_server()
        wait_until(
            lambda: _find(agent.log, message="reached the server 127.0.0.1:", **mine),
            90,
            interval_s=0.2,
            what="the agent to say it reached the server again",
        )
        wait_until(lambda: cluster.online(agent.instance_id), 60, what="the agent back online")
        # Said once each, however many calls failed meanwhile.
        messages = [e["message"] for e in _events(agent.log)]
        assert sum(m.startswith("lost the server") for m in messages) == 1
        assert sum(m.startswith("reached the server") for m in messages) == 1
    _events(cluster.server_log)  # the server's whole log, both runs, is JSON lines
