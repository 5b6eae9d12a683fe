"""Continuous compliance end to end: the entitlement rule re-checked whenever its inputs change (a
directory re-import, a full import that offboards people, a Slack deactivation), with holders told."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from tests.support.app import InProcessBot
from tests.support.bot_server import FIXTURES
from tests.support.cli import audit_events, listed, run_cli
from tests.support.flows import WHY, grant_through_slack
from tests.support.seed import DIRECTORY, directory_file
from tests.support.slack import SlackDriver, SlackEmulator

ALICE, BORIS, EVE, ADMIN, MARIA, OWEN = (
    "U0ALICE01",
    "U0BORIS01",
    "U0EVE0001",
    "U0ADMIN01",
    "U0MARIA01",
    "U0OWEN001",
)
ORDER = "Under the order, Mythos 5 and Fable 5 may not be used by foreign nationals. Export needs a licence."


def statuses(server: InProcessBot) -> dict[int, str]:
    return {int(str(g["id"])): str(g["status"]) for g in listed(server, "grants")}


def issue_non_us_directive(server: InProcessBot, tmp_path: Path, model: str = "mythos-5") -> None:
    notice = tmp_path / "order.txt"
    notice.write_text(ORDER, encoding="utf-8")
    run_cli(
        server, "directive", "issue", "--title", "Frontier models barred to foreign nationals",
        "--authority", "US Department of Commerce", "--reference", "EO-2026-117",
        "--notice-file", str(notice), "--models", model, "--population", "non-us-persons",
        "--action", "suspend",
    )  # fmt: skip


def dms_saying(emulator: SlackEmulator, user: str, text: str) -> list[dict[str, object]]:
    return [m for m in emulator.messages(user) if text in json.dumps(m)]


def test_a_directory_correction_suspends_and_reinstates_at_once(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path
) -> None:
    """Alice holds fable-5 (US persons only) and mythos-5 while a non-US-persons directive on mythos-5 is
    in force. HR re-imports her as `us_person=no`: both grants are suspended in the import's own
    transaction, each for its reason; correcting her back reinstates both."""
    fable = grant_through_slack(slack, emulator, server, ALICE, "fable-5")
    mythos = grant_through_slack(slack, emulator, server, ALICE, "mythos-5")
    issue_non_us_directive(server, tmp_path)
    assert statuses(server)[mythos] == "active"  # a US person: the directive does not cover her

    wrong = directory_file(tmp_path, "wrong.csv", **{ALICE: {"us_person": "no"}})
    out = run_cli(server, "directory", "import", str(wrong)).stdout
    assert "re-checked: 2 grants suspended, 0 reinstated" in out
    assert statuses(server)[fable] == "suspended" and statuses(server)[mythos] == "suspended"
    held = {int(str(g["id"])): g["held_by"] for g in listed(server, "grants")}
    assert held[fable] == ["us_person"] and held[mythos] == ["directive:D1"]
    notice = emulator.wait_for(lambda: dms_saying(emulator, ALICE, "Your access is suspended"))[-1]
    body = json.dumps(notice)
    assert "Fable 5 is for US persons only and the directory says you are not one" in body
    assert "directive D1 restricts Mythos 5 for you" in body
    assert "#ai-access-help" in body
    # `/access status` names what holds each suspended grant, in the same words.
    shown = slack.command(ALICE, "status").body
    assert "Fable 5 is for US persons only and the directory says you are not one" in shown
    assert "directive D1 restricts Mythos 5 for you" in shown

    # Nothing waits for a scheduler run, and a later run changes nothing more.
    server.run_jobs()
    assert statuses(server)[fable] == "suspended" and statuses(server)[mythos] == "suspended"

    # The reverse: corrected to a US person, both come back at once (the directive stays in force).
    out = run_cli(server, "directory", "import", str(DIRECTORY)).stdout
    assert "re-checked: 0 grants suspended, 2 reinstated" in out
    assert statuses(server)[fable] == "active" and statuses(server)[mythos] == "active"
    assert all(g["held_by"] == [] for g in listed(server, "grants"))
    emulator.wait_for(lambda: dms_saying(emulator, ALICE, "Your access is back"))
    actions = [e["action"] for e in audit_events(server) if e["subject_type"] == "grant"]
    assert actions.count("grant.suspended") == 2 and actions.count("grant.reinstated") == 2
    holds = [
        (e["action"], e["subject_id"], (e["after"] or e["before"])["hold"])  # type: ignore[index]
        for e in audit_events(server)
        if e["action"] in ("grant.held", "grant.hold_released")
    ]
    # Each hold is audited when it is put on and when it is released, its kind recorded.
    assert sorted(holds) == sorted(
        (action, str(grant), hold)
        for action in ("grant.held", "grant.hold_released")
        for grant, hold in ((fable, "us_person"), (mythos, "directive"))
    )


def test_lifting_a_directive_leaves_a_grant_another_reason_still_holds(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path
) -> None:
    """Fable 5 is for US persons only; a directive bars non-US persons from it too. Once the directory
    says Alice is not a US person she is held by both; lifting the directive leaves her held by the
    rule alone."""
    fable = grant_through_slack(slack, emulator, server, ALICE, "fable-5")
    issue_non_us_directive(server, tmp_path, model="fable-5")
    run_cli(
        server, "directory", "import", str(directory_file(tmp_path, "no.csv", **{ALICE: {"us_person": "no"}}))
    )
    held = {int(str(g["id"])): g["held_by"] for g in listed(server, "grants")}
    assert held[fable] == ["directive:D1", "us_person"]  # in the rule's order
    run_cli(server, "directive", "lift", "D1", "--reason", "Order withdrawn")
    grant = {int(str(g["id"])): g for g in listed(server, "grants")}[fable]
    assert (grant["status"], grant["held_by"]) == ("suspended", ["us_person"])


def test_a_missing_fact_is_named_as_missing_and_an_ended_grant_is_held_by_nothing(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path
) -> None:
    """HR's export leaves Alice's US-person status blank: her US-persons-only grant is held because the
    fact is missing, which `held_by` says (`us_person:not_on_file`: the directory must say, she is not
    barred). Once the grant is revoked it is held by nothing, though the hold it ended under stays."""
    fable = grant_through_slack(slack, emulator, server, ALICE, "fable-5")
    blank = directory_file(tmp_path, "blank.csv", **{ALICE: {"us_person": ""}})
    run_cli(server, "directory", "import", str(blank))
    grant = {int(str(g["id"])): g for g in listed(server, "grants")}[fable]
    assert (grant["status"], grant["held_by"]) == ("suspended", ["us_person:not_on_file"])
    notice = emulator.wait_for(lambda: dms_saying(emulator, ALICE, "Your access is suspended"))[-1]
    assert "your US-person status is not on file" in json.dumps(notice)

    assert "Revoked" in slack.command(ADMIN, f"revoke G{fable} Leaving the project").body
    grant = {int(str(g["id"])): g for g in listed(server, "grants")}[fable]
    assert (grant["status"], grant["held_by"]) == ("revoked", [])


def test_a_pending_request_the_rule_now_refuses_is_stopped_with_the_reason(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path
) -> None:
    reply = slack.command(ALICE, f"request fable-5 {WHY}")
    assert "R1 filed" in reply.body
    wrong = directory_file(tmp_path, "wrong.csv", **{ALICE: {"us_person": "no"}})
    out = run_cli(server, "directory", "import", str(wrong)).stdout
    assert "1 pending requests stopped" in out
    request = next(r for r in listed(server, "requests") if r["id"] == 1)
    assert request["status"] == "denied"
    emulator.wait_for(lambda: dms_saying(emulator, ALICE, "is for US persons only"))


def test_a_full_import_offboards_whoever_it_no_longer_lists(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path
) -> None:
    boris_grant = grant_through_slack(slack, emulator, server, BORIS, "lumen-3")
    assert "filed" in slack.command(BORIS, f"request quorum-7 {WHY}").body
    # Eve's request waits on her manager Maria, who is leaving too.
    assert "filed" in slack.command(EVE, f"request lumen-3 {WHY}").body
    emulator.wait_for(lambda: emulator.messages(MARIA))
    leavers = directory_file(tmp_path, "hr-export.csv", drop=(BORIS, MARIA))

    # Two of twelve is more than the policy's 10% at once: refused, nothing changed.
    refused = run_cli(server, "directory", "import", "--full", str(leavers), check=False)
    assert refused.returncode == 2
    assert "would mark 2 of 12 people departed, more than the 10%" in refused.stderr
    assert "nothing was imported" in refused.stderr
    assert statuses(server)[boris_grant] == "active"

    # A dry run says who and what, and changes nothing; without --force it also says the import itself
    # would be refused.
    dry_refused = run_cli(server, "directory", "import", "--full", "--dry-run", str(leavers), check=False)
    assert dry_refused.returncode == 2
    assert "would depart: 2 (1 grants revoked, 1 pending requests cancelled)" in dry_refused.stdout
    assert BORIS in dry_refused.stdout and MARIA in dry_refused.stdout
    assert "would mark 2 of 12 people departed" in dry_refused.stderr
    assert "without --dry-run nothing would be imported" in dry_refused.stderr
    dry = run_cli(server, "directory", "import", "--full", "--dry-run", "--force", str(leavers)).stdout
    assert "would depart: 2 (1 grants revoked, 1 pending requests cancelled)" in dry
    assert BORIS in dry and MARIA in dry
    assert statuses(server)[boris_grant] == "active"

    out = run_cli(server, "directory", "import", "--full", "--force", str(leavers)).stdout
    assert "departed: 2 (1 grants revoked, 1 pending requests cancelled)" in out
    assert statuses(server)[boris_grant] == "revoked"
    mine = [r for r in listed(server, "requests") if r["slack_user_id"] == BORIS and r["model"] == "quorum-7"]
    assert mine[0]["status"] == "cancelled"
    shown = json.loads(run_cli(server, "directory", "show", BORIS, "--json").stdout)
    assert shown["status"] == "departed"
    assert json.loads(run_cli(server, "directory", "show", ALICE, "--json").stdout)["status"] == "active"
    # Eve's step no longer waits on Maria: the access admins are asked instead.
    emulator.wait_for(
        lambda: [
            m
            for m in emulator.messages(ADMIN)
            if EVE in json.dumps(m) and "approval_approve" in json.dumps(m)
        ]
    )
    # Boris can no longer ask for anything, and is told the directory records him as having left.
    asked = slack.command(BORIS, f"request lumen-3 {WHY}").body
    assert "The AccessBot directory records you as having left" in asked
    assert "not in the AccessBot directory yet" not in asked

    # Maria's roles count no more: she is kept, but as departed and holding none.
    maria = json.loads(run_cli(server, "directory", "show", MARIA, "--json").stdout)
    assert (maria["status"], maria["roles"]) == ("departed", [])

    # Listed again, Boris returns (his old grant stays revoked).
    back = run_cli(server, "directory", "import", "--full", str(DIRECTORY)).stdout
    assert f"returned: {BORIS}, {MARIA}" in back
    assert json.loads(run_cli(server, "directory", "show", BORIS, "--json").stdout)["status"] == "active"
    assert statuses(server)[boris_grant] == "revoked"


def test_a_slack_deactivation_suspends_and_a_reactivation_reinstates(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    grant = grant_through_slack(slack, emulator, server, ALICE, "lumen-3")
    emulator.set_user(ALICE, deleted=True)
    assert slack.user_change(ALICE).status == 200
    emulator.wait_for(lambda: statuses(server)[grant] == "suspended")
    assert next(g for g in listed(server, "grants") if g["id"] == grant)["held_by"] == ["deactivated"]
    emulator.set_user(ALICE, deleted=False)
    assert slack.user_change(ALICE).status == 200
    emulator.wait_for(lambda: statuses(server)[grant] == "active")


def test_a_late_event_saying_active_never_lets_a_deactivated_person_back_in(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    """Slack delivers events late, retried and out of order: an event saying "active" that arrives after
    the deactivation is believed only once users.info confirms it."""
    grant = grant_through_slack(slack, emulator, server, ALICE, "lumen-3")
    before = emulator.user_info(ALICE)  # as an earlier profile edit's event carried her
    emulator.set_user(ALICE, deleted=True)
    assert slack.user_change(ALICE, event_id="EvGone").status == 200
    emulator.wait_for(lambda: statuses(server)[grant] == "suspended")

    late = {"type": "user_change", "user": before, "cache_ts": 1, "event_ts": "1.000001"}
    assert slack.event(late, event_id="EvEarlier", retry_num=2).status == 200
    server.settle()
    # Slack cannot answer users.info: the reactivation waits for its word.
    emulator.set_user(ALICE, deleted=False)
    emulator.fail_next("users.info", status=500, error="internal_error")
    assert slack.event(late, event_id="EvUnconfirmed").status == 200
    server.settle()
    # An event without `deleted` says nothing about the account.
    shapeless = {**late, "user": {k: v for k, v in before.items() if k != "deleted"}}
    assert slack.event(shapeless, event_id="EvShapeless").status == 200
    server.settle()
    assert statuses(server)[grant] == "suspended"
    assert [e["action"] for e in audit_events(server) if e["action"].startswith("account.")] == [
        "account.deactivated"
    ]

    assert slack.user_change(ALICE, event_id="EvBack").status == 200  # users.info agrees now
    emulator.wait_for(lambda: statuses(server)[grant] == "active")


def test_a_deactivation_users_info_reports_before_a_dm_suspends_at_once(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    """The user_change event was missed; the sender asks users.info before DMing Maria (Eve's request
    goes to her manager) and learns she left: her grant is suspended in the same transaction."""
    grant = grant_through_slack(slack, emulator, server, MARIA, "lumen-3")
    emulator.set_user(MARIA, deleted=True)
    assert "filed" in slack.command(EVE, f"request lumen-3 {WHY}").body
    emulator.wait_for(lambda: any(e["action"] == "account.deactivated" for e in audit_events(server)))
    server.settle()
    assert statuses(server)[grant] == "suspended"  # before any scheduled re-check
    assert next(g for g in listed(server, "grants") if g["id"] == grant)["held_by"] == ["deactivated"]


def changed_workflows(tmp_path: Path, name: str, slug: str, addition: str) -> Path:
    """A copy of the test workflows with `addition` (YAML lines) added to one model's entry."""
    folder = tmp_path / name
    shutil.copytree(FIXTURES / "workflows", folder)
    models = folder / "models.yaml"
    text = models.read_text(encoding="utf-8")
    entry = f"  - slug: {slug}\n"
    assert entry in text
    models.write_text(text.replace(entry, entry + addition), encoding="utf-8")
    return folder


