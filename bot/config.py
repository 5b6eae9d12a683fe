"""Settings, read once at start from the environment and .env, declared as a pydantic-settings model.

Each field reads the variable named by its alias; an empty value means the default. A value that cannot
be used stops the program with one line naming the variable, and so does a missing or placeholder secret
once a command needs Slack (see bot/cli/entry.py): pydantic's own multi-line report never reaches the user.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

from dotenv import dotenv_values
from pydantic import BeforeValidator, Field, ValidationError
from pydantic_core import PydanticCustomError, PydanticUseDefault
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.domain.webhooks import SECRET_BYTES, SECRET_PREFIX, Receiver
from bot.notify.post_rate import DEFAULT_POSTS_PER_MINUTE

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///accessbot.db"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")
# A gateway token is a shared secret guarding every model call: at least 24 characters (e.g. the output
# of `openssl rand -hex 32`), so that it cannot be guessed.
# The shortest bearer token the gateway decision API and /metrics accept: 24 characters of a random
# secret (`openssl rand -hex 32` gives 64) are beyond guessing over the network.
BEARER_TOKEN_MIN_LENGTH = 24

# Values that mean "somebody copied .env.example and did not fill it in".
_PLACEHOLDER = re.compile(r"(^$|your[-_]|change[-_]?me|placeholder|replace[-_]?me|^x+$|<|>|\.\.\.)", re.I)
# The error type the validators below raise; its message is the text after the variable's name.
_SETTING_ERROR = "setting"


class ConfigError(Exception):
    """A setting that is missing or wrong; the message names the variable and fits on one line."""


def _problem(text: str) -> PydanticCustomError:
    # The text travels as context so that braces in a quoted value are never read as a template.
    return PydanticCustomError(_SETTING_ERROR, "{problem}", {"problem": text})


OUTBOX_LEASE = 4.0  # seconds, on PostgreSQL (see Settings.outbox_lease_seconds)
SQLITE_OUTBOX_LEASE = 10.0


def _given(value: Any) -> str:
    """The value as text, stripped; an absent or blank one means the field's default."""
    text = "" if value is None else str(value).strip()
    if not text:
        raise PydanticUseDefault()
    return text


def _secret(value: Any) -> str | None:
    # Kept as typed (not stripped): require_slack() tells "not set" from "placeholder" from "wrong prefix".
    return str(value) if value else None


def _number(minimum: float, maximum: float = math.inf, whole: bool = False) -> BeforeValidator:
    """A number of at least `minimum` (as written in the message: 1 for whole numbers, 1.0 otherwise)."""

    def parse(value: Any) -> float:
        raw = _given(value)
        try:
            number = int(raw) if whole else float(raw)
        except ValueError:
            raise _problem(f"must be a number, not '{raw}'") from None
        if not math.isfinite(number):  # nan, inf, or a float too large to hold (1e999)
            limits = f"from {minimum} to {maximum}" if math.isfinite(maximum) else f"of at least {minimum}"
            raise _problem(f"must be a finite number {limits}, not {raw}")
        if number < minimum:
            raise _problem(f"must be at least {minimum}, not {raw}")
        if number > maximum:
            raise _problem(f"must be at most {maximum}, not {number}")
        return number

    return BeforeValidator(parse)


def _slack_api_url(value: Any) -> str:
    url = _given(value)
    if not re.match(r"^https?://", url):
        raise _problem(f"must be an http(s) URL, not '{url}'")
    return url if url.endswith("/") else url + "/"


def _log_level(value: Any) -> str:
    level = _given(value).upper()
    if level not in LOG_LEVELS:
        raise _problem(f"must be DEBUG, INFO, WARNING or ERROR, not '{level}'")
    return level


def _log_format(value: Any) -> str:
    log_format = _given(value).lower()
    if log_format not in LOG_FORMATS:
        raise _problem(f"must be text or json, not '{log_format}'")
    return log_format


_PORT = _number(1, 65535, whole=True)


def _optional(parse: Callable[[str], Any]) -> BeforeValidator:
    """A setting whose absence means None (no metrics port, no clock file, the database's own lease)
    rather than a default value, which PydanticUseDefault cannot stand for; `parse` reads a given one."""

    def read(value: Any) -> Any:
        text = "" if value is None else str(value).strip()
        return parse(text) if text else None

    return BeforeValidator(read)


_OPTIONAL_PORT = _optional(lambda text: int(_PORT.func(text)))  # type: ignore[call-arg]
_OPTIONAL_LEASE = _optional(lambda text: float(_number(1.0, 3600).func(text)))  # type: ignore[call-arg]
_OPTIONAL_PATH = _optional(lambda text: Path(text).expanduser())


