"""GET /metrics as an operator's Prometheus reads it: people act in Slack and a gateway asks, over HTTP
against the emulator, and the scraped counts (parsed with prometheus_client's own parser) move as those
actions imply: requests and acks by surface and outcome, replays, deliveries, failures and rate-limit
pauses by kind and reason, the outbox's depth and age, scheduled jobs, webhooks. Only a scraper with the
token gets them; a `worker` serves them on a port of its own."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.app import InProcessBot
from tests.support.bot_server import FIXTURES, BotServer, free_port, wait_until_answering
from tests.support.cli import run_cli
from tests.support.seed import add_grants, prepare_database
from tests.support.slack import SlackDriver, SlackEmulator
from tests.support.webhook_receiver import WebhookReceiver, workflows_with

TOKEN = "metrics-4e1f0a9b8c7d6e5f4a3b"
GATEWAY_TOKEN = "gw-8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d"
ALICE, BORIS, MARIA, ADMIN = "U0ALICE01", "U0BORIS01", "U0MARIA01", "U0ADMIN01"
WHY = "Evaluating summarisation quality for the quarterly research report"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def get(url: str, token: str | None = TOKEN) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def scrape(url: str) -> Samples:
    """Every sample of `url`'s /metrics, by name and labels."""
    status, text = get(f"{url}/metrics")
    assert status == 200, text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def bot(start_server: Callable[..., InProcessBot]) -> InProcessBot:
    return start_server(ACCESSBOT_METRICS_TOKEN=TOKEN, ACCESSBOT_GATEWAY_TOKEN=GATEWAY_TOKEN)


@pytest.fixture
def slack(bot: InProcessBot, emulator: SlackEmulator) -> SlackDriver:
    return bot.driver(emulator)


