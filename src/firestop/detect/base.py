"""What every detector shares: findings, the text fields of an interaction, per-system settings.

Two kinds of detector exist. A *content* detector looks at one interaction at a time; the
regular expressions it needs are compiled, with every other content detector's, into one
multi-pattern database that scans each text field once (see ``scan.py``), and the detector
only validates the candidates it is handed. A *stream* detector keeps state across
interactions (rates, baselines, group outcomes) and sees a whole batch at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from firestop.ledger.schemas import InteractionIn, Trust

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class Source(StrEnum):
    """Where a piece of text in an interaction came from; it decides who could have written it."""

    user = "user"  # the end user's messages
    instructions = "instructions"  # the system instructions (the operator's prompt)
    assistant = "assistant"  # earlier model turns in the conversation
    output = "output"  # the model's answer
    retrieval = "retrieval"  # retrieved documents given to the model
    tool_arguments = "tool_arguments"  # arguments the model produced for a tool
    tool_result = "tool_result"  # what a tool returned to the model


@dataclass(slots=True, frozen=True)
class TextField:
    path: str  # where the text is, as in an API error's loc: "messages[2].content"
    text: str
    source: Source
    trust: Trust = Trust.unknown


def text_fields(record: InteractionIn) -> Iterator[TextField]:
    """Every piece of text in an interaction, with its place and origin."""
    if record.instructions:
        yield TextField("instructions", record.instructions, Source.instructions, Trust.trusted)
    for i, message in enumerate(record.messages):
        if not message.content:
            continue
        if message.role == "user":
            source, trust = Source.user, Trust.untrusted
        elif message.role in ("system", "developer"):
            source, trust = Source.instructions, Trust.trusted
        elif message.role == "tool":
            source, trust = Source.tool_result, Trust.unknown
        else:
            source, trust = Source.assistant, Trust.unknown
        yield TextField(f"messages[{i}].content", message.content, source, trust)
    if record.output:
        yield TextField("output", record.output, Source.output)
    for i, doc in enumerate(record.retrieval):
        if doc.content:
            yield TextField(f"retrieval[{i}].content", doc.content, Source.retrieval, doc.trust)
    for i, call in enumerate(record.tool_calls):
        if call.arguments:
            yield TextField(f"tool_calls[{i}].arguments", call.arguments, Source.tool_arguments)
        if call.result:
            yield TextField(
                f"tool_calls[{i}].result", call.result, Source.tool_result, call.result_trust
            )


@dataclass(slots=True)
class Finding:
    """One thing a detector found, and exactly where."""

    detector: str  # the detector's stable id: "pii"
    rule: str  # what matched, stable too: "pii.email", "secret.aws_access_key"
    title: str  # one line for a person: "E-mail address in the model's output"
    path: str | None = None  # the field, as TextField.path; None for stream detectors
    start: int | None = None  # character offsets in that field
    end: int | None = None
    excerpt: str = ""  # the surroundings with the match itself redacted; never the raw value
    severity: str | None = None  # a hint: "SEV3"
    category: str | None = None  # a taxonomy category id hint: "confidentiality"
    # Findings with the same detector, rule, system and group are one problem for signals.
    group: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    # Set by the pipeline for content findings; stream detectors name the interactions (if
    # any) that make up their finding, and the system it concerns.
    interaction_ids: list[int] = field(default_factory=list)
    system_id: int | None = None


def redact(text: str, start: int, end: int, label: str, *, context: int = 24) -> str:
    """The text around [start, end) with the match replaced by ``[label]``, one line."""
    before = text[max(0, start - context) : start]
    after = text[end : end + context]
    pieces = ["…" if start > context else "", before, f"[{label}]", after]
    pieces.append("…" if end + context < len(text) else "")
    return " ".join("".join(pieces).split())


@dataclass(slots=True, frozen=True)
class ModelRef:
    name: str
    provider: str
    version: str


@dataclass(slots=True, frozen=True)
class ToolRef:
    name: str
    kind: str
    destructive: bool


@dataclass(slots=True, frozen=True)
class SystemConfig:
    """What detectors need to know about one system, read once and cached (see ``config.py``)."""

    id: int
    slug: str
    criticality: str
    content_mode: str
    approved_models: tuple[ModelRef, ...]
    other_models: tuple[ModelRef, ...]  # listed in the inventory but not approved
    tools: Mapping[str, ToolRef]
    # Per-detector settings: the policy's defaults overlaid by the system's own.
    settings: Mapping[str, Mapping[str, Any]]

    def enabled(self, detector: str) -> bool:
        return bool(self.settings.get(detector, {}).get("enabled", True))

    def setting(self, detector: str, name: str, default: Any = None) -> Any:
        return self.settings.get(detector, {}).get(name, default)


@dataclass(slots=True, frozen=True)
class Pattern:
    """A regular expression a content detector wants found, in the dialect both engines accept.

    The shared scanner reports the leftmost start and the end of every match; ``name`` comes
    back with it so the detector knows which of its patterns fired.
    """

    name: str
    regex: str
    caseless: bool = False
    # A cheap expression that must match wherever ``regex`` does (usually a few literal
    # keywords). Hyperscan compiles it instead of ``regex``: complex expressions can take
    # minutes to compile in Hyperscan, while keyword sets take milliseconds and scan as fast.
    prefilter: str | None = None


@dataclass(slots=True, frozen=True)
class Match:
    pattern: str  # Pattern.name
    field: int  # index into the fields list handed to the detector
    start: int
    end: int


class ContentDetector(Protocol):
    id: str

    def patterns(self) -> Sequence[Pattern]: ...

    def inspect(
        self,
        record: InteractionIn,
        fields: Sequence[TextField],
        matches: Sequence[Match],
        config: SystemConfig,
    ) -> list[Finding]:
        """Findings for one interaction. ``matches`` holds only this detector's patterns."""
        ...


@dataclass(slots=True, frozen=True)
class Observed:
    """An interaction just stored, as a stream detector sees it."""

    interaction_id: int
    record: InteractionIn
    config: SystemConfig


class StreamDetector(Protocol):
    """A detector with memory: rates, baselines and group outcomes across interactions.

    ``observe`` sees each stored batch once, inside the ingest transaction; it keeps its state
    in ``DetectorState`` rows (read and written in the same transaction, so a batch that fails
    leaves the state as it was) and returns findings that name their system and interactions.
    """

    id: str

    def observe(self, db: Session, batch: Sequence[Observed], now: datetime) -> list[Finding]: ...