def _path(value: Any) -> Path:
    return Path(_given(value)).expanduser()


def _project_directory(name: str) -> Callable[[], Path]:
    # Relative to the working directory when it has one (a deployment), else the project's own copy.
    def default() -> Path:
        local = Path(name)
        return local if local.is_dir() else PROJECT_ROOT / name

    return default


class Settings(BaseSettings):
    """What AccessBot runs with, immutable. Build it with load_settings(), which chooses the environment.

    Numbers of seconds are floats; `*_dir` and `clock_file` are paths, `~` expanded, not checked for
    existence here. The Slack secrets are left out of repr() so that logging the settings leaks none.
    """

    model_config = SettingsConfigDict(frozen=True, case_sensitive=True, extra="ignore")

    slack_bot_token: Annotated[str | None, BeforeValidator(_secret)] = Field(
        None, validation_alias="SLACK_BOT_TOKEN", repr=False
    )
    slack_signing_secret: Annotated[str | None, BeforeValidator(_secret)] = Field(
        None, validation_alias="SLACK_SIGNING_SECRET", repr=False
    )
    slack_app_token: Annotated[str | None, BeforeValidator(_secret)] = Field(
        None, validation_alias="SLACK_APP_TOKEN", repr=False
    )
    # The bearer token AI gateways send to POST /v1/access/check (bot/api.py); unusable: endpoint off.
    gateway_token: Annotated[str | None, BeforeValidator(_secret)] = Field(
        None, validation_alias="ACCESSBOT_GATEWAY_TOKEN", repr=False
    )
    # The bearer token Prometheus sends to GET /metrics; unset: no /metrics.
    metrics_token: Annotated[str | None, BeforeValidator(_secret)] = Field(
        None, validation_alias="ACCESSBOT_METRICS_TOKEN", repr=False
    )
    # Where /metrics is served: unset, on `serve`'s own port (PORT); set, on this port instead, by `serve`,
    # `socket` and `worker` alike (the latter two have no other HTTP port).
    metrics_port: Annotated[int | None, _OPTIONAL_PORT] = Field(
        None, validation_alias="ACCESSBOT_METRICS_PORT"
    )
    slack_api_url: Annotated[str, BeforeValidator(_slack_api_url)] = Field(
        DEFAULT_SLACK_API_URL, validation_alias="SLACK_API_URL"
    )
    database_url: Annotated[str, BeforeValidator(_given)] = Field(
        DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL"
    )
    workflows_dir: Annotated[Path, BeforeValidator(_path)] = Field(
        default_factory=_project_directory("workflows"), validation_alias="ACCESSBOT_WORKFLOWS_DIR"
    )
    templates_dir: Annotated[Path, BeforeValidator(_path)] = Field(
        default_factory=_project_directory("templates"), validation_alias="ACCESSBOT_TEMPLATES_DIR"
    )
    port: Annotated[int, _PORT] = Field(3000, validation_alias="PORT")
    log_level: Annotated[str, BeforeValidator(_log_level)] = Field(
        "INFO", validation_alias="ACCESSBOT_LOG_LEVEL"
    )
    log_format: Annotated[str, BeforeValidator(_log_format)] = Field(
        "text", validation_alias="ACCESSBOT_LOG_FORMAT"
    )
    # Upper bounds keep each setting where it still does its job: the jobs (expiry, scheduled directives,
    # reminders) run at least hourly, threads stay a number a process can start, a Slack call or a lease
    # is counted in minutes at most, and the post pace is one Slack could grant.
    scheduler_interval: Annotated[float, _number(0.05, 3600)] = Field(
        15.0, validation_alias="ACCESSBOT_SCHEDULER_INTERVAL"
    )
    outbox_workers: Annotated[int, _number(1, 256, whole=True)] = Field(
        8, validation_alias="ACCESSBOT_OUTBOX_WORKERS"
    )
    # Unset: outbox_lease_seconds() picks the database's default.
    outbox_lease: Annotated[float | None, _OPTIONAL_LEASE] = Field(
        None, validation_alias="ACCESSBOT_OUTBOX_LEASE"
    )
    slack_timeout: Annotated[float, _number(1.0, 300)] = Field(
        10.0, validation_alias="ACCESSBOT_SLACK_TIMEOUT"
    )
    # chat.postMessage calls a minute the workspace allows (bot/notify/post_rate.py): posts are spaced
    # to it rather than sent until Slack answers 429.
    slack_posts_per_minute: Annotated[float, _number(1.0, 60_000)] = Field(
        DEFAULT_POSTS_PER_MINUTE, validation_alias="ACCESSBOT_SLACK_POSTS_PER_MINUTE"
    )
    http_threads: Annotated[int, _number(2, 1024, whole=True)] = Field(
        32, validation_alias="ACCESSBOT_HTTP_THREADS"
    )
    # A file holding an ISO-8601 UTC instant: the test clock every process of one test shares
    # (bot/clock.py reads it). Unset: real time.
    clock_file: Annotated[Path | None, _OPTIONAL_PATH] = Field(None, validation_alias="ACCESSBOT_CLOCK_FILE")
    # Each webhook receiver's signing secret, by variable name (ACCESSBOT_WEBHOOK_SECRET_<NAME>, see
    # bot/domain/webhooks.py); the variables are named by workflows/webhooks.yaml, so load_settings()
    # gathers every one of that prefix. Checked by webhook_secrets_for().
    webhook_secrets: dict[str, str] = Field(default_factory=dict, repr=False)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings() hands over the environment (os.environ, or the mapping a test or the demo gives)
        # as init values, so that it wins over .env and nothing else is read behind its back.
        return init_settings, dotenv_settings

    @property
    def gateway_token_problem(self) -> str | None:
        """Why the gateway token cannot be used (the decision API is then disabled), or None."""
        return _bearer_token_problem("ACCESSBOT_GATEWAY_TOKEN", self.gateway_token)

    @property
    def gateway_token_in_use(self) -> str | None:
        """The gateway token, stripped, when it can be used; else None (the decision API is off)."""
        return None if self.gateway_token_problem else (self.gateway_token or "").strip()

    @property
    def metrics_token_problem(self) -> str | None:
        """Why the metrics token cannot be used (GET /metrics is then off), or None."""
        return _bearer_token_problem("ACCESSBOT_METRICS_TOKEN", self.metrics_token)

    @property
    def metrics_token_in_use(self) -> str | None:
        """The metrics token, stripped, when it can be used; else None (no /metrics)."""
        return None if self.metrics_token_problem else (self.metrics_token or "").strip()

    def require_metrics(self, http_port: int | None = None, http_setting: str = "PORT") -> str | None:
        """The token GET /metrics asks for when ACCESSBOT_METRICS_PORT is set, else None. Called before a
        long-running process migrates the database or calls Slack, so that a wrong setting stops it
        with nothing done. Raises ConfigError when the port is set without a usable
        ACCESSBOT_METRICS_TOKEN (unset, a placeholder or too short: metrics are never served open, nor
        behind a guessable token), or is `http_port`, the port the Slack app listens on (named by
        `http_setting`)."""
        if self.metrics_port is None:
            return None
        token, problem = self.metrics_token_in_use, self.metrics_token_problem
        if token is None:
            raise ConfigError(
                f"ACCESSBOT_METRICS_PORT is set but {problem}; set the token Prometheus will send, or "
                "unset the port"
            )
        if self.metrics_port == http_port:
            raise ConfigError(
                f"ACCESSBOT_METRICS_PORT must differ from {http_setting} (both are {http_port}): the "
                "metrics and the Slack app each need a port of their own"
            )
        return token

    def require_slack(self, socket_mode: bool = False, bot_token_only: bool = False) -> None:
        """Fail unless the secrets for talking to Slack are set and not placeholders.

        Raises ConfigError naming the first variable at fault (never echoing its value).
        """
        _require_secret("SLACK_BOT_TOKEN", self.slack_bot_token, prefix="xoxb-")
        if bot_token_only:
            return
        if socket_mode:
            _require_secret("SLACK_APP_TOKEN", self.slack_app_token, prefix="xapp-")
        else:
            _require_secret("SLACK_SIGNING_SECRET", self.slack_signing_secret)

    def outbox_lease_seconds(self) -> float:
        """How long a claimed message or webhook delivery stays claimed once its process stops renewing
        it, in seconds: ACCESSBOT_OUTBOX_LEASE, or by default 4 on PostgreSQL and 10 on SQLite. A live
        process renews every second (bot/notify/heartbeat.py), so the lease only has to outlast a stall.
        On SQLite one long write transaction (a directive or re-check over 100,000 grants) holds the
        whole database for seconds and the renewal waits behind it; on PostgreSQL nothing holds the
        outbox's rows that long."""
        if self.outbox_lease is not None:
            return self.outbox_lease
        return SQLITE_OUTBOX_LEASE if self.database_url.startswith("sqlite") else OUTBOX_LEASE

    def webhook_secrets_for(self, receivers: Iterable[Receiver]) -> dict[str, str]:
        """Receiver name -> its signing secret (`whsec_` and 24 to 64 bytes in base64, as the Standard
        Webhooks specification has them). Raises ConfigError naming the first variable that is not set,
        holds a placeholder or is not such a secret (never echoing its value)."""
        secrets = {}
        for receiver in receivers:
            name = receiver.secret_variable
            value = self.webhook_secrets.get(name)
            what = f"the signing secret of webhook receiver '{receiver.name}'"
            if value is None or not value.strip():
                raise ConfigError(f"{name} is not set; put {what} (whsec_…) in .env or the environment")
            if _PLACEHOLDER.search(value.strip()):
                raise ConfigError(f"{name} still holds a placeholder value; set {what}")
            secrets[receiver.name] = _webhook_secret(name, value.strip())
        return secrets


