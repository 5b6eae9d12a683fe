"""The gateway decision API (POST /v1/access/check) and personal keys, over HTTP against a bot replica and the
Slack emulator: the token, every kind of refusal, a key made and revoked in Slack, and changes to a grant
(a directive, its lift, expiry, departure, a Slack deactivation) effective on the very next check."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from tests.support.app import InProcessBot
from tests.support.cli import audit_events, listed, run_cli
from tests.support.flows import grant_through_slack
from tests.support.seed import directory_file
from tests.support.slack import SlackDriver, SlackEmulator

TOKEN = "gw-3f9a1c2b7d8e4f6a0b1c2d3e4f5a6b7c"
METRICS_TOKEN = "metrics-9d8c7b6a5f4e3d2c1b0a"
ALICE, BORIS, ADMIN, NICK = "U0ALICE01", "U0BORIS01", "U0ADMIN01", "U0NICK001"
ORDER = "Mythos 5 may no longer be used by foreign nationals."
NO_SUCH_KEY = "abk_" + "A" * 43


def call(
    bot: InProcessBot,
    body: bytes | dict[str, Any] | list[Any],
    *,
    token: str | None = TOKEN,
    method: str = "POST",
) -> tuple[int, dict[str, Any], Message]:
    """(status, JSON body, headers: any case) of one request to the decision API."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{bot.url}/v1/access/check", data=data if method == "POST" else None, method=method
    )
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers


def check(bot: InProcessBot, **body: str) -> dict[str, Any]:
    """The decision for a well-formed check, which always comes with HTTP 200."""
    status, answer, headers = call(bot, body)
    assert status == 200, answer
    assert headers["Cache-Control"] == "no-store"
    assert answer["cache_seconds"] == 0
    return answer


@pytest.fixture
def gateway(start_server: Callable[..., InProcessBot]) -> InProcessBot:
    return start_server(ACCESSBOT_GATEWAY_TOKEN=TOKEN, ACCESSBOT_METRICS_TOKEN=METRICS_TOKEN)


@pytest.fixture
def slack(gateway: InProcessBot, emulator: SlackEmulator) -> SlackDriver:
    return gateway.driver(emulator)


def new_key(slack: SlackDriver, user: str) -> str:
    reply = slack.command(user, "key")
    assert reply.status == 200, reply.body
    found = re.search(r"abk_[A-Za-z0-9_-]{43}", reply.body)
    assert found, reply.body
    return found.group(0)


def issue_order(bot: InProcessBot, tmp_path: Path) -> None:
    notice = tmp_path / "order.txt"
    notice.write_text(ORDER, encoding="utf-8")
    run_cli(
        bot, "directive", "issue", "--title", "Frontier order", "--authority", "US Department of Commerce",
        "--reference", "EO-2026-118", "--notice-file", str(notice), "--models", "mythos-5",
        "--population", "non-us-persons", "--action", "suspend",
    )  # fmt: skip


def denials(bot: InProcessBot) -> list[dict[str, Any]]:
    return [e for e in audit_events(bot) if e["action"] == "gateway.denied"]


# -- the token ---------------------------------------------------------------------------------------------


def test_without_a_token_the_endpoint_is_off_and_serve_says_so(
    start_server: Callable[..., InProcessBot],
) -> None:
    bot = start_server()
    status, answer, _ = call(bot, {"user": ALICE, "model": "lumen-3"})
    assert status == 503
    assert "disabled" in answer["error"] and "ACCESSBOT_GATEWAY_TOKEN" in answer["error"]
    assert "gateway decision API disabled: ACCESSBOT_GATEWAY_TOKEN is not set" in bot.log()


@pytest.mark.parametrize("token", ["your-gateway-token-here-please", "too-short-3f9a"])
def test_a_placeholder_or_short_token_also_turns_it_off(
    start_server: Callable[..., InProcessBot], token: str
) -> None:
    bot = start_server(ACCESSBOT_GATEWAY_TOKEN=token)
    status, _, _ = call(bot, {"user": ALICE, "model": "lumen-3"}, token=token)
    assert status == 503
    assert "gateway decision API disabled" in bot.log()
    assert token not in bot.log()


@pytest.mark.parametrize("token", [None, "", "wrong-token-3f9a1c2b7d8e4f6a0b1c", TOKEN[:-1], TOKEN + "x"])
def test_a_missing_or_wrong_token_is_401(gateway: InProcessBot, token: str | None) -> None:
    status, answer, headers = call(gateway, {"user": ALICE, "model": "lumen-3"}, token=token)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert "allow" not in answer
    assert "gateway decision API enabled" in gateway.log()


