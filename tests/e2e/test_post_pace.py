"""The outbox paces chat.postMessage to the workspace limit it is told (ACCESSBOT_SLACK_POSTS_PER_MINUTE)
instead of finding it by 429s, and slows down when Slack's limit turns out lower than that. Counted from
the emulator's record of the calls; how close to the limit's floor it finishes is for benchmarks/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.test_broadcast import issue_directive
from tests.support.app import InProcessBot
from tests.support.seed import add_grants
from tests.support.slack import SlackEmulator

# The pace is the sender's, whichever database its outbox is on; claiming from the outbox is tested on both.
pytestmark = pytest.mark.any_database("the pace of posts to Slack")

PEOPLE = [f"U0PACE{n:04d}" for n in range(80)]


def prepare(emulator: SlackEmulator, database_url: str, people: list[str] = PEOPLE) -> None:
    for user in people:
        emulator.add_user(user, name=user.lower(), email=f"{user.lower()}@example.com")
    add_grants(database_url, people, "mythos-5")


def limited(emulator: SlackEmulator) -> int:
    return sum(1 for call in emulator.calls("chat.postMessage") if call.status == 429)


def broadcast(
    server: InProcessBot, emulator: SlackEmulator, tmp_path: Path, people: list[str] = PEOPLE
) -> None:
    """Issue a directive to `people` and wait until each notice, and the channel's, has arrived."""
    issue_directive(server, tmp_path)
    emulator.wait_for(
        lambda: all(emulator.messages(u) for u in people) and emulator.messages("C0MYTHOS5"),
        timeout=120,
        interval=0.05,
    )
    assert {len(emulator.messages(u)) for u in people} == {1}
    assert len(emulator.messages("C0MYTHOS5")) == 1


def test_posts_go_at_the_stated_workspace_limit_without_429s(
    start_server: Callable[..., InProcessBot], emulator: SlackEmulator, database_url: str, tmp_path: Path
) -> None:
    prepare(emulator, database_url)
    server = start_server(ACCESSBOT_SLACK_POSTS_PER_MINUTE="600")
    emulator.set_rate_limit("chat.postMessage", per_second=10)  # what the bot was told: 600 a minute
    broadcast(server, emulator, tmp_path)
    # Unpaced (told 60,000 a minute), eight workers post the 80 notices as fast as Slack answers and meet
    # 31 answers of 429 before the 429s slow them. Paced, a few may still meet the edge of Slack's window:
    # on a busy machine, posts taken a tenth of a second apart can reach Slack bunched together.
    assert limited(emulator) <= len(PEOPLE) // 10


def test_a_limit_lower_than_stated_slows_the_pace_instead_of_drawing_429s_all_the_way(
    start_server: Callable[..., InProcessBot], emulator: SlackEmulator, database_url: str, tmp_path: Path
) -> None:
    people = PEOPLE[:40]
    prepare(emulator, database_url, people)
    # Told 8 a second, as each of two replicas on one workspace would be, with Slack allowing 4 in all:
    # far enough below what the sender reaches on a slow, busy machine (about 12 a second with both
    # cores taken) that Slack's limit is always met, whatever the machine.
    server = start_server(ACCESSBOT_SLACK_POSTS_PER_MINUTE="480")
    emulator.set_rate_limit("chat.postMessage", per_second=4)
    broadcast(server, emulator, tmp_path, people)
    # Each 429 past the first halves the pace, and a few of them bring it under Slack's limit (7 or 8
    # here, on a quiet machine and a busy one alike). Kept at 8 a second, every other post would be
    # answered 429 to the end.
    assert 1 <= limited(emulator) <= len(people) * 3 // 10
    assert "rate limited; pausing it" in server.log()
