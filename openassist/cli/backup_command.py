"""``openassist backup`` and ``openassist restore``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from openassist.cli.outcome import ExitCode
from openassist.errors import ConfigurationError
from openassist.server.backup import backup, restore
from openassist.server.settings import load_server_settings


def run_backup_command(args: argparse.Namespace) -> int:
    try:
        # The server's own settings (file, OPENASSIST_* variables), so the backup finds the
        # database and the sealing key where the server keeps them.
        settings = load_server_settings(overrides={"data_dir": args.data_dir})
        if args.command == "backup":
            made = backup(settings, Path(args.destination))
            if made.database is None:
                print(
                    "the store is PostgreSQL: dump it with pg_dump (see the README); "
                    f"keys written to {made.keys}"
                )
            else:
                print(f"database (schema {made.revision}) backed up to {made.database}")
            print(f"{made.key_files} key and credential file(s) in {made.keys} (owner-only)")
            return 0
        made = restore(Path(args.backup), settings.data_dir)
        print(f"restored into {settings.data_dir}: {made.key_files} key file(s)", end="")
        print(f", database at schema {made.revision}" if made.database else " (no database)")
        return 0
    except (ConfigurationError, OSError) as error:
        print(f"openassist {args.command}: {error}", file=sys.stderr)
        return ExitCode.ERROR
