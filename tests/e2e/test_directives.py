"""Directives end to end: the seed scenario from Slack alone, scheduled and overlapping directives,
refusals, and what channels and people are told."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from tests.support.app import InProcessBot
from tests.support.cli import audit_events, listed, listed_by_cli, run_cli, undelivered
from tests.support.flows import WHY, grant_through_slack
from tests.support.slack import SlackDriver, SlackEmulator

ALICE, BORIS, EVE, ADMIN, MARIA = "U0ALICE01", "U0BORIS01", "U0EVE0001", "U0ADMIN01", "U0MARIA01"
NOTICE = "Under the order, Mythos 5 and Fable 5 may not be used by foreign nationals. Export needs a licence."


def directive_form(slack: SlackDriver, emulator: SlackEmulator, user: str = ADMIN) -> dict[str, object]:
    reply = slack.command(user, "", command="/directive")
    assert reply.status == 200
    return emulator.wait_for(lambda: [v for v in emulator.views_opened(user) if not v.get("closed")])[-1]


def form_values(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "d_title": "Frontier models barred to foreign nationals",
        "d_authority": "US Department of Commerce",
        "d_reference": "EO-2026-117",
        "d_notice": NOTICE,
        "d_models": ["mythos-5"],
        "d_population": "non-us-persons",
        "d_action": "suspend",
    }
    values.update(overrides)
    return values


def grant_status(server: InProcessBot, grant_id: int) -> str:
    return next(str(g["status"]) for g in listed(server, "grants") if g["id"] == grant_id)


def test_seed_scenario_from_slack_alone(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    alice_grant = grant_through_slack(slack, emulator, server, ALICE, "mythos-5")
    boris_grant = grant_through_slack(slack, emulator, server, BORIS, "mythos-5")
    emulator.reset_calls()

    # The admin fills the form and sees the impact before anything changes.
    form = directive_form(slack, emulator)
    preview = slack.submit_view(ADMIN, form["id"], form_values())
    assert preview.json and preview.json["response_action"] == "update"
    confirm = json.dumps(preview.json["view"])
    assert "1 grant(s) suspended" in confirm and "1 person" in confirm
    assert grant_status(server, boris_grant) == "active"
    assert listed(server, "directive") == []  # a draft is not a directive yet

    done = slack.submit_view(ADMIN, form["id"], {})
    assert done.status == 200
    emulator.wait_for(lambda: grant_status(server, boris_grant) == "suspended")
    assert grant_status(server, alice_grant) == "active"  # US person: untouched

    # Boris is told, by DM, what changed for him, with the reference and whom to ask.
    notice = emulator.wait_for(lambda: [m for m in emulator.messages(BORIS) if "Directive D1" in m["text"]])[
        -1
    ]
    body = json.dumps(notice["blocks"])
    assert (
        f"G{boris_grant}" in body
        and "suspended" in body
        and "EO-2026-117" in body
        and "#ai-access-help" in body
    )
    assert not [m for m in emulator.messages(ALICE) if "Directive D1" in m["text"]]

    # The model's channel is told, without naming anyone or anyone's nationality.
    post = emulator.wait_for(lambda: emulator.messages("C0MYTHOS5"))[-1]
    post_text = json.dumps(post)
    assert "restricted for non-US persons" in post_text
    for secret in (BORIS, "Boris", " DE", "German"):
        assert secret not in post_text

    # The admin's message shows delivery progress, updated in place until every notice is out.
    def progress_done() -> bool:
        message = emulator.messages(ADMIN)[-1]
        return "2 sent of 2, 0 failed" in json.dumps(message["blocks"])

    emulator.wait_for(progress_done, timeout=15)
    assert emulator.calls("chat.update")

    # The catalog shows the restriction; Boris asking again is denied, citing the directive.
    assert "restricted" in slack.command(ALICE, "models").body
    again = slack.command(BORIS, f"request mythos-5 {WHY}")
    assert "was denied" in again.body and "Directive D1" in again.body and "EO-2026-117" in again.body
    eve = slack.command(EVE, f"request mythos-5 {WHY}")
    assert "Directive D1" in eve.body

    # Lifting reinstates the grant and tells him.
    lifted = slack.command(ADMIN, "lift D1 The order was rescinded", command="/directive")
    assert "Lifted D1: 1 grant(s) reinstated" in lifted.body
    assert grant_status(server, boris_grant) == "active"
    emulator.wait_for(lambda: any("has been lifted" in m["text"] for m in emulator.messages(BORIS)))
    lift_dm = next(m for m in emulator.messages(BORIS) if "has been lifted" in m["text"])
    assert "is back" in json.dumps(lift_dm["blocks"])
    emulator.wait_for(lambda: any("lifted" in m["text"] for m in emulator.messages("C0MYTHOS5")))
    # The request it denied stays closed, and the directive no longer stands in his way.
    assert listed(server, "requests")[-1]["status"] == "denied"
    assert "already hold an active grant" in slack.command(BORIS, f"request mythos-5 {WHY}").body
    actions = {e["action"] for e in audit_events(server)}
    assert {"directive.issued", "grant.suspended", "directive.lifted", "grant.reinstated"} <= actions
    assert not emulator.violations


def test_pending_requests_of_covered_people_are_stopped(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    slack.command(BORIS, f"request mythos-5 {WHY}")
    slack.command(ALICE, f"request mythos-5 {WHY}")
    emulator.wait_for(lambda: len(emulator.messages(MARIA)) == 2)
    form = directive_form(slack, emulator)
    slack.submit_view(ADMIN, form["id"], form_values())
    slack.submit_view(ADMIN, form["id"], {})
    emulator.wait_for(lambda: listed(server, "requests")[0]["status"] == "denied")
    boris_request, alice_request = listed(server, "requests")
    assert "Stopped by directive D1" in str(boris_request["reason"]) and boris_request["directive_id"] == 1
    assert alice_request["status"] == "pending"
    # Maria's copy of Boris's request loses its buttons and says why.
    emulator.wait_for(
        lambda: any(
            "Stopped by directive D1" in json.dumps(m["blocks"])
            and "approval_approve" not in json.dumps(m["blocks"])
            for m in emulator.messages(MARIA)
        )
    )
    notice = emulator.wait_for(lambda: [m for m in emulator.messages(BORIS) if "Directive D1" in m["text"]])[
        -1
    ]
    assert "R1" in json.dumps(notice["blocks"]) and "was stopped" in json.dumps(notice["blocks"])


def test_form_errors_are_shown_in_place(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    form = directive_form(slack, emulator)
    no_models = slack.submit_view(ADMIN, form["id"], form_values(d_models=[]))
    assert no_models.json and "d_models" in no_models.json["errors"]
    bad_country = slack.submit_view(
        ADMIN, form["id"], form_values(d_population="citizenship", d_countries="UK")
    )
    assert bad_country.json and "did you mean GB" in bad_country.json["errors"]["d_countries"]
    # What the admin typed is quoted as typed: `I*R` is not shown as the valid code IR.
    for typed, quoted in (("I*R", "'I*R'"), ("`KP`", "'`KP`'"), ("IR;*", "'*'")):
        wrong = slack.submit_view(
            ADMIN, form["id"], form_values(d_population="citizenship", d_countries=typed)
        )
        assert wrong.json and quoted in wrong.json["errors"]["d_countries"], typed
    nobody = slack.submit_view(ADMIN, form["id"], form_values(d_population="users", d_users=[]))
    assert nobody.json and "d_users" in nobody.json["errors"]
    assert listed(server, "directive") == []


def test_non_admins_are_refused_and_audited(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    # "report" alone and "lift G1" cannot be read: refused all the same, not taught the syntax.
    for text in ("", "list", "lift D1", "report D1", "report", "lift G1"):
        reply = slack.command(EVE, text, command="/directive")
        assert "Only people with the access-admin role" in reply.body, text
    assert emulator.views_opened(EVE) == []
    # A forged form submission changes nothing either.
    form = directive_form(slack, emulator)
    forged = slack.submit_view(EVE, form["id"], form_values())
    assert forged.json and "Only people with the access-admin role" in json.dumps(forged.json["errors"])
    refused = [e for e in audit_events(server) if e["action"] == "directive.refused"]
    assert len(refused) == 7 and {e["actor"] for e in refused} == {EVE}
    assert listed(server, "directive") == []


def schedule_lumen_withdrawal(server: InProcessBot, tmp_path: Path, effective: datetime) -> str:
    """Issue, through the CLI, a directive suspending Lumen 3 for non-US persons from `effective`; the
    CLI's output."""
    notice = tmp_path / "notice.txt"
    notice.write_text("Lumen 3 is withdrawn for non-US persons from the effective time.")
    return run_cli(
        server,
        "directive", "issue", "--title", "Lumen withdrawal", "--authority", "Board", "--reference", "BR-9",
        "--models", "lumen-3", "--population", "non-us-persons", "--action", "suspend",
        "--notice-file", str(notice), "--effective-at", effective.isoformat(),
    ).stdout  # fmt: skip


