"""Assembles the running bot from Settings: database, catalog, templates, services, Slack app, outbox
sender and scheduler. The entry points (bot/cli/) use this; nothing here runs at import time."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import clock_for
from bot.config import ConfigError, Settings
from bot.domain.webhooks import routes
from bot.notify.compose import Composer
from bot.notify.heartbeat import Heartbeat
from bot.notify.sender import Sender, sender_client
from bot.notify.webhooks import WebhookSender
from bot.render import PageRenderer, Renderer
from bot.scheduler import Scheduler, default_jobs
from bot.scheduler_ticks import TickClaims
from bot.services import accounts
from bot.services.context import Context
from bot.slack.app import build_app
from bot.slack.responder import Responder
from bot.slack.surfaces import Surfaces
from bot.store import migrate
from bot.store.db import Database
from bot.store.tables import OutboxMessage, WebhookDelivery
from bot.workflows import load_catalog

log = logging.getLogger(__name__)
SCHEMA_WAIT = 60.0  # seconds a worker waits at start for the servers to migrate the database


def build_context(settings: Settings, db: Database | None = None) -> Context:
    """What every use case needs, from Settings: the database, the catalog and the clock (real time,
    or the test clock of ACCESSBOT_CLOCK_FILE). Raises ConfigError naming the setting."""
    clock = clock_for(settings.clock_file)  # ClockFileError is a ConfigError
    if settings.clock_file is not None:
        log.warning("running on the test clock of ACCESSBOT_CLOCK_FILE (%s)", settings.clock_file)
    catalog = load_catalog(settings.workflows_dir)
    database = db or Database(settings.database_url, clock=clock)
    # Every transaction records the webhook events its receivers subscribe to, whichever command runs it.
    database.webhook_routes = routes(catalog.receivers)
    return Context(db=database, catalog=catalog, clock=clock)


def build_renderer(settings: Settings) -> Renderer:
    """The templates every message is rendered with (ACCESSBOT_TEMPLATES_DIR). Raises ConfigError
    when the directory is missing."""
    return Renderer(_templates_dir(settings))


def build_page_renderer(settings: Settings) -> PageRenderer:
    """The HTML pages' templates (ACCESSBOT_TEMPLATES_DIR). Raises ConfigError when the directory is
    missing."""
    return PageRenderer(_templates_dir(settings))


def _templates_dir(settings: Settings) -> Path:
    if not settings.templates_dir.is_dir():
        raise ConfigError(f"ACCESSBOT_TEMPLATES_DIR: {settings.templates_dir} is not a directory")
    return settings.templates_dir


@dataclass
class Worker:
    """What runs in the background: the outbox sender, the webhook sender, the heartbeat that keeps
    their claims while they deliver, and the scheduler."""

    settings: Settings
    ctx: Context
    sender: Sender
    scheduler: Scheduler
    webhooks: WebhookSender
    heartbeat: Heartbeat

    def start_background(self) -> None:
        self.ctx.db.on_outbox_commit.extend((self.sender.wake, self.webhooks.wake))
        self.sender.start()
        self.webhooks.start()
        self.heartbeat.start()
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.sender.stop()
        self.webhooks.stop()
        self.heartbeat.stop()
        self.ctx.db.dispose()


@dataclass
class Runtime:
    """The Slack app, with a worker beside it."""

    worker: Worker
    app: App
    responder: Responder

    @property
    def ctx(self) -> Context:
        return self.worker.ctx

    def start_background(self) -> None:
        self.worker.start_background()

    def stop(self) -> None:
        """Stop after the HTTP server has: Bolt's listeners finish first (they hand work on to the
        responder's pools), then that work, then the outbox sender and the scheduler."""
        listeners = self.app.listener_runner.listener_executor
        if isinstance(listeners, ThreadPoolExecutor):
            listeners.shutdown(wait=True)
        self.responder.shutdown()
        self.worker.stop()


