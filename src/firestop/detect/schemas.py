"""What clients post to ``/api/v1/metrics``: named values per system, for drift detection."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from firestop.db import utcnow
from firestop.ledger.schemas import SystemSlug, When

# Watched as the series "metric.<name>", whose finding rule "drift.metric.<name>" must fit
# the 200 characters findings and signals keep for a rule.
MetricName = Annotated[
    str, StringConstraints(min_length=1, max_length=187, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
]


class MetricIn(BaseModel):
    """One value of a technical or business metric (conversion rate, refunds issued, cases
    escalated, p95 latency …) of one system at one time."""

    model_config = ConfigDict(extra="forbid")

    system: SystemSlug
    name: MetricName = Field(description="letters, digits and . _ : / -, e.g. conversion_rate")
    # Finite and bounded: squares of larger values would overflow the baseline's variance.
    value: float = Field(allow_inf_nan=False, ge=-1e15, le=1e15)
    at: When = Field(default_factory=utcnow, description="when the value was measured")


class MetricsResult(BaseModel):
    stored: int = Field(description="values stored")
    signals: int = Field(description="signals raised or updated by drift detection")
