"""Frequency expressions: rate(...), at(...) and cron with time zones (pure functions, no I/O).

Shared by server and agent; must not import ``openassist.server``, ``openassist.agent`` or
``openassist.cli``.
"""
