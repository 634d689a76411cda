"""The web console: server-rendered pages under ``/console`` on the API port.

Reads and writes only through ``openassist.server.service`` (the same use cases as the RPC
API); never imports ``openassist.server.api`` or ``openassist.server.gateway``, and takes from
``openassist.server.store`` only filter and paging types (no query of its own).
Templates and the one script are package data.

Public face: ``ConsoleKeys``, ``console_app`` and ``first_password`` (used by the composition
root).
"""

from openassist.server.console.identity import ConsoleKeys, first_password
from openassist.server.console.routes import console_app

__all__ = ["ConsoleKeys", "console_app", "first_password"]
