"""``openassist``: the command line. Subcommands import their part lazily, so that
``openassist agent run`` never loads the server's libraries."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from openassist import __version__
from openassist.cli import access_parsers
from openassist.cli.outcome import ExitCode
from openassist.cli.parsing import Parser, Subcommands, command_in
from openassist.cli.targets import add_target_options

TYPE_CHECKING = False  # typing is not imported at run time: a short command's start-up
if TYPE_CHECKING:
    from typing import NoReturn


def _parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = Parser(
        prog="openassist",
        description="OpenAssist: run commands and send files on your machines.",
    )
    parser.add_argument("--version", action="version", version=f"openassist {__version__}")
    # No defaults here: the server's settings (file, OPENASSIST_LOG_*) apply unless a flag is given.
    parser.add_argument("--log-level", choices=["debug", "info", "warning"], help="default info")
    parser.add_argument(
        "--log-format", choices=["text", "json"], help="one line per event (default text)"
    )
    wanted = command_in(argv)
    sub = Subcommands(parser, wanted)  # an unknown word builds none: argparse names it

    server = sub.add_parser("server", help="run the server (RPC API + agent gateway)")
    server.add_argument("--data-dir", help="where the database, TLS files and credentials live")
    server.add_argument("--api-host")
    server.add_argument("--api-port", type=int)
    server.add_argument("--agent-host")
    server.add_argument("--agent-port", type=int)
    server.add_argument("--database-url", help="default: SQLite file in the data directory")
    server.add_argument("--ready-file", help="written once both listeners accept connections")
    server_sub = server.add_subparsers(dest="server_command")
    server_unit = server_sub.add_parser(
        "install-service", help="write the systemd unit openassist-server.service"
    )
    server_unit.add_argument("--data-dir", default="/var/lib/openassist", help="/var/lib/NAME")
    _unit_options(server_unit)

    agent = sub.add_parser("agent", help="the agent: register this host, or run")
    agent_sub = agent.add_subparsers(dest="agent_command", required=True)
    register = agent_sub.add_parser("register", help="register with an activation")
    register.add_argument("--server", required=True, help="HOST:PORT of the agent gateway")
    register.add_argument("--ca", required=True, help="the server's CA file (ca.pem)")
    register.add_argument("--activation-id", required=True)
    register.add_argument("--activation-code", required=True)
    register.add_argument("--name", default="", help="instance name (default: from activation)")
    register.add_argument("--state-dir")
    run_agent = agent_sub.add_parser("run", help="run the agent until stopped")
    run_agent.add_argument("--state-dir")
    run_agent.add_argument("--heartbeat", type=float, default=60.0, help="seconds")
    run_agent.add_argument(
        "--kick-ping", type=float, default=60.0, help="seconds between pings of the kick channel"
    )
    run_agent.add_argument(
        "--kick-pong", type=float, default=10.0, help="seconds to wait for the server's answer"
    )
    run_agent.add_argument(
        "--poll",
        type=float,
        default=60.0,
        help="seconds between task-list polls while the kick channel is down (10 times that"
        " while it is up: a lost kick waits at most that long)",
    )
    agent_unit = agent_sub.add_parser(
        "install-service", help="write the systemd unit openassist-agent.service"
    )
    agent_unit.add_argument("--state-dir", default="/var/lib/openassist-agent")
    _unit_options(agent_unit)
    package = agent_sub.add_parser("package", help="make the package agents upgrade to")
    package.add_argument("--out", default=".openassist/agent-packages", help="the server's dir")
    package.add_argument("--version", default="", help="label (default: this installation's)")
    package.add_argument("--key", default="", help="signing key (default: <out>/../tls/ca.key)")

    run = sub.add_parser("run", help="run a shell script on machines and show the results")
    run.add_argument("script", nargs="?", default="", help="the script; '-' reads standard input")
    run.add_argument("-f", "--file", default="", help="read the script from this file")
    add_target_options(run)
    run.add_argument("--timeout", type=int, default=60, help="seconds")
    run.add_argument("--workdir", default="")
    run.add_argument("--user", default="")
    run.add_argument("--container-name", default="", help="run inside this container")
    run.add_argument("--container-id", default="", help="[docker://]<64 hex>: run inside it")
    run.add_argument("--no-wait", action="store_true", help="print the task id and leave")
    run.add_argument(
        "--frequency", default="", help="rate(5m), at(...) or cron: a Period task (no wait)"
    )
    _rollout_options(run)
    _group_option(run)
    _json_options(run)
    _credentials_option(run)

    send = sub.add_parser("send-file", help="send a local file to machines and show the results")
    send.add_argument("local", help="the file to send (at most 32 KB after Base64)")
    send.add_argument("--to", required=True, help="absolute target directory on the machines")
    add_target_options(send)
    send.add_argument("--name", default="", help="its name there (default: the local name)")
    send.add_argument("--mode", default="0644", help="octal, as chmod takes it")
    send.add_argument("--owner", default="root")
    send.add_argument("--group", default="root")
    send.add_argument("--overwrite", action="store_true", help="replace an existing file")
    send.add_argument("--timeout", type=int, default=60, help="seconds")
    send.add_argument("--no-wait", action="store_true")
    _rollout_options(send)
    _json_options(send)
    _credentials_option(send)

    invocations = sub.add_parser(
        "invocations", help="list tasks (commands and files), newest first"
    )
    invocations.add_argument("--status")
    invocations.add_argument("--limit", type=int, default=20)
    _json_options(invocations)
    _credentials_option(invocations)

    instances = sub.add_parser("instances", help="list machines: name, id, online, agent, tags")
    add_target_options(instances, required=False)
    _json_options(instances)
    _credentials_option(instances)

    results = sub.add_parser("results", help="per-machine results of a task (t-... or f-...)")
    results.add_argument("invoke_id", nargs="+")
    add_target_options(results, required=False)
    results.add_argument("--wait", action="store_true", help="follow until every machine ends")
    _group_option(results)
    _json_options(results)
    _credentials_option(results)

    stop = sub.add_parser("stop", help="stop a task on every machine (or -i ones) running it")
    stop.add_argument("invoke_id", nargs="+")
    add_target_options(stop, required=False)
    _credentials_option(stop)

    output = sub.add_parser("output", help="the full output of one run (raw bytes)")
    output.add_argument("invoke_id")
    output.add_argument("--instance", "-i", required=True, help="instance id, name or hostname")
    output.add_argument("--follow", "-f", action="store_true", help="keep reading while it runs")
    _credentials_option(output)

    diagnose = sub.add_parser("diagnose", help="why each machine of a task failed, and the fix")
    diagnose.add_argument("invoke_id")
    add_target_options(diagnose, required=False)
    _json_options(diagnose)
    _credentials_option(diagnose)

    access_parsers.add_parsers(sub, _json_options, _credentials_option)

    # No argparse help here: ``--help`` after an action prints that action's parameters.
    ecs = sub.add_parser(
        "ecs", help="call an API action: openassist ecs <Action> --Param value", add_help=False
    )
    ecs.add_argument("action", nargs="?", default="")
    _credentials_option(ecs)

    configure = sub.add_parser(
        "configure", help="save credentials as a profile in ~/.config/openassist/credentials"
    )
    configure.add_argument("--from", dest="source", required=True, help="a credentials file")
    configure.add_argument("--profile", default="default")
    configure.add_argument("--endpoint", default="", help="https://host:8640 (default: file's)")
    configure.add_argument("--ca", default="", help="the server's ca.pem (default: file's)")

    backup = sub.add_parser("backup", help="back up a server's database and keys, online")
    backup.add_argument("destination", help="a new directory for the backup")
    backup.add_argument("--data-dir", help="the server's data directory (as for the server)")
    restore = sub.add_parser("restore", help="make a new data directory from a backup")
    restore.add_argument("backup", help="a directory `openassist backup` made")
    restore.add_argument("--data-dir", help="the new (or empty) data directory")

    quickstart = sub.add_parser("quickstart", help="server + local agent + a command, end to end")
    quickstart.add_argument("--data-dir", default=".openassist")
    quickstart.add_argument("--api-port", type=int, default=8640)
    quickstart.add_argument("--agent-port", type=int, default=8643)
    return parser


def _unit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--unit-dir", default="/etc/systemd/system", help="where units go")
    parser.add_argument(
        "--start", action="store_true", help="then systemctl daemon-reload and enable --now"
    )


def _json_options(parser: argparse.ArgumentParser) -> None:
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="one JSON document (API field names)")
    shape.add_argument("--jsonl", action="store_true", help="one JSON line per item as it comes")


def _rollout_options(parser: argparse.ArgumentParser) -> None:
    """README "Rollouts": the API's MaxConcurrency, MaxErrors, BatchWait, DeliveryDeadline."""
    parser.add_argument(
        "--max-concurrency",
        default="",
        metavar="N",
        help="at most N (or N%%) machines at once (a rollout)",
    )
    parser.add_argument(
        "--max-errors",
        default="",
        metavar="N",
        help="stop after more than N (or N%%) machines failed",
    )
    parser.add_argument(
        "--batch-wait",
        default="",
        metavar="SECONDS",
        help="seconds a freed slot stays empty (needs --max-concurrency)",
    )
    parser.add_argument(
        "--delivery-deadline",
        default="",
        metavar="WHEN",
        help="an offline machine waits for its agent until then: seconds from now (up to "
        "604800) or a UTC time such as 2030-01-02T03:04:05Z",
    )


