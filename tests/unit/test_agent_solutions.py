"""Diagnose gives the fix for the agent actually installed: ours, or the official one."""

from __future__ import annotations

from openassist.catalog import ENTRIES, agents


def test_our_agent_keeps_the_catalog_solution() -> None:
    for version in ("openassist-0.3.0", ""):
        solution = ENTRIES["ClientRestarted"].solution
        assert agents.solution_for(solution, version) == solution
        assert agents.agent_notes("ExecutionTimeout", 100, version) == []


def test_the_official_agent_gets_its_service_and_log() -> None:
    for code in ("ClientRestarted", "ClientNotResponse", "ClientNotOnline", "FileCreateFail"):
        solution = agents.solution_for(ENTRIES[code].solution, "2.2.3.578")
        assert "openassist-agent" not in solution and "journalctl" not in solution, code
    restarted = agents.solution_for(ENTRIES["ClientNotResponse"].solution, "2.2.3.578")
    assert "/usr/local/share/aliyun-assist/2.2.3.578/log/aliyun_assist_main.log" in restarted
    assert "`systemctl restart aliyun`" in restarted


def test_official_agent_notes_say_what_it_does() -> None:
    assert agents.agent_notes("ExecutionTimeout", 0, "2.2.3.578") == [
        agents.OFFICIAL_KILLS_SHELL_ONLY
    ]
    assert agents.agent_notes("ExitCodeNonzero", 5000, "2.2.3.578") == [
        agents.OFFICIAL_KEEPS_HEAD_AND_TAIL
    ]
    assert agents.agent_notes("ExitCodeNonzero", 0, "2.2.3.578") == []
