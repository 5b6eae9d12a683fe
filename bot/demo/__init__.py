"""`accessbot demo`: the whole request flow with no Slack account and no setup.

SQLite in a temporary folder, the Slack emulator in this process, the example workflows and a built-in
directory. The real server (the same WSGI app and waitress as `accessbot serve`) receives signed requests
over HTTP, and the demo prints what each person sees in Slack.
"""

from __future__ import annotations

import csv
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from bot.clock import FileClock
from bot.config import load_settings
from bot.domain.licences import utc_day
from bot.emulator import SlackDriver, SlackEmulator, message_to_text
from bot.runtime import build_runtime
from bot.server import SLACK_PATH, wsgi_app
from bot.services.context import Context
from bot.services.directory import import_directory
from bot.services.licences import COMMAND_LINE, record_licence, revoke_licence
from bot.store import migrate

DIRECTORY = Path(__file__).with_name("directory.csv")
SIGNING_SECRET = "demo-signing-secret-not-for-production"
BOT_TOKEN = "xoxb-demo-token"
ORDER = (
    "Mythos 5 may no longer be used by foreign nationals. Export, re-export and in-country transfer need "
    "a licence."
)
JUSTIFICATION = "Benchmarking Mythos 5 against our evaluation suite for the Q3 model review."


class Demo:
    def __init__(self, out: TextIO):
        self.out = out
        self.names: dict[str, str] = {}
        self.seen: dict[str, int] = {}

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def humanise(self, text: str) -> str:
        for user_id, name in self.names.items():
            text = text.replace(f"@{user_id}", f"@{name}")
        return text

    def show(self, who: str, heading: str, message: dict[str, Any]) -> None:
        self.say(f"  ┌ {self.names.get(who, who)} {heading}")
        for line in self.humanise(message_to_text(message)).splitlines():
            self.say(f"  │ {line}")
        self.say("  └")

    def new_messages(self, emulator: SlackEmulator, who: str) -> list[dict[str, Any]]:
        messages = emulator.messages(who)
        fresh = messages[self.seen.get(who, 0) :]
        self.seen[who] = len(messages)
        return fresh

    def show_new(self, emulator: SlackEmulator, *people: str, wait: bool = True) -> None:
        for who in people:
            if wait:
                emulator.wait_for(
                    lambda who=who: len(emulator.messages(who)) > self.seen.get(who, 0), timeout=15
                )
            for message in self.new_messages(emulator, who):
                self.show(who, "gets a DM from AccessBot:", message)


def run_demo(out: TextIO = sys.stdout) -> int:
    logging.getLogger().setLevel(logging.WARNING)
    demo = Demo(out)
    with (
        tempfile.TemporaryDirectory(prefix="accessbot-demo-") as folder,
        SlackEmulator(bot_token=BOT_TOKEN) as emu,
    ):
        with DIRECTORY.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                emu.add_user(
                    row["slack_user_id"],
                    name=row["email"].split("@")[0],
                    email=row["email"],
                    real_name=row["name"],
                )
                demo.names[row["slack_user_id"]] = row["name"].split()[0]
        database_url = f"sqlite:///{Path(folder) / 'demo.db'}"
        # A clock the demo can move on, so that a grant's last day and a request left waiting come now.
        clock = FileClock.create(Path(folder) / "clock.txt")
        settings = load_settings(
            {
                "ACCESSBOT_CLOCK_FILE": str(clock.path),
                "DATABASE_URL": database_url,
                "SLACK_API_URL": emu.url,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "ACCESSBOT_SCHEDULER_INTERVAL": "1",
            },
            env_file=None,
        )
        runtime = build_runtime(settings)
        for model in runtime.ctx.catalog.models.values():
            for channel in model.announce_channels:
                emu.add_channel(channel, model.slug)
                demo.names[channel] = f"#{model.slug}"
        migrate.upgrade(runtime.ctx.db)
        result = import_directory(runtime.ctx, DIRECTORY, actor="demo")
        from waitress import create_server

        server = create_server(wsgi_app(runtime), host="127.0.0.1", port=0, threads=8)
        threading.Thread(target=server.run, name="demo-http", daemon=True).start()
        runtime.start_background()
        url = f"http://127.0.0.1:{server.effective_port}{SLACK_PATH}"  # type: ignore[union-attr]
        slack = SlackDriver(url, SIGNING_SECRET, emu)
        try:
            play(demo, slack, emu, result.added, database_url)
            play_licences(demo, slack, emu, runtime.ctx)
            play_lifecycle(demo, slack, emu, clock)
            say_done(demo, database_url)
        finally:
            runtime.stop()
            server.close()
    return 0