def test_only_post_is_answered(gateway: InProcessBot) -> None:
    status, _, headers = call(gateway, b"", method="GET")
    assert status == 405 and headers["Allow"] == "POST"


# -- refusals, each with its reason -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"key": NaN, "model": "lumen-3"}', "not valid JSON"),
        # A gateway whose parser keeps the first of two values would be answered another question.
        (b'{"user": "U0NICK001", "model": "lumen-3", "user": "U0ALICE01"}', "names a key twice"),
        (
            b'{"user": "U0ALICE01", "model": "lumen-3", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
            "nested too deeply",
        ),
        ({"model": "lumen-3"}, "either `key` or `user`"),
        ({"key": NO_SUCH_KEY, "user": ALICE, "model": "lumen-3"}, "either `key` or `user`"),
        ({"user": ALICE}, "model: Field required"),
        ({"user": ALICE, "model": ""}, "model: String should have at least 1 character"),
        ({"user": 7, "model": "lumen-3"}, "user: Input should be a valid string"),
        ({"user": ALICE, "model": ["lumen-3"]}, "model: Input should be a valid string"),
        (b'{"user": "' + b"x" * 20000 + b'", "model": "lumen-3"}', "larger than 16,384 bytes"),
    ],
)
def test_a_body_that_is_not_a_check_is_denied_with_the_reason(
    gateway: InProcessBot, body: bytes | dict[str, Any], problem: str
) -> None:
    status, answer, _ = call(gateway, body)
    assert status == 200
    assert answer["allow"] is False and answer["code"] == "malformed"
    assert problem in answer["reason"]


def test_unknown_callers_and_models_are_denied(
    slack: SlackDriver, emulator: SlackEmulator, gateway: InProcessBot
) -> None:
    grant_through_slack(slack, emulator, gateway, ALICE, "lumen-3")
    for body, code in (
        ({"key": NO_SUCH_KEY, "model": "lumen-3"}, "unknown_key"),
        ({"key": "sk-not-one-of-ours", "model": "lumen-3"}, "unknown_key"),
        ({"user": "U0NOBODY1", "model": "lumen-3"}, "unknown_user"),
        ({"user": "nobody@example.com", "model": "lumen-3"}, "unknown_user"),
        ({"user": ALICE, "model": "gpt-4o"}, "unknown_model"),
        ({"user": ALICE, "model": "Mythic/Mythos-5"}, "unknown_model"),  # provider names exactly as listed
        ({"user": ALICE, "model": "mythos-5"}, "no_grant"),
        ({"user": NICK, "model": "lumen-3"}, "no_grant"),
    ):
        answer = check(gateway, **body)
        assert (answer["allow"], answer["code"]) == (False, code), (body, answer)
        assert answer["reason"]
    answer = check(gateway, user=ALICE, model="mythos-5")
    assert answer["user"] == ALICE and answer["model"] == "mythos-5" and answer["grant_id"] is None
    assert "/access request mythos-5" in answer["reason"]


def test_a_holder_is_allowed_by_user_id_or_email_and_any_name_of_the_model(
    slack: SlackDriver, emulator: SlackEmulator, gateway: InProcessBot
) -> None:
    grant = grant_through_slack(slack, emulator, gateway, BORIS, "mythos-5")
    for caller in (BORIS, "boris@example.com", " BORIS@example.com "):
        for model in ("mythos-5", "MYTHOS-5", "mythic/mythos-5", "mythos-5-2026-11"):
            answer = check(gateway, user=caller, model=model)
            assert answer["allow"] is True and answer["code"] == "allowed", (caller, model, answer)
            assert (answer["user"], answer["model"], answer["grant_id"]) == (BORIS, "mythos-5", grant)
    [shown] = [g for g in listed(gateway, "grants") if g["id"] == grant]
    assert shown["expires_at"] == answer["expires_at"]
    assert shown["last_gateway_allowed"] is True and shown["last_gateway_check"] is not None
    assert denials(gateway) == []


# -- a grant's changes reach the very next check ----------------------------------------------------------