def test_scheduled_directive_warns_now_and_applies_on_time(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path
) -> None:
    boris_grant = grant_through_slack(slack, emulator, server, BORIS, "lumen-3")
    issued = schedule_lumen_withdrawal(server, tmp_path, server.clock() + timedelta(hours=1))
    assert "D1 issued: scheduled for" in issued
    assert listed(server, "directive")[0]["status"] == "scheduled"
    warning = emulator.wait_for(lambda: [m for m in emulator.messages(BORIS) if "takes effect" in m["text"]])[
        -1
    ]
    assert "will be suspended" in json.dumps(warning["blocks"])
    server.run_jobs()
    assert grant_status(server, boris_grant) == "active"
    server.clock.advance(minutes=59)
    server.run_jobs()
    assert grant_status(server, boris_grant) == "active"
    server.clock.advance(minutes=2)
    server.run_jobs()
    assert grant_status(server, boris_grant) == "suspended"
    assert listed(server, "directive")[0]["status"] == "active"
    emulator.wait_for(lambda: any("is in effect" in m["text"] for m in emulator.messages(BORIS)))


def test_a_withdrawal_speaks_to_the_people_who_were_warned(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path
) -> None:
    boris_grant = grant_through_slack(slack, emulator, server, BORIS, "lumen-3")
    schedule_lumen_withdrawal(server, tmp_path, server.clock() + timedelta(hours=1))
    emulator.wait_for(lambda: [m for m in emulator.messages(BORIS) if "takes effect" in m["text"]])
    # Eve is given access after the warning went out: she was never told of the order.
    eve_grant = grant_through_slack(slack, emulator, server, EVE, "lumen-3")
    run_cli(server, "directive", "lift", "D1", "--reason", "Withdrawn by the board")
    server.settle()
    emulator.wait_for(lambda: [m for m in emulator.messages(BORIS) if "will not take effect" in m["text"]])
    assert not [m for m in emulator.messages(EVE) if "take effect" in m["text"]]
    assert {grant_status(server, g) for g in (boris_grant, eve_grant)} == {"active"}


