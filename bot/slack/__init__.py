"""The Slack surface: Bolt app factory and thin listeners grouped by surface."""