def test_a_directive_denies_the_next_call_and_its_lift_allows_again(
    slack: SlackDriver, emulator: SlackEmulator, gateway: InProcessBot, tmp_path: Path
) -> None:
    grant_through_slack(slack, emulator, gateway, BORIS, "mythos-5")
    key = new_key(slack, BORIS)
    assert check(gateway, key=key, model="mythic/mythos-5")["allow"] is True
    issue_order(gateway, tmp_path)
    answer = check(gateway, key=key, model="mythic/mythos-5")
    assert (answer["allow"], answer["code"]) == (False, "suspended")
    assert "directive D1 restricts Mythos 5 for you" in answer["reason"]
    # The grant's record shows the answer given last, within the minute of the one before it.
    [shown] = [g for g in listed(gateway, "grants") if g["id"] == answer["grant_id"]]
    assert shown["last_gateway_allowed"] is False
    run_cli(gateway, "directive", "lift", "D1", "--reason", "Order withdrawn")
    assert check(gateway, key=key, model="mythic/mythos-5")["allow"] is True
    [shown] = [g for g in listed(gateway, "grants") if g["id"] == answer["grant_id"]]
    assert shown["last_gateway_allowed"] is True


def test_expiry_denies_the_next_call_before_the_expiry_job_runs(
    slack: SlackDriver, emulator: SlackEmulator, gateway: InProcessBot
) -> None:
    grant = grant_through_slack(slack, emulator, gateway, ALICE, "lumen-3", "1d")
    assert check(gateway, user=ALICE, model="lumen-3")["allow"] is True
    gateway.clock.advance(days=1, seconds=1)
    answer = check(gateway, user=ALICE, model="lumen-3")
    assert (answer["allow"], answer["code"], answer["grant_id"]) == (False, "expired", grant)


def test_an_active_grant_the_rule_refuses_now_is_denied(
    slack: SlackDriver, emulator: SlackEmulator, gateway: InProcessBot, tmp_path: Path
) -> None:
    """Fail closed: if the grant has not been suspended yet, the rule evaluated at the check decides."""
    grant = grant_through_slack(slack, emulator, gateway, ALICE, "fable-5")
    # Written behind AccessBot's back (no re-check runs): the directory now says Alice is no US person.
    from sqlalchemy import update

    from bot.store.db import Database
    from bot.store.tables import Person

    db = Database(gateway.env["DATABASE_URL"])
    try:
        with db.uow() as uow:
            uow.session.exec(update(Person).where(Person.slack_user_id == ALICE).values(us_person=False))  # type: ignore[call-overload]
            uow.commit()
    finally:
        db.dispose()
    answer = check(gateway, user=ALICE, model="fable/fable-5")
    assert (answer["allow"], answer["code"], answer["grant_id"]) == (False, "refused", grant)
    assert "Fable 5 is for US persons only" in answer["reason"]


def test_a_departed_or_deactivated_persons_key_stops_working(
    slack: SlackDriver, emulator: SlackEmulator, gateway: InProcessBot, tmp_path: Path
) -> None:
    grant_through_slack(slack, emulator, gateway, ALICE, "lumen-3")
    key = new_key(slack, ALICE)
    emulator.set_user(ALICE, deleted=True)
    assert slack.user_change(ALICE).status == 200
    emulator.wait_for(lambda: check(gateway, key=key, model="lumen-3")["code"] == "suspended")
    assert "deactivated" in check(gateway, key=key, model="lumen-3")["reason"]
    emulator.set_user(ALICE, deleted=False)
    assert slack.user_change(ALICE).status == 200
    emulator.wait_for(lambda: check(gateway, key=key, model="lumen-3")["allow"] is True)

    leavers = directory_file(tmp_path, "hr.csv", drop=(ALICE,))
    run_cli(gateway, "directory", "import", "--full", "--force", str(leavers))
    answer = check(gateway, key=key, model="lumen-3")
    assert (answer["allow"], answer["code"]) == (False, "revoked_key")  # offboarding revoked key and grant
    assert "not in the AccessBot directory" in slack.command(ALICE, "key").body
    [record] = json.loads(run_cli(gateway, "keys", "list", "--json").stdout)
    assert record["revoke_reason"] == "The directory no longer lists this person (departed)."
    assert not json.loads(run_cli(gateway, "keys", "list", "--active", "--json").stdout)

    # Listed again and granted anew, they start from nothing: the key from before stays revoked.
    run_cli(gateway, "directory", "import", "--full", str(directory_file(tmp_path, "back.csv")))
    grant_through_slack(slack, emulator, gateway, ALICE, "lumen-3")
    assert check(gateway, key=key, model="lumen-3")["code"] == "revoked_key"
    assert check(gateway, key=new_key(slack, ALICE), model="lumen-3")["allow"] is True


