"""The server's one settings object: defaults < file < ``OPENASSIST_*`` variables < flags.

Frozen after start and passed down explicitly. Unknown keys in the file and unknown
``OPENASSIST_*`` variables are errors. Each setting's comment is its documentation:
``docs/settings.md`` is generated from this class (``openassist.server.settings_reference``).
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from openassist.errors import ConfigurationError

ENV_PREFIX = "OPENASSIST_"
# ``OPENASSIST_*`` variables that other parts read (a server started from the same shell sees
# them too); any other unknown one is refused at start, as a misspelt setting would be.
OTHER_PARTS_VARIABLES = frozenset(
    {
        "OPENASSIST_CONFIG",  # the settings file itself
        # the CLI
        "OPENASSIST_ACCESS_KEY_ID",
        "OPENASSIST_ACCESS_KEY_SECRET",
        "OPENASSIST_ENDPOINT",
        "OPENASSIST_REGION",
        "OPENASSIST_DATA_DIR",
        "OPENASSIST_PROFILE",
        "OPENASSIST_CA",
        # the agent
        "OPENASSIST_AGENT_DIR",
        "OPENASSIST_AGENT_BOOT_ID",
        "OPENASSIST_AGENT_SYSTEM_STATE",
        "OPENASSIST_AGENT_DOCKER_SOCKET",
        "OPENASSIST_AGENT_BOOTSTRAPPED",
        "OPENASSIST_AGENT_SCRIPT_ENV",
    }
)
TEST_VARIABLES_PREFIX = "OPENASSIST_TEST_"  # the test suite's own


@dataclass(frozen=True)
class ServerSettings:
    # Database (SQLite), TLS files, credentials, keys and agent packages; owner-only.
    data_dir: Path = Path(".openassist")
    api_host: str = "127.0.0.1"  # where the RPC API and the console listen
    api_port: int = 8640  # the RPC API's and the console's port
    # TLS on the API and console port: "auto" (on unless api_host is a loopback address), "on"
    # or "off".
    api_tls: str = "auto"
    # The API port's certificate (chain) and key, PEM files; empty: a certificate issued by the
    # server's CA (data_dir/tls/ca.pem, which the CLI and SDKs then trust).
    api_tls_cert_file: str = ""
    api_tls_key_file: str = ""  # the key of api_tls_cert_file
    # Where the agent gateway listens (TLS only, every request signed). Loopback by default,
    # like the API: set 0.0.0.0 (or an address of this host) for agents on other machines.
    agent_host: str = "127.0.0.1"
    agent_port: int = 8643  # the agent gateway's port (TLS)
    # Empty: SQLite file in data_dir; postgresql://user@host/db needs the postgres extra.
    database_url: str = ""
    # Hints between server nodes (which node holds an agent's connection, which waiter to wake):
    # "auto" (PostgreSQL LISTEN/NOTIFY when database_url is PostgreSQL, in-process otherwise),
    # "postgres", or "memory" (one node only: another node's kicks would wait for the poll).
    # With the PostgreSQL bus the API's per-key rate buckets are kept in the database too.
    bus: str = "auto"
    regions: tuple[str, ...] = ("local",)  # RegionId values the API accepts; the first is default
    tls_hostnames: tuple[str, ...] = ()  # extra names for the agent certificate
    # How often the running server looks whether the agent certificate is due for renewal (near
    # its end, or its names changed); it is also looked at every start. 0: only at start.
    tls_renew_check_s: int = 12 * 3600
    agent_networks: tuple[str, ...] = ()  # agent access rule: allowed source networks (CIDR)
    # Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For and X-Forwarded-Proto
    # headers are believed, on both ports. Empty: those headers are ignored and the client is
    # the connection's peer address (the access rules, activation ranges and the sign-in
    # throttle all see it).
    trusted_proxies: tuple[str, ...] = ()
    heartbeat_online_s: int = 120  # an agent silent this long counts as offline
    redeliver_after_s: int = 30  # a delivered task not acknowledged this long is handed out again
    delivery_timeout_s: int = 60  # not started this long after creation: DeliveryTimeout
    response_grace_s: int = 60  # silent this long past its timeout: ClientNotResponse
    stop_timeout_s: int = 30  # a stop not confirmed in this long: TerminationException
    sweep_interval_s: int = 5  # seconds between sweeps for timed-out tasks and silent agents
    full_output_cap: int = 16 * 1024 * 1024  # bytes of full output kept per run; 0 keeps none
    api_rate_per_key: int = 200  # requests per second per access key; 0 disables the limit
    api_burst_per_key: int = 400  # requests an access key may send at once above its rate
    log_level: str = "info"  # debug, info or warning
    # "text" or "json": one line per event either way, with the request id, the user and the
    # instance id where they apply.
    log_format: str = "text"
    # Open connections per port (WebSockets included); more are refused at once with 503. The
    # server raises its open-file limit to fit both ports when the hard limit allows.
    api_max_connections: int = 256
    # Each agent holds its kick channel and, between calls, a kept-alive HTTP connection: at the
    # limit the connection kept alive idle the longest is closed for a new one, and only when
    # none is idle is a new one refused (503). Keep this above the fleet's size.
    agent_max_connections: int = 16384
    # TLS handshakes the agent port works on at once, counted from the client's first bytes;
    # the others wait their turn with no TLS work done, so that after a restart the first
    # agents back are served in time instead of all of them late (0: no limit). Raise it for
    # agents far away (a place is held for one round trip).
    agent_handshakes_at_once: int = 64
    # A connection that waited this long for a handshake place is closed unanswered: its agent
    # has given up or soon will (ours waits 30 s for the handshake and the upgrade's answer,
    # the official agent 45 s) and comes back after its backoff.
    agent_handshake_wait_s: int = 20
    # A request line and headers (and, on a TLS port, the handshake before them) must arrive
    # within this many seconds of the connection or of the request's first byte: 408.
    head_timeout_s: int = 10
    max_head_bytes: int = 64 * 1024  # a request line and headers larger than this: 431
    read_timeout_s: int = 30  # a request body that stops arriving this long: connection closed
    # Largest request body per endpoint, refused with 413 before it is read (Content-Length)
    # or as soon as it passes the limit: the RPC API (SendFile content included) ...
    api_max_body_bytes: int = 1024 * 1024
    console_max_body_bytes: int = 256 * 1024  # ... console forms, sign-in included ...
    agent_register_max_body_bytes: int = 64 * 1024  # ... agent registration (unauthenticated)
    # ... and the other agent requests (task reports carry output: keep it above 2 MiB).
    agent_max_body_bytes: int = 8 * 1024 * 1024
    # Prometheus metrics at /metrics: "api" (on the API port), "off", or HOST:PORT for a plain
    # HTTP listener of their own (with /healthz and /readyz), e.g. for a monitoring network.
    metrics: str = "api"
    # Key that seals secret parameters. Keep it apart from database backups: a database copy
    # without it reveals no secret; losing it loses the secrets. Empty: a file in data_dir.
    parameter_key_file: str = ""
    # Agent packages offered for self-upgrade (openassist-agent-<version>.zip, made by
    # `openassist agent package`). Empty: data_dir/agent-packages.
    agent_packages_dir: str = ""
    agent_update_check_s: int = 1800  # how often agents ask for a newer version
    # Shortest rate(...) interval of timed tasks (API.md 4); a test deployment may lower it.
    min_rate_interval_s: int = 60
    min_cron_interval_s: int = 10  # shortest interval between runs of a cron Frequency
    # A server-fired schedule's fire (a Period task with rollout limits) found this many seconds
    # late, because no server was running when it was due, is skipped (kept in the history) and
    # the schedule goes on at its next time; a fire less late than this still runs.
    missed_fire_grace_s: int = 60
    # The RAM user created at first start with AdministratorAccess; it owns the first access
    # key and every key of a release before users.
    admin_user: str = "admin"
    # Days audit events (LookupEvents) are kept; 0 keeps every event.
    audit_retention_days: int = 365
    # Audit sink for a SIEM: a JSON-lines file every committed event is appended to (once
    # written, at least once; owner-only, opened without following a link). Empty: no file.
    audit_sink_file: str = ""
    # The sink file is renamed to FILE.1 (replacing the previous one) when a batch would take
    # it past this size; 0: never (leave it to logrotate: a file moved away is reopened before
    # the next batch, or at once on SIGHUP, e.g. from logrotate's postrotate).
    audit_sink_file_max_bytes: int = 64 * 1024 * 1024
    # Audit sink to syslog, one RFC 5424 message per event (facility log audit, the event as
    # JSON): udp://HOST:PORT, tcp://HOST:PORT (octet-counted framing) or unix:PATH (e.g.
    # unix:/dev/log). Empty: none. UDP cannot tell a lost message: prefer TCP. An event too
    # large for one datagram goes without its request parameters, marked "truncated".
    audit_sink_syslog: str = ""
    # Seconds a node may go on acting on an access key, user or policy it cached after another
    # node changed it, when the message telling it was lost (the bus is best effort); a change
    # is otherwise honoured at once on every node. 0: nothing is cached.
    access_cache_s: int = 5

    @property
    def api_tls_enabled(self) -> bool:
        if self.api_tls == "auto":
            return not _is_loopback(self.api_host)
        return self.api_tls == "on"

    @property
    def metrics_listener(self) -> tuple[str, int] | None:
        """(host, port) of the metrics' own listener; None when on the API port or off."""
        if self.metrics in ("api", "off"):
            return None
        host, _, port = self.metrics.rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def api_scheme(self) -> str:
        return "https" if self.api_tls_enabled else "http"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'openassist.db'}"

    @property
    def on_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql:", "postgresql+", "postgres:"))

    @property
    def bus_url(self) -> str:
        """The database URL for a plain libpq connection (the bus's), or "" for the in-process
        bus."""
        if self.bus == "memory" or not self.on_postgres:
            return ""
        return "postgresql://" + self.database_url.split("://", 1)[1]

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
    _refuse_unknown_variables(environ, kinds)
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
    settings = replace(ServerSettings(), **values)
    _check(settings)
    return settings


