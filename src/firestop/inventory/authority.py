"""Who responds for a system (role assignments, P3) and who may act on it (authority, P4).

The authority matrix answers for one action on one system: a rule written for that system
wins, then a rule for the system's criticality tier; with neither, the action needs the
incident commander's approval — nothing is pre-authorized by omission.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from firestop.errors import FieldError, conflict, invalid, loc_path, not_found
from firestop.inventory.entries import Known, Outcome, Problem, get
from firestop.inventory.models import (
    AuthorityRule,
    Criticality,
    Decision,
    Person,
    ResponseRole,
    RoleAssignment,
    System,
)
from firestop.inventory.schemas import (
    AssignmentIn,
    AssignmentOut,
    AuthorityOut,
    AuthorityRuleIn,
    AuthorityRuleOut,
)
from firestop.policy.schemas import Policy

DEFAULT_APPROVERS = (ResponseRole.incident_commander.value,)
_ROLE_ORDER = list(ResponseRole)
_TIER_ORDER = list(Criticality)


def reject(detail: str, problems: list[Problem]) -> None:
    if problems:
        raise invalid(detail, [FieldError(loc_path(place), msg) for place, msg in problems])


# Role assignments -------------------------------------------------------------------------


def assignment_entry(assignment: RoleAssignment) -> AssignmentIn:
    return AssignmentIn.model_validate(
        {
            "role": assignment.role,
            "person": assignment.person.slug,
            "system": assignment.system.slug if assignment.system else None,
        }
    )


def assignment_out(assignment: RoleAssignment) -> AssignmentOut:
    return AssignmentOut(id=assignment.id, **assignment_entry(assignment).model_dump())


def _assignment_order(a: RoleAssignment) -> tuple[str, int, str]:
    return (
        a.system.slug if a.system else "",
        _ROLE_ORDER.index(ResponseRole(a.role)),
        a.person.slug,
    )


def list_assignments(
    db: Session,
    *,
    system: str | None = None,
    role: ResponseRole | None = None,
    person: str | None = None,
) -> list[RoleAssignment]:
    """Assignments, organisation-wide first, then by system, role and person."""
    query = select(RoleAssignment).options(
        selectinload(RoleAssignment.system), selectinload(RoleAssignment.person)
    )
    if system is not None:
        query = query.where(RoleAssignment.system_id == get(db, System, system).id)
    if role is not None:
        query = query.where(RoleAssignment.role == role.value)
    if person is not None:
        query = query.where(RoleAssignment.person_id == get(db, Person, person).id)
    return sorted(db.scalars(query), key=_assignment_order)


def get_assignment(db: Session, assignment_id: int) -> RoleAssignment:
    assignment = db.get(RoleAssignment, assignment_id)
    if assignment is None:
        raise not_found(f"no role assignment with id {assignment_id}")
    return assignment


def assignment_problems(entry: AssignmentIn, known: Known) -> list[Problem]:
    found: list[Problem] = []
    if entry.person not in known.people:
        found.append((("person",), f"no person {entry.person!r} in the inventory"))
    if entry.system is not None and entry.system not in known.systems:
        found.append((("system",), f"no system {entry.system!r} in the inventory"))
    return found


def find_assignment(db: Session, entry: AssignmentIn) -> RoleAssignment | None:
    system_id = get(db, System, entry.system).id if entry.system else None
    return db.scalar(
        select(RoleAssignment).where(
            RoleAssignment.system_id.is_(None)
            if system_id is None
            else RoleAssignment.system_id == system_id,
            RoleAssignment.role == entry.role.value,
            RoleAssignment.person_id == get(db, Person, entry.person).id,
        )
    )


def save_assignment(
    db: Session, *, entry: AssignmentIn, existing: RoleAssignment | None
) -> tuple[RoleAssignment, Outcome]:
    if existing is not None and assignment_entry(existing) == entry:
        return existing, "unchanged"
    assignment = existing or RoleAssignment()
    assignment.role = entry.role.value
    assignment.person = get(db, Person, entry.person)
    assignment.system = get(db, System, entry.system) if entry.system else None
    db.add(assignment)
    db.flush()
    return assignment, "created" if existing is None else "updated"


def _describe(entry: AssignmentIn) -> str:
    where = f"system {entry.system!r}" if entry.system else "the organisation"
    return f"{entry.person!r} is already {entry.role.value} for {where}"


def create_assignment(db: Session, *, entry: AssignmentIn) -> RoleAssignment:
    reject("the role assignment is invalid", assignment_problems(entry, Known.from_db(db)))
    if find_assignment(db, entry) is not None:
        raise conflict(_describe(entry))
    return save_assignment(db, entry=entry, existing=None)[0]


def update_assignment(db: Session, *, assignment_id: int, entry: AssignmentIn) -> RoleAssignment:
    assignment = get_assignment(db, assignment_id)
    reject("the role assignment is invalid", assignment_problems(entry, Known.from_db(db)))
    same = find_assignment(db, entry)
    if same is not None and same.id != assignment.id:
        raise conflict(_describe(entry))
    return save_assignment(db, entry=entry, existing=assignment)[0]


def delete_assignment(db: Session, *, assignment_id: int) -> None:
    db.delete(get_assignment(db, assignment_id))
    db.flush()


def responders(db: Session, *, system_slug: str | None, role: ResponseRole) -> list[Person]:
    """Who holds ``role`` for the system; the organisation-wide holders when nobody does."""
    held = list_assignments(db, role=role)
    if system_slug is not None:
        system = get(db, System, system_slug)
        own = [a.person for a in held if a.system_id == system.id]
        if own:
            return own
    return [a.person for a in held if a.system_id is None]


# Authority matrix -------------------------------------------------------------------------


def rule_entry(rule: AuthorityRule) -> AuthorityRuleIn:
    return AuthorityRuleIn.model_validate(
        {
            "action": rule.action,
            "system": rule.system.slug if rule.system else None,
            "criticality": rule.criticality,
            "decision": rule.decision,
            "invokers": list(rule.invokers),
            "approvers": list(rule.approvers),
            "note": rule.note,
        }
    )


def rule_out(rule: AuthorityRule) -> AuthorityRuleOut:
    return AuthorityRuleOut(id=rule.id, **rule_entry(rule).model_dump())


def _rule_order(rule: AuthorityRule) -> tuple[str, int, str]:
    if rule.system is not None:
        return (rule.action, 0, rule.system.slug)
    return (rule.action, 1, str(_TIER_ORDER.index(Criticality(rule.criticality or "low"))))


def list_rules(
    db: Session, *, action: str | None = None, system: str | None = None
) -> list[AuthorityRule]:
    """Rules by action; for each action the system rules first, then the tiers low to high."""
    query = select(AuthorityRule).options(selectinload(AuthorityRule.system))
    if action is not None:
        query = query.where(AuthorityRule.action == action)
    if system is not None:
        query = query.where(AuthorityRule.system_id == get(db, System, system).id)
    return sorted(db.scalars(query), key=_rule_order)


def get_rule(db: Session, rule_id: int) -> AuthorityRule:
    rule = db.get(AuthorityRule, rule_id)
    if rule is None:
        raise not_found(f"no authority rule with id {rule_id}")
    return rule


def rule_problems(entry: AuthorityRuleIn, known: Known, policy: Policy) -> list[Problem]:
    found: list[Problem] = []
    if policy.action(entry.action) is None:
        known_actions = ", ".join(a.id for a in policy.actions)
        found.append((("action",), f"unknown action {entry.action!r}; use one of {known_actions}"))
    if entry.system is not None and entry.system not in known.systems:
        found.append((("system",), f"no system {entry.system!r} in the inventory"))
    return found


def find_rule(db: Session, entry: AuthorityRuleIn) -> AuthorityRule | None:
    """The rule for the same action and scope as ``entry``."""
    query = select(AuthorityRule).where(AuthorityRule.action == entry.action)
    if entry.system is not None:
        query = query.where(AuthorityRule.system_id == get(db, System, entry.system).id)
    else:
        assert entry.criticality is not None
        query = query.where(AuthorityRule.criticality == entry.criticality.value)
    return db.scalar(query)


def save_rule(
    db: Session, *, entry: AuthorityRuleIn, existing: AuthorityRule | None
) -> tuple[AuthorityRule, Outcome]:
    if existing is not None and rule_entry(existing) == entry:
        return existing, "unchanged"
    rule = existing or AuthorityRule()
    rule.action = entry.action
    rule.system = get(db, System, entry.system) if entry.system else None
    rule.criticality = entry.criticality.value if entry.criticality else None
    rule.decision = entry.decision.value
    rule.invokers, rule.approvers = list(entry.invokers), list(entry.approvers)
    rule.note = entry.note
    db.add(rule)
    db.flush()
    return rule, "created" if existing is None else "updated"


def create_rule(db: Session, *, entry: AuthorityRuleIn, policy: Policy) -> AuthorityRule:
    reject("the authority rule is invalid", rule_problems(entry, Known.from_db(db), policy))
    if find_rule(db, entry) is not None:
        raise conflict(f"a rule for {entry.action!r} on {entry.scope} already exists")
    return save_rule(db, entry=entry, existing=None)[0]


def update_rule(
    db: Session, *, rule_id: int, entry: AuthorityRuleIn, policy: Policy
) -> AuthorityRule:
    rule = get_rule(db, rule_id)
    reject("the authority rule is invalid", rule_problems(entry, Known.from_db(db), policy))
    same = find_rule(db, entry)
    if same is not None and same.id != rule.id:
        raise conflict(f"a rule for {entry.action!r} on {entry.scope} already exists")
    return save_rule(db, entry=entry, existing=rule)[0]


def delete_rule(db: Session, *, rule_id: int) -> None:
    db.delete(get_rule(db, rule_id))
    db.flush()


@dataclass(frozen=True)
class Authority:
    """The matrix's answer for one action on one system, with the rule that gave it."""

    system: System
    action: str
    decision: Decision
    source: Literal["system", "criticality", "default"]
    rule: AuthorityRule | None
    invokers: tuple[str, ...]
    approvers: tuple[str, ...]
    note: str

    def allows(self, roles: Iterable[str]) -> bool:
        """Whether someone holding ``roles`` may take (or, when approval is needed, request)
        the action; no named invokers means any responder may request it."""
        if self.decision == Decision.forbidden:
            return False
        return not self.invokers or not set(self.invokers).isdisjoint(roles)

    def out(self) -> AuthorityOut:
        return AuthorityOut(
            system=self.system.slug,
            action=self.action,
            decision=self.decision,
            source=self.source,
            rule_id=self.rule.id if self.rule else None,
            invokers=list(self.invokers),
            approvers=list(self.approvers),
            note=self.note,
        )


