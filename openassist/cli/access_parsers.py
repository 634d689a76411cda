"""The options of ``openassist users``, ``keys``, ``policies`` and ``audit`` (the commands:
``access_commands``): apart, so that building the parser of any command loads no API client."""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: a short command's start-up
if TYPE_CHECKING:
    from typing import Any

USER_ACTIONS = ("list", "create", "delete", "attach", "detach", "policies")
KEY_ACTIONS = ("list", "create", "enable", "disable", "delete")
POLICY_ACTIONS = ("list", "show", "create", "update", "delete")


def add_parsers(sub: Any, json_options: Any, credentials_option: Any) -> None:
    users = sub.add_parser("users", help="RAM users: list, create, delete, attach/detach policies")
    users.add_argument("action", choices=USER_ACTIONS)
    users.add_argument("name", nargs="?", default="", help="the user")
    users.add_argument("policy", nargs="?", default="", help="attach/detach: the policy")
    users.add_argument("--system", action="store_true", help="the policy is a system policy")
    keys = sub.add_parser("keys", help="access keys: list, create (secret shown once), disable")
    keys.add_argument("action", choices=KEY_ACTIONS)
    keys.add_argument("key_id", nargs="?", default="", help="enable/disable/delete: the key")
    keys.add_argument("--user", default="", help="the key's user (default: yours)")
    policies = sub.add_parser("policies", help="policies: list, show, create, update, delete")
    policies.add_argument("action", choices=POLICY_ACTIONS)
    policies.add_argument("name", nargs="?", default="", help="the policy")
    policies.add_argument("--file", default="", help="create/update: the policy document (JSON)")
    policies.add_argument("--description", default="")
    policies.add_argument("--system", action="store_true", help="show: a system policy")
    audit = sub.add_parser("audit", help="audit events, newest first (LookupEvents)")
    audit.add_argument("--user", default="", help="events of this user")
    audit.add_argument("--event", default="", help="events of this action (RunCommand ...)")
    audit.add_argument("--resource", default="", help="events about this id or name")
    audit.add_argument("--since", default="", help="UTC YYYY-MM-DDThh:mm:ssZ (default 7 days)")
    audit.add_argument("--until", default="", help="UTC YYYY-MM-DDThh:mm:ssZ (default now)")
    audit.add_argument("--limit", type=int, default=50, help="at most this many events")
    for parser in (users, keys, policies, audit):
        json_options(parser)
        credentials_option(parser)
