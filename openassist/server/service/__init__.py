"""server/service."""