def _resolve(system: System, action_id: str, rules: Sequence[AuthorityRule]) -> Authority:
    own = next((r for r in rules if r.action == action_id and r.system_id == system.id), None)
    tier = next(
        (r for r in rules if r.action == action_id and r.criticality == system.criticality), None
    )
    rule = own or tier
    if rule is None:
        return Authority(
            system=system,
            action=action_id,
            decision=Decision.needs_approval,
            source="default",
            rule=None,
            invokers=(),
            approvers=DEFAULT_APPROVERS,
            note="no rule covers this action for the system or its criticality tier; "
            "the incident commander must approve it",
        )
    return Authority(
        system=system,
        action=action_id,
        decision=Decision(rule.decision),
        source="system" if rule is own else "criticality",
        rule=rule,
        invokers=tuple(rule.invokers),
        approvers=tuple(rule.approvers),
        note=rule.note,
    )


def _rules_for(db: Session, system: System, action_ids: Sequence[str]) -> Sequence[AuthorityRule]:
    return db.scalars(
        select(AuthorityRule).where(
            AuthorityRule.action.in_(action_ids),
            (AuthorityRule.system_id == system.id)
            | (AuthorityRule.criticality == system.criticality),
        )
    ).all()


def authority_for(db: Session, *, system_slug: str, action_id: str) -> Authority:
    """Resolve the authority matrix: the system's own rule, then its tier's, then the default."""
    system = get(db, System, system_slug)
    return _resolve(system, action_id, _rules_for(db, system, [action_id]))


def authorities(db: Session, *, system_slug: str, action_ids: Iterable[str]) -> list[Authority]:
    """:func:`authority_for` for several actions (say, every action of the policy) at once."""
    system = get(db, System, system_slug)
    wanted = list(action_ids)
    rules = _rules_for(db, system, wanted)
    return [_resolve(system, action_id, rules) for action_id in wanted]
