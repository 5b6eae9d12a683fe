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

from bot.config import load_settings
from bot.emulator import SlackDriver, SlackEmulator, message_to_text
from bot.runtime import build_runtime
from bot.server import SLACK_PATH, wsgi_app
from bot.services.directory import import_directory
from bot.store import migrate

DIRECTORY = Path(__file__).with_name("directory.csv")
SIGNING_SECRET = "demo-signing-secret-not-for-production"
BOT_TOKEN = "xoxb-demo-token"
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
        settings = load_settings(
            {
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
        migrate.upgrade(runtime.ctx.db)
        result = import_directory(runtime.ctx.db, DIRECTORY, actor="demo")
        from waitress import create_server

        server = create_server(wsgi_app(runtime), host="127.0.0.1", port=0, threads=8)
        threading.Thread(target=server.run, name="demo-http", daemon=True).start()
        runtime.start_background()
        url = f"http://127.0.0.1:{server.effective_port}{SLACK_PATH}"  # type: ignore[union-attr]
        slack = SlackDriver(url, SIGNING_SECRET, emu)
        try:
            play(demo, slack, emu, result.added, database_url)
        finally:
            runtime.stop()
            server.close()
    return 0


def play(demo: Demo, slack: SlackDriver, emu: SlackEmulator, people: int, database_url: str) -> None:
    alice, boris, maria, owen, carla = "U0ALICE01", "U0BORIS01", "U0MARIA01", "U0OWEN001", "U0CARLA01"
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

    for step, (approver, role) in enumerate(
        ((maria, "her manager"), (owen, "a model owner"), (carla, "export compliance")), 2
    ):
        if step > 2:
            demo.show_new(emu, approver)
        say(f"{step}. {demo.names[approver]} ({role}) clicks [Approve].")
        slack.click_button_in_message(approver, approver, "approval_approve")
        emu.wait_for(
            lambda approver=approver: "approval_approve" not in str(emu.messages(approver)[-1]["blocks"])
        )
        time.sleep(0.3)
        updated = emu.messages(approver)[-1]
        demo.show(
            approver, "sees the buttons replaced, in place:", {"blocks": updated["blocks"][-1:], "text": ""}
        )
        demo.show_new(emu, alice)

    say("5. Boris (not a US person) asks for Mythos 5; the policy check denies it at once:")
    reply = slack.command(boris, f"request mythos-5 {JUSTIFICATION}")
    demo.show(boris, "sees:", reply.json or {})
    say()
    say("6. Alice opens AccessBot's App Home tab:")
    slack.app_home_opened(alice)
    home = emu.wait_for(lambda: emu.home(alice))
    demo.show(alice, "sees:", {"blocks": home["blocks"][:9], "text": ""})
    say(f"Done. The grant, requests and audit trail were in {database_url} (deleted now).")
    say("Next: `accessbot --help`, and the README for connecting a real Slack workspace.")
