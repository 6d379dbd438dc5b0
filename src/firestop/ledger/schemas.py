"""The interaction record: one AI interaction as every ingest path delivers it (D2).

The native API, the SDK and the OTLP mapping all produce this shape, so detectors and storage
see one thing. Everything in it is hostile input: limits bound every string and list, unknown
fields are refused, and nothing is ever interpreted.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

Short = Annotated[str, StringConstraints(max_length=200)]
Ref = Annotated[str, StringConstraints(max_length=2000)]
# Prompt and output text: large but bounded; the request size limit bounds a batch as a whole.
Text = Annotated[str, StringConstraints(max_length=1_000_000)]
SystemSlug = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9._-]*$")
]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time zone (for example 2026-11-27T10:00:00Z)")
    if not 1970 <= value.year <= 9999:
        raise ValueError("the time is out of range")
    return value


When = Annotated[datetime, AfterValidator(_aware)]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Trust(StrEnum):
    """How far a retrieved document or tool result may be believed (and obeyed)."""

    trusted = "trusted"  # curated by the organisation
    untrusted = "untrusted"  # the open web, user uploads, e-mail, anything a stranger can write
    unknown = "unknown"


class Message(Record):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Text = ""
    name: Short | None = None


class Retrieval(Record):
    id: Short | None = None
    uri: Ref | None = None
    title: Short | None = None
    content: Text = Field(default="", description="the text given to the model, or an excerpt")
    trust: Trust = Trust.unknown
    score: float | None = None


class Approval(Record):
    status: Literal["approved", "denied", "pending", "none"] = "none"
    by: Short | None = None
    at: When | None = None


class ToolCall(Record):
    id: Short | None = None
    name: Short = Field(min_length=1)
    arguments: Text = Field(default="", description="as the model produced them (usually JSON)")
    result: Text = ""
    result_trust: Trust = Trust.unknown
    approval: Approval | None = None
    status: Literal["ok", "error"] = "ok"
    started_at: When | None = None


class Moderation(Record):
    provider: Short | None = None
    category: Short = Field(min_length=1)
    flagged: bool = True
    score: float | None = None
    target: Literal["input", "output"] = "output"


class Feedback(Record):
    kind: Literal["thumbs", "rating", "comment", "flag"] = "thumbs"
    value: float | str | bool | None = None
    comment: Text = ""
    by: Short | None = None
    at: When | None = None


class HumanDecision(Record):
    by: Short | None = None
    decision: Short = Field(min_length=1, description="accepted, edited, overridden, rejected …")
    note: Text = ""
    at: When | None = None


class ArtefactType(StrEnum):
    """What an interaction produced outside itself (C4 looks these up to quarantine them)."""

    customer_message = "customer_message"
    code_change = "code_change"
    case_decision = "case_decision"
    knowledge_base_entry = "knowledge_base_entry"
    automated_action = "automated_action"
    document = "document"
    other = "other"


class Downstream(Record):
    type: ArtefactType
    ref: Ref = Field(min_length=1, description="the artefact's id in the system that holds it")
    at: When | None = None


class Outcome(Record):
    """A decision system's result for one subject, for outcome-disparity monitoring."""

    decision: Short = Field(min_length=1)
    favourable: bool
    group: Short | None = Field(default=None, description="the subject's group, if recorded")
    attributes: dict[Short, Short] = Field(default_factory=dict, max_length=20)


class Usage(Record):
    input_tokens: int | None = Field(default=None, ge=0, le=100_000_000)
    output_tokens: int | None = Field(default=None, ge=0, le=100_000_000)


# Bounded like a database's 64-bit integer, so any stored value reads back the same.
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
Scalar = Annotated[str, StringConstraints(max_length=10_000)] | Int64 | float | bool | None


class InteractionIn(Record):
    """One AI interaction. ``system`` and ``started_at`` are the only required fields."""

    id: Short | None = Field(
        default=None, description="the client's id for it: sending it again changes nothing"
    )
    system: SystemSlug
    started_at: When
    ended_at: When | None = None
    user_id: Short | None = None
    session_id: Short | None = None
    trace_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = None
    span_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")] | None = None
    model: Short | None = None
    provider: Short | None = None
    model_version: Short | None = None
    app_version: Short | None = None
    parameters: dict[Short, Scalar] = Field(default_factory=dict, max_length=100)
    instructions_version: Short | None = Field(
        default=None, description="version of the system instructions (prompt) in use"
    )
    instructions: Text = Field(default="", description="the system instructions' text")
    messages: list[Message] = Field(default_factory=list, max_length=1000)
    output: Text = ""
    finish_reason: Short | None = None
    retrieval: list[Retrieval] = Field(default_factory=list, max_length=500)
    tool_calls: list[ToolCall] = Field(default_factory=list, max_length=500)
    permissions: list[Short] = Field(default_factory=list, max_length=200)
    moderation: list[Moderation] = Field(default_factory=list, max_length=100)
    feedback: list[Feedback] = Field(default_factory=list, max_length=100)
    human_decisions: list[HumanDecision] = Field(default_factory=list, max_length=100)
    downstream: list[Downstream] = Field(default_factory=list, max_length=500)
    outcome: Outcome | None = None
    status: Literal["ok", "error", "timeout", "refused"] = "ok"
    error: Text = ""
    latency_ms: float | None = Field(default=None, ge=0, le=86_400_000)
    usage: Usage | None = None
    attributes: dict[Short, Scalar] = Field(
        default_factory=dict, max_length=200, description="anything else, kept as given"
    )


class RejectedRecord(BaseModel):
    index: int = Field(description="position of the record in the batch, from 0")
    id: str | None = Field(description="the record's client id, when it had a readable one")
    errors: list[dict[str, str]]


class IngestResult(BaseModel):
    accepted: int = Field(description="records stored (new or already stored earlier)")
    duplicates: int = Field(description="of those, how many had been stored before")
    rejected: list[RejectedRecord]
    signals: int = Field(description="signals raised or updated by the detectors")
    partial: bool = Field(description="true when some records were rejected")


class InteractionOut(BaseModel):
    id: int
    client_id: str | None
    system: str
    started_at: datetime
    ended_at: datetime | None
    received_at: datetime
    user_id: str | None
    session_id: str | None
    model: str | None
    provider: str | None
    model_version: str | None
    app_version: str | None
    instructions_version: str | None
    status: str
    content_mode: str
    held: bool = Field(description="an incident holds it: retention never drops its content")
    content: dict[str, Any] | None = Field(
        description="prompt, output, retrieval and tool content as stored (raw, redacted or "
        "hashed); only included when asked for, and every raw read is recorded"
    )
    details: dict[str, Any]
    downstream: list[dict[str, Any]]
