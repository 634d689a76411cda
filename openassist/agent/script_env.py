"""The environment a script starts with: a clean, login-like one of the user who runs it.

Nothing of the agent's own environment reaches a script (its settings, its service manager's
variables, whatever its installer left there), for root scripts as for scripts run as another
user (issue 13, low). Every script gets HOME, USER, LOGNAME, SHELL and PATH of its user, LANG
(the agent's own locale, else ``C.UTF-8``), and TZ when the agent has one, so that a script sees
the same local time as the agent's schedules. An operator who wants scripts to see more of the
agent's environment (a proxy, say) names those variables in ``OPENASSIST_AGENT_SCRIPT_ENV``
(comma-separated); nothing else passes. docs/security.md lists the set. The agent's values come
from its settings (``AgentEnvironment``).
"""

from __future__ import annotations

from openassist.agent.settings import SCRIPT_ENV_ENV, AgentEnvironment

# What login(1) sets on Debian and most distributions (login.defs ENV_SUPATH / ENV_PATH).
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
USER_PATH = "/usr/local/bin:/usr/bin:/bin"
DEFAULT_SHELL = "/bin/sh"
DEFAULT_LANG = "C.UTF-8"
SCRIPT_ENV_SETTING = SCRIPT_ENV_ENV


def script_environment(
    name: str, uid: int, home: str, shell: str, agent: AgentEnvironment
) -> dict[str, str]:
    """The variables of a script run as the user ``name`` (``uid``, ``home``, login ``shell``)."""
    env = {
        "HOME": home or "/",
        "USER": name,
        "LOGNAME": name,
        "SHELL": shell or DEFAULT_SHELL,
        "PATH": ROOT_PATH if uid == 0 else USER_PATH,
        "LANG": agent.lang or DEFAULT_LANG,
    }
    if agent.tz:
        env["TZ"] = agent.tz
    env.update(agent.script_env)
    return env