def _group_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-b",
        "--group",
        action="store_true",
        help="show identical outputs once, with their machines",
    )


def _credentials_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--credentials", help="a server's admin-credentials.json or a profiles file"
    )
    parser.add_argument(
        "--profile", help="profile in ~/.config/openassist/credentials (or OPENASSIST_PROFILE)"
    )
    parser.add_argument("--endpoint", help="the API: https://host:8640 (or OPENASSIST_ENDPOINT)")
    parser.add_argument("--ca", help="CA file that verifies an https endpoint (or OPENASSIST_CA)")


def _asks_help(extra: Sequence[str]) -> bool:
    """``--help`` / ``-h`` in a name position of ``--Name value`` pairs (not as a value)."""
    return any(item in ("--help", "-h") for item in extra[::2])


def _needs_server_extra(command: str, missing: ModuleNotFoundError) -> int:
    """A plain install is the agent and the CLI: say what the server part needs."""
    print(
        f"openassist {command}: this installation has no server libraries ({missing}); "
        "install them with: pip install 'openassist[server]'",
        file=sys.stderr,
    )
    return ExitCode.ERROR


# They print what they have to say and log nothing: not loading logging keeps them quick.
_FLEET_COMMANDS = frozenset(
    {"run", "send-file", "results", "stop", "invocations", "instances", "output", "diagnose"}
    | {"users", "keys", "policies", "audit"}
)


