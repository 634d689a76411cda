"""server/console."""
