"""Shared test helpers: databases, a real `accessbot serve` process, the Slack emulator."""
