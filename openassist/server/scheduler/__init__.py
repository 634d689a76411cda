"""server/scheduler."""
