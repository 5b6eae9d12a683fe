"""Signed webhooks end to end: real state changes (an approval, a directive and its lifting, a
revocation, an expiry on the test clock) reach a receiver that verifies every signature with the
`standardwebhooks` library and checks each grant's events arrive in version order."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.app import InProcessBot
from tests.support.cli import listed, run_cli
from tests.support.flows import grant_through_slack
from tests.support.seed import directory_file
from tests.support.slack import SlackDriver, SlackEmulator
from tests.support.webhook_receiver import WebhookReceiver, workflows_with

ALICE, BORIS, ADMIN = "U0ALICE01", "U0BORIS01", "U0ADMIN01"
ORDER = "Under the order, Mythos 5 may not be used by foreign nationals."


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    found = WebhookReceiver().start()
    yield found
    found.stop()


@pytest.fixture
def hooked(
    start_server: Callable[..., InProcessBot], receiver: WebhookReceiver, tmp_path: Path
) -> InProcessBot:
    return start_server(
        ACCESSBOT_WORKFLOWS_DIR=str(workflows_with(tmp_path, receiver.url)),
        ACCESSBOT_WEBHOOK_SECRET_SCIM_BRIDGE=receiver.secret,
    )


def delivered(bot: InProcessBot) -> None:
    """Wait until every webhook delivery is done (the sender is woken by each commit)."""
    assert bot.runtime is not None
    assert bot.runtime.worker.webhooks.drain(timeout=30)


def test_a_hold_whose_fact_is_missing_is_named_so_in_the_event(
    hooked: InProcessBot, emulator: SlackEmulator, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    slack: SlackDriver = hooked.driver(emulator)
    fable = grant_through_slack(slack, emulator, hooked, ALICE, "fable-5")  # US persons only
    run_cli(
        hooked,
        "directory",
        "import",
        str(directory_file(tmp_path, "blank.csv", **{ALICE: {"us_person": ""}})),
    )
    delivered(hooked)
    suspended = [e for e in receiver.events if e.type == "grant.suspended"]
    assert [e.data["grant"]["id"] for e in suspended] == [fable]
    # The same label as `grants list --json` gives: the status is missing, not refusing.
    assert suspended[0].data["grant"]["held_by"] == ["us_person:not_on_file"]
    assert {int(str(g["id"])): g["held_by"] for g in listed(hooked, "grants")}[fable] == [
        "us_person:not_on_file"
    ]


def test_grant_lifecycle_reaches_the_receiver_signed_and_in_order(
    hooked: InProcessBot, emulator: SlackEmulator, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    slack: SlackDriver = hooked.driver(emulator)
    boris = grant_through_slack(slack, emulator, hooked, BORIS, "mythos-5")
    alice = grant_through_slack(slack, emulator, hooked, ALICE, "mythos-5", "1d")
    notice = tmp_path / "order.txt"
    notice.write_text(ORDER, encoding="utf-8")
    run_cli(
        hooked, "directive", "issue", "--title", "Mythos barred to foreign nationals",
        "--authority", "US Department of Commerce", "--reference", "EO-2026-117",
        "--notice-file", str(notice), "--models", "mythos-5", "--population", "non-us-persons",
        "--action", "suspend",
    )  # fmt: skip
    delivered(hooked)
    suspended = [e for e in receiver.events if e.type == "grant.suspended"]
    assert [e.data["grant"]["id"] for e in suspended] == [boris]
    assert suspended[0].data["grant"]["held_by"] == ["directive:D1"]
    assert suspended[0].data["grant"]["slack_user_id"] == BORIS and suspended[0].data["directive_id"] == 1

    run_cli(hooked, "directive", "lift", "D1", "--reason", "Order rescinded")
    slack.command(ADMIN, f"revoke G{boris} Left the project")
    hooked.clock.advance(days=2)
    hooked.run_jobs()
    delivered(hooked)

    assert receiver.problems == []
    assert receiver.of(f"grant:{boris}") == [
        (1, "grant.activated"), (2, "grant.suspended"), (3, "grant.reinstated"), (4, "grant.revoked"),
    ]  # fmt: skip
    assert receiver.of(f"grant:{alice}") == [(1, "grant.activated"), (2, "grant.expired")]
    assert [t for _, t in receiver.of("directive:1")] == ["directive.issued", "directive.lifted"]
    revoked = next(e for e in receiver.events if e.type == "grant.revoked")
    assert revoked.data["grant"]["status"] == "revoked" and revoked.data["reason"] == "Left the project"

    # The grant shows what each receiver last heard of it; the CLI lists every delivery.
    listing = json.loads(run_cli(hooked, "grants", "list", "--json").stdout)
    grant = next(g for g in listing if g["id"] == boris)
    assert grant == next(g for g in listed(hooked, "grants") if g["id"] == boris)
    assert grant["webhooks"] == [
        {"receiver": "scim-bridge", "type": "grant.revoked", "version": 4, "status": "sent", "attempts": 1,
         "sent_at": grant["webhooks"][0]["sent_at"]},
    ]  # fmt: skip
    rows = json.loads(run_cli(hooked, "webhooks", "list", "--json").stdout)
    assert {r["status"] for r in rows} == {"sent"} and len(rows) == len(receiver.events)


def test_a_receiver_outage_is_retried_and_a_replay_resends_under_the_same_id(
    hooked: InProcessBot, emulator: SlackEmulator, receiver: WebhookReceiver
) -> None:
    slack: SlackDriver = hooked.driver(emulator)
    start = hooked.clock()
    receiver.fail_next(2, status=503)
    grant = grant_through_slack(slack, emulator, hooked, ALICE, "lumen-3")
    slack.command(ADMIN, f"revoke G{grant} No longer needed")
    # Two refusals; each retry waits its backoff on the test clock, and the revocation waits its turn.
    for _ in range(3):
        hooked.clock.advance(minutes=1)
        hooked.runtime.worker.webhooks.wake()  # type: ignore[union-attr]
        delivered(hooked)
    assert receiver.of(f"grant:{grant}") == [(1, "grant.activated"), (2, "grant.revoked")]
    first = json.loads(run_cli(hooked, "webhooks", "list", "--json", "--receiver", "scim-bridge").stdout)
    assert max(r["attempts"] for r in first) == 3

    out = run_cli(hooked, "webhooks", "replay", "--since", start.isoformat()).stdout
    assert "scim-bridge: queued 2 event(s) again" in out
    delivered(hooked)
    assert receiver.duplicates == 2 and receiver.problems == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "yesterday"), "is not an ISO 8601 time"),
        (("--since", "2026-03-01T09:00:00"), "needs a time zone"),
        # A zone that pushes the first or last day Python holds out of its range; years no record has.
        (("--since", "0001-01-01T00:00:00+01:00"), "must lie between 1970 and 9998"),
        (("--since", "9999-12-31T23:59:59-01:00"), "must lie between 1970 and 9998"),
        (("--since", "1066-10-14T09:00:00Z"), "must lie between 1970 and 9998"),
        (("--since", "2026-03-01T09:00:00Z", "--receiver", "nobody"), "no webhook receiver 'nobody'"),
    ],
)
def test_replay_refuses_bad_input_in_one_line(
    hooked: InProcessBot, args: tuple[str, ...], message: str
) -> None:
    result = run_cli(hooked, "webhooks", "replay", *args, check=False)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