def test_requests_are_counted_and_timed_by_surface_and_outcome(
    bot: InProcessBot, slack: SlackDriver, emulator: SlackEmulator
) -> None:
    before = scrape(bot.url)
    assert slack.command(ALICE, "status").status == 200
    assert slack.command(BORIS, "models").status == 200
    assert slack.app_home_opened(ALICE, event_id="Ev0METRICS01").status == 200
    assert slack.app_home_opened(ALICE, event_id="Ev0METRICS01", retry_num=1).status == 200  # a retry
    assert slack.command(ALICE, "status", sign=False).status == 401
    assert slack.command(ALICE, "status", timestamp=1_600_000_000).status == 401  # years old
    assert slack.raw(b'{"type": "event_callback", "event": [1', sign=True).status == 400
    # A request filed twice with the same signature: the second is a replay.
    body = urlencode(
        {
            "command": "/access", "text": f"request lumen-3 {WHY}", "user_id": ALICE, "team_id": "T0ACCESS",
            "channel_id": "C0GENERAL", "trigger_id": emulator.new_trigger_id(ALICE),
            "response_url": emulator.new_response_url(ALICE, "C0GENERAL"),
        }
    ).encode()  # fmt: skip
    signed_at = int(time.time())
    first = slack.raw(body, None, "application/x-www-form-urlencoded", timestamp=signed_at)
    assert "R1 filed" in first.body
    again = slack.raw(body, None, "application/x-www-form-urlencoded", timestamp=signed_at)
    assert "already received this exact request" in again.body
    gateway = urllib.request.Request(
        f"{bot.url}/v1/access/check",
        data=json.dumps({"user": ALICE, "model": "lumen-3"}).encode(),
        headers={"Authorization": f"Bearer {GATEWAY_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(gateway, timeout=10) as answer:
        assert json.loads(answer.read())["code"] == "no_grant"
    bot.settle()
    after = scrape(bot.url)

    requests = "accessbot_requests_total"
    assert moved(before, after, requests, surface="slash_command", outcome="acked") == 4
    assert moved(before, after, requests, surface="event", outcome="acked") == 2
    assert moved(before, after, requests, surface="unknown", outcome="bad_signature") == 2
    assert moved(before, after, requests, surface="unknown", outcome="malformed") == 1
    assert moved(before, after, requests, surface="gateway", outcome="answered") == 1
    assert moved(before, after, "accessbot_slack_replays_total", surface="slash_command") == 1
    assert moved(before, after, "accessbot_slack_replays_total", surface="event") == 1
    assert moved(before, after, "accessbot_gateway_checks_total", allow="false", code="no_grant") == 1
    # Every answered request was timed, by its surface.
    timed = "accessbot_request_duration_seconds_count"
    assert moved(before, after, timed, surface="slash_command") == 4
    assert moved(before, after, timed, surface="event") == 2
    assert moved(before, after, timed, surface="gateway") == 1
    # Only the fixed words: no user, channel or model in any label.
    for name, labels in after:
        assert not any(mark in v for _, v in labels for mark in ("U0", "C0", "lumen")), (name, labels)


def test_deliveries_failures_and_rate_limit_pauses_by_kind_and_reason(
    bot: InProcessBot, slack: SlackDriver, emulator: SlackEmulator
) -> None:
    before = scrape(bot.url)
    # The manager's approval DM is delivered; the request's filing answer too (response_url).
    emulator.fail_next("views.publish", status=429, error="ratelimited", retry_after=1)
    slack.app_home_opened(BORIS)
    emulator.wait_for(lambda: emulator.home(BORIS), timeout=30)
    emulator.fail_next("chat.postMessage", status=500, error="internal_error", channel=MARIA)
    assert "R1 filed" in slack.command(ALICE, f"request lumen-3 {WHY}").body
    emulator.wait_for(lambda: emulator.messages(MARIA), timeout=30)
    bot.settle()
    emulator.fail_next("chat.postMessage", status=200, error="channel_not_found", channel="C0AIMODELS")
    add_grants(bot.env["DATABASE_URL"], [BORIS], "lumen-3")
    notice = bot.workdir / "notice.txt"
    notice.write_text("Lumen 3 is withdrawn for everyone.")
    run_cli(
        bot, "directive", "issue", "--title", "Withdrawal", "--authority", "Board", "--reference", "BR-2",
        "--models", "lumen-3", "--population", "everyone", "--action", "suspend",
        "--notice-file", str(notice),
    )  # fmt: skip
    emulator.wait_for(lambda: emulator.messages(BORIS), timeout=30)
    bot.settle()
    after = scrape(bot.url)

    assert moved(before, after, "accessbot_slack_rate_limit_pauses_total", method="views.publish") == 1
    assert moved(before, after, "accessbot_slack_rate_limit_pause_seconds_total", method="views.publish") == 1
    assert moved(before, after, "accessbot_outbox_delivered_total", kind="home") >= 1
    assert (
        moved(before, after, "accessbot_outbox_retries_total", kind="post", reason="slack_unavailable") == 1
    )
    assert moved(before, after, "accessbot_outbox_failed_total", kind="post", reason="recipient") == 1
    delivered_posts = moved(before, after, "accessbot_outbox_delivered_total", kind="post")
    assert delivered_posts == len(
        [c for c in emulator.calls("chat.postMessage") if c.status == 200 and c.response.get("ok")]
    )


def test_outbox_depth_and_age_are_read_from_the_database_at_scrape_time(
    bot: InProcessBot, slack: SlackDriver, emulator: SlackEmulator
) -> None:
    idle = scrape(bot.url)
    assert value(idle, "accessbot_database_up") == 1
    for kind in ("post", "update", "respond", "home", "webhook"):
        assert value(idle, "accessbot_outbox_unfinished", kind=kind) == 0
        assert value(idle, "accessbot_outbox_oldest_unfinished_age_seconds", kind=kind) == 0
    # Slack refuses every post for now: DMs wait in the outbox, retried with backoff.
    emulator.fail_next("chat.postMessage", count=1000, status=503, error="service_unavailable")
    assert "R1 filed" in slack.command(ALICE, f"request lumen-3 {WHY}").body
    emulator.wait_for(lambda: emulator.calls("chat.postMessage"), timeout=30)
    bot.clock.advance(minutes=5)
    waiting = scrape(bot.url)
    assert value(waiting, "accessbot_outbox_unfinished", kind="post") >= 1
    assert value(waiting, "accessbot_outbox_oldest_unfinished_age_seconds", kind="post") >= 300
    assert value(waiting, "accessbot_outbox_unfinished", kind="home") == 0
    emulator.clear_faults()
    bot.clock.advance(minutes=10)  # past every backoff
    emulator.wait_for(lambda: emulator.messages(MARIA), timeout=30)
    bot.settle()
    assert value(scrape(bot.url), "accessbot_outbox_unfinished", kind="post") == 0


def test_scheduled_jobs_are_counted_and_timed(bot: InProcessBot) -> None:
    before = scrape(bot.url)
    bot.run_jobs()
    bot.run_jobs()
    after = scrape(bot.url)
    for job in ("expire grants", "re-check entitlements", "seal audit events"):
        assert moved(before, after, "accessbot_scheduler_runs_total", job=job, outcome="ok") >= 2
        assert moved(before, after, "accessbot_scheduler_run_duration_seconds_count", job=job) >= 2
        assert value(after, "accessbot_scheduler_last_success_timestamp_seconds", job=job) > 0
    assert value(after, "accessbot_scheduler_runs_total", job="expire grants", outcome="failed") == 0


def test_webhook_deliveries_and_retries_by_receiver(
    start_server: Callable[..., InProcessBot], emulator: SlackEmulator, tmp_path: Path
) -> None:
    receiver = WebhookReceiver().start()
    try:
        bot = start_server(
            ACCESSBOT_METRICS_TOKEN=TOKEN,
            ACCESSBOT_WORKFLOWS_DIR=str(workflows_with(tmp_path, receiver.url)),
            ACCESSBOT_WEBHOOK_SECRET_SCIM_BRIDGE=receiver.secret,
        )
        before = scrape(bot.url)
        receiver.fail_next(1, status=503)
        add_grants(bot.env["DATABASE_URL"], [BORIS], "lumen-3")
        assert "Revoked" in bot.driver(emulator).command(ADMIN, "revoke G1 Left the project").body
        assert bot.runtime is not None
        assert bot.runtime.worker.webhooks.drain(timeout=30)
        after = scrape(bot.url)
    finally:
        receiver.stop()
    label = {"receiver": "scim-bridge"}
    assert moved(before, after, "accessbot_webhook_retries_total", **label, reason="http_5xx") == 1
    assert moved(before, after, "accessbot_webhook_delivered_total", **label) == len(receiver.events) >= 1


def test_a_database_that_does_not_answer_does_not_fail_the_scrape(tmp_path: Path) -> None:
    from bot.metrics_http import MetricsEndpoint
    from bot.services.context import Context
    from bot.store.db import Database
    from bot.workflows import load_catalog

    down = Database(f"sqlite:///{tmp_path}/no/such/folder/accessbot.db")
    endpoint = MetricsEndpoint(Context(db=down, catalog=load_catalog(FIXTURES / "workflows")), TOKEN)
    answered: list[str] = []
    environ = {"REQUEST_METHOD": "GET", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    text = b"".join(endpoint(environ, lambda status, _headers: answered.append(status))).decode()
    assert answered == ["200 OK"]
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert families["accessbot_database_up"].samples[0].value == 0
    assert "accessbot_outbox_unfinished" not in families
    assert "accessbot_requests" in families  # the process's own counts are still there


def test_a_queue_query_held_up_by_a_lock_gives_up_instead_of_holding_the_scrape(postgres_url: str) -> None:
    from sqlalchemy import create_engine, text

    from bot.metrics_http import MetricsEndpoint
    from bot.services.context import Context
    from bot.store.db import Database
    from bot.store.tables import OutboxMessage
    from bot.workflows import load_catalog

    prepare_database(postgres_url)
    db = Database(postgres_url)
    endpoint = MetricsEndpoint(
        Context(db=db, catalog=load_catalog(FIXTURES / "workflows")), TOKEN, queue_timeout=0.3
    )
    environ = {"REQUEST_METHOD": "GET", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}

    def database_up() -> float:
        text_ = b"".join(endpoint(environ, lambda _status, _headers: None)).decode()
        families = {family.name: family for family in text_string_to_metric_families(text_)}
        return families["accessbot_database_up"].samples[0].value

    migration = create_engine(db.url)  # another process's transaction, holding the outbox's table
    try:
        with migration.connect() as connection:
            connection.execute(text(f"LOCK TABLE {OutboxMessage.__tablename__} IN ACCESS EXCLUSIVE MODE"))
            assert database_up() == 0  # gave up after 0.3 s: the lock is still held here
            connection.rollback()
        assert database_up() == 1
    finally:
        migration.dispose()
        db.dispose()


def test_only_a_scraper_with_the_token_gets_them(
    bot: InProcessBot, start_server: Callable[..., InProcessBot]
) -> None:
    assert get(f"{bot.url}/metrics", token=None)[0] == 401
    assert get(f"{bot.url}/metrics", token=GATEWAY_TOKEN)[0] == 401
    assert get(f"{bot.url}/metrics", token=TOKEN + "x")[0] == 401
    assert get(f"{bot.url}/metrics", token=TOKEN[:-1])[0] == 401
    assert get(f"{bot.url}/metrics")[0] == 200
    assert get(f"{start_server().url}/metrics")[0] == 404  # off without a token


@pytest.fixture
def worker_env(emulator: SlackEmulator, database_url: str, tmp_path: Path) -> dict[str, str]:
    """The variables a `serve` process gets; a worker reads those it needs."""
    prepare_database(database_url)
    return BotServer(database_url, emulator, tmp_path / "worker.log").env


def test_a_worker_serves_its_metrics_on_the_metrics_port(
    worker_env: dict[str, str], emulator: SlackEmulator, tmp_path: Path
) -> None:
    port = free_port()
    env = {**worker_env, "ACCESSBOT_METRICS_PORT": str(port), "ACCESSBOT_METRICS_TOKEN": TOKEN}
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "worker"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(worker, f"{url}/metrics", 30, "accessbot worker", log.read_text, TOKEN)
        assert get(f"{url}/metrics", token=None)[0] == 401
        assert get(f"{url}/slack/events")[0] == 404
        add_grants(worker_env["DATABASE_URL"], [BORIS], "lumen-3")
        notice = tmp_path / "notice.txt"
        notice.write_text("Lumen 3 is withdrawn for everyone.")
        run_cli(
            worker_env, "directive", "issue", "--title", "Withdrawal", "--authority", "Board",
            "--reference", "BR-2", "--models", "lumen-3", "--population", "everyone", "--action", "suspend",
            "--notice-file", str(notice), "--wait", "--wait-timeout", "30",
        )  # fmt: skip
        samples = scrape(url)
        assert value(samples, "accessbot_outbox_delivered_total", kind="post") >= 2  # Boris and the channel
        assert value(samples, "accessbot_scheduler_runs_total", job="expire grants", outcome="ok") >= 1
        assert value(samples, "accessbot_outbox_unfinished", kind="post") == 0
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(20)
    assert worker.returncode == 0, log.read_text()


# Tokens that protect /metrics in name only: copied from an example, or guessable.
WEAK_TOKENS = [
    ("changeme", "still holds a placeholder value"),
    ("your-metrics-token", "still holds a placeholder value"),
    ("<metrics token>", "still holds a placeholder value"),
    ("x", "still holds a placeholder value"),
    ("metrics-0123456789", "is shorter than 24 characters"),
]


@pytest.mark.parametrize("command", ["worker", "serve", "socket"])
@pytest.mark.parametrize(
    ("token", "problem"), [(None, "is not set"), *WEAK_TOKENS], ids=["unset", *(t for t, _ in WEAK_TOKENS)]
)
def test_a_metrics_port_without_a_usable_token_is_refused_at_start(
    worker_env: dict[str, str], emulator: SlackEmulator, command: str, token: str | None, problem: str
) -> None:
    env = {**worker_env, "ACCESSBOT_METRICS_PORT": str(free_port()), "SLACK_APP_TOKEN": "xapp-1-A0-1-test"}
    if token is not None:
        env["ACCESSBOT_METRICS_TOKEN"] = token
    result = run_cli(env, command, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"accessbot: ACCESSBOT_METRICS_PORT is set but ACCESSBOT_METRICS_TOKEN {problem}; set the token "
        "Prometheus will send, or unset the port"
    ]
    assert token is None or token not in result.stderr  # the line never quotes the secret
    # Refused before start-up did anything: no call to Slack (a replica's start checks its token there).
    assert emulator.calls() == []


def test_a_metrics_port_that_is_the_slack_port_is_refused_at_start(
    worker_env: dict[str, str], emulator: SlackEmulator
) -> None:
    port = free_port()
    env = {**worker_env, "ACCESSBOT_METRICS_PORT": str(port), "ACCESSBOT_METRICS_TOKEN": TOKEN}
    result = run_cli({**env, "PORT": str(port)}, "serve", check=False)
    assert result.returncode == 2
    assert f"ACCESSBOT_METRICS_PORT must differ from PORT (both are {port})" in result.stderr
    result = run_cli(env, "serve", "--port", str(port), check=False)
    assert result.returncode == 2
    assert f"ACCESSBOT_METRICS_PORT must differ from serve --port (both are {port})" in result.stderr
    assert "Traceback" not in result.stderr
    assert emulator.calls() == []


def test_a_metrics_port_already_taken_stops_the_worker_with_one_line(worker_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**worker_env, "ACCESSBOT_METRICS_PORT": str(port), "ACCESSBOT_METRICS_TOKEN": TOKEN}
        result = run_cli(env, "worker", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"cannot listen on 0.0.0.0:{port}" in result.stderr
    assert "Change ACCESSBOT_METRICS_PORT" in result.stderr


@pytest.mark.parametrize(("token", "problem"), WEAK_TOKENS, ids=[t for t, _ in WEAK_TOKENS])
def test_a_weak_metrics_token_keeps_metrics_off_and_says_why(
    start_server: Callable[..., InProcessBot], token: str, problem: str
) -> None:
    bot = start_server(ACCESSBOT_METRICS_TOKEN=token)
    assert get(f"{bot.url}/metrics", token=token)[0] == 404
    assert f"GET /metrics disabled: ACCESSBOT_METRICS_TOKEN {problem}" in bot.log()


def test_with_a_metrics_port_serve_answers_metrics_there_only(
    start_server: Callable[..., InProcessBot],
) -> None:
    bot = start_server(ACCESSBOT_METRICS_TOKEN=TOKEN, ACCESSBOT_METRICS_PORT=str(free_port()))
    assert get(f"{bot.url}/metrics")[0] == 404
