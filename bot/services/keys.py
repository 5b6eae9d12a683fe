"""Personal keys for the AI gateway: made by their owner, listed, revoked by their owner or an admin.

A key only says who is calling; what they may call is decided on every check by their grants and the
entitlement rule (bot/services/gateway.py). The key itself is returned once, by create_key, and never
stored, logged or queued: only its digest is kept (bot/domain/keys.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.keys import MAX_ACTIVE_KEYS, digest, hint, new_key
from bot.services import permissions
from bot.services.context import Context, Refusal
from bot.store import audit
from bot.store.accounts import deactivated
from bot.store.directory import departed_ids, load_person
from bot.store.keys import add_key, count_active, keys_of, lock_key, lock_keyholder
from bot.store.tables import PersonalKey

MAX_REASON = 500


@dataclass(frozen=True)
class NewKey:
    """A key just made: `key` is the secret, to be shown to its owner once and then forgotten."""

    key_id: int
    key: str


def create_key(ctx: Context, user_id: str) -> NewKey:
    """Make a new personal key for `user_id` (audited `key.created`, with its hint only).

    Raises Refusal when they are not in the directory, have departed or are deactivated in Slack, or
    already hold MAX_ACTIVE_KEYS unrevoked keys."""
    with ctx.uow() as uow:
        session = uow.session
        lock_keyholder(session, user_id)
        if load_person(session, user_id) is None or departed_ids(session, [user_id]):
            raise Refusal(
                "You are not in the AccessBot directory, so you cannot have a personal key. "
                f"Ask {ctx.catalog.policy.directory_contact} to add you."
            )
        if deactivated(session, [user_id]):
            raise Refusal("Slack reports your account as deactivated, so you cannot have a personal key.")
        if count_active(session, user_id) >= MAX_ACTIVE_KEYS:
            raise Refusal(
                f"You already have {MAX_ACTIVE_KEYS} personal keys. Revoke one you no longer use "
                "(`/access key list`, then `/access key revoke K3`) and ask again."
            )
        key = new_key()
        row = add_key(session, user_id, digest(key), hint(key), ctx.clock())
        audit.record(
            session,
            actor=user_id,
            action="key.created",
            subject_type="key",
            subject_id=row.id or 0,
            after={"user_id": user_id, "hint": row.hint},
        )
        uow.commit()
        return NewKey(row.id or 0, key)


def list_keys(ctx: Context, user_id: str | None = None) -> list[PersonalKey]:
    """Keys, newest first: `user_id`'s, or everyone's (the CLI)."""
    with ctx.read() as session:
        return keys_of(session, user_id)


def revoke_key(
    ctx: Context, *, actor: str, key_id: int, reason: str = "", operator: bool = False
) -> PersonalKey:
    """Revoke key K`key_id`: it stops working on the very next gateway check. Audited `key.revoked`.

    Its owner may revoke it, and so may an access admin (a refused attempt by anyone else is audited);
    `operator` is the command line, which is trusted as the database is. Raises Refusal for an unknown
    or already revoked key, and for a reason over MAX_REASON characters."""
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise Refusal(f"The reason is too long ({len(reason):,} characters); the limit is {MAX_REASON:,}.")
    with ctx.read() as session:
        found = session.get(PersonalKey, key_id)
    if found is None:
        raise Refusal(f"There is no key K{key_id}.")
    if not operator and found.user_id != actor:
        permissions.require_admin(
            ctx, actor, "revoke other people's keys", action="key.revoke_refused", subject_type="key",
            subject=key_id,
        )  # fmt: skip
    with ctx.uow() as uow:
        key = lock_key(uow.session, key_id)
        if key is None:
            raise Refusal(f"There is no key K{key_id}.")
        if key.revoked_at is not None:
            raise Refusal(f"K{key_id} is already revoked.")
        key.revoked_at = ctx.clock()
        key.revoked_by = actor[:64]
        key.revoke_reason = reason or None
        uow.session.add(key)
        audit.record(
            uow.session,
            actor=actor,
            action="key.revoked",
            subject_type="key",
            subject_id=key_id,
            before={"revoked": False},
            after={"revoked": True},
            detail={"user_id": key.user_id, "reason": reason} if reason else {"user_id": key.user_id},
        )
        uow.commit()
        return key