def _check(settings: ServerSettings) -> None:
    if settings.api_tls not in ("auto", "on", "off"):
        raise ConfigurationError(f"setting api_tls: {settings.api_tls!r} is not auto, on or off")
    if settings.bus not in ("auto", "postgres", "memory"):
        raise ConfigurationError(f"setting bus: {settings.bus!r} is not auto, postgres or memory")
    if settings.bus == "postgres" and not settings.on_postgres:
        raise ConfigurationError("setting bus: postgres needs a PostgreSQL database_url")
    if settings.log_format not in ("text", "json"):
        raise ConfigurationError(f"setting log_format: {settings.log_format!r} is not text or json")
    if settings.log_level not in ("debug", "info", "warning"):
        raise ConfigurationError(
            f"setting log_level: {settings.log_level!r} is not debug, info or warning"
        )
    if settings.metrics not in ("api", "off"):
        host, _, port = settings.metrics.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigurationError(
                f"setting metrics: {settings.metrics!r} is not api, off or HOST:PORT"
            )
    if settings.access_cache_s < 0:
        raise ConfigurationError("setting access_cache_s: give 0 or more seconds")
    if bool(settings.api_tls_cert_file) != bool(settings.api_tls_key_file):
        raise ConfigurationError("settings api_tls_cert_file and api_tls_key_file go together")
    _check_audit_sink(settings)
    for proxy in settings.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigurationError(
                f"setting trusted_proxies: {proxy!r} is not an address or a CIDR network"
            ) from None


