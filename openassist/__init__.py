"""OpenAssist: a self-hosted Cloud Assistant.

Packages: ``protocol``, ``catalog``, ``expressions`` and ``errors`` are the leaf layer shared by the
server and the agent; ``server`` and ``agent`` never import each other; nothing imports ``cli``.
"""

__version__ = "0.2.0"
