"""What every detector shares: findings, the text fields of an interaction, per-system settings.

Two kinds of detector exist. A *content* detector looks at one interaction at a time; the
regular expressions it needs are compiled, with every other content detector's, into one
multi-pattern database that scans each text field once (see ``scan.py``), and the detector
only validates the candidates it is handed. A *stream* detector keeps state across
interactions (rates, baselines, group outcomes) and sees a whole batch at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

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


class TextField(NamedTuple):
    """One piece of text in an interaction, with its place and origin.

    A named tuple rather than a frozen dataclass: ingest builds several of these for every
    interaction, and a frozen dataclass's ``__init__`` sets each attribute through
    ``object.__setattr__``, several times the cost of building a tuple. It stays immutable
    and hashable, and its attributes are the same.
    """

    path: str  # where the text is, as in an API error's loc: "messages[2].content"
    text: str
    source: Source
    trust: Trust = Trust.unknown


# ``TextField``'s own constructor is a Python function that builds the tuple; ``text_fields``
# builds it directly, which is what the generated constructor does in the end.
_new_field = tuple.__new__

_ROLE_ORIGIN: dict[str, tuple[Source, Trust]] = {
    "user": (Source.user, Trust.untrusted),
    "system": (Source.instructions, Trust.trusted),
    "developer": (Source.instructions, Trust.trusted),
    "tool": (Source.tool_result, Trust.unknown),
    "assistant": (Source.assistant, Trust.unknown),
}


def _paths(template: str, count: int = 64) -> tuple[str, ...]:
    """The paths of the first ``count`` items of a list, formatted once, not per interaction."""
    return tuple(template.format(i) for i in range(count))


_MESSAGE_PATHS = _paths("messages[{}].content")
_RETRIEVAL_PATHS = _paths("retrieval[{}].content")
_ARGUMENT_PATHS = _paths("tool_calls[{}].arguments")
_RESULT_PATHS = _paths("tool_calls[{}].result")


def text_fields(record: InteractionIn) -> list[TextField]:
    """Every piece of text in an interaction, with its place and origin, in record order.

    Run for every interaction ingested, so written for speed: a list, not a generator, tuples
    built directly (see ``_new_field``), the usual paths formatted in advance, and the
    records' values read from their ``__dict__``, where pydantic keeps them: an attribute of a
    pydantic model is found only after a detour through its ``__getattr__`` hook.
    """
    new, cls = _new_field, TextField
    out: list[TextField] = []
    add = out.append
    values = record.__dict__
    if instructions := values["instructions"]:
        add(new(cls, ("instructions", instructions, Source.instructions, Trust.trusted)))
    for i, message in enumerate(values["messages"]):
        m = message.__dict__
        if text := m["content"]:
            path = _MESSAGE_PATHS[i] if i < 64 else f"messages[{i}].content"
            source, trust = _ROLE_ORIGIN.get(m["role"], (Source.assistant, Trust.unknown))
            add(new(cls, (path, text, source, trust)))
    if output := values["output"]:
        add(new(cls, ("output", output, Source.output, Trust.unknown)))
    for i, doc in enumerate(values["retrieval"]):
        d = doc.__dict__
        if text := d["content"]:
            path = _RETRIEVAL_PATHS[i] if i < 64 else f"retrieval[{i}].content"
            add(new(cls, (path, text, Source.retrieval, d["trust"])))
    for i, call in enumerate(values["tool_calls"]):
        c = call.__dict__
        if text := c["arguments"]:
            path = _ARGUMENT_PATHS[i] if i < 64 else f"tool_calls[{i}].arguments"
            add(new(cls, (path, text, Source.tool_arguments, Trust.unknown)))
        if text := c["result"]:
            path = _RESULT_PATHS[i] if i < 64 else f"tool_calls[{i}].result"
            add(new(cls, (path, text, Source.tool_result, c["result_trust"])))
    return out


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

    The shared scanner reports the leftmost start and the end of every match (in the fields
    from ``sources``); ``name`` comes back with it so the detector knows which of its patterns
    fired.
    """

    name: str
    regex: str
    caseless: bool = False
    # A cheap expression that must match wherever ``regex`` does (usually a few literal
    # keywords). Hyperscan compiles it instead of ``regex``: complex expressions can take
    # minutes to compile in Hyperscan, while keyword sets take milliseconds and scan as fast.
    prefilter: str | None = None
    # The text sources whose fields the detector reads this pattern's matches in; None for all.
    # The scanner looks for the pattern only in those fields (see ``scan.py``), so a detector
    # that ignores, say, the system instructions does not pay for scanning them. Only a pattern
    # whose matches are never used outside these sources may set it.
    sources: frozenset[Source] | None = None


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