def test_workflows_loaded_at_start_suspend_and_reinstate(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path,
    start_server: Callable[..., InProcessBot],
) -> None:  # fmt: skip
    """Workflows are read at start: a server started with Lumen 3 made `us_persons_only` holds Boris's
    grant (not a US person) and leaves Alice's; one started with Lumen 3 suspended holds both; the
    original workflows give both back. Each change is its first re-check's, before anyone clicks."""
    alice = grant_through_slack(slack, emulator, server, ALICE, "lumen-3")
    boris = grant_through_slack(slack, emulator, server, BORIS, "lumen-3")
    server.stop()

    us_only = start_server(
        ACCESSBOT_WORKFLOWS_DIR=str(
            changed_workflows(tmp_path, "us-only", "lumen-3", "    us_persons_only: true\n")
        )
    )
    us_only.run_jobs()
    assert statuses(us_only)[alice] == "active" and statuses(us_only)[boris] == "suspended"
    assert {int(str(g["id"])): g["held_by"] for g in listed(us_only, "grants")}[boris] == ["us_person"]
    emulator.wait_for(lambda: dms_saying(emulator, BORIS, "Your access is suspended"))
    us_only.stop()

    off = start_server(
        ACCESSBOT_WORKFLOWS_DIR=str(changed_workflows(tmp_path, "off", "lumen-3", "    status: suspended\n"))
    )
    off.run_jobs()
    held = {int(str(g["id"])): g["held_by"] for g in listed(off, "grants")}
    assert held[alice] == ["model_suspended"] and held[boris] == ["model_suspended"]
    assert statuses(off)[alice] == "suspended"
    off.stop()

    back = start_server()
    back.run_jobs()
    assert statuses(back)[alice] == "active" and statuses(back)[boris] == "active"
    triggers = [e["detail"] for e in audit_events(back) if e["action"] == "grant.reinstated"]
    assert triggers and all("recheck_id" in str(d) for d in triggers)
