"""The environment a script starts with: a clean, login-like one of the user who runs it.

Nothing of the agent's own environment reaches a script (its settings, its service manager's
variables, whatever its installer left there), for root scripts as for scripts run as another
user (issue 13, low). Every script gets HOME, USER, LOGNAME, SHELL and PATH of its user, LANG
(the agent's own locale, else ``C.UTF-8``), and TZ when the agent has one, so that a script sees
the same local time as the agent's schedules. An operator who wants scripts to see more of the
agent's environment (a proxy, say) names those variables in ``OPENASSIST_AGENT_SCRIPT_ENV``
(comma-separated); nothing else passes. docs/security.md lists the set.
"""

from __future__ import annotations

import os

# What login(1) sets on Debian and most distributions (login.defs ENV_SUPATH / ENV_PATH).
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
USER_PATH = "/usr/local/bin:/usr/bin:/bin"
DEFAULT_SHELL = "/bin/sh"
DEFAULT_LANG = "C.UTF-8"
SCRIPT_ENV_SETTING = "OPENASSIST_AGENT_SCRIPT_ENV"  # names of agent variables scripts also get


def script_environment(name: str, uid: int, home: str, shell: str) -> dict[str, str]:
    """The variables of a script run as the user ``name`` (``uid``, ``home``, login ``shell``)."""
    env = {
        "HOME": home or "/",
        "USER": name,
        "LOGNAME": name,
        "SHELL": shell or DEFAULT_SHELL,
        "PATH": ROOT_PATH if uid == 0 else USER_PATH,
        "LANG": os.environ.get("LANG") or DEFAULT_LANG,
    }
    zone = os.environ.get("TZ")
    if zone:
        env["TZ"] = zone
    for passed in os.environ.get(SCRIPT_ENV_SETTING, "").split(","):
        value = os.environ.get(passed.strip())
        if passed.strip() and value is not None:
            env[passed.strip()] = value
    return env
