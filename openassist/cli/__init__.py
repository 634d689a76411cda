"""The ``openassist`` command line: the server and agent commands, and an API client that calls
the same RPC actions as the official SDKs (``openassist ecs``, ``run``, ``send-file`` ...)."""