def test_a_directive_lifted_after_its_time_but_before_the_scheduler_applied_it_took_effect(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path
) -> None:
    """Its time came while the scheduler was not running: request policy (and gateways) enforced it from
    then, so lifting it is a lift, not a withdrawal: the record says it took effect, and when."""
    boris_grant = grant_through_slack(slack, emulator, server, BORIS, "lumen-3")
    start = server.clock()
    effective = start + timedelta(minutes=10)
    schedule_lumen_withdrawal(server, tmp_path, effective)
    server.clock.advance(minutes=30)  # no scheduler run in between
    assert "Directive D1" in slack.command(EVE, f"request lumen-3 {WHY}").body  # enforced already
    run_cli(server, "directive", "lift", "D1", "--reason", "Rescinded")
    server.settle()
    assert grant_status(server, boris_grant) == "active"
    report = json.loads(run_cli(server, "directive", "report", "D1", "--json").stdout)
    assert report["directive"]["activated_at"] is not None
    # Suspended as of its effective time, as the point-in-time report below says too.
    (suspension,) = report["people"][0]["grants"]
    assert suspension["suspended_at"] == effective.isoformat()
    actions = [e["action"] for e in audit_events(server) if e["subject_type"] == "directive"]
    assert actions[-2:] == ["directive.activated", "directive.lifted"]
    told = " ".join(json.dumps(m) for m in emulator.messages(BORIS))
    assert "will not take effect" not in told

    # Point in time: from its effective time Boris could not use the model, and after the lift he can.
    def could_use_at(moment: datetime) -> list[str]:
        out = run_cli(server, "report", "access", "--model", "lumen-3", "--at", moment.isoformat(), "--json")
        return [str(p["slack_user_id"]) for p in json.loads(out.stdout)]

    assert BORIS in could_use_at(start + timedelta(minutes=5))
    assert BORIS not in could_use_at(effective + timedelta(minutes=10))
    server.clock.advance(minutes=1)
    assert BORIS in could_use_at(server.clock())


