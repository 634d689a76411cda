"""The server: the RPC API (ECS and OOS actions), the agent gateway and the web console over one
database. ``app`` wires the layers; docs/architecture.md draws them."""
