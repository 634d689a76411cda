"""The services' limits come from the settings: a limit an operator sets reaches them, and a
limit left alone is the setting's default (stated once, in ServerSettings)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from openassist.server.service.context import Limits
from openassist.server.settings import ServerSettings


def test_limits_left_alone_are_the_settings_defaults() -> None:
    assert Limits() == Limits.of(ServerSettings())


def test_every_settable_limit_takes_the_operators_value() -> None:
    settable = {f.name for f in fields(ServerSettings)} & {f.name for f in fields(Limits)}
    assert "heartbeat_online_s" in settable and "agent_max_body_bytes" in settable
    tuples = {"regions": ("cn-test", "local"), "agent_networks": ("10.0.0.0/8",)}
    changed: dict[str, Any] = {
        name: tuples.get(name) or getattr(ServerSettings, name) + 1 for name in settable
    }
    limits = Limits.of(ServerSettings(**changed))
    assert {name: getattr(limits, name) for name in changed} == changed


def test_limits_fixed_by_the_api_are_no_settings() -> None:
    fixed = {"output_quota", "max_instances_per_call", "max_content_base64", "max_timeout_s"}
    assert not fixed & {f.name for f in fields(ServerSettings)}
    assert Limits.of(ServerSettings()).max_timeout_s == 86400