def test_overlapping_directives_keep_a_grant_suspended_until_both_are_lifted(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path
) -> None:
    boris_grant = grant_through_slack(slack, emulator, server, BORIS, "mythos-5")
    notice = tmp_path / "notice.txt"
    notice.write_text("Restricted under the order.")

    def issue(population: str, reference: str) -> None:
        run_cli(
            server,
            "directive", "issue", "--title", "Order", "--authority", "Gov", "--reference", reference,
            "--models", "mythos-5", "--population", population, "--action", "suspend",
            "--notice-file", str(notice),
        )  # fmt: skip

    issue("non-us-persons", "ORDER-1")
    issue("citizenship:DE", "ORDER-2")
    assert grant_status(server, boris_grant) == "suspended"
    assert "0 grant(s) reinstated" in run_cli(server, "directive", "lift", "D1").stdout
    assert grant_status(server, boris_grant) == "suspended"
    emulator.wait_for(lambda: any("stays suspended under directive D2" in json.dumps(m["blocks"])
                                  for m in emulator.messages(BORIS)))  # fmt: skip
    assert "1 grant(s) reinstated" in run_cli(server, "directive", "lift", "D2").stdout
    assert grant_status(server, boris_grant) == "active"
    report = json.loads(run_cli(server, "directive", "report", "D1", "--json").stdout)
    assert report["summary"]["grants_suspended"] == 1
    assert (report["directive"]["notice"], report["directive"]["lift_reason"]) == (
        "Restricted under the order.",
        None,
    )
    person = report["people"][0]
    assert person["slack_user_id"] == BORIS and person["grants"][0]["status_now"] == "active"


def test_permanent_delivery_failures_are_reported_to_the_admin(
    start_server: Callable[..., InProcessBot], emulator: SlackEmulator
) -> None:
    server = start_server()
    slack = server.driver(emulator)
    eve_grant = grant_through_slack(slack, emulator, server, EVE, "lumen-3")
    # Eve left the company: Slack still accepts DMs to her, but tells the bot with a user_change event.
    emulator.set_user(EVE, deleted=True)
    slack.user_change(EVE)
    emulator.wait_for(lambda: any(e["action"] == "account.deactivated" for e in audit_events(server)))
    emulator.set_channel("C0AIMODELS", is_private=True, bot_is_member=False)  # not_in_channel

    def posts_to_eve() -> int:
        return len([c for c in emulator.calls("chat.postMessage") if c.params.get("channel") == EVE])

    server.settle()  # the grant's own notices to Eve have all gone out
    before = posts_to_eve()
    form = directive_form(slack, emulator)
    slack.submit_view(ADMIN, form["id"], form_values(d_models=["lumen-3"]))
    slack.submit_view(ADMIN, form["id"], {})
    emulator.wait_for(lambda: grant_status(server, eve_grant) == "suspended")

    def reported() -> bool:
        blocks = json.dumps(emulator.messages(ADMIN)[-1]["blocks"])
        return (
            "0 sent of 2, 2 failed" in blocks
            and "account_deactivated" in blocks
            and "not_in_channel" in blocks
        )

    emulator.wait_for(reported, timeout=15)
    emulator.wait_for(lambda: undelivered(server) == 0)
    # Nothing was sent to the deactivated account, and nothing is retried.
    assert posts_to_eve() == before
    report = run_cli(server, "directive", "report", "D1").stdout
    assert "account_deactivated" in report and "not_in_channel" in report


