"""Wire formats shared by the server and the agent: pure data, no I/O.

Holds the agent protocol of the official Cloud Assistant agent (``/luban/api/...``), the status
enumerations of the ECS API, and the ACS request-signature canonicalisation. Must not import
``openassist.server``, ``openassist.agent`` or ``openassist.cli``.
"""
