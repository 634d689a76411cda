"""The agent gateway: the official agent protocol (registration, heartbeats, task lists, reports,
file transfers) over HTTPS and WebSocket, authenticating each agent by its signed requests."""