def verify_token(client: WebClient) -> tuple[str | None, str | None]:
    """auth.test at start: a rejected token stops the program; Slack being unreachable does not (the
    outbox will deliver once it is back)."""
    try:
        response = client.auth_test()
        return response.get("user_id"), response.get("team_id")
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else "unknown"
        if code in ("invalid_auth", "not_authed", "token_revoked", "account_inactive", "token_expired"):
            raise ConfigError(f"SLACK_BOT_TOKEN was rejected by Slack ({code})") from None
        log.warning("auth.test failed (%s); starting anyway", code)
    except Exception as error:  # network trouble
        log.warning("could not reach Slack for auth.test (%s); starting anyway", type(error).__name__)
    return None, None


def _background(
    settings: Settings, ctx: Context, renderer: Renderer
) -> tuple[Sender, Scheduler, WebhookSender, Heartbeat]:
    """The background half. Raises ConfigError naming a webhook receiver's secret that is missing or
    wrong."""
    webhooks = WebhookSender(
        ctx.db,
        ctx.catalog.receivers,
        settings.webhook_secrets_for(ctx.catalog.receivers),
        lease_seconds=settings.outbox_lease_seconds(),
        clock=ctx.clock,
    )
    sender = Sender(
        ctx.db,
        sender_client(settings.slack_api_url, settings.slack_bot_token or "", settings.slack_timeout),
        workers=settings.outbox_workers,
        lease_seconds=settings.outbox_lease_seconds(),
        timeout=settings.slack_timeout,
        clock=ctx.clock,
        composer=Composer(ctx, renderer),
        posts_per_minute=settings.slack_posts_per_minute,
        # What users.info says before a DM is an input of the entitlement rule like the user_change event.
        on_account=lambda user_id, deleted: accounts.record_account(ctx, user_id, deleted=deleted),
    )
    scheduler = Scheduler(default_jobs(ctx, settings.scheduler_interval), claim=TickClaims(ctx))
    heartbeat = Heartbeat(ctx.db, ctx.clock, [(OutboxMessage, sender), (WebhookDelivery, webhooks)])
    return sender, scheduler, webhooks, heartbeat


def build_worker(settings: Settings) -> Worker:
    """The background half on its own (`accessbot worker`): it needs the bot token, not the signing
    secret, and never migrates (the servers do). Started beside servers on a database they are still
    migrating, it waits up to SCHEMA_WAIT seconds for them; raises ConfigError if the schema is still
    behind then."""
    settings.require_slack(bot_token_only=True)
    renderer = build_renderer(settings)
    ctx = build_context(settings)
    deadline = time.monotonic() + SCHEMA_WAIT
    while migrate.pending(ctx.db):
        if time.monotonic() > deadline:
            raise ConfigError("the database schema is not up to date; run `accessbot db upgrade`")
        log.info("waiting for a server to bring the database schema up to date")
        time.sleep(1.0)
    return Worker(settings, ctx, *_background(settings, ctx, renderer))


def build_runtime(settings: Settings, *, socket_mode: bool = False, apply_migrations: bool = True) -> Runtime:
    settings.require_slack(socket_mode=socket_mode)
    renderer = build_renderer(settings)
    ctx = build_context(settings)
    if apply_migrations:
        migrate.upgrade(ctx.db)
    elif migrate.pending(ctx.db):
        raise ConfigError("the database schema is not up to date; run `accessbot db upgrade`")
    token = settings.slack_bot_token or ""
    client = WebClient(token=token, base_url=settings.slack_api_url, timeout=int(settings.slack_timeout))
    bot_user_id, team_id = verify_token(client)
    responder = Responder(ctx, renderer, client=client)
    surfaces = Surfaces(ctx, responder)
    app = build_app(
        bot_token=token,
        signing_secret=settings.slack_signing_secret or "unused-in-socket-mode",
        client=client,
        surfaces=surfaces,
        bot_user_id=bot_user_id,
        team_id=team_id,
    )
    return Runtime(Worker(settings, ctx, *_background(settings, ctx, renderer)), app, responder)
