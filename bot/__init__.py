"""AccessBot: controls who may use which AI models, from Slack."""

__version__ = "0.1.0"
