"""Read-only view of the policy in force."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from firestop.auth import Reader
from firestop.deps import CurrentPolicy
from firestop.policy.service import SeverityAssessment, assess_severity, digest

router = APIRouter(prefix="/api/v1/policy", tags=["policy"])


@router.get("")
def get_policy(policy: CurrentPolicy, _: Reader) -> dict[str, Any]:
    return {"digest": digest(policy), **policy.model_dump(mode="json")}


@router.post("/severity", response_model=SeverityAssessment)
def preview_severity(
    factors: dict[str, str], policy: CurrentPolicy, _: Reader
) -> SeverityAssessment:
    """What severity these factor levels would give, with the reasons; changes nothing."""
    return assess_severity(policy, factors)