def play(demo: Demo, slack: SlackDriver, emu: SlackEmulator, people: int, database_url: str) -> None:
    alice, boris, ian, maria, owen, carla, dana = (
        "U0ALICE01", "U0BORIS01", "U0IAN0001", "U0MARIA01", "U0OWEN001", "U0CARLA01", "U0ADMIN01",
    )  # fmt: skip
    say = demo.say
    say("AccessBot demo: a local Slack emulator, a temporary SQLite database, the example workflows")
    say(f"and a directory of {people} people. Everything below went over HTTP to the real server.")
    say()
    say("1. Alice (a US person in Research) asks for Mythos 5 with the slash command:")
    say(f"   /access request mythos-5 7d {JUSTIFICATION}")
    reply = slack.command(alice, f"request mythos-5 7d {JUSTIFICATION}")
    demo.show(
        alice, f"sees (only visible to her, answered in {reply.elapsed * 1000:.0f} ms):", reply.json or {}
    )
    demo.show_new(emu, alice, maria)

    approvers = ((maria, "her manager"), (owen, "a model owner"), (carla, "export compliance"))
    for step, (approver, role) in enumerate(approvers, 2):
        if step > 2:
            demo.show_new(emu, approver)
        say(f"{step}. {demo.names[approver]} ({role}) clicks [Approve].")
        approve_latest(slack, emu, approver)
        updated = emu.messages(approver)[-1]
        demo.show(
            approver, "sees the buttons replaced, in place:", {"blocks": updated["blocks"][-1:], "text": ""}
        )
        demo.show_new(emu, alice)

    say("5. Ian (a citizen of an embargoed country) asks for Lumen 3; the policy check denies it at once:")
    reply = slack.command(ian, f"request lumen-3 {JUSTIFICATION}")
    demo.show(ian, "sees:", reply.json or {})
    demo.new_messages(emu, ian)

    say("6. Boris (a German national, not a US person) gets Mythos 5 the same way:")
    grant_quietly(demo, slack, emu, boris, (maria, owen, carla), alice)
    say("   Maria, Owen and Carla each clicked [Approve]; Boris now holds a grant for Mythos 5.")
    say()

    say("7. Overnight, an order bars foreign nationals from Mythos 5. Dana (access admin) types /directive,")
    say("   fills in the form and clicks [Review impact]. Nothing has changed yet; she sees:")
    slack.command(dana, "", command="/directive")
    form = emu.wait_for(lambda: [v for v in emu.views_opened(dana) if not v.get("closed")])[-1]
    preview = slack.submit_view(
        dana,
        form["id"],
        {
            "d_title": "Frontier models barred to foreign nationals",
            "d_authority": "US Department of Commerce",
            "d_reference": "EO-2026-117",
            "d_notice": ORDER,
            "d_models": ["mythos-5"],
            "d_population": "non-us-persons",
            "d_action": "suspend",
        },
    )
    view = (preview.json or {}).get("view") or {}
    demo.show(dana, "sees in the form:", {"blocks": view.get("blocks", [])[:4], "text": ""})

    say("8. Dana clicks [Issue directive]. In one transaction Boris's grant is suspended; Alice's is not.")
    slack.submit_view(dana, form["id"], {})
    emu.wait_for(lambda: any("Directive D1" in m["text"] for m in emu.messages(boris)))
    emu.wait_for(lambda: emu.messages("C0MYTHOS5"))
    demo.show_new(emu, boris)
    demo.show("C0MYTHOS5", "gets an announcement that names nobody:", emu.messages("C0MYTHOS5")[-1])
    emu.wait_for(lambda: "2 sent of 2, 0 failed" in str(emu.messages(dana)[-1]["blocks"]), timeout=15)
    demo.show(dana, "sees her message update in place as the notices go out:", emu.messages(dana)[-1])
    demo.new_messages(emu, dana)

    say("9. Boris asks for Mythos 5 again; the request is denied, citing the directive:")
    seen = len(emu.messages(boris))
    reply = slack.command(boris, f"request mythos-5 {JUSTIFICATION}")
    demo.show(boris, "sees:", reply.json or {})
    emu.wait_for(lambda: len(emu.messages(boris)) > seen)  # the same denial, by DM, for the record
    demo.new_messages(emu, boris)

    say("10. The order is rescinded: Dana types /directive lift D1 Order rescinded")
    reply = slack.command(dana, "lift D1 Order rescinded", command="/directive")
    demo.show(dana, "sees:", reply.json or {})
    emu.wait_for(lambda: any("has been lifted" in m["text"] for m in emu.messages(boris)))
    demo.show_new(emu, boris)