# -- personal keys ---------------------------------------------------------------------------------------


def test_a_key_is_shown_once_and_never_stored_sent_or_logged(
    slack: SlackDriver, emulator: SlackEmulator, gateway: InProcessBot
) -> None:
    grant_through_slack(slack, emulator, gateway, ALICE, "lumen-3")
    reply = slack.command(ALICE, "key")
    found = re.search(r"abk_[A-Za-z0-9_-]{43}", reply.body)
    assert found and reply.json is not None and reply.json["response_type"] == "ephemeral"
    key = found.group(0)
    assert "shown only this once" in reply.body and "K1" in reply.body
    assert check(gateway, key=key, model="lumen-3")["allow"] is True

    [record] = json.loads(run_cli(gateway, "keys", "list", "--json").stdout)
    assert record["shown"] == f"abk_…{key[-4:]}" and record["slack_user_id"] == ALICE
    assert record["last_used_at"] is not None
    # Nowhere else: not in the outbox, the audit trail, a message, or the log.
    everything = json.dumps([listed(gateway, "outbox"), audit_events(gateway), emulator.messages(ALICE)])
    assert key not in everything and key[4:] not in everything
    assert key not in gateway.log()
    listing = slack.command(ALICE, "key list").json
    assert listing is not None and f"K1  `abk_…{key[-4:]}`" in listing["text"]


def test_keys_are_revoked_by_their_owner_or_an_admin_and_stop_at_once(
    slack: SlackDriver, emulator: SlackEmulator, gateway: InProcessBot
) -> None:
    grant_through_slack(slack, emulator, gateway, ALICE, "lumen-3")
    first, second = new_key(slack, ALICE), new_key(slack, ALICE)
    assert "Revoked K1" in slack.command(ALICE, "key revoke K1 left it on a train").body
    answer = check(gateway, key=first, model="lumen-3")
    assert (answer["allow"], answer["code"], answer["user"]) == (False, "revoked_key", ALICE)
    assert check(gateway, key=second, model="lumen-3")["allow"] is True
    assert "already revoked" in slack.command(ALICE, "key revoke K1").body

    # Someone else's key: refused (and audited) unless an access admin.
    refused = slack.command(BORIS, "key revoke K2").body
    assert "Only people with the access-admin role can revoke other people" in refused
    assert check(gateway, key=second, model="lumen-3")["allow"] is True
    assert "Revoked K2 of" in slack.command(ADMIN, "key revoke K2").body
    assert check(gateway, key=second, model="lumen-3")["code"] == "revoked_key"
    actions = [e["action"] for e in audit_events(gateway)]
    assert actions.count("key.created") == 2 and actions.count("key.revoked") == 2
    assert "key.revoke_refused" in actions
    assert "There is no key K9" in slack.command(ALICE, "key revoke K9").body


def test_at_most_five_keys_at_once(slack: SlackDriver, gateway: InProcessBot) -> None:
    for _ in range(5):
        new_key(slack, NICK)
    assert "You already have 5 personal keys" in slack.command(NICK, "key").body
    run_cli(gateway, "keys", "revoke", "K3", "--reason", "laptop stolen")
    new_key(slack, NICK)
    listed_keys = json.loads(run_cli(gateway, "keys", "list", "--user", "nick@example.com", "--json").stdout)
    assert [k["id"] for k in listed_keys] == [6, 5, 4, 3, 2, 1]
    assert listed_keys[3]["revoke_reason"] == "laptop stolen"
    active = json.loads(run_cli(gateway, "keys", "list", "--active", "--json").stdout)
    assert [k["id"] for k in active] == [6, 5, 4, 2, 1]


def test_the_limit_holds_when_keys_are_asked_for_at_once(slack: SlackDriver, gateway: InProcessBot) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        bodies = list(pool.map(lambda _: slack.command(NICK, "key").body, range(8)))
    assert sum("abk_" in body for body in bodies) == 5
    assert sum("You already have 5 personal keys" in body for body in bodies) == 3
    assert len(json.loads(run_cli(gateway, "keys", "list", "--active", "--json").stdout)) == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("keys", "revoke", "G3", "--reason", "x"), "'G3' is not a key ID (like K3)"),
        (("keys", "revoke", "K99", "--reason", "x"), "There is no key K99."),
        (
            ("keys", "list", "--user", "nobody@example.com"),
            "nobody in the directory matches 'nobody@example.com'",
        ),
    ],
)
def test_key_commands_refuse_bad_input_in_one_line(
    gateway: InProcessBot, args: tuple[str, ...], message: str
) -> None:
    result = run_cli(gateway, *args, check=False)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


