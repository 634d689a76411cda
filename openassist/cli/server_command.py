"""``openassist server``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from openassist import logs
from openassist.cli.outcome import ExitCode
from openassist.errors import ConfigurationError
from openassist.server.app import serve
from openassist.server.settings import load_server_settings


def run_server(args: argparse.Namespace) -> int:
    try:
        settings = load_server_settings(
            overrides={
                "data_dir": args.data_dir,
                "api_host": args.api_host,
                "api_port": args.api_port,
                "agent_host": args.agent_host,
                "agent_port": args.agent_port,
                "database_url": args.database_url,
                "log_level": args.log_level,
                "log_format": args.log_format,
            }
        )
    except ConfigurationError as error:
        print(f"openassist server: {error}", file=sys.stderr)
        return ExitCode.ERROR
    logs.configure(settings.log_level, settings.log_format)
    ready = Path(args.ready_file) if args.ready_file else None
    try:
        import uvloop  # optional: a faster event loop when installed

        uvloop.run(serve(settings, ready))
    except ImportError:
        asyncio.run(serve(settings, ready))
    return 0
