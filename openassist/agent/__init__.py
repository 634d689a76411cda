"""The agent: registers a machine, keeps its channel to the server, runs the scripts and file
transfers it is handed, and reports each result until the server has it.

Imports nothing of ``openassist.server`` or ``openassist.cli`` and no server library: it is
installed on every machine. It shares wire shapes with the gateway through
``openassist.protocol`` only; see docs/agent-protocol.md.
"""