# Every variable Settings reads, in field order.
VARIABLES: tuple[str, ...] = tuple(
    str(field.validation_alias) for field in Settings.model_fields.values() if field.validation_alias
)


def _bearer_token_problem(variable: str, value: str | None) -> str | None:
    """Why the bearer token in `variable` cannot be used (unset, a placeholder, shorter than
    BEARER_TOKEN_MIN_LENGTH characters), or None; never quotes the value."""
    token = (value or "").strip()
    if not token:
        return f"{variable} is not set"
    if _PLACEHOLDER.search(token):
        return f"{variable} still holds a placeholder value"
    if len(token) < BEARER_TOKEN_MIN_LENGTH:
        return f"{variable} is shorter than {BEARER_TOKEN_MIN_LENGTH} characters"
    return None


def _require_secret(name: str, value: str | None, prefix: str | None = None) -> None:
    if value is None or not value.strip():
        raise ConfigError(f"{name} is not set; put it in .env or the environment (see .env.example)")
    if _PLACEHOLDER.search(value.strip()):
        raise ConfigError(f"{name} still holds a placeholder value; set the real secret from your Slack app")
    if prefix and not value.startswith(prefix):
        raise ConfigError(f"{name} must start with '{prefix}'")


MIN_DISTINCT_SECRET_BYTES = 12