def test_everyone_suspension_expiry_while_suspended_and_wait(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot, tmp_path: Path
) -> None:
    blink = grant_through_slack(slack, emulator, server, ALICE, "blink-1", "15s")
    notice = tmp_path / "notice.txt"
    notice.write_text("Blink 1 is withdrawn for everyone.")
    issued = run_cli(
        server,
        "directive", "issue", "--title", "Withdrawal", "--authority", "Board", "--reference", "BR-1",
        "--models", "blink-1", "--population", "everyone", "--action", "suspend",
        "--notice-file", str(notice), "--wait",
    )  # fmt: skip
    assert "notices: 1 sent of 1, 0 failed, 0 on the way" in issued.stdout  # Alice's DM (no channel)
    assert (
        "Blink 1" in slack.command(ALICE, "models").body
        and "suspended" in slack.command(ALICE, "models").body
    )
    listing = slack.command(ADMIN, "list", command="/directive").body
    assert "D1" in listing and "Withdrawal" in listing and "active" in listing
    server.clock.advance(seconds=16)
    server.run_jobs()
    assert grant_status(server, blink) == "expired"  # expiry runs on
    assert "0 grant(s) reinstated" in run_cli(server, "directive", "lift", "D1").stdout
    emulator.wait_for(
        lambda: any("does not come back" in json.dumps(m["blocks"]) for m in emulator.messages(ALICE))
    )
    assert "already lifted" in run_cli(server, "directive", "lift", "D1", check=False).stderr


def test_cli_directive_input_errors(server: InProcessBot, tmp_path: Path) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text("Text.")
    base = ["directive", "issue", "--title", "T", "--authority", "A", "--reference", "R",
            "--notice-file", str(notice)]  # fmt: skip
    everyone = ["--population", "everyone", "--action", "suspend"]
    cases = [
        (["--models", "nope-1", *everyone], "model 'nope-1' is not"),
        (["--models", "mythos-5", "--population", "martians", "--action", "suspend"], "'martians' is not"),
        (["--models", "mythos-5", "--population", "everyone", "--action", "ban"], "action 'ban' is not one"),
        (["--models", "mythos-5", "--population", "citizenship:XX", "--action", "suspend"], "'XX' is not"),
        (["--models", "mythos-5", *everyone, "--effective-at", "soon"], "is not an ISO 8601 time"),
        (["--models", "mythos-5", *everyone, "--effective-at", "2099-01-01T00:00:00"], "needs a time zone"),
        (["--models", "mythos-5", *everyone, "--effective-at", "9999-12-31T23:59:59-01:00"], "1970 and 9998"),
    ]  # fmt: skip
    for extra, needle in cases:
        result = run_cli(server, *base, *extra, check=False)
        assert result.returncode == 2 and needle in result.stderr and "Traceback" not in result.stderr, extra
    missing = run_cli(server, *base[:-1], str(tmp_path / "none.txt"), "--models", "mythos-5",
                      "--population", "everyone", "--action", "suspend", check=False)  # fmt: skip
    assert missing.returncode == 2 and "cannot be read" in missing.stderr
    dry = run_cli(server, *base, "--models", "mythos-5", "--population", "everyone", "--action", "suspend",
                  "--dry-run", "--json")  # fmt: skip
    assert json.loads(dry.stdout)["dry_run"] is True
    assert listed(server, "directive") == []
    assert "There is no directive D9" in run_cli(server, "directive", "report", "D9", check=False).stderr


