"""Signed webhooks across a kill -9 of the sender: a real `accessbot serve` process delivers the events of
a directive, its lifting and revocations to a receiver that verifies every signature; it is killed while
deliveries are in flight, and the next process takes them over once their lease runs out on the test
clock. Every event arrives, each grant's in version order, the interrupted ones again under their
`webhook-id`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.clock import FileClock
from bot.present.webhooks import DeliveryRecord
from bot.store.db import Database
from bot.store.webhooks import recent
from tests.support.bot_server import BotServer
from tests.support.cli import listed, run_cli
from tests.support.seed import add_grants
from tests.support.slack import SlackEmulator
from tests.support.webhook_receiver import WebhookReceiver, workflows_with

ADMIN = "U0ADMIN01"
HOLDERS = [f"U0HOOK{n:04d}" for n in range(12)]
REVOKED = 3  # of the holders' grants, revoked by an admin before the crash
# A lease far longer than the test takes in real time: it runs out only when the test moves its clock.
LEASE_SECONDS = 600
# Deliveries the receiver answers before it starts holding answers back, so that the crash comes
# in the middle of the stream: some events delivered, some in flight, most still queued.
ANSWERED_BEFORE_HOLDING = 8


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    found = WebhookReceiver().start()
    yield found
    found.stop()


def deliveries(database_url: str) -> list[DeliveryRecord]:
    """Every webhook delivery, oldest first, as `accessbot webhooks list --json` describes them."""
    db = Database(database_url, pool=False)
    try:
        with db.read() as session:
            found = recent(session, receiver=None, status=None, limit=100_000)
            return [DeliveryRecord.of(d.delivery, d.event) for d in reversed(found)]
    finally:
        db.dispose()


def all_sent(database_url: str, but_lanes: frozenset[str] | set[str] = frozenset()) -> bool:
    """True once every delivery outside `but_lanes` is sent; else AssertionError listing the others, so
    that a wait that runs out says where each delivery stood."""
    unsent = [d for d in deliveries(database_url) if d.subject not in but_lanes and d.status != "sent"]
    assert not unsent, "unsent: " + ", ".join(
        f"{d.id} {d.subject} v{d.version} {d.status} after {d.attempts} ({d.response_status}, {d.last_error})"
        for d in unsent
    )
    return True


def directive(server: BotServer, tmp_path: Path, reference: str) -> None:
    """Issue a directive suspending every non-US person's Mythos 5 grant (the CLI in this process, with
    the server's settings: the command, not its process, is what this test is about)."""
    notice = tmp_path / f"{reference}.txt"
    notice.write_text("Mythos 5 may no longer be used by foreign nationals.", encoding="utf-8")
    run_cli(
        server.env,
        "directive", "issue", "--title", f"Frontier order {reference}", "--authority", "Commerce",
        "--reference", reference, "--models", "mythos-5", "--population", "non-us-persons",
        "--action", "suspend", "--notice-file", str(notice),
    )  # fmt: skip


def test_kill_9_mid_delivery_loses_no_event_and_keeps_each_grants_order(
    start_process: Callable[..., BotServer],
    emulator: SlackEmulator,
    receiver: WebhookReceiver,
    database_url: str,
    clock: FileClock,
    tmp_path: Path,
) -> None:
    for user in HOLDERS:
        emulator.add_user(user, name=user.lower(), email=f"{user.lower()}@example.com")
    add_grants(database_url, HOLDERS, "mythos-5")
    settings = {
        "ACCESSBOT_WORKFLOWS_DIR": str(workflows_with(tmp_path, receiver.url)),
        "ACCESSBOT_WEBHOOK_SECRET_SCIM_BRIDGE": receiver.secret,
        "ACCESSBOT_OUTBOX_LEASE": str(LEASE_SECONDS),
    }
    receiver.hold_after(ANSWERED_BEFORE_HOLDING)
    first = start_process(**settings)
    grants = sorted(int(str(g["id"])) for g in listed(first, "grants"))
    assert len(grants) == len(HOLDERS)

    # Suspend every grant, reinstate them all, revoke a few: an event per grant each time.
    directive(first, tmp_path, "EO-1")
    run_cli(first.env, "directive", "lift", "D1", "--reason", "Order rescinded")
    slack = first.driver(emulator)
    for grant in grants[:REVOKED]:
        slack.command(ADMIN, f"revoke G{grant} Left the project")
    emulator.wait_for(
        lambda: sum(g["status"] == "revoked" for g in listed(first, "grants")) == REVOKED,
        timeout=30,
        interval=0.1,
    )

    # The receiver has taken the events of some deliveries and holds its answers back: the sender dies
    # with them claimed (`sending`), never knowing they arrived; others it claimed may not have reached
    # the receiver yet.
    emulator.wait_for(receiver.held_count, timeout=60)
    first.kill()
    held = set(receiver.held)
    in_flight = {d.webhook_id: d for d in deliveries(database_url) if d.status == "sending"}
    assert held and held <= set(in_flight)
    # Events recorded while no sender runs wait for the next one: a second directive suspends again.
    directive(first, tmp_path, "EO-2")
    receiver.release()

    second = start_process(**settings)
    # The new sender delivers every lane but those the dead one left claimed: their leases have not run
    # out.
    held_lanes = {d.subject for d in in_flight.values()}
    emulator.wait_for(lambda: all_sent(database_url, but_lanes=held_lanes), timeout=60, interval=0.1)
    still = [d for d in deliveries(database_url) if d.webhook_id in in_flight]
    assert {(d.status, d.attempts) for d in still} == {("sending", 1)}

    # Once their lease runs out on the test clock, it takes them over, and their lanes follow.
    clock.advance(seconds=LEASE_SECONDS + 1)
    emulator.wait_for(lambda: all_sent(database_url), timeout=60, interval=0.1)
    final = deliveries(database_url)

    # Signed, nothing lost: every recorded event reached the receiver, and the receiver saw no bad
    # signature and no event older than one it had applied.
    assert receiver.problems == []
    assert {e.webhook_id for e in receiver.events} == {d.webhook_id for d in final}
    assert len(receiver.events) == len(final)
    # The interrupted deliveries went on a second attempt (the dead sender's claim counted the first);
    # those the receiver had taken arrived again under the same webhook-id, recognised as duplicates.
    assert held <= set(receiver.redelivered)
    assert {d.attempts for d in final if d.webhook_id in in_flight} == {2}
    assert {d.attempts for d in final if d.webhook_id not in in_flight} == {1}

    # Each grant's versions came in order, duplicates included (a later version never went before an
    # earlier one was done), each version once applied, none missing.
    for subject in {d.subject for d in final}:
        came = [version for seen, version, _ in receiver.arrivals if seen == subject]
        assert came == sorted(came), f"{subject} arrived out of order: {came}"
        recorded = sorted(d.version for d in final if d.subject == subject)
        assert [v for v, _ in receiver.of(subject)] == recorded == list(range(1, len(recorded) + 1))
    revoked, kept = grants[:REVOKED], grants[REVOKED:]
    for grant in revoked:
        assert [t for _, t in receiver.of(f"grant:{grant}")] == [
            "grant.suspended", "grant.reinstated", "grant.revoked",
        ]  # fmt: skip
    for grant in kept:
        assert [t for _, t in receiver.of(f"grant:{grant}")] == [
            "grant.suspended", "grant.reinstated", "grant.suspended",
        ]  # fmt: skip
    assert [t for _, t in receiver.of("directive:1")] == ["directive.issued", "directive.lifted"]
    assert [t for _, t in receiver.of("directive:2")] == ["directive.issued"]
    assert second.process is not None and second.process.poll() is None