def _webhook_secret(name: str, value: str) -> str:
    if not value.startswith(SECRET_PREFIX):
        raise ConfigError(f"{name} must start with '{SECRET_PREFIX}'")
    try:
        key = base64.b64decode(value[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        key = b""
    low, high = SECRET_BYTES
    if not low <= len(key) <= high:
        raise ConfigError(
            f"{name} must be '{SECRET_PREFIX}' followed by {low} to {high} random bytes in base64"
        )
    # 24 random bytes hold about 23 different values (fewer than 12 with a chance below 1 in 10^14), and
    # are all printable characters with a chance below 1 in 10^12: fewer values is a zeroed or patterned
    # key, all printable a typed one (a password, a phrase), either of which a forger could guess.
    if len(set(key)) < MIN_DISTINCT_SECRET_BYTES or all(32 <= byte < 127 for byte in key):
        raise ConfigError(
            f"{name} does not look random (typed text, or a few byte values repeated); make one with "
            f'echo "{SECRET_PREFIX}$(openssl rand -base64 32)"'
        )
    return value


def _config_error(error: ValidationError) -> ConfigError:
    """The first problem as one line naming the variable (fields are checked in declaration order)."""
    first = error.errors()[0]
    name = ".".join(str(part) for part in first["loc"]) or "settings"
    if first["type"] == _SETTING_ERROR:
        return ConfigError(f"{name} {first.get('ctx', {}).get('problem', first['msg'])}")
    reason = " ".join(first["msg"].split())
    return ConfigError(f"{name} is not valid: {reason}")


def _webhook_variables(source: Mapping[str, str], env_file: str | None) -> dict[str, str]:
    """Every ACCESSBOT_WEBHOOK_SECRET_* variable: from `env_file`, then the environment, which wins
    (an empty value there means "not set", as for the other variables)."""
    prefix = "ACCESSBOT_WEBHOOK_SECRET_"
    found: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        found = {k: v for k, v in dotenv_values(env_file).items() if k.startswith(prefix) and v}
    for name, value in source.items():
        if name.startswith(prefix):
            if value:
                found[name] = value
            else:
                found.pop(name, None)
    return found


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | None = ".env") -> Settings:
    """Settings from the environment, with values from `env_file` where the environment has none.

    `environ` replaces os.environ when given (tests, the demo). A variable set to an empty value in the
    environment means its default, even when `env_file` sets it. A missing `env_file` is fine.
    Raises ConfigError, one line naming the variable, for a value that cannot be used.
    """
    source = os.environ if environ is None else environ
    given: dict[str, Any] = {name: source[name] for name in VARIABLES if name in source}
    given["webhook_secrets"] = _webhook_variables(source, env_file)
    try:
        return Settings(_env_file=env_file or None, **given)
    except ValidationError as error:
        raise _config_error(error) from None
