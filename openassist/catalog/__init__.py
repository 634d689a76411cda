"""Every per-instance error code: phase, resulting status, message and recommended solution.

One table, one place: API responses, the CLI, the console and ``diagnose`` render the same entry.
Must not import ``openassist.server``, ``openassist.agent`` or ``openassist.cli``.
"""
