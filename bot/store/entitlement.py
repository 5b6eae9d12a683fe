"""The entitlement rule as SQL, and the facts it reads.

`reason_rows` is the set-based form of `refusal_reasons` (bot/domain/entitlement.py), the one definition
of who may use a model: for every row of a subject (held grants, pending requests) it selects one row
per reason the rule gives, so that 100,000 grants are judged in one statement.
tests/unit/test_entitlement_rule.py proves the two agree on a generated population.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    and_,
    cast,
    literal,
    null,
    or_,
    true,
)
from sqlalchemy import union_all as sql_union_all
from sqlmodel import Session, col, select

from bot.domain.catalog import SUSPENDED, Catalog
from bot.domain.directives import REQUIRE_LICENCE, RESTRICTING
from bot.domain.entitlement import DirectiveRule, Hold, Standing
from bot.store import directory as people
from bot.store.accounts import deactivated
from bot.store.directives import covers
from bot.store.licences import covered, licences_held
from bot.store.tables import Person, PersonCitizenship, SlackAccount


@dataclass(frozen=True)
class RuleInputs:
    """What the rule reads besides the directory and licences: the catalog's settings, the directives
    in force, and the day (UTC) licences are judged on."""

    embargoed: frozenset[str]
    suspended_models: frozenset[str]
    # Every model the catalog lists: a grant of a model taken out of models.yaml is held as suspended
    # (gateways refuse a model they do not know).
    known_models: frozenset[str]
    us_persons_only: frozenset[str]
    directives: tuple[DirectiveRule, ...]
    on: date

    @classmethod
    def of(cls, catalog: Catalog, directives: Iterable[DirectiveRule], on: date) -> RuleInputs:
        models = catalog.models.values()
        return cls(
            embargoed=catalog.policy.embargoed_countries,
            suspended_models=frozenset(m.slug for m in models if m.status == SUSPENDED),
            known_models=frozenset(m.slug for m in models),
            us_persons_only=frozenset(m.slug for m in models if m.us_persons_only),
            directives=tuple(d for d in directives if d.action in RESTRICTING),
            on=on,
        )


def load_standing(session: Session, user_id: str) -> Standing:
    """The person as the rule sees them: directory entry, departure, Slack account state, licences."""
    return load_standings(session, [user_id])[user_id]


def load_standings(session: Session, user_ids: Iterable[str]) -> dict[str, Standing]:
    """Many people's standing in a few queries per thousand."""
    ids = sorted(set(user_ids))
    found = people.load_people(session, ids)
    departed = people.departed_ids(session, ids)
    gone = deactivated(session, ids)
    held = licences_held(session, ids)
    return {u: Standing(u, found.get(u), u in departed, u in gone, held.get(u, ())) for u in ids}


# A subject's condition that export compliance confirmed a hold (None: nothing is ever confirmed).
Confirmed = Callable[[Hold], ColumnElement[bool]] | None


def reason_rows(
    id_column: Any,
    user_column: Any,
    model_column: Any,
    where: ColumnElement[bool],
    inputs: RuleInputs,
    confirmed: Confirmed = None,
    *,
    known_only: bool = False,
) -> CompoundSelect:
    """A SELECT of (`subject_id`, `user_id`, `model`, `hold`, `directive_id`, `unknown`): one row per
    reason the rule refuses each subject matching `where` (its id, person and model in the columns
    given). With `known_only`, reasons whose fact is missing are left out (a pending request under
    export-compliance review is not stopped for what that review is for)."""
    known = col(Person.slack_user_id)
    in_directory = user_column.in_(select(known))

    def of(
        hold: Hold, condition: ColumnElement[bool], *, directive_id: int | None = None, unknown: bool = False
    ) -> Select[Any]:
        return select(
            id_column.label("subject_id"),
            user_column.label("user_id"),
            model_column.label("model"),
            literal(str(hold), String).label("hold"),
            (literal(directive_id, Integer) if directive_id is not None else cast(null(), Integer)).label(
                "directive_id"
            ),
            literal(unknown, Boolean).label("unknown"),
        ).where(where, condition)

    def not_confirmed(hold: Hold) -> ColumnElement[bool] | bool:
        return ~confirmed(hold) if confirmed is not None else True

    embargoed = sorted(inputs.embargoed)
    embargo_fact = or_(
        user_column.in_(
            select(PersonCitizenship.slack_user_id).where(col(PersonCitizenship.country).in_(embargoed))
        ),
        user_column.in_(select(known).where(col(Person.work_country).in_(embargoed))),
    )
    embargo_missing = and_(
        in_directory,
        or_(
            user_column.not_in(select(PersonCitizenship.slack_user_id)),
            user_column.in_(select(known).where(col(Person.work_country).is_(None))),
        ),
    )
    us_only = model_column.in_(sorted(inputs.us_persons_only))
    selects = [
        of(Hold.NOT_IN_DIRECTORY, ~in_directory),
        of(Hold.DEPARTED, user_column.in_(select(known).where(col(Person.departed_at).is_not(None)))),
        of(Hold.DEACTIVATED, user_column.in_(select(SlackAccount.user_id).where(col(SlackAccount.deleted)))),
        of(
            Hold.MODEL_SUSPENDED,
            or_(
                model_column.in_(sorted(inputs.suspended_models)),
                model_column.not_in(sorted(inputs.known_models)),
            ),
        ),
        *(
            of(
                Hold.DIRECTIVE,
                and_(
                    model_column.in_(sorted(rule.models)),
                    covers(user_column, rule.population),
                    # A licence of theirs that covers them lifts a directive that only requires one.
                    ~covered(user_column, model_column, inputs.on)
                    if rule.action == REQUIRE_LICENCE
                    else true(),
                ),
                directive_id=rule.directive_id,
            )
            for rule in inputs.directives
        ),
        of(Hold.EMBARGO, embargo_fact),
        of(Hold.US_PERSON, and_(us_only, user_column.in_(select(known).where(Person.us_person == False)))),  # noqa: E712
    ]
    if not known_only:
        selects += [
            of(
                Hold.EMBARGO,
                and_(embargo_missing, ~embargo_fact, not_confirmed(Hold.EMBARGO)),
                unknown=True,
            ),
            of(
                Hold.US_PERSON,
                and_(
                    us_only,
                    user_column.in_(select(known).where(col(Person.us_person).is_(None))),
                    not_confirmed(Hold.US_PERSON),
                ),
                unknown=True,
            ),
        ]
    return sql_union_all(*selects)
