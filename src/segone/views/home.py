"""The start page: open recovery cases first (recovery is the #1 priority) and the promises due, the
service strategy, recently active customers, the employee's own recent encounters, how many customers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor
from segone.customer_service.promises import service as promises
from segone.customer_service.recovery import service as recovery
from segone.customer_service.strategy import service as strategies
from segone.customers import service as customers
from segone.encounters import service as encounters
from segone.views import customer_list
from segone.views.schemas import EncounterLine, HomePage

SHOWN = 6


def home(db: Session, *, actor: Actor, employee_id: int) -> HomePage:
    mine = encounters.to_out_many(
        db, encounters.list_by_employee(db, actor=actor, employee_id=employee_id, limit=SHOWN)
    )
    names = {
        customer_id: customers.get(db, actor=actor, customer_id=customer_id).name
        for customer_id in {e.customer_id for e in mine}
    }
    strategy = strategies.current(db, actor=actor)
    return HomePage(
        recent=customer_list.recently_active(db, actor=actor, limit=SHOWN),
        my_encounters=[EncounterLine(encounter=e, customer_name=names[e.customer_id]) for e in mine],
        total_customers=customers.count_active(db),
        recovery=recovery.list_cases(db, actor=actor, limit=SHOWN),
        promises_due=promises.due_for(db, actor=actor, limit=SHOWN),
        strategy=strategy if strategy.on_record else None,
    )
