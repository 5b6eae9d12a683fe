"""Outgoing Slack messages: the durable outbox and the sender that delivers it."""
