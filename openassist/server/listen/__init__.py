"""How both listeners take connections: limits on connections, heads and bodies, and the
official agent's raw UTF-8 request targets, in front of the ASGI apps."""
