"""DescribeCloudAssistantSettings and ModifyCloudAssistantSettings. Self-hosted, the setting
that means something is AgentUpgradeConfig (when agents may upgrade themselves); the delivery
settings name Alibaba Cloud services (OSS, SLS) that are not here, and are refused as such."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from openassist.catalog import api
from openassist.errors import InvalidParameter
from openassist.server.api.registry import Call, action
from openassist.server.service.agent_upgrades import UPGRADE_CONFIG, parse_upgrade_config

SUPPORTED = (UPGRADE_CONFIG,)


def _check_type(setting_type: str) -> None:
    if setting_type not in SUPPORTED:
        raise InvalidParameter(
            api.SETTING_TYPE_UNSUPPORTED, value=setting_type, supported=", ".join(SUPPORTED)
        )


@action("DescribeCloudAssistantSettings")
async def describe_cloud_assistant_settings(call: Call) -> dict[str, Any]:
    types = call.params.repeated("SettingType", max_items=10, too_many=api.SETTING_TYPES_TOO_MANY)
    if not types:
        raise InvalidParameter(api.SETTING_TYPES_MISSING)
    for setting_type in types:
        _check_type(setting_type)
    config = asdict(await call.services.agent_upgrades.config())
    windows = config.pop("AllowedUpgradeWindow")
    config["AllowedUpgradeWindows"] = {"AllowedUpgradeWindow": list(windows)}
    return {UPGRADE_CONFIG: config}


@action("ModifyCloudAssistantSettings")
async def modify_cloud_assistant_settings(call: Call) -> dict[str, Any]:
    p = call.params
    _check_type(p.text("SettingType", required=True))
    document = p.text(UPGRADE_CONFIG, required=True)
    await call.services.agent_upgrades.set_config(parse_upgrade_config(document))
    return {}