def _configure_logging(level: str | None, log_format: str | None) -> None:
    import logging  # only the server and the agent log; the fleet commands print

    from openassist import logs

    logs.configure(level or "info", log_format or "text")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migration chatter at every start


def _parse(words: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """The options, and the words only ``ecs`` takes (its ``--Name value`` pairs)."""
    parser = _parser(words)
    args, extra = parser.parse_known_args(words)
    if args.command != command_in(words):  # argparse read another word as the command
        parser = _parser()  # (after an abbreviated option, say): every parser built
        args, extra = parser.parse_known_args(words)
    if extra and args.command != "ecs":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args, extra


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args, extra = _parse(words)
    if args.command not in _FLEET_COMMANDS:
        _configure_logging(args.log_level, args.log_format)
    if args.command in ("server", "agent") and "install-service" in (
        getattr(args, "server_command", None),
        getattr(args, "agent_command", None),
    ):
        from openassist.cli.install_service import run_install_service

        return run_install_service(args, args.command)
    if args.command == "server":
        try:
            from openassist.cli.server_command import run_server
        except ModuleNotFoundError as missing:
            return _needs_server_extra("server", missing)
        return run_server(args)
    if args.command in ("backup", "restore"):
        from openassist.cli.backup_command import run_backup_command

        return run_backup_command(args)
    if args.command == "agent" and args.agent_command == "package":
        from openassist.cli.agent_package import run_package_command

        return run_package_command(args)
    if args.command == "agent":
        from openassist.cli.agent_command import run_agent_command

        return run_agent_command(args)
    if args.command == "ecs" and (not args.action or _asks_help(extra)):
        from openassist.cli.ecs_help import show_ecs_help

        return show_ecs_help(args.action, _asks_help(extra))
    if args.command == "configure":
        from openassist.cli.configure import run_configure

        return run_configure(args)
    if args.command == "quickstart":
        from openassist.cli.quickstart import run_quickstart

        return run_quickstart(args)
    from openassist.cli.task_commands import run_task_command

    code = run_task_command(args, extra)
    if argv is None:  # the program itself (console script, python -m), not a caller's call
        _leave(code)
    return code


def _leave(code: int) -> NoReturn:
    """End a fleet command's process now: its output flushed, its connection closed, nothing
    else open. The interpreter's own teardown (freeing every module and object) would change
    nothing, and costs 15 million instructions, a tenth of such a command (callgrind)."""
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105  # contextlib.suppress: a module to load, 3 million instructions
            stream.flush()
        except (BrokenPipeError, ValueError):  # reader gone (``| head``); closed
            pass
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
