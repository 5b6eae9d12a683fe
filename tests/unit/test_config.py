"""Settings: defaults, .env and the environment, and one-line errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_DATABASE_URL,
    DEFAULT_SLACK_API_URL,
    PROJECT_ROOT,
    VARIABLES,
    ConfigError,
    Settings,
    load_settings,
)

BOT_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"
APP_TOKEN = "xapp-1-A0123-4567-0123456789abcdef"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SECRETS = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_APP_TOKEN": APP_TOKEN}


def settings(env_file: str | None = None, **environ: str) -> Settings:
    return load_settings(environ, env_file=env_file)


def config_error(**environ: str) -> str:
    with pytest.raises(ConfigError) as caught:
        settings(**environ)
    return str(caught.value)


def slack_error(socket_mode: bool = False, **environ: str) -> str:
    loaded = settings(**environ)
    with pytest.raises(ConfigError) as caught:
        loaded.require_slack(socket_mode=socket_mode)
    return str(caught.value)


# --- defaults and sources ------------------------------------------------------------------------


def test_defaults() -> None:
    loaded = settings()
    assert loaded.slack_bot_token is None
    assert loaded.slack_signing_secret is None
    assert loaded.slack_app_token is None
    assert loaded.slack_api_url == DEFAULT_SLACK_API_URL == "https://slack.com/api/"
    assert loaded.database_url == DEFAULT_DATABASE_URL
    assert loaded.port == 3000
    assert loaded.log_level == "INFO"
    assert loaded.log_format == "text"
    assert loaded.metrics_port is None
    assert loaded.scheduler_interval == 15.0
    assert loaded.outbox_workers == 8
    assert loaded.outbox_lease is None and loaded.outbox_lease_seconds() == 10.0  # SQLite's
    assert loaded.slack_timeout == 10.0
    assert loaded.http_threads == 32


def test_the_outbox_lease_is_shorter_on_postgresql_unless_set() -> None:
    postgres = "postgresql+psycopg://bot@db.example.com/accessbot"
    assert settings(DATABASE_URL=postgres).outbox_lease_seconds() == 4.0
    assert settings(DATABASE_URL="sqlite:///bot.db").outbox_lease_seconds() == 10.0
    assert settings(DATABASE_URL=postgres, ACCESSBOT_OUTBOX_LEASE="7.5").outbox_lease_seconds() == 7.5
    assert settings(ACCESSBOT_OUTBOX_LEASE="2").outbox_lease_seconds() == 2.0


def test_default_directories_are_the_projects_own_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no workflows/ or templates/ here
    loaded = settings()
    assert loaded.workflows_dir == PROJECT_ROOT / "workflows"
    assert loaded.templates_dir == PROJECT_ROOT / "templates"


def test_default_directories_prefer_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "workflows").mkdir()
    monkeypatch.chdir(tmp_path)
    loaded = settings()
    assert loaded.workflows_dir.resolve() == (tmp_path / "workflows").resolve()
    assert loaded.templates_dir == PROJECT_ROOT / "templates"


def test_directories_from_the_environment(tmp_path: Path) -> None:
    loaded = settings(ACCESSBOT_WORKFLOWS_DIR=f" {tmp_path}/wf ", ACCESSBOT_TEMPLATES_DIR="~/tpl")
    assert loaded.workflows_dir == tmp_path / "wf"
    assert loaded.templates_dir == Path("~/tpl").expanduser()


def test_values_from_the_environment() -> None:
    loaded = settings(
        **SECRETS,
        DATABASE_URL="postgresql+psycopg://bot@db/accessbot",
        PORT="8080",
        ACCESSBOT_LOG_LEVEL="debug",
        ACCESSBOT_SCHEDULER_INTERVAL="0.5",
        ACCESSBOT_OUTBOX_WORKERS="2",
        ACCESSBOT_HTTP_THREADS="4",
        ACCESSBOT_LOG_FORMAT="JSON",
        ACCESSBOT_METRICS_PORT="9464",
    )
    assert loaded.slack_bot_token == BOT_TOKEN
    assert loaded.slack_signing_secret == SIGNING_SECRET
    assert loaded.database_url == "postgresql+psycopg://bot@db/accessbot"
    assert loaded.port == 8080
    assert loaded.log_level == "DEBUG"
    assert loaded.scheduler_interval == 0.5
    assert loaded.outbox_workers == 2
    assert loaded.http_threads == 4
    assert loaded.log_format == "json"
    assert loaded.metrics_port == 9464


def test_env_file_values_are_used_and_the_environment_overrides_them(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"SLACK_BOT_TOKEN={BOT_TOKEN}\nPORT=4000\nDATABASE_URL=sqlite:///from-file.db\n", encoding="utf-8"
    )
    loaded = settings(env_file=str(env_file), PORT="5000")
    assert loaded.slack_bot_token == BOT_TOKEN
    assert loaded.database_url == "sqlite:///from-file.db"
    assert loaded.port == 5000


def test_a_missing_env_file_is_fine(tmp_path: Path) -> None:
    assert settings(env_file=str(tmp_path / "absent.env")).port == 3000


def test_empty_values_mean_the_default() -> None:
    loaded = settings(
        SLACK_API_URL=" ", DATABASE_URL="", PORT="", ACCESSBOT_LOG_LEVEL=" ", SLACK_BOT_TOKEN=""
    )
    assert loaded.slack_api_url == DEFAULT_SLACK_API_URL
    assert loaded.database_url == DEFAULT_DATABASE_URL
    assert loaded.port == 3000
    assert loaded.log_level == "INFO"
    assert loaded.slack_bot_token is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8765/api", "http://127.0.0.1:8765/api/"),
        ("https://slack-gov.com/api/", "https://slack-gov.com/api/"),
    ],
)
def test_slack_api_url_gets_a_trailing_slash(given: str, expected: str) -> None:
    assert settings(SLACK_API_URL=given).slack_api_url == expected


def test_an_empty_environment_value_beats_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=4000\nACCESSBOT_LOG_LEVEL=DEBUG\n", encoding="utf-8")
    loaded = settings(env_file=str(env_file), PORT="", ACCESSBOT_LOG_LEVEL=" ")
    assert (loaded.port, loaded.log_level) == (3000, "INFO")


def test_a_given_environment_replaces_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "not-a-port")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    loaded = settings()
    assert loaded.port == 3000
    assert loaded.slack_bot_token is None
    with pytest.raises(ConfigError, match=r"^PORT must be a number, not 'not-a-port'$"):
        load_settings(env_file=None)


def test_every_variable_is_declared() -> None:
    assert set(VARIABLES) == {
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "ACCESSBOT_GATEWAY_TOKEN",
        "ACCESSBOT_METRICS_TOKEN",
        "ACCESSBOT_METRICS_PORT",
        "SLACK_API_URL",
        "DATABASE_URL",
        "ACCESSBOT_WORKFLOWS_DIR",
        "ACCESSBOT_TEMPLATES_DIR",
        "PORT",
        "ACCESSBOT_LOG_LEVEL",
        "ACCESSBOT_LOG_FORMAT",
        "ACCESSBOT_SCHEDULER_INTERVAL",
        "ACCESSBOT_OUTBOX_WORKERS",
        "ACCESSBOT_OUTBOX_LEASE",
        "ACCESSBOT_SLACK_TIMEOUT",
        "ACCESSBOT_SLACK_POSTS_PER_MINUTE",
        "ACCESSBOT_HTTP_THREADS",
        "ACCESSBOT_CLOCK_FILE",
    }


def test_settings_are_immutable() -> None:
    loaded = settings()
    with pytest.raises(ValueError):
        loaded.port = 8080  # type: ignore[misc]
    assert loaded.port == 3000


# --- the test clock file -------------------------------------------------------------------------


def test_clock_file_is_unset_by_default_and_when_empty() -> None:
    assert settings().clock_file is None
    assert settings(ACCESSBOT_CLOCK_FILE="  ").clock_file is None


def test_clock_file_is_a_path_that_need_not_exist_yet(tmp_path: Path) -> None:
    assert settings(ACCESSBOT_CLOCK_FILE=f" {tmp_path}/clock ").clock_file == tmp_path / "clock"
    assert settings(ACCESSBOT_CLOCK_FILE="~/clock").clock_file == Path("~/clock").expanduser()


def test_clock_file_from_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"ACCESSBOT_CLOCK_FILE={tmp_path}/clock\n", encoding="utf-8")
    assert settings(env_file=str(env_file)).clock_file == tmp_path / "clock"


# --- bad values ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["slack.com/api", "ftp://slack.com/api/", "localhost:8765"])
def test_bad_slack_api_url(url: str) -> None:
    assert config_error(SLACK_API_URL=url) == f"SLACK_API_URL must be an http(s) URL, not '{url}'"


def test_port_that_is_not_a_number() -> None:
    assert config_error(PORT="http") == "PORT must be a number, not 'http'"


def test_port_that_is_not_whole() -> None:
    assert config_error(PORT="3000.5") == "PORT must be a number, not '3000.5'"


def test_port_below_one() -> None:
    assert config_error(PORT="0") == "PORT must be at least 1, not 0"


def test_port_above_65535() -> None:
    assert config_error(PORT="70000") == "PORT must be at most 65535, not 70000"


def test_port_extremes_are_allowed() -> None:
    assert settings(PORT="1").port == 1
    assert settings(PORT="65535").port == 65535


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ACCESSBOT_SCHEDULER_INTERVAL", "soon", "ACCESSBOT_SCHEDULER_INTERVAL must be a number, not 'soon'"),
        ("ACCESSBOT_SCHEDULER_INTERVAL", "0", "ACCESSBOT_SCHEDULER_INTERVAL must be at least 0.05, not 0"),
        ("ACCESSBOT_OUTBOX_WORKERS", "1.5", "ACCESSBOT_OUTBOX_WORKERS must be a number, not '1.5'"),
        ("ACCESSBOT_OUTBOX_WORKERS", "0", "ACCESSBOT_OUTBOX_WORKERS must be at least 1, not 0"),
        ("ACCESSBOT_OUTBOX_LEASE", "0.5", "ACCESSBOT_OUTBOX_LEASE must be at least 1.0, not 0.5"),
        ("ACCESSBOT_SLACK_TIMEOUT", "-1", "ACCESSBOT_SLACK_TIMEOUT must be at least 1.0, not -1"),
        ("ACCESSBOT_HTTP_THREADS", "1", "ACCESSBOT_HTTP_THREADS must be at least 2, not 1"),
        ("ACCESSBOT_METRICS_PORT", "prometheus", "ACCESSBOT_METRICS_PORT must be a number, not 'prometheus'"),
        ("ACCESSBOT_METRICS_PORT", "70000", "ACCESSBOT_METRICS_PORT must be at most 65535, not 70000"),
        ("ACCESSBOT_LOG_FORMAT", "logfmt", "ACCESSBOT_LOG_FORMAT must be text or json, not 'logfmt'"),
        # Values that would quietly stop a job or exhaust the process.
        (
            "ACCESSBOT_SCHEDULER_INTERVAL",
            "1e308",
            "ACCESSBOT_SCHEDULER_INTERVAL must be at most 3600, not 1e+308",
        ),
        (
            "ACCESSBOT_OUTBOX_WORKERS",
            "9" * 23,
            f"ACCESSBOT_OUTBOX_WORKERS must be at most 256, not {'9' * 23}",
        ),
        ("ACCESSBOT_OUTBOX_LEASE", "86400", "ACCESSBOT_OUTBOX_LEASE must be at most 3600, not 86400.0"),
        ("ACCESSBOT_SLACK_TIMEOUT", "1e308", "ACCESSBOT_SLACK_TIMEOUT must be at most 300, not 1e+308"),
        (
            "ACCESSBOT_SLACK_POSTS_PER_MINUTE",
            "1e308",
            "ACCESSBOT_SLACK_POSTS_PER_MINUTE must be at most 60000, not 1e+308",
        ),
        ("ACCESSBOT_HTTP_THREADS", "100000", "ACCESSBOT_HTTP_THREADS must be at most 1024, not 100000"),
    ],
)
def test_bad_numbers_name_the_variable(name: str, value: str, message: str) -> None:
    assert config_error(**{name: value}) == message


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999", "NaN", "Infinity"])
@pytest.mark.parametrize(
    ("name", "limits"),
    [
        ("ACCESSBOT_SLACK_TIMEOUT", "from 1.0 to 300"),
        ("ACCESSBOT_SCHEDULER_INTERVAL", "from 0.05 to 3600"),
        ("ACCESSBOT_SLACK_POSTS_PER_MINUTE", "from 1.0 to 60000"),
        ("ACCESSBOT_OUTBOX_LEASE", "from 1.0 to 3600"),  # optional: unset means the database's default
    ],
)
def test_numbers_must_be_finite(name: str, limits: str, value: str) -> None:
    # Neither "at least" (inf is not too small) nor "at most" (nan is not too large): the range.
    assert config_error(**{name: value}) == f"{name} must be a finite number {limits}, not {value}"


def test_bad_log_level() -> None:
    assert config_error(ACCESSBOT_LOG_LEVEL="verbose") == (
        "ACCESSBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not 'VERBOSE'"
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PORT": "{port}"}, "PORT must be a number, not '{port}'"),
        # The first variable at fault is named, in the order of the table in README.md.
        ({"ACCESSBOT_HTTP_THREADS": "0", "PORT": "0"}, "PORT must be at least 1, not 0"),
    ],
)
def test_only_one_problem_is_reported(environ: dict[str, str], message: str) -> None:
    assert config_error(**environ) == message


def test_bad_values_in_the_env_file_name_the_variable(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ACCESSBOT_LOG_LEVEL=loud\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        settings(env_file=str(env_file))
    assert str(caught.value) == "ACCESSBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not 'LOUD'"


# --- Slack secrets -------------------------------------------------------------------------------


def test_real_secrets_pass_in_http_mode() -> None:
    settings(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET).require_slack()


def test_real_secrets_pass_in_socket_mode_without_a_signing_secret() -> None:
    settings(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN).require_slack(socket_mode=True)


def test_secrets_are_only_checked_when_asked() -> None:
    # Commands that do not talk to Slack (db, directory, workflows) run without secrets.
    assert settings().slack_bot_token is None


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_bot_token(value: str | None) -> None:
    environ = {} if value is None else {"SLACK_BOT_TOKEN": value}
    assert slack_error(**environ) == (
        "SLACK_BOT_TOKEN is not set; put it in .env or the environment (see .env.example)"
    )


@pytest.mark.parametrize(
    "value", ["xoxb-your-bot-token", "xoxb-CHANGEME", "xoxb-...", "<xoxb-token>", "xoxb-placeholder", "xxxx"]
)
def test_placeholder_bot_token(value: str) -> None:
    assert slack_error(SLACK_BOT_TOKEN=value, SLACK_SIGNING_SECRET=SIGNING_SECRET) == (
        "SLACK_BOT_TOKEN still holds a placeholder value; set the real secret from your Slack app"
    )


@pytest.mark.parametrize("value", ["xoxp-1234-5678-abcd", "xapp-1-A0123-4567", "1234-5678"])
def test_bot_token_with_the_wrong_prefix(value: str) -> None:
    assert slack_error(SLACK_BOT_TOKEN=value, SLACK_SIGNING_SECRET=SIGNING_SECRET) == (
        "SLACK_BOT_TOKEN must start with 'xoxb-'"
    )


def test_http_mode_needs_the_signing_secret() -> None:
    assert slack_error(SLACK_BOT_TOKEN=BOT_TOKEN).startswith("SLACK_SIGNING_SECRET is not set")


def test_placeholder_signing_secret() -> None:
    assert slack_error(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET="replace-me").startswith(
        "SLACK_SIGNING_SECRET still holds a placeholder value"
    )


def test_socket_mode_needs_the_app_token() -> None:
    message = slack_error(socket_mode=True, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET)
    assert message == "SLACK_APP_TOKEN is not set; put it in .env or the environment (see .env.example)"


def test_socket_mode_app_token_prefix() -> None:
    message = slack_error(socket_mode=True, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=BOT_TOKEN)
    assert message == "SLACK_APP_TOKEN must start with 'xapp-'"


def test_the_example_env_file_is_refused_until_filled_in() -> None:
    example = str(PROJECT_ROOT / ".env.example")
    loaded = settings(env_file=example)
    with pytest.raises(ConfigError, match=r"^SLACK_BOT_TOKEN still holds a placeholder"):
        loaded.require_slack()
    loaded = settings(env_file=example, SLACK_BOT_TOKEN=BOT_TOKEN)
    with pytest.raises(ConfigError, match=r"^SLACK_SIGNING_SECRET still holds a placeholder"):
        loaded.require_slack()
    with pytest.raises(ConfigError, match=r"^SLACK_APP_TOKEN still holds a placeholder"):
        loaded.require_slack(socket_mode=True)


@pytest.mark.parametrize("name", ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"])
def test_secret_errors_never_echo_the_secret(name: str) -> None:
    environ = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    environ[name] = "xoxq-your-real-looking-secret-123"
    message = slack_error(**environ)
    assert name in message
    assert "real-looking" not in message


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "ACCESSBOT_GATEWAY_TOKEN is not set"),
        ("   ", "ACCESSBOT_GATEWAY_TOKEN is not set"),
        ("your-gateway-token-goes-here-please", "ACCESSBOT_GATEWAY_TOKEN still holds a placeholder value"),
        ("short-but-real-3f9a", "ACCESSBOT_GATEWAY_TOKEN is shorter than 24 characters"),
        ("  3f9a1c2b7d8e4f6a0b1c2d3e4f5a6b7c  ", None),
    ],
)
def test_the_gateway_token_is_used_only_when_it_is_a_real_secret(
    value: str | None, problem: str | None
) -> None:
    """An unusable token turns the decision API off (bot/api.py) rather than stopping the bot."""
    settings = load_settings({} if value is None else {"ACCESSBOT_GATEWAY_TOKEN": value}, env_file=None)
    assert settings.gateway_token_problem == problem
    assert settings.gateway_token_in_use == (None if problem else value.strip())  # type: ignore[union-attr]
    assert "3f9a" not in repr(settings)