# -- denials on the record, without flooding it ----------------------------------------------------------


def test_repeated_denials_are_audited_once_per_window_and_all_counted(
    slack: SlackDriver, emulator: SlackEmulator, gateway: InProcessBot
) -> None:
    def counted(code: str) -> float:
        request = urllib.request.Request(f"{gateway.url}/metrics")
        request.add_header("Authorization", f"Bearer {METRICS_TOKEN}")
        text = urllib.request.urlopen(request, timeout=10).read().decode()
        found = re.search(rf'accessbot_gateway_checks_total{{allow="false",code="{code}"}} (\S+)', text)
        return float(found.group(1)) if found else 0.0

    before = counted("no_grant"), counted("unknown_key")
    for _ in range(5):
        check(gateway, user=ALICE, model="mythos-5")
        check(gateway, key=NO_SUCH_KEY, model="mythos-5")
    for n in range(5):  # invented keys share one record: they cannot flood it either
        check(gateway, key="abk_" + f"{n}" * 43, model="mythos-5")
    assert counted("no_grant") - before[0] == 5 and counted("unknown_key") - before[1] == 10
    recorded = denials(gateway)
    assert sorted((e["subject_type"], e["detail"]["code"]) for e in recorded) == [
        ("gateway", "unknown_key"),
        ("person", "no_grant"),
    ]
    assert all(e["actor"] == "gateway" for e in recorded)
    assert NO_SUCH_KEY not in json.dumps(recorded)

    gateway.clock.advance(minutes=5, seconds=1)
    check(gateway, user=ALICE, model="mythos-5")
    assert len(denials(gateway)) == 3


def test_metrics_need_their_token_and_are_off_without_one(
    gateway: InProcessBot, start_server: Callable[..., InProcessBot]
) -> None:
    def status(bot: InProcessBot, token: str | None) -> int:
        request = urllib.request.Request(f"{bot.url}/metrics")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    assert status(gateway, METRICS_TOKEN) == 200
    assert status(gateway, None) == 401 and status(gateway, TOKEN) == 401
    assert status(start_server(), METRICS_TOKEN) == 404


def test_a_database_that_does_not_answer_denies_with_a_readable_503(tmp_path: Path) -> None:
    """No decision can be worked out: the gateway still gets JSON it can read, a denial, and when to ask
    again; never a server error page. The request is counted as `unavailable`."""
    import io

    from bot import metrics
    from bot.api import DecisionApi
    from bot.request_metrics import GATEWAY_OUTCOMES, Measured
    from bot.services.context import Context
    from bot.services.gateway import Gateway
    from bot.store.db import Database
    from bot.workflows import load_catalog
    from tests.support.bot_server import FIXTURES

    down = Database(f"sqlite:///{tmp_path}/no/such/folder/accessbot.db")
    ctx = Context(db=down, catalog=load_catalog(FIXTURES / "workflows"))
    api = Measured(DecisionApi(Gateway(ctx), TOKEN), surface="gateway", outcomes=GATEWAY_OUTCOMES)

    def counted() -> float:
        labels = {"surface": "gateway", "outcome": "unavailable"}
        return metrics.REGISTRY.get_sample_value("accessbot_requests_total", labels) or 0.0

    before = counted()
    body = json.dumps({"user": "U0ALICE01", "model": "mythos-5"}).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "HTTP_AUTHORIZATION": f"Bearer {TOKEN}",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    answered: list[tuple[str, dict[str, str]]] = []
    text = b"".join(api(environ, lambda status, headers: answered.append((status, dict(headers)))))
    status, headers = answered[0]
    assert status == "503 Service Unavailable"
    assert headers["Content-Type"] == "application/json" and headers["Cache-Control"] == "no-store"
    assert headers["Retry-After"] == "1"
    answer = json.loads(text)
    assert (answer["allow"], answer["code"]) == (False, "unavailable")
    assert counted() == before + 1
    down.dispose()
