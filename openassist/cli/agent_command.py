"""``openassist agent register`` and ``openassist agent run``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from openassist.agent import upgrade
from openassist.agent.main import run_agent
from openassist.agent.settings import AgentEnvironment, AgentSettings


def default_state_dir(environment: AgentEnvironment | None = None) -> Path:
    configured = (environment or AgentEnvironment.read()).state_dir
    if configured:
        return Path(configured)
    if os.geteuid() == 0:
        return Path("/var/lib/openassist-agent")
    return Path.home() / ".openassist-agent"


def run_agent_command(args: argparse.Namespace) -> int:
    # Absolute from the start: scripts run in their own working directory, and a relative
    # state directory would make every one fail to open its script file.
    environment = AgentEnvironment.read()
    state_dir = Path(args.state_dir) if args.state_dir else default_state_dir(environment)
    state_dir = state_dir.absolute()
    if args.agent_command == "register":
        # Imported here: registration needs ``cryptography``, a running agent does not.
        from openassist.agent.registration import RegistrationError, register

        try:
            identity = asyncio.run(
                register(
                    state_dir,
                    args.server,
                    Path(args.ca),
                    args.activation_id,
                    args.activation_code,
                    instance_name=args.name,
                )
            )
        except (RegistrationError, OSError) as error:
            print(f"openassist agent register: {error}", file=sys.stderr)
            return 1
        print(identity.instance_id)
        return 0
    argv = [
        "agent",
        "run",
        "--state-dir",
        str(state_dir.resolve()),
        "--heartbeat",
        str(args.heartbeat),
    ]
    defaults = AgentSettings()
    if (args.kick_ping, args.kick_pong) != (defaults.kick_ping_s, defaults.kick_pong_s):
        # Only when set: a version that predates these flags can still be started.
        argv += ["--kick-ping", str(args.kick_ping), "--kick-pong", str(args.kick_pong)]
    if args.poll != defaults.poll_s:
        argv += ["--poll", str(args.poll)]
    settings = AgentSettings(
        heartbeat_s=args.heartbeat,
        kick_ping_s=args.kick_ping,
        kick_pong_s=args.kick_pong,
        poll_s=args.poll,
        environment=environment,
    )
    # An upgraded version, when one is installed.
    upgrade.start_installed(state_dir, argv, settings.environment.bootstrapped)
    try:
        restart = asyncio.run(run_agent(state_dir, settings))
    except FileNotFoundError:
        print(
            f"openassist agent run: no identity in {state_dir}; run `openassist agent register` "
            "first",
            file=sys.stderr,
        )
        return 1
    if restart is not None:
        upgrade.exec_into(*restart, argv)
    return 0
