"""The inventory API: systems, people, teams, vendors, role assignments and the authority
matrix, each by slug (or id), plus whole-file import and export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from firestop.auth import InventoryWriter, Reader
from firestop.deps import DB, AppSettings, CurrentPolicy, RowId
from firestop.errors import FirestopError, not_found
from firestop.inventory import service
from firestop.inventory.authority import assignment_out, rule_out
from firestop.inventory.formats import CYCLONEDX_TYPES, JSON_TYPES, YAML_TYPES, unsupported
from firestop.inventory.models import ResponseRole
from firestop.inventory.schemas import (
    AssignmentIn,
    AssignmentOut,
    AuthorityOut,
    AuthorityRuleIn,
    AuthorityRuleOut,
    ImportResult,
    PersonIn,
    PersonOut,
    SystemIn,
    SystemOut,
    TeamIn,
    TeamOut,
    VendorIn,
    VendorOut,
)

router = APIRouter(prefix="/api/v1/inventory", tags=["inventory"])


# Import and export -------------------------------------------------------------------------


def _too_large(limit: int) -> FirestopError:
    return FirestopError(
        f"the file is larger than the {limit} bytes an import may be",
        [],
        413,
        "Content too large",
        "too-large",
    )


async def upload(request: Request, settings: AppSettings) -> bytes:
    """The raw request body, refused as soon as it passes the import size limit."""
    limit = settings.import_max_bytes
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise unsupported("send the file itself as the request body, not as a form")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


_UPLOAD_TYPES = sorted(YAML_TYPES | JSON_TYPES | CYCLONEDX_TYPES)


@router.post(
    "/import",
    response_model=ImportResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A Firestop inventory (YAML or JSON) or a CycloneDX 1.5–1.7 ML-BOM",
            "content": {t: {"schema": {"type": "string"}} for t in _UPLOAD_TYPES},
        }
    },
)
def import_file(
    _: InventoryWriter,
    content: Annotated[bytes, Depends(upload)],
    request: Request,
    db: DB,
    policy: CurrentPolicy,
    filename: Annotated[
        str | None, Query(max_length=255, description="helps guess the format")
    ] = None,
) -> ImportResult:
    """Upsert a whole file by slug; a file with any error is rejected whole."""
    result = service.import_document(
        db,
        content=content,
        filename=filename,
        content_type=request.headers.get("content-type"),
        policy=policy,
    )
    db.commit()
    return result


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}}, "description": "Firestop YAML"}},
)
def export_file(db: DB, _: Reader) -> Response:
    """The whole inventory as Firestop YAML, ready to import elsewhere."""
    return Response(
        service.export_yaml(db),
        media_type="application/yaml",
        headers={"Content-Disposition": 'attachment; filename="firestop-inventory.yaml"'},
    )


# Systems -----------------------------------------------------------------------------------


@router.get("/systems", response_model=list[SystemOut])
def list_systems(db: DB, _: Reader) -> list[SystemOut]:
    return [service.system_out(s) for s in service.list_systems(db)]


@router.get("/systems/{slug}", response_model=SystemOut)
def get_system(slug: str, db: DB, _: Reader) -> SystemOut:
    return service.system_out(service.get_system(db, slug))


@router.post("/systems", response_model=SystemOut, status_code=status.HTTP_201_CREATED)
def create_system(body: SystemIn, db: DB, _: InventoryWriter) -> SystemOut:
    system = service.create_system(db, entry=body)
    db.commit()
    return service.system_out(system)


@router.put("/systems/{slug}", response_model=SystemOut)
def update_system(slug: str, body: SystemIn, db: DB, _: InventoryWriter) -> SystemOut:
    system = service.update_system(db, slug=slug, entry=body)
    db.commit()
    return service.system_out(system)


@router.delete("/systems/{slug}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_system(slug: str, db: DB, _: InventoryWriter) -> Response:
    service.delete_system(db, slug=slug)
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/systems/{slug}/authority/{action}", response_model=AuthorityOut)
def system_authority(
    slug: str, action: str, db: DB, policy: CurrentPolicy, _: Reader
) -> AuthorityOut:
    """What the authority matrix says about taking ``action`` on this system, and why."""
    if policy.action(action) is None:
        raise not_found(f"no action {action!r} in the policy")
    return service.authority_for(db, system_slug=slug, action_id=action).out()


# People ------------------------------------------------------------------------------------


@router.get("/people", response_model=list[PersonOut])
def list_people(db: DB, _: Reader) -> list[PersonOut]:
    return [service.person_out(p) for p in service.list_people(db)]


@router.get("/people/{slug}", response_model=PersonOut)
def get_person(slug: str, db: DB, _: Reader) -> PersonOut:
    return service.person_out(service.get_person(db, slug))


@router.post("/people", response_model=PersonOut, status_code=status.HTTP_201_CREATED)
def create_person(body: PersonIn, db: DB, _: InventoryWriter) -> PersonOut:
    person = service.create_person(db, entry=body)
    db.commit()
    return service.person_out(person)


@router.put("/people/{slug}", response_model=PersonOut)
def update_person(slug: str, body: PersonIn, db: DB, _: InventoryWriter) -> PersonOut:
    person = service.update_person(db, slug=slug, entry=body)
    db.commit()
    return service.person_out(person)


@router.delete("/people/{slug}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_person(slug: str, db: DB, _: InventoryWriter) -> Response:
    service.delete_person(db, slug=slug)
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Teams -------------------------------------------------------------------------------------


@router.get("/teams", response_model=list[TeamOut])
def list_teams(db: DB, _: Reader) -> list[TeamOut]:
    return [service.team_out(t) for t in service.list_teams(db)]


@router.get("/teams/{slug}", response_model=TeamOut)
def get_team(slug: str, db: DB, _: Reader) -> TeamOut:
    return service.team_out(service.get_team(db, slug))


@router.post("/teams", response_model=TeamOut, status_code=status.HTTP_201_CREATED)
def create_team(body: TeamIn, db: DB, _: InventoryWriter) -> TeamOut:
    team = service.create_team(db, entry=body)
    db.commit()
    return service.team_out(team)


@router.put("/teams/{slug}", response_model=TeamOut)
def update_team(slug: str, body: TeamIn, db: DB, _: InventoryWriter) -> TeamOut:
    team = service.update_team(db, slug=slug, entry=body)
    db.commit()
    return service.team_out(team)


@router.delete("/teams/{slug}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_team(slug: str, db: DB, _: InventoryWriter) -> Response:
    service.delete_team(db, slug=slug)
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Vendors -----------------------------------------------------------------------------------


@router.get("/vendors", response_model=list[VendorOut])
def list_vendors(db: DB, _: Reader) -> list[VendorOut]:
    return [service.vendor_out(v) for v in service.list_vendors(db)]


@router.get("/vendors/{slug}", response_model=VendorOut)
def get_vendor(slug: str, db: DB, _: Reader) -> VendorOut:
    return service.vendor_out(service.get_vendor(db, slug))


@router.post("/vendors", response_model=VendorOut, status_code=status.HTTP_201_CREATED)
def create_vendor(body: VendorIn, db: DB, _: InventoryWriter) -> VendorOut:
    vendor = service.create_vendor(db, entry=body)
    db.commit()
    return service.vendor_out(vendor)


@router.put("/vendors/{slug}", response_model=VendorOut)
def update_vendor(slug: str, body: VendorIn, db: DB, _: InventoryWriter) -> VendorOut:
    vendor = service.update_vendor(db, slug=slug, entry=body)
    db.commit()
    return service.vendor_out(vendor)


@router.delete("/vendors/{slug}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_vendor(slug: str, db: DB, _: InventoryWriter) -> Response:
    service.delete_vendor(db, slug=slug)
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Role assignments --------------------------------------------------------------------------


@router.get("/assignments", response_model=list[AssignmentOut])
def list_assignments(
    db: DB,
    _: Reader,
    system: str | None = None,
    role: ResponseRole | None = None,
    person: str | None = None,
) -> list[AssignmentOut]:
    found = service.list_assignments(db, system=system, role=role, person=person)
    return [assignment_out(a) for a in found]


@router.get("/assignments/{assignment_id}", response_model=AssignmentOut)
def get_assignment(assignment_id: RowId, db: DB, _: Reader) -> AssignmentOut:
    return assignment_out(service.get_assignment(db, assignment_id))


@router.post("/assignments", response_model=AssignmentOut, status_code=status.HTTP_201_CREATED)
def create_assignment(body: AssignmentIn, db: DB, _: InventoryWriter) -> AssignmentOut:
    assignment = service.create_assignment(db, entry=body)
    db.commit()
    return assignment_out(assignment)


@router.put("/assignments/{assignment_id}", response_model=AssignmentOut)
def update_assignment(
    assignment_id: RowId, body: AssignmentIn, db: DB, _: InventoryWriter
) -> AssignmentOut:
    assignment = service.update_assignment(db, assignment_id=assignment_id, entry=body)
    db.commit()
    return assignment_out(assignment)


@router.delete(
    "/assignments/{assignment_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
def delete_assignment(assignment_id: RowId, db: DB, _: InventoryWriter) -> Response:
    service.delete_assignment(db, assignment_id=assignment_id)
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Authority matrix --------------------------------------------------------------------------


@router.get("/authority", response_model=list[AuthorityRuleOut])
def list_rules(
    db: DB, _: Reader, action: str | None = None, system: str | None = None
) -> list[AuthorityRuleOut]:
    return [rule_out(r) for r in service.list_rules(db, action=action, system=system)]


@router.get("/authority/{rule_id}", response_model=AuthorityRuleOut)
def get_rule(rule_id: RowId, db: DB, _: Reader) -> AuthorityRuleOut:
    return rule_out(service.get_rule(db, rule_id))


@router.post("/authority", response_model=AuthorityRuleOut, status_code=status.HTTP_201_CREATED)
def create_rule(
    body: AuthorityRuleIn, db: DB, policy: CurrentPolicy, _: InventoryWriter
) -> AuthorityRuleOut:
    rule = service.create_rule(db, entry=body, policy=policy)
    db.commit()
    return rule_out(rule)


@router.put("/authority/{rule_id}", response_model=AuthorityRuleOut)
def update_rule(
    rule_id: RowId, body: AuthorityRuleIn, db: DB, policy: CurrentPolicy, _: InventoryWriter
) -> AuthorityRuleOut:
    rule = service.update_rule(db, rule_id=rule_id, entry=body, policy=policy)
    db.commit()
    return rule_out(rule)


@router.delete(
    "/authority/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
def delete_rule(rule_id: RowId, db: DB, _: InventoryWriter) -> Response:
    service.delete_rule(db, rule_id=rule_id)
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
