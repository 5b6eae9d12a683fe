"""Pure logic: no Slack, SQL or Jinja imports. Plain functions over plain data."""
