"""The server's one settings object: defaults < file < ``OPENASSIST_*`` variables < flags.

Frozen after start and passed down explicitly. Unknown keys in the file are errors.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from openassist.errors import ConfigurationError

ENV_PREFIX = "OPENASSIST_"


@dataclass(frozen=True)
class ServerSettings:
    data_dir: Path = Path(".openassist")
    api_host: str = "127.0.0.1"
    api_port: int = 8640
    # Agents connect from other machines; the gateway is TLS-only and every request is signed.
    agent_host: str = "0.0.0.0"  # noqa: S104
    agent_port: int = 8643
    database_url: str = ""  # empty: SQLite file in data_dir
    regions: tuple[str, ...] = ("local",)
    tls_hostnames: tuple[str, ...] = ()  # extra names for the agent certificate
    agent_networks: tuple[str, ...] = ()  # agent access rule: allowed source networks (CIDR)
    heartbeat_online_s: int = 120
    redeliver_after_s: int = 30
    delivery_timeout_s: int = 60  # not started this long after creation: DeliveryTimeout
    response_grace_s: int = 60  # silent this long past its timeout: ClientNotResponse
    stop_timeout_s: int = 30  # a stop not confirmed in this long: TerminationException
    sweep_interval_s: int = 5
    full_output_cap: int = 16 * 1024 * 1024  # bytes of full output kept per run; 0 keeps none
    api_rate_per_key: int = 200  # requests per second per access key; 0 disables the limit
    api_burst_per_key: int = 400
    log_level: str = "info"
    # Key that seals secret parameters. Keep it apart from database backups: a database copy
    # without it reveals no secret; losing it loses the secrets. Empty: a file in data_dir.
    parameter_key_file: str = ""
    # Agent packages offered for self-upgrade (openassist-agent-<version>.zip, made by
    # `openassist agent package`). Empty: data_dir/agent-packages.
    agent_packages_dir: str = ""
    agent_update_check_s: int = 1800  # how often agents ask for a newer version

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'openassist.db'}"

    @property
    def effective_agent_packages_dir(self) -> Path:
        return Path(self.agent_packages_dir or self.data_dir / "agent-packages")

    @property
    def effective_parameter_key_file(self) -> Path:
        return Path(self.parameter_key_file or self.data_dir / "parameter-store.key")


def _convert(name: str, kind: Any, value: Any) -> Any:
    try:
        if kind in (int, "int"):
            return int(value)
        if kind in (Path, "Path"):
            return Path(value)
        if kind in ("tuple[str, ...]",):
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(v).strip() for v in items if str(v).strip())
        return str(value)
    except (TypeError, ValueError) as error:
        raise ConfigurationError(f"setting {name}: {error}") from None


def load_server_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> ServerSettings:
    """Build the settings; raises ConfigurationError for unknown keys or bad values."""
    environ = os.environ if environ is None else environ
    kinds = {f.name: f.type for f in fields(ServerSettings)}
    values: dict[str, Any] = {}
    config_file = environ.get(ENV_PREFIX + "CONFIG")
    if config_file:
        with open(config_file, "rb") as handle:
            table = tomllib.load(handle).get("server", {})
        unknown = sorted(set(table) - set(kinds))
        if unknown:
            raise ConfigurationError(f"unknown settings in {config_file}: {', '.join(unknown)}")
        values.update({k: _convert(k, kinds[k], v) for k, v in table.items()})
    for name, kind in kinds.items():
        env_value = environ.get(ENV_PREFIX + name.upper())
        if env_value is not None:
            values[name] = _convert(name, kind, env_value)
    for name, value in (overrides or {}).items():
        if name not in kinds:
            raise ConfigurationError(f"unknown setting {name}")
        if value is not None:
            values[name] = _convert(name, kinds[name], value)
    return replace(ServerSettings(), **values)