def play_licences(demo: Demo, slack: SlackDriver, emu: SlackEmulator, ctx: Context) -> None:
    """The licence story: under a require-licence directive, the foreign national with a licence keeps
    access and the one without loses it; revoking the licence suspends the grant at once."""
    boris, eve, maria, owen, carla, dana = (
        "U0BORIS01", "U0EVE0001", "U0MARIA01", "U0OWEN001", "U0CARLA01", "U0ADMIN01",
    )  # fmt: skip
    say = demo.say
    say("11. Eve (a French national) gets Mythos 5 too. Then Carla (export compliance) records the export")
    say("    licence the authority issued for Boris:")
    grant_quietly(demo, slack, emu, eve, (maria, owen, carla), boris)
    today = utc_day(ctx.clock())
    until = today.replace(year=today.year + 1)
    command = "accessbot licence add --number EX-2026-0117 --authority BIS --kind deemed-export"
    say(f"    {command} --holder {boris} \\")
    say(f"      --models mythos-5 --countries DE --valid-from {today} --valid-until {until}")
    recorded = record_licence(
        ctx,
        {
            "number": "EX-2026-0117", "authority": "BIS", "kind": "deemed-export", "holder": boris,
            "models": "mythos-5", "countries": "DE", "valid_from": today.isoformat(),
            "valid_until": until.isoformat(),
        },
        actor=carla,
        source=COMMAND_LINE,  # as the command the demo shows
    )  # fmt: skip
    say(f"    recorded L{recorded.licence_id}")
    say()

    say("12. A second order: Mythos 5 needs a licence for foreign nationals. Dana issues it with")
    say("    /directive (action: require-licence). Boris's licence covers him; Eve has none:")
    slack.command(dana, "", command="/directive")
    form = emu.wait_for(lambda: [v for v in emu.views_opened(dana) if not v.get("closed")])[-1]
    slack.submit_view(
        dana,
        form["id"],
        {
            "d_title": "Licence required for Mythos 5",
            "d_authority": "US Department of Commerce",
            "d_reference": "EO-2026-118",
            "d_notice": ORDER,
            "d_models": ["mythos-5"],
            "d_population": "non-us-persons",
            "d_action": "require-licence",
        },
    )
    slack.submit_view(dana, form["id"], {})
    emu.wait_for(lambda: any("Directive D2" in m["text"] for m in emu.messages(eve)))
    demo.show_new(emu, eve)
    say(f"    Boris gets no notice: his grant stays active under licence L{recorded.licence_id}.")
    demo.new_messages(emu, boris)
    say()

    say(f"13. BIS withdraws the licence. Carla: accessbot licence revoke L{recorded.licence_id} --reason ...")
    say("    The re-check runs in the same transaction: Boris's grant is suspended, and he is told why:")
    revoke_licence(ctx, recorded.licence_id, "BIS withdrew the licence", actor=carla)
    emu.wait_for(lambda: any(m["text"].endswith("is suspended") for m in emu.messages(boris)))
    demo.show_new(emu, boris)


