"""The AI inventory (P5), its vendors and the people who respond (P3), with the authority
matrix (P4) as it applies to each system. Read-only pages; each list is a fixed, small
number of queries however long it is."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from firestop.auth import Reader
from firestop.deps import DB, CurrentPolicy
from firestop.inventory import service as inventory
from firestop.inventory.models import ResponseRole, RoleAssignment, System
from firestop.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/inventory")
def systems(request: Request, db: DB, principal: Reader) -> HTMLResponse:
    return render(
        request, "inventory.html", principal=principal, systems=inventory.list_systems(db)
    )


def _role_order(a: RoleAssignment) -> int:
    return list(ResponseRole).index(ResponseRole(a.role))


@router.get("/inventory/systems/{slug}")
def system_page(
    request: Request, slug: str, db: DB, policy: CurrentPolicy, principal: Reader
) -> HTMLResponse:
    system = inventory.get_system(db, slug)
    assignments = inventory.list_assignments(db)
    own = [a for a in assignments if a.system_id == system.id]
    held = {a.role for a in own}
    # Organisation-wide holders answer for a role the system has nobody for.
    fallback = [a for a in assignments if a.system_id is None and a.role not in held]
    return render(
        request,
        "system.html",
        principal=principal,
        system=system,
        assignments=sorted(own, key=_role_order),
        org_assignments=sorted(fallback, key=_role_order),
        authority=inventory.authorities(
            db, system_slug=system.slug, action_ids=[a.id for a in policy.actions]
        ),
        action_labels={a.id: a.label for a in policy.actions},
    )


@router.get("/inventory/vendors")
def vendors(request: Request, db: DB, principal: Reader) -> HTMLResponse:
    used_by: dict[int, list[System]] = defaultdict(list)
    for system in inventory.list_systems(db):
        for vendor in system.vendors:
            used_by[vendor.id].append(system)
    return render(
        request,
        "vendors.html",
        principal=principal,
        vendors=inventory.list_vendors(db),
        used_by=used_by,
    )


@router.get("/inventory/people")
def people(request: Request, db: DB, principal: Reader) -> HTMLResponse:
    roles: dict[int, list[RoleAssignment]] = defaultdict(list)
    for assignment in inventory.list_assignments(db):
        roles[assignment.person_id].append(assignment)
    return render(
        request,
        "people.html",
        principal=principal,
        people=inventory.list_people(db),
        teams=inventory.list_teams(db),
        roles=roles,
    )
