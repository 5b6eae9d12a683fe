"""Settings, read once at start from the environment (after loading .env with python-dotenv).

A missing or placeholder secret stops the program with one line naming the variable (see bot/cli.py).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///accessbot.db"
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Values that mean "somebody copied .env.example and did not fill it in".
_PLACEHOLDER = re.compile(r"(^$|your[-_]|change[-_]?me|placeholder|replace[-_]?me|^x+$|<|>|\.\.\.)", re.I)


class ConfigError(Exception):
    """A setting that is missing or wrong; the message names the variable and fits on one line."""


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None
    slack_signing_secret: str | None
    slack_app_token: str | None
    slack_api_url: str
    database_url: str
    workflows_dir: Path
    templates_dir: Path
    port: int
    log_level: str
    scheduler_interval: float
    outbox_workers: int
    outbox_lease: float
    slack_timeout: float
    http_threads: int

    def require_slack(self, socket_mode: bool = False, bot_token_only: bool = False) -> None:
        """Fail unless the secrets for talking to Slack are set and not placeholders."""
        _require_secret("SLACK_BOT_TOKEN", self.slack_bot_token, prefix="xoxb-")
        if bot_token_only:
            return
        if socket_mode:
            _require_secret("SLACK_APP_TOKEN", self.slack_app_token, prefix="xapp-")
        else:
            _require_secret("SLACK_SIGNING_SECRET", self.slack_signing_secret)


def _require_secret(name: str, value: str | None, prefix: str | None = None) -> None:
    if value is None or not value.strip():
        raise ConfigError(f"{name} is not set; put it in .env or the environment (see .env.example)")
    if _PLACEHOLDER.search(value.strip()):
        raise ConfigError(f"{name} still holds a placeholder value; set the real secret from your Slack app")
    if prefix and not value.startswith(prefix):
        raise ConfigError(f"{name} must start with '{prefix}'")


def _number(env: Mapping[str, str], name: str, default: float, minimum: float, kind: type = float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not '{raw}'") from None
    if not minimum <= value < math.inf:  # also refuses nan and inf
        raise ConfigError(f"{name} must be at least {minimum}, not {raw}")
    return value


def _directory(env: Mapping[str, str], name: str, default: str) -> Path:
    raw = env.get(name, "").strip()
    if raw:
        return Path(raw).expanduser()
    # Relative to the working directory when it has one (a deployment), else the project's own copy.
    local = Path(default)
    return local if local.is_dir() else PROJECT_ROOT / default


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | None = ".env") -> Settings:
    """Settings from the environment, with values from `env_file` where the environment has none."""
    env: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    env.update(os.environ if environ is None else environ)
    api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_SLACK_API_URL
    if not re.match(r"^https?://", api_url):
        raise ConfigError(f"SLACK_API_URL must be an http(s) URL, not '{api_url}'")
    if not api_url.endswith("/"):
        api_url += "/"
    port = int(_number(env, "PORT", 3000, 1, int))
    if port > 65535:
        raise ConfigError(f"PORT must be at most 65535, not {port}")
    level = env.get("ACCESSBOT_LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"ACCESSBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not '{level}'")
    return Settings(
        slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        slack_app_token=env.get("SLACK_APP_TOKEN") or None,
        slack_api_url=api_url,
        database_url=env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
        workflows_dir=_directory(env, "ACCESSBOT_WORKFLOWS_DIR", "workflows"),
        templates_dir=_directory(env, "ACCESSBOT_TEMPLATES_DIR", "templates"),
        port=port,
        log_level=level,
        scheduler_interval=_number(env, "ACCESSBOT_SCHEDULER_INTERVAL", 15.0, 0.05),
        outbox_workers=int(_number(env, "ACCESSBOT_OUTBOX_WORKERS", 8, 1, int)),
        outbox_lease=_number(env, "ACCESSBOT_OUTBOX_LEASE", 60.0, 1.0),
        slack_timeout=_number(env, "ACCESSBOT_SLACK_TIMEOUT", 10.0, 1.0),
        http_threads=int(_number(env, "ACCESSBOT_HTTP_THREADS", 32, 2, int)),
    )
