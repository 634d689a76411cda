"""The agent's settings take every value it reads from its environment, in one place."""

from __future__ import annotations

import pytest

from openassist.agent.settings import DEFAULT_DOCKER_SOCKET, AgentEnvironment, AgentSettings


def test_nothing_set_gives_the_defaults() -> None:
    assert AgentEnvironment.read({}) == AgentEnvironment()
    assert AgentEnvironment().docker_socket == DEFAULT_DOCKER_SOCKET
    assert AgentEnvironment().system_state is None  # ask systemd, not "not stopping"


def test_every_variable_lands_in_its_field() -> None:
    found = AgentEnvironment.read(
        {
            "OPENASSIST_AGENT_DIR": "/srv/agent",
            "OPENASSIST_AGENT_BOOT_ID": "boot-2",
            "OPENASSIST_AGENT_SYSTEM_STATE": "stopping",
            "OPENASSIST_AGENT_DOCKER_SOCKET": "/run/d.sock",
            "OPENASSIST_AGENT_BOOTSTRAPPED": "9.9.9",
            "LANG": "de_DE.UTF-8",
            "TZ": "Asia/Shanghai",
        }
    )
    assert found == AgentEnvironment(
        state_dir="/srv/agent",
        boot_id="boot-2",
        system_state="stopping",
        docker_socket="/run/d.sock",
        bootstrapped="9.9.9",
        lang="de_DE.UTF-8",
        tz="Asia/Shanghai",
    )


def test_docker_host_gives_the_socket_only_when_no_socket_is_named() -> None:
    unix = {"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}
    assert AgentEnvironment.read(unix).docker_socket == "/run/user/1000/docker.sock"
    tcp = {"DOCKER_HOST": "tcp://10.0.0.1:2375"}
    assert AgentEnvironment.read(tcp).docker_socket == DEFAULT_DOCKER_SOCKET
    both = {**unix, "OPENASSIST_AGENT_DOCKER_SOCKET": "/run/mine.sock"}
    assert AgentEnvironment.read(both).docker_socket == "/run/mine.sock"


def test_script_env_keeps_the_named_variables_that_are_set_in_order() -> None:
    found = AgentEnvironment.read(
        {
            "OPENASSIST_AGENT_SCRIPT_ENV": " https_proxy, NOT_SET,,no_proxy ",
            "https_proxy": "http://proxy:3128",
            "no_proxy": "",
            "OTHER": "never",
        }
    )
    assert found.script_env == (("https_proxy", "http://proxy:3128"), ("no_proxy", ""))


def test_settings_made_without_an_environment_read_the_process_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENASSIST_AGENT_BOOT_ID", "from-the-process")
    assert AgentSettings().environment.boot_id == "from-the-process"
