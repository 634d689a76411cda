"""``openassist configure``: save credentials as a named profile, so that the CLI works from any
directory (``--profile NAME`` or ``OPENASSIST_PROFILE`` picks one; ``default`` otherwise).

The secret is read from a credentials file (a server's ``admin-credentials.json``, or another
profiles file), never from the command line, where other users could see it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from openassist.cli.credentials import CredentialsNotFound, profiles_file, read_file, save_profile
from openassist.cli.outcome import ExitCode


def run_configure(args: argparse.Namespace) -> int:
    try:
        found = read_file(Path(args.source), os.environ.get("OPENASSIST_PROFILE", "default"))
    except CredentialsNotFound as error:
        print(f"openassist configure: {error}", file=sys.stderr)
        return ExitCode.ERROR
    ca_file = str(Path(args.ca).resolve()) if args.ca else found.ca_file
    credentials = found._replace(endpoint=args.endpoint or found.endpoint, ca_file=ca_file)
    target = profiles_file()
    save_profile(target, args.profile, credentials)
    print(f"profile {args.profile} saved in {target} ({credentials.endpoint})")
    return 0
