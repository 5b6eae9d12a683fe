"""Answering Slack within its 3-second deadline, whatever the database is doing.

A listener hands the service call to a worker pool and waits for it only until the deadline nears:
if it finishes in time, its answer goes in the ack (the fastest thing for the person); if not, the
ack says "working on it" and the answer follows through the outbox once the service is done. Either
way the HTTP response leaves well within Slack's deadline, and the service's own transaction decides
whether anything changed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot import metrics
from bot.notify import outbox
from bot.present.replies import Notice, Reply
from bot.render import Renderer
from bot.services import replays
from bot.services.context import Context, Refusal

log = logging.getLogger(__name__)

RECEIVED_AT = "accessbot_received_at"
# The replay key of the request (bot/slack/edge.py): (key, remember until). Absent in Socket Mode, where
# Slack's own connection stands for the signature.
REPLAY = "accessbot_replay"
_CLAIMED = "accessbot_replay_claimed"
# Which surface the request came from (bot/slack/edge.py: surface_of), for the metrics.
SURFACE = "accessbot_surface"
# When the HTTP server handed this thread its current request (see bot/server.py): the deadline counts
# from there, not from when Bolt got round to it. The edge adds the replay key in the same thread.
_arrival = threading.local()


def mark_arrival() -> None:
    _arrival.at = time.monotonic()
    _arrival.replay = None


def mark_checked(replay_key: str, remember_until: datetime) -> None:
    _arrival.replay = (replay_key, remember_until)


def arrival_time() -> float:
    return getattr(_arrival, "at", None) or time.monotonic()


def arrival_replay() -> tuple[str, datetime] | None:
    return getattr(_arrival, "replay", None)


ALREADY_HANDLED = "I already received this exact request and acted on it, so nothing was done again."

# Answer within this many seconds of the request arriving, leaving margin below Slack's 3 s.
ACK_BUDGET = 2.0
# Seconds to wait on Slack for a reply sent directly, when the outbox cannot take it.
DIRECT_TIMEOUT = 10

Work = Callable[[], Reply | None]


@dataclass(frozen=True)
class Answer:
    """A service's answer for the person who acted (None when there is nothing to say); `refusal` is
    set when nothing was done."""

    reply: Reply | None
    refusal: Refusal | None = None
    # The request was a repeat of one already handled: the person has had their answer already.
    repeat: bool = False


class Responder:
    """Runs the use case behind a listener within Slack's deadline, and renders what it answers (with
    `renderer`, the templates) for the ack or, later, queues it in the outbox."""

    def __init__(
        self, ctx: Context, renderer: Renderer, workers: int = 16, *, client: WebClient | None = None
    ):
        self.ctx = ctx
        self.renderer = renderer
        # For the rare message the outbox cannot take (its database is down): sent directly instead.
        self.client = client
        # Service calls an ack waits for (briefly), and work done after the ack: separate pools, so that
        # slow after-ack work (a click on a busy database, a slow Slack) never holds up the next ack.
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="service")
        self.background = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="after-ack")

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)
        self.background.shutdown(wait=True, cancel_futures=False)

    def later(self, work: Callable[[], None], context: dict[str, Any]) -> None:
        """Run work after the ack, off the listener's thread, unless this request was handled before."""

        def guarded() -> None:
            try:
                if self.first_time(context):
                    work()
            except Exception:
                log.exception("work after the ack failed")

        self.background.submit(guarded)

    def first_time(self, context: dict[str, Any]) -> bool:
        """Whether this request is new: its replay key is recorded once, in the database, so a replay to
        any replica is recognised (bot/services/replays.py). Asked again in the same request, the first
        answer stands."""
        if _CLAIMED in context:
            return bool(context[_CLAIMED])
        replay = context.get(REPLAY)
        fresh = replay is None or replays.first_time(self.ctx, replay[0], replay[1])
        if not fresh:
            surface = context.get(SURFACE) or "other"
            log.info("a repeated Slack request was answered without acting again", extra={"surface": surface})
            metrics.SLACK_REPLAYS.labels(surface).inc()
        context[_CLAIMED] = fresh
        return fresh

    def remaining(self, context: dict[str, Any]) -> float:
        received = context.get(RECEIVED_AT, time.monotonic())
        return max(0.05, ACK_BUDGET - (time.monotonic() - received))

    def render(self, reply: Reply) -> dict[str, Any]:
        """The Block Kit message or view for `reply`."""
        return self.renderer.reply(reply)

    def ack(self, ack: Callable[..., None], reply: Reply) -> None:
        """Answer a slash command with a message only the person who typed it sees."""
        message = self.render(reply)
        ack(response_type="ephemeral", text=message["text"], blocks=message.get("blocks"))

    def run(self, work: Work, context: dict[str, Any], *, acts: bool = True) -> Future[Answer]:
        """Run a service call in the pool; see attempt()."""
        return self.pool.submit(self.attempt, work, context, acts=acts)

    def attempt(self, work: Work, context: dict[str, Any], *, acts: bool = True) -> Answer:
        """Run a service call here, once per request; refusals and unexpected errors become a message for
        the person. `acts=False` for work that only reads (a status, a list): answering a replay of it
        again changes nothing, and not recording it keeps reads free of a database write."""
        try:
            if acts and not self.first_time(context):
                return Answer(Notice(ALREADY_HANDLED), Refusal(ALREADY_HANDLED), repeat=True)
            return Answer(work())
        except Refusal as refusal:
            return Answer(Notice(refusal.message, title=refusal.title, tone="warning"), refusal)
        except Exception:
            log.exception("service call failed")
            text = (
                "Something went wrong on my side and nothing was changed. Please try again in a minute; "
                "if it keeps happening, tell your access admins."
            )
            return Answer(Notice(text, tone="error"), Refusal(text))

    def wait(self, future: Future[Answer], context: dict[str, Any]) -> Answer | None:
        """The answer if it is ready before the ack deadline, else None."""
        try:
            return future.result(timeout=self.remaining(context))
        except FutureTimeout:
            return None

    def answer_command(
        self,
        ack: Callable[..., None],
        context: dict[str, Any],
        response_url: str,
        user_id: str,
        work: Work,
        *,
        acts: bool = True,
        secret: bool = False,
    ) -> None:
        """Ack a slash command with the service's answer, or with a holding reply and answer later.

        `secret`: the answer holds a secret (a new personal key), so a late answer goes straight to the
        response_url instead of through the outbox, which would keep it in the database."""
        future = self.run(work, context, acts=acts)
        answer = self.wait(future, context)
        if answer is None:
            ack(response_type="ephemeral", text="⏳ Working on it; I'll answer here in a moment.")
            if secret:
                future.add_done_callback(lambda done: self.respond_direct(response_url, done.result().reply))
            else:
                future.add_done_callback(
                    lambda done: self.respond_later(response_url, done.result().reply, user_id=user_id)
                )
            return
        if answer.reply is None:
            ack()
        else:
            self.ack(ack, answer.reply)

    def respond_later(
        self, response_url: str, message: Reply | None, *, user_id: str, replace_original: bool = False
    ) -> None:
        """Send an ephemeral reply through the outbox (durable, retried, rate-limited); once the
        response_url no longer works, it reaches the person by DM instead."""
        if message is None:
            return
        try:
            with self.ctx.uow() as uow:
                outbox.respond(
                    uow.session, response_url, message, user_id=user_id, replace_original=replace_original
                )
                uow.commit()
            return
        except Exception as error:
            # The database is down: the service could not act either, and the person is waiting on the
            # holding reply. Answer straight away rather than lose it (without the outbox's retries).
            log.warning("could not queue a reply (%s); sending it to Slack directly", type(error).__name__)
        self.respond_direct(response_url, message, replace_original=replace_original)

    def respond_direct(
        self, response_url: str, message: Reply | None, *, replace_original: bool = False
    ) -> None:
        """Send an ephemeral reply to response_url now, once, without the outbox: nothing of it is stored."""
        if message is None:
            return
        rendered = self.render(message)
        payload = {
            "text": rendered["text"],
            "blocks": rendered.get("blocks"),
            "response_type": "ephemeral",
            "replace_original": replace_original,
        }
        try:
            response = WebhookClient(response_url, timeout=DIRECT_TIMEOUT).send_dict(payload)
            if response.status_code != 200:
                log.error("a reply could not be delivered: response_url answered %s", response.status_code)
        except Exception:
            log.exception("a reply could not be delivered")

    def tell(self, user_id: str, message: Reply | None) -> None:
        """A DM through the outbox, for answers that have no response_url (App Home, closed modals)."""
        if message is None:
            return
        try:
            with self.ctx.uow() as uow:
                outbox.post(uow.session, user_id, message)
                uow.commit()
            return
        except Exception as error:
            log.warning("could not queue a message (%s); sending it to Slack directly", type(error).__name__)
        if self.client is None:
            log.error("a message could not be delivered: no Slack client to send it with")
            return
        rendered = self.render(message)
        try:
            self.client.chat_postMessage(
                channel=user_id, text=rendered["text"], blocks=rendered.get("blocks"), unfurl_links=False
            )
        except Exception:
            log.exception("a message could not be delivered")