def test_named_people_unknown_to_the_directory_and_slack_are_named_and_never_counted_as_told(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    # Dana is in Slack but not in the directory (a contractor); U0NOBODY1 exists nowhere.
    emulator.add_user("U0DANA001", "dana", "dana@contractor.example")
    named = [ALICE, "U0DANA001", "U0NOBODY1"]
    form = directive_form(slack, emulator)
    preview = slack.submit_view(
        ADMIN,
        form["id"],
        form_values(d_population="users", d_users=named, d_action="notice"),
    )
    assert preview.json and preview.json["response_action"] == "update"
    confirm = json.dumps(preview.json["view"])
    assert "2 of them are not in the AccessBot directory" in confirm
    assert "`U0DANA001`" in confirm and "`U0NOBODY1`" in confirm
    slack.submit_view(ADMIN, form["id"], {})

    emulator.wait_for(lambda: any("Directive D1" in m["text"] for m in emulator.messages("U0DANA001")))
    emulator.wait_for(lambda: any("Directive D1" in m["text"] for m in emulator.messages(ALICE)))

    def progress() -> str:
        return json.dumps(emulator.messages(ADMIN)[-1]["blocks"])

    # Three DMs and the model's announcement channel: everything arrived but the DM to nobody.
    emulator.wait_for(lambda: "3 sent of 4, 1 failed" in progress() and "user_not_found" in progress())
    report = json.loads(run_cli(server, "directive", "report", "D1", "--json").stdout)
    notices = {p["slack_user_id"]: [n["status"] for n in p["notices"]] for p in report["people"]}
    assert notices == {ALICE: ["sent"], "U0DANA001": ["sent"], "U0NOBODY1": ["failed"]}
    # When each was delivered; the one given up on never was.
    delivered = {
        p["slack_user_id"]: [n["sent_at"] is not None for n in p["notices"]] for p in report["people"]
    }
    assert delivered == {ALICE: [True], "U0DANA001": [True], "U0NOBODY1": [False]}
    assert report["summary"]["notices_failed"] == 1
    # Slack was never asked to deliver anything to the unknown id.
    assert not [c for c in emulator.calls("chat.postMessage") if c.params.get("channel") == "U0NOBODY1"]


def test_an_open_app_home_shows_a_directive_taking_a_grant_away_and_giving_it_back(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    grant_through_slack(slack, emulator, server, BORIS, "mythos-5")
    slack.app_home_opened(BORIS)
    emulator.wait_for(lambda: "Until" in json.dumps((emulator.home(BORIS) or {}).get("blocks")))
    form = directive_form(slack, emulator)
    slack.submit_view(ADMIN, form["id"], form_values())
    slack.submit_view(ADMIN, form["id"], {})
    emulator.wait_for(lambda: "Suspended" in json.dumps((emulator.home(BORIS) or {}).get("blocks")))
    slack.command(ADMIN, "lift D1 order withdrawn", command="/directive")
    emulator.wait_for(lambda: "Suspended" not in json.dumps((emulator.home(BORIS) or {}).get("blocks")))


def test_the_cli_lists_exactly_what_the_tests_read_from_the_store(
    slack: SlackDriver, emulator: SlackEmulator, server: InProcessBot
) -> None:
    grant_through_slack(slack, emulator, server, BORIS, "mythos-5")
    slack.command(ALICE, f"request lumen-3 {WHY}")
    form = directive_form(slack, emulator)
    slack.submit_view(ADMIN, form["id"], form_values())
    slack.submit_view(ADMIN, form["id"], {})
    emulator.wait_for(lambda: listed(server, "directive"))
    emulator.wait_for(lambda: all(r["status"] in ("sent", "failed") for r in listed(server, "outbox")))
    for noun in ("requests", "grants", "directive", "outbox"):
        assert listed_by_cli(server, noun) == listed(server, noun), noun
        assert listed(server, noun), noun
    # Every event sealed first: the bot's sealer would otherwise fill in seq and hash between the two reads.
    run_cli(server, "audit", "verify", "--seal")
    exported = run_cli(server, "audit", "export", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in exported] == audit_events(server)