def play_lifecycle(demo: Demo, slack: SlackDriver, emu: SlackEmulator, clock: FileClock) -> None:
    """A grant's last day, with Extend; and a request nobody answers, reminded in its thread."""
    alice, eve, maria, owen, carla = "U0ALICE01", "U0EVE0001", "U0MARIA01", "U0OWEN001", "U0CARLA01"
    say = demo.say
    say("14. Six days later (the demo moves its clock on): Alice's grant ends tomorrow. She is warned,")
    say("    with an [Extend] button:")
    clock.advance(days=6, hours=2)
    warning = emu.wait_for(lambda: [m for m in emu.messages(alice) if "ends in" in m["text"]], timeout=15)[-1]
    demo.show_new(emu, alice)
    say("    She clicks [Extend], picks 7 days and says why; the same approval chain decides:")
    slack.press_in_message(alice, "grant_extend", warning)
    form = emu.wait_for(lambda: [v for v in emu.views_opened(alice) if not v.get("closed")])[-1]
    slack.submit_view(alice, form["id"], {"extend_duration": "7d", "extend_reason": JUSTIFICATION})
    for approver in (maria, owen, carla):
        approve_latest(slack, emu, approver)
        demo.new_messages(emu, approver)
    emu.wait_for(lambda: any("now runs until" in str(m["blocks"]) for m in emu.messages(alice)), timeout=15)
    demo.show_new(emu, alice)

    say("15. Eve asks for Lumen 3. Her manager Maria does not answer for a day, so she is reminded in the")
    say("    thread of the request she was sent, and Eve is told:")
    slack.command(eve, f"request lumen-3 7d {JUSTIFICATION}")
    emu.wait_for(lambda: any("Lumen 3" in m["text"] for m in emu.messages(maria)), timeout=15)
    demo.new_messages(emu, eve)
    demo.new_messages(emu, maria)
    clock.advance(days=1, minutes=1)
    emu.wait_for(lambda: any("Reminder 1 of 2" in m["text"] for m in emu.messages(maria)), timeout=15)
    emu.wait_for(lambda: any("I reminded" in str(m["blocks"]) for m in emu.messages(eve)), timeout=15)
    demo.show_new(emu, maria, eve)


def say_done(demo: Demo, database_url: str) -> None:
    demo.say(f"Done. The grants, requests, directives and audit trail were in {database_url} (deleted now).")
    demo.say("Next: `accessbot --help`, and the README for connecting a real Slack workspace.")


def grant_quietly(
    demo: Demo, slack: SlackDriver, emu: SlackEmulator, who: str, approvers: tuple[str, ...], *others: str
) -> None:
    """`who` asks for Mythos 5 and each approver approves, without printing the messages (already shown
    once for Alice); everyone's new messages are marked seen."""
    slack.command(who, f"request mythos-5 7d {JUSTIFICATION}")
    for approver in approvers:
        approve_latest(slack, emu, approver)
    emu.wait_for(lambda: any("is approved" in m["text"] for m in emu.messages(who)))
    for person in (who, *approvers, *others):
        demo.new_messages(emu, person)


def approve_latest(slack: SlackDriver, emu: SlackEmulator, approver: str) -> None:
    """Wait for the approver's newest request, click its Approve, and wait for the message to update."""
    emu.wait_for(
        lambda: emu.messages(approver) and "approval_approve" in str(emu.messages(approver)[-1]["blocks"]),
        timeout=15,
    )
    slack.click_button_in_message(approver, approver, "approval_approve")
    emu.wait_for(lambda: "approval_approve" not in str(emu.messages(approver)[-1]["blocks"]), timeout=15)
    time.sleep(0.3)  # let the follow-up messages land before printing them