def _check_audit_sink(settings: ServerSettings) -> None:
    if settings.audit_sink_syslog and not syslog_address_valid(settings.audit_sink_syslog):
        raise ConfigurationError(
            f"setting audit_sink_syslog: {settings.audit_sink_syslog!r} is not "
            "udp://HOST:PORT, tcp://HOST:PORT or unix:PATH"
        )
    if settings.audit_sink_file and not Path(settings.audit_sink_file).is_absolute():
        raise ConfigurationError(
            f"setting audit_sink_file: {settings.audit_sink_file!r} is not an absolute path"
        )


def syslog_address_valid(address: str) -> bool:
    """udp://HOST:PORT, tcp://HOST:PORT or unix:/ABSOLUTE/PATH."""
    if address.startswith("unix:"):
        return address[len("unix:") :].startswith("/")
    scheme, _, rest = address.partition("://")
    host, _, port = rest.rpartition(":")
    return scheme in ("udp", "tcp") and bool(host) and port.isdigit() and 0 < int(port) < 65536


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse_unknown_variables(environ: Mapping[str, str], kinds: Mapping[str, Any]) -> None:
    known = {ENV_PREFIX + name.upper() for name in kinds} | OTHER_PARTS_VARIABLES
    unknown = sorted(
        name
        for name in environ
        if name.startswith(ENV_PREFIX)
        and name not in known
        and not name.startswith(TEST_VARIABLES_PREFIX)
    )
    if unknown:
        raise ConfigurationError(
            f"unknown environment variable {', '.join(unknown)}: no such setting "
            "(docs/settings.md lists them all)"
        )
