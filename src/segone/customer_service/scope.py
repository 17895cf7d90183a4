"""Whose recovery cases and promises a person's lists and measures cover.

- analysts and administrators (and the operator at the CLI): everybody's;
- managers: their team's (every member's, theirs too);
- front-line staff: their own.

A customer's own cases and promises are everybody's to read who may look up that customer: the front line
must see them before meeting the customer, whoever owns them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, Permission


@dataclass(frozen=True)
class Scope:
    everyone: bool
    user_ids: frozenset[int]
    label: str = ""
    """What the scope covers, in words: "every team", "team Store York", "yours"."""

    def covers(self, column: InstrumentedAttribute[int | None]) -> ColumnElement[bool]:
        """A condition on a user id column (the owner, the maker): within the scope."""
        if self.everyone:
            return true()
        if not self.user_ids:
            return false()
        return column.in_(sorted(self.user_ids))

    def includes(self, user_id: int | None) -> bool:
        return self.everyone or (user_id is not None and user_id in self.user_ids)


def scope_of(db: Session, actor: Actor) -> Scope:
    if actor.user_id is None or actor.can(Permission.RUN_ANALYTICS):
        return Scope(everyone=True, user_ids=frozenset(), label="every team")
    if actor.can(Permission.VIEW_TEAM_DASHBOARDS):
        teams = accounts.team_names_by_user(db)
        team = teams.get(actor.user_id)
        if team is not None:
            members = {user_id for user_id, name in teams.items() if name == team}
            return Scope(everyone=False, user_ids=frozenset(members | {actor.user_id}), label=f"team {team}")
    return Scope(everyone=False, user_ids=frozenset({actor.user_id}), label="yours")
