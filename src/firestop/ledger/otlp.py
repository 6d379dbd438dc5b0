"""OTLP/HTTP traces and logs → interaction records (D2). Pure functions, no database.

How the routes use it::

    body = maybe_gunzip(raw, headers.get("content-encoding"), limit=MAX_BODY)
    request = decode_traces(body, headers.get("content-type"))
    #   OtlpDecodeError.status_code: 400; OtlpTooLarge: 413; OtlpUnsupported (type/encoding): 415
    mapping = spans_to_interactions(request)
    for record in mapping.interactions:          # InteractionIn-shaped dicts, datetimes in UTC
        record["system"] = to_slug(record["system"])   # raw resource string: the caller maps it
        ...validate with InteractionIn; upsert by record["id"], merge_interaction() on conflict
    # Tool/retrieval spans whose model call was not in this request, joined when it is stored:
    joined = join_fragments(stored records of the trace, pending tool/retrieval fragments)
    payload, media = export_response("traces", rejected=mapping.rejected + refused_by_caller,
                                     error_message=mapping.error_message,
                                     content_type=headers.get("content-type"))

``/v1/logs``: ``decode_logs`` → ``logs_to_events`` gives ``interactions`` (from
``gen_ai.client.inference.operation.details`` events; upsert them with ``merge_interaction``)
and ``events`` (the older per-message events, keyed by ``MessageEvent.key`` = (trace_id,
span_id)). If ``interaction_id(*key)`` is stored, ``merge_events(stored, events)``; if not,
keep the events (``as_dict``) until the span comes and then ``merge_events(span_record,
events)``, or store ``skeleton_from_events(events)`` at once: the span's record merged into it
with ``merge_interaction`` wins for timing, model and status. Span first or events first, the
record is the same (see ``merge_events`` for batches of events that overtake each other).
``rejected``/``messages`` count and explain what was refused (for ``partialSuccess``);
``ignored`` counts what is not GenAI telemetry (HTTP spans, agent wrappers, ordinary logs).

What is read (per record, the first style that yields input messages wins, likewise for
output):

* OpenTelemetry GenAI conventions: ``gen_ai.operation.name``, ``gen_ai.provider.name`` (older
  ``gen_ai.system``), ``gen_ai.request.*`` (model and scalar parameters),
  ``gen_ai.response.model`` / ``finish_reasons``, ``gen_ai.usage.input_tokens`` /
  ``output_tokens`` (older ``prompt_tokens`` / ``completion_tokens``),
  ``gen_ai.conversation.id``, ``error.type``; content from ``gen_ai.system_instructions``,
  ``gen_ai.input.messages`` and ``gen_ai.output.messages`` (JSON strings or structured values,
  ``parts`` of type text / tool_call / tool_call_response); ``execute_tool`` spans
  (``gen_ai.tool.name`` / ``call.id`` / ``call.arguments`` / ``call.result``) and ``retrieval``
  spans (``gen_ai.retrieval.documents``). Message events ``gen_ai.{role}.message`` and
  ``gen_ai.choice`` as log records or span events (name in ``event_name`` or the ``event.name``
  attribute; content in the body, or in a ``gen_ai.event.content`` JSON attribute on span
  events); ``gen_ai.client.inference.operation.details`` events, and the 1.26-era
  ``gen_ai.content.prompt`` / ``completion`` span events.
* OpenLLMetry: ``gen_ai.prompt.N.*`` and ``gen_ai.completion.N.*`` (incl. ``tool_calls.M.*``),
  ``llm.request.type``, ``llm.*`` parameters and usage, ``traceloop.span.kind`` = tool spans
  (``traceloop.entity.*``), vector-store spans with ``db.query.result`` events as retrieval.
  Its current releases write the GenAI attributes above, or message events whose
  ``gen_ai.choice`` body has the ``tool_calls`` beside the ``message``.
* OpenInference: ``openinference.span.kind`` (LLM, EMBEDDING: records; TOOL, RETRIEVER:
  fragments; CHAIN, AGENT …: ignored), ``llm.input_messages`` / ``llm.output_messages``,
  ``llm.prompts`` / ``llm.choices``, ``llm.model_name`` (the model that answered),
  ``llm.provider`` / ``llm.system``, ``llm.invocation_parameters`` (settings, and the model
  asked for), ``llm.token_count.*``, ``retrieval.documents.N.document.*``,
  ``tool.name``, ``tool_call.id``, ``input.value`` / ``output.value``, ``session.id``,
  ``user.id``.

Records: ``id`` is ``otlp:{trace_id}:{span_id}`` so re-sent telemetry changes nothing;
``system`` is the resource's ``firestop.system``, else ``service.name`` (never the SDK default
``unknown_service``), raw — the caller maps it to a slug. A model-call span without a system is
rejected with a reason. Span status ERROR (or ``error.type``) gives status "error" ("timeout"
when the error says so) with the status message, exception or error type as ``error``; a
``content_filter`` finish gives "refused". ``system`` role messages become ``instructions``,
the others ``messages``; tool results fed back to the model are tool messages. ``attributes``
keeps a short allow-list only, plus ``gen_ai.operation.name`` (normalised for every style),
``otlp.source`` ("span" or "log") and ``otlp.parent_span_id``, which merging and joining read.

Joining tool and retrieval spans onto the model call they belong to (``join_fragments``: the
same rule inside one request and later in the database layer). Candidates are the records of
the same trace, except embeddings.

* A tool span joins (1) the record whose ``tool_calls`` hold its tool-call id, else (2) its
  nearest ancestor record, else (3) the latest record that started no later than the tool —
  siblings under the same parent (agent) span first, and never one whose calls all carry
  other ids. Its result fills the call with its id (without an id: the first call of that
  name still waiting for a result), else it is added as a new call.
* A retrieval span joins (1) its nearest ancestor record, else (2) the earliest record that
  started no earlier than the retrieval (the generation that used it), siblings first.

What joins nothing in its request comes back as a fragment, for the database layer.

Everything here is hostile input. Nesting, sizes and counts are bounded; strings become valid
UTF-8 without NUL; text is cut to the record's limits (``attributes["otlp.truncated"]`` says
so); wrong types are coerced or dropped; a bad span or log record is rejected alone, never the
batch. Only what the protocol itself forbids (bytes that are not protobuf or JSON, bad base64,
negative fixed64 in JSON, nesting beyond protobuf's limit of 100) fails the whole body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice
from typing import Any, Final, Literal

from google.protobuf import json_format  # type: ignore[import-untyped]
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from firestop.errors import FirestopError
from firestop.ledger.body import inflate

log = logging.getLogger(__name__)

# Limits of InteractionIn (schemas.py); records are cut to them here so validation downstream
# only fails on what the caller changes (the system slug).
SHORT: Final = 200
REF: Final = 2000
TEXT: Final = 1_000_000
MAX_MESSAGES: Final = 1000
MAX_TOOL_CALLS: Final = 500
MAX_RETRIEVAL: Final = 500
MAX_PARAMETERS: Final = 100
MAX_RECORD_ATTRIBUTES: Final = 200

# Bounds on what hostile telemetry may make us walk.
MAX_DEPTH: Final = 20  # nesting of any-values and JSON
MAX_ITEMS: Final = 10_000  # entries of one array or map
MAX_NODES: Final = 200_000  # values converted per attribute set or JSON document
MAX_SPAN_ATTRIBUTES: Final = 20_000  # flattened styles put ~5 keys per message
MAX_SPAN_EVENTS: Final = 1000
MAX_JSON_CHARS: Final = 8_000_000
MAX_ANCESTORS: Final = 64
MAX_REASONS: Final = 20

STATUS_CODE_ERROR: Final = 2
PROTOBUF_TYPES: Final = frozenset({"application/x-protobuf", "application/protobuf"})
JSON_TYPE: Final = "application/json"
DETAILS_EVENT: Final = "gen_ai.client.inference.operation.details"
CHOICE_EVENT: Final = "gen_ai.choice"
REFUSALS: Final = frozenset({"content_filter", "refusal"})
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

ROLES: Final = {
    "system": "system",
    "developer": "developer",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "model": "assistant",
    "bot": "assistant",
    "tool": "tool",
    "function": "tool",
    "ipython": "tool",
}
SCHEMA_ROLES: Final = frozenset(ROLES.values())
CHAT_OPERATIONS: Final = frozenset({"chat", "text_completion", "generate_content", "completion"})
NOT_MODEL_CALLS: Final = frozenset(
    {
        "invoke_agent",
        "create_agent",
        "invoke_workflow",
        "plan",
        "create_memory_store",
        "delete_memory_store",
        "search_memory",
        "create_memory",
        "update_memory",
        "upsert_memory",
        "delete_memory",
    }
)
OPENINFERENCE_OPERATIONS: Final = {"LLM": "chat", "EMBEDDING": "embeddings"}
OPENLLMETRY_OPERATIONS: Final = {
    "chat": "chat",
    "completion": "text_completion",
    "embedding": "embeddings",
}
KEPT_ATTRIBUTES: Final = (  # gen_ai.operation.name is always set, normalised
    "gen_ai.response.id",
    "gen_ai.agent.name",
    "gen_ai.agent.id",
    "gen_ai.output.type",
    "gen_ai.data_source.id",
    "server.address",
    "error.type",
    "openinference.span.kind",
    "llm.request.type",
    "traceloop.span.kind",
    "traceloop.workflow.name",
    "traceloop.entity.name",
    "agent.name",
)
LIST_FIELDS: Final = (
    "messages",
    "tool_calls",
    "retrieval",
    "permissions",
    "moderation",
    "feedback",
    "human_decisions",
    "downstream",
)


# --- errors --------------------------------------------------------------------------------------


class OtlpDecodeError(ValueError):
    """The body is not an OTLP request we can read (HTTP 400)."""

    status_code = 400


class OtlpTooLarge(OtlpDecodeError):
    """The body, once decompressed, is larger than allowed (HTTP 413)."""

    status_code = 413


class OtlpUnsupported(OtlpDecodeError):
    """Content-Type or Content-Encoding we do not speak (HTTP 415)."""

    status_code = 415


# --- transport: compression, decoding, responses -------------------------------------------------


def maybe_gunzip(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Undo ``Content-Encoding: gzip`` (or nothing), refusing more than ``limit`` bytes out.

    The inflating itself is the native ingest's (``body.inflate``); here its errors become
    OTLP's.
    """
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        if len(body) > limit:
            raise OtlpTooLarge(f"the request body is larger than {limit} bytes")
        return body
    if encoding not in ("gzip", "x-gzip"):
        raise OtlpUnsupported(
            f"Content-Encoding {encoding[:40]!r} is not supported: send gzip or no encoding"
        )
    try:
        return inflate(body, limit)
    except FirestopError as exc:
        if exc.status == 413:
            raise OtlpTooLarge(f"the decompressed body is larger than {limit} bytes") from None
        raise OtlpDecodeError(exc.detail) from None


def decode_traces(body: bytes, content_type: str | None) -> ExportTraceServiceRequest:
    """Parse an OTLP/HTTP traces request body (protobuf or JSON)."""
    request = ExportTraceServiceRequest()
    _decode(body, content_type, request, ("resourceSpans", "scopeSpans", "spans"))
    return request


def decode_logs(body: bytes, content_type: str | None) -> ExportLogsServiceRequest:
    """Parse an OTLP/HTTP logs request body (protobuf or JSON)."""
    request = ExportLogsServiceRequest()
    _decode(body, content_type, request, ("resourceLogs", "scopeLogs", "logRecords"))
    return request


def export_response(
    signal: Literal["traces", "logs"],
    *,
    rejected: int = 0,
    error_message: str = "",
    content_type: str | None = None,
) -> tuple[bytes, str]:
    """The OTLP response body and its media type, with ``partialSuccess`` when anything was
    rejected or there is something to say; JSON when the request was JSON."""
    response: Any
    if signal == "traces":
        response = ExportTraceServiceResponse()
        if rejected or error_message:
            response.partial_success.rejected_spans = max(0, rejected)
            response.partial_success.error_message = error_message[:4000]
    else:
        response = ExportLogsServiceResponse()
        if rejected or error_message:
            response.partial_success.rejected_log_records = max(0, rejected)
            response.partial_success.error_message = error_message[:4000]
    if _media_type(content_type) == JSON_TYPE:
        payload = json.dumps(json_format.MessageToDict(response), separators=(",", ":"))
        return payload.encode(), JSON_TYPE
    return bytes(response.SerializeToString()), "application/x-protobuf"


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _decode(body: bytes, content_type: str | None, message: Any, path: tuple[str, ...]) -> None:
    media = _media_type(content_type)
    if media in PROTOBUF_TYPES:
        try:
            message.ParseFromString(body)
        # The parser is fed hostile bytes; whatever it raises means "not OTLP".
        except Exception as error:
            raise OtlpDecodeError(
                f"the body is not a valid OTLP protobuf message: {_brief(error)}"
            ) from None
        return
    if media != JSON_TYPE:
        raise OtlpUnsupported(
            f"Content-Type {media[:60]!r} is not supported: "
            "send application/x-protobuf or application/json"
        )
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise OtlpDecodeError(f"the body is not valid UTF-8 JSON: {_brief(error)}") from None
    if not isinstance(document, dict):
        raise OtlpDecodeError("the JSON body must be an object")
    _hex_ids_to_base64(document, path)
    try:
        json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except Exception as error:  # ParseError, and type errors on hostile shapes
        raise OtlpDecodeError(
            f"the JSON body is not a valid OTLP request: {_brief(error)}"
        ) from None


def _brief(error: BaseException) -> str:
    """The parser's words, cut short: they may quote the sender's bytes back."""
    return str(error)[:300]


def _hex_ids_to_base64(document: dict[str, Any], path: tuple[str, ...]) -> None:
    """OTLP/JSON writes trace and span ids as hex; protobuf's JSON parser wants base64.

    Only the id fields at their known places are touched (attribute ``bytesValue`` stays
    base64). Hex and base64 ids never share a length (32 vs 24 characters, 16 vs 12), so a value
    of the hex length made of hex digits is hex; anything else is left for base64 parsing.
    """
    top, scope, leaf = path
    for outer in _objects(document, top):
        for middle in _objects(outer, scope):
            for item in _objects(middle, leaf):
                _fix_id(item, "traceId", 16)
                _fix_id(item, "spanId", 8)
                _fix_id(item, "parentSpanId", 8)
                for link in _objects(item, "links"):
                    _fix_id(link, "traceId", 16)
                    _fix_id(link, "spanId", 8)


def _snake(camel: str) -> str:
    """json_format also accepts the proto field names, so senders may use either."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)


def _objects(parent: dict[str, Any], camel: str) -> Iterable[dict[str, Any]]:
    value = parent.get(camel, parent.get(_snake(camel)))
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _fix_id(item: dict[str, Any], camel: str, size: int) -> None:
    for key in (camel, _snake(camel)):
        value = item.get(key)
        if isinstance(value, str) and len(value) == 2 * size and _is_hex(value):
            item[key] = _b64(bytes.fromhex(value))


def _is_hex(value: str) -> bool:
    return value.isascii() and all(c in "0123456789abcdefABCDEF" for c in value)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# --- plain values from any-values and JSON, bounded --------------------------------------------


class _Budget:
    """How many more values one conversion may produce (a bound on hostile fan-out)."""

    __slots__ = ("left",)

    def __init__(self, left: int = MAX_NODES) -> None:
        self.left = left


def _from_any(value: Any, budget: _Budget, depth: int = 0) -> Any:
    """An OTLP AnyValue as plain Python, cut at MAX_DEPTH / MAX_ITEMS / the budget."""
    budget.left -= 1
    if budget.left < 0 or depth > MAX_DEPTH:
        return None
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "bytes_value":
        return bytes(value.bytes_value).decode("utf-8", "replace")
    if kind == "array_value":
        items: list[Any] = []
        for item in islice(value.array_value.values, MAX_ITEMS):
            if budget.left <= 0:
                break
            items.append(_from_any(item, budget, depth + 1))
        return items
    if kind == "kvlist_value":
        mapping: dict[str, Any] = {}
        for pair in islice(value.kvlist_value.values, MAX_ITEMS):
            if budget.left <= 0:
                break
            mapping[pair.key] = _from_any(pair.value, budget, depth + 1)
        return mapping
    return None


def _bound(value: Any, budget: _Budget, depth: int = 0) -> Any:
    """Parsed JSON cut like ``_from_any`` (recursing only into containers: this is hot)."""
    if isinstance(value, dict):
        pairs = list(islice(value.items(), MAX_ITEMS))
        budget.left -= len(pairs) + 1
        if budget.left < 0 or depth >= MAX_DEPTH:
            return None
        return {
            str(k): _bound(v, budget, depth + 1) if isinstance(v, dict | list) else v
            for k, v in pairs
        }
    if isinstance(value, list):
        items = value[:MAX_ITEMS]
        budget.left -= len(items) + 1
        if budget.left < 0 or depth >= MAX_DEPTH:
            return None
        return [_bound(v, budget, depth + 1) if isinstance(v, dict | list) else v for v in items]
    return value


def _attributes(pairs: Iterable[Any], limit: int = MAX_SPAN_ATTRIBUTES) -> dict[str, Any]:
    budget = _Budget()
    return {pair.key: _from_any(pair.value, budget) for pair in islice(pairs, limit)}


def _structured(value: Any) -> Any:
    """A JSON string (the conventions allow structured values as JSON text) parsed; else as is."""
    if isinstance(value, str) and len(value) <= MAX_JSON_CHARS and value.lstrip()[:1] in ("[", "{"):
        try:
            return _bound(json.loads(value), _Budget())
        except (ValueError, RecursionError):
            return value
    return value


def _text(value: Any) -> str:
    """Any value as text: strings as they are, structures as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return ""


def _name(value: Any) -> str | None:
    """An identifier-like value (string or integer) as a non-empty string, else None."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        digits = text.removeprefix("-")
        if digits.isascii() and digits.isdigit() and len(digits) < 19:
            return int(text)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value) if abs(value) < 1e300 else math.inf
    elif isinstance(value, str) and len(value) < 40:
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _is_number(value: Any) -> bool:
    """A JSON-safe number: finite, within 64 bits, not a bool."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, float) and math.isfinite(value)


def _first(attrs: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = _name(attrs.get(key))
        if value is not None:
            return value
    return None


def _clean(text: str, limit: int) -> tuple[str, bool]:
    """Cut to ``limit`` characters, replace lone surrogates and NUL (databases refuse both)."""
    cut = len(text) > limit
    if cut:
        text = text[:limit]
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return text, cut


def _time(nanos: int) -> datetime | None:
    # fixed64 nanoseconds reach at most the year 2554, inside what datetime and the schema take.
    if nanos <= 0:
        return None
    return EPOCH + timedelta(microseconds=nanos // 1000)


def _hex_id(raw: bytes, size: int) -> str | None:
    if len(raw) != size or not any(raw):
        return None
    return bytes(raw).hex()


def interaction_id(trace_id: str, span_id: str) -> str:
    """The client id of the interaction a span (or its events) describes."""
    return f"otlp:{trace_id}:{span_id}"


def system_of(resource_attributes: Mapping[str, Any]) -> str | None:
    """``firestop.system``, else ``service.name`` (not the SDK's ``unknown_service``), raw."""
    explicit = _first(resource_attributes, "firestop.system")
    if explicit is not None:
        return explicit
    service = _first(resource_attributes, "service.name")
    if service is None or service.startswith("unknown_service"):
        return None
    return service


# --- results -------------------------------------------------------------------------------------


@dataclass
class _Reasons:
    rejected: int = 0
    ignored: int = 0
    messages: list[str] = field(default_factory=list)

    def reject(self, reason: str) -> None:
        self.rejected += 1
        if reason not in self.messages and len(self.messages) < MAX_REASONS:
            self.messages.append(reason)

    @property
    def error_message(self) -> str:
        """The reasons as one line, for OTLP ``partialSuccess.error_message``."""
        return "; ".join(self.messages)


@dataclass(frozen=True)
class ToolFragment:
    """A tool span not yet joined to its interaction. ``tool_call`` is ToolCall-shaped."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    ancestor_span_ids: tuple[str, ...]  # parent first, as far as the request showed them
    started_at: datetime
    tool_call: dict[str, Any]
    system: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.trace_id, self.span_id)

    @property
    def tool_call_id(self) -> str | None:
        return _name(self.tool_call.get("id"))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for a pending-fragments table; ``from_dict`` reads it back."""
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "ancestor_span_ids": list(self.ancestor_span_ids),
            "started_at": self.started_at.isoformat(),
            "tool_call": _jsonable(self.tool_call),
            "system": self.system,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolFragment:
        call = dict(data["tool_call"])
        call["started_at"] = _as_datetime(call.get("started_at"))
        return cls(
            trace_id=str(data["trace_id"]),
            span_id=str(data["span_id"]),
            parent_span_id=data.get("parent_span_id"),
            ancestor_span_ids=tuple(data.get("ancestor_span_ids") or ()),
            started_at=_as_datetime(data["started_at"]) or EPOCH,
            tool_call=call,
            system=data.get("system"),
        )


@dataclass(frozen=True)
class RetrievalFragment:
    """A retrieval span not yet joined; ``documents`` are Retrieval-shaped dicts."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    ancestor_span_ids: tuple[str, ...]
    started_at: datetime
    documents: tuple[dict[str, Any], ...]
    system: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.trace_id, self.span_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "ancestor_span_ids": list(self.ancestor_span_ids),
            "started_at": self.started_at.isoformat(),
            "documents": [dict(doc) for doc in self.documents],
            "system": self.system,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RetrievalFragment:
        return cls(
            trace_id=str(data["trace_id"]),
            span_id=str(data["span_id"]),
            parent_span_id=data.get("parent_span_id"),
            ancestor_span_ids=tuple(data.get("ancestor_span_ids") or ()),
            started_at=_as_datetime(data["started_at"]) or EPOCH,
            documents=tuple(dict(doc) for doc in data.get("documents") or ()),
            system=data.get("system"),
        )


@dataclass(frozen=True)
class MessageEvent:
    """One older-style GenAI event: an input message, or a ``choice`` (a model output)."""

    trace_id: str
    span_id: str
    kind: Literal["message", "choice"]
    role: str  # system, developer, user, assistant, tool (choices: assistant)
    content: str = ""
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: tuple[dict[str, Any], ...] = ()  # {id, name, arguments}
    index: int = 0  # choice index
    finish_reason: str | None = None
    time_unix_nano: int = 0
    order: int = 0  # position in its request: breaks ties between equal times
    provider: str | None = None
    system: str | None = None  # raw, from the resource

    @property
    def key(self) -> tuple[str, str]:
        return (self.trace_id, self.span_id)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tool_calls"] = [dict(call) for call in self.tool_calls]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MessageEvent:
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        values["tool_calls"] = tuple(dict(call) for call in data.get("tool_calls") or ())
        return cls(**values)


@dataclass
class TraceMapping(_Reasons):
    """What one traces request yields. ``rejected``/``messages`` feed ``partialSuccess``."""

    interactions: list[dict[str, Any]] = field(default_factory=list)
    tool_fragments: list[ToolFragment] = field(default_factory=list)
    retrieval_fragments: list[RetrievalFragment] = field(default_factory=list)


@dataclass
class LogMapping(_Reasons):
    """What one logs request yields."""

    interactions: list[dict[str, Any]] = field(default_factory=list)
    events: list[MessageEvent] = field(default_factory=list)


@dataclass
class JoinResult:
    interactions: list[dict[str, Any]]  # same order as given; joined ones are new dicts
    changed: list[int]  # positions of the interactions that took a fragment
    tool_fragments: list[ToolFragment]  # still unjoined
    retrieval_fragments: list[RetrievalFragment]


# --- messages in every style, as one intermediate shape ------------------------------------------


@dataclass
class _Msg:
    role: str
    text: str = ""
    name: str | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)  # tool results carried in parts
    finish_reason: str | None = None
    tool_call_id: str | None = None


def _content_text(content: Any, depth: int = 0) -> str:
    """Text of a message content: a string, a list of parts, or a part-like map."""
    if content is None or depth > MAX_DEPTH:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [_part_text(part, depth + 1) for part in content]
        return "\n".join(text for text in texts if text)
    if isinstance(content, dict):
        for key in ("content", "text"):
            if key in content:
                return _content_text(content[key], depth + 1)
    return _text(content)


def _part_text(part: Any, depth: int) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, dict) and part.get("type") in (
        None,
        "text",
        "input_text",
        "output_text",
    ):
        return _content_text(part.get("content", part.get("text")), depth)
    return ""  # images, audio, files, reasoning: not text the record keeps


def _call(raw: Any) -> dict[str, Any] | None:
    """A tool call in any style ({id, name, arguments}, or OpenAI's {id, function: {…}})."""
    if not isinstance(raw, dict):
        return None
    function = raw.get("function")
    source = function if isinstance(function, dict) else raw
    arguments = source.get("arguments", source.get("input"))
    return {
        "id": _name(raw.get("id")),
        "name": _name(source.get("name")) or "unknown",
        "arguments": _text(arguments),
    }


def _msg_from_dict(data: Mapping[str, Any], default_role: str) -> _Msg:
    """A message in the GenAI ``parts`` shape or the OpenAI ``content``/``tool_calls`` shape."""
    role = _name(data.get("role")) or default_role
    msg = _Msg(
        role=role, name=_name(data.get("name")), finish_reason=_name(data.get("finish_reason"))
    )
    texts: list[str] = []
    parts = data.get("parts")
    for part in parts if isinstance(parts, list) else ():
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("tool_call", "function_call", "server_tool_call") and isinstance(part, dict):
            arguments = part.get("arguments", part.get("server_tool_call"))
            call = _call({"id": part.get("id"), "name": part.get("name"), "arguments": arguments})
            if call:
                msg.calls.append(call)
        elif kind == "tool_call_response" and isinstance(part, dict):
            msg.responses.append(_text(part.get("response", part.get("result"))))
            msg.tool_call_id = msg.tool_call_id or _name(part.get("id"))
        else:
            texts.append(_part_text(part, 0))
    if "content" in data:
        texts.append(_content_text(_parts_or_text(data.get("content"))))
    calls = data.get("tool_calls")
    for raw in calls if isinstance(calls, list) else ():
        call = _call(raw)
        if call:
            msg.calls.append(call)
    if isinstance(data.get("function_call"), Mapping):
        call = _call(data["function_call"])
        if call:
            msg.calls.append(call)
    msg.tool_call_id = _name(data.get("tool_call_id")) or msg.tool_call_id
    if msg.tool_call_id is None and ROLES.get(role.lower()) == "tool":
        msg.tool_call_id = _name(data.get("id"))
    msg.text = "\n".join(text for text in texts if text)
    return msg


def _parts_or_text(content: Any) -> Any:
    """Some emitters put a JSON list of parts in a content string; only such a list is parsed,
    so a user who typed JSON keeps their text."""
    parsed = _structured(content) if isinstance(content, str) else content
    if (
        isinstance(parsed, list)
        and parsed
        and all(
            isinstance(part, str) or (isinstance(part, dict) and "type" in part) for part in parsed
        )
    ):
        return parsed
    return content


def _messages(value: Any, default_role: str) -> list[_Msg]:
    value = _structured(value)
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, str):
        return [_Msg(role=default_role, text=value)] if value else []
    if not isinstance(value, list):
        return []
    out: list[_Msg] = []
    for item in value:
        if isinstance(item, dict):
            out.append(_msg_from_dict(item, default_role))
        elif isinstance(item, str) and item:
            out.append(_Msg(role=default_role, text=item))
    return out


def _instruction_texts(value: Any) -> list[str]:
    value = _structured(value)
    if isinstance(value, str):
        return [value] if value else []
    text = _content_text(value if isinstance(value, list) else [value])
    return [text] if text else []


def _indexed(flat: Mapping[str, Any], prefix: str, limit: int) -> list[dict[str, Any]]:
    """Flattened lists (``prefix.N.rest``) as a list of ``{rest: value}`` maps, by N."""
    groups: dict[int, dict[str, Any]] = {}
    start = prefix + "."
    for key, value in flat.items():
        if not key.startswith(start):
            continue
        index, dot, rest = key[len(start) :].partition(".")
        # isascii: str.isdigit accepts digits such as "²" that int() refuses.
        if not dot or not (index.isascii() and index.isdigit()) or len(index) > 6:
            continue
        number = int(index)
        if number < limit:
            groups.setdefault(number, {})[rest] = value
    return [groups[number] for number in sorted(groups)]


def _openllmetry_msg(item: Mapping[str, Any], default_role: str) -> _Msg:
    data = {
        key: item[key]
        for key in ("role", "content", "name", "tool_call_id", "finish_reason")
        if key in item
    }
    msg = _msg_from_dict(data, default_role)
    for call in _indexed(item, "tool_calls", MAX_TOOL_CALLS):
        made = _call(call)
        if made:
            msg.calls.append(made)
    if "function_call.name" in item:
        function = {k: item.get(f"function_call.{k}") for k in ("id", "name", "arguments")}
        msg.calls.append(_call(function) or {})
    return msg


def _openinference_msg(item: Mapping[str, Any], default_role: str) -> _Msg:
    role = _name(item.get("message.role")) or default_role
    texts = [_content_text(_parts_or_text(item.get("message.content")))]
    for part in _indexed(item, "message.contents", MAX_ITEMS):
        if part.get("message_content.type") in (None, "text"):
            texts.append(_text(part.get("message_content.text")))
    msg = _Msg(
        role=role,
        text="\n".join(text for text in texts if text),
        name=_name(item.get("message.name")),
        tool_call_id=_name(item.get("message.tool_call_id")),
    )
    for call in _indexed(item, "message.tool_calls", MAX_TOOL_CALLS):
        function = {
            "id": call.get("tool_call.id"),
            "name": call.get("tool_call.function.name"),
            "arguments": call.get("tool_call.function.arguments"),
        }
        msg.calls.append(_call(function) or {})
    if "message.function_call_name" in item:
        function = {
            "name": item.get("message.function_call_name"),
            "arguments": item.get("message.function_call_arguments_json"),
        }
        msg.calls.append(_call(function) or {})
    return msg


@dataclass
class _Content:
    instructions: list[str] = field(default_factory=list)
    inputs: list[_Msg] = field(default_factory=list)
    outputs: list[_Msg] = field(default_factory=list)


_Style = Callable[[], tuple[list["_Msg"], list["_Msg"]]]


def _content(
    attrs: Mapping[str, Any], span_events: Sequence[tuple[str, dict[str, Any]]]
) -> _Content:
    """Instructions, input and output messages from whichever style the attributes use (the
    first style that yields inputs, and the first that yields outputs, in the order below)."""
    found = _Content(instructions=_instruction_texts(attrs.get("gen_ai.system_instructions")))
    styles: list[_Style] = [
        lambda: (
            _messages(attrs.get("gen_ai.input.messages"), "user"),
            _messages(attrs.get("gen_ai.output.messages"), "assistant"),
        ),
        lambda: (
            [_openllmetry_msg(i, "user") for i in _indexed(attrs, "gen_ai.prompt", MAX_MESSAGES)],
            [
                _openllmetry_msg(i, "assistant")
                for i in _indexed(attrs, "gen_ai.completion", MAX_MESSAGES)
            ],
        ),
        lambda: (
            [
                _openinference_msg(i, "user")
                for i in _indexed(attrs, "llm.input_messages", MAX_MESSAGES)
            ],
            [
                _openinference_msg(i, "assistant")
                for i in _indexed(attrs, "llm.output_messages", MAX_MESSAGES)
            ],
        ),
        lambda: _openinference_completions(attrs),
    ]
    # Span events of the 1.26-era conventions, and the details event recorded on the span.
    for name, event_attrs in span_events:
        if name in ("gen_ai.content.prompt", "gen_ai.content.completion", DETAILS_EVENT):
            styles.append(partial(_event_messages, event_attrs))
        if name == DETAILS_EVENT and not found.instructions:
            found.instructions = _instruction_texts(event_attrs.get("gen_ai.system_instructions"))
    styles.append(lambda: _openinference_values(attrs))
    for style in styles:
        inputs, outputs = style()
        found.inputs = found.inputs or inputs
        found.outputs = found.outputs or outputs
        if found.inputs and found.outputs:
            break
    return found


def _event_messages(attrs: Mapping[str, Any]) -> tuple[list[_Msg], list[_Msg]]:
    """Messages on span events: ``gen_ai.prompt``/``gen_ai.completion`` (1.26-era) or the
    details event's ``gen_ai.input.messages``/``gen_ai.output.messages``."""
    inputs = attrs.get("gen_ai.input.messages", attrs.get("gen_ai.prompt"))
    outputs = attrs.get("gen_ai.output.messages", attrs.get("gen_ai.completion"))
    return _messages(inputs, "user"), _messages(outputs, "assistant")


def _openinference_completions(attrs: Mapping[str, Any]) -> tuple[list[_Msg], list[_Msg]]:
    prompts = attrs.get("llm.prompts")
    if isinstance(prompts, list):  # older OpenInference: a string array
        inputs = [_Msg(role="user", text=_text(p)) for p in prompts[:MAX_MESSAGES] if p]
    else:
        inputs = [
            _Msg(role="user", text=_text(item.get("prompt.text")))
            for item in _indexed(attrs, "llm.prompts", MAX_MESSAGES)
        ]
    outputs = [
        _Msg(role="assistant", text=_text(item.get("completion.text")))
        for item in _indexed(attrs, "llm.choices", MAX_MESSAGES)
    ]
    return inputs, outputs


def _openinference_values(attrs: Mapping[str, Any]) -> tuple[list[_Msg], list[_Msg]]:
    """Last resort: ``input.value``/``output.value`` when they are plain text (JSON values are
    usually raw API bodies, not a prompt)."""
    inputs: list[_Msg] = []
    outputs: list[_Msg] = []
    if attrs.get("input.mime_type") != JSON_TYPE and isinstance(attrs.get("input.value"), str):
        inputs = [_Msg(role="user", text=attrs["input.value"])]
    if attrs.get("output.mime_type") != JSON_TYPE and isinstance(attrs.get("output.value"), str):
        outputs = [_Msg(role="assistant", text=attrs["output.value"])]
    return inputs, outputs


def _role(raw: str) -> tuple[str, str | None]:
    """A schema role, and the original as a name when it was not one we know."""
    role = ROLES.get(raw.strip().lower())
    return (role, None) if role else ("user", raw.strip()[:SHORT] or None)


def _as_messages(msg: _Msg) -> list[dict[str, Any]]:
    """Message records for one message: tool results carried as parts become tool messages;
    tool calls in the history are kept as JSON text so nothing the model saw is lost."""
    role, other_name = _role(msg.role)
    name = msg.name or other_name
    out = [{"role": "tool", "content": text, "name": name} for text in msg.responses]
    text = msg.text
    if msg.calls:
        calls = json.dumps({"tool_calls": msg.calls}, ensure_ascii=False)
        text = f"{text}\n{calls}" if text else calls
    if text or not msg.responses:
        out.append({"role": role, "content": text, "name": name})
    return out


# --- interaction records -------------------------------------------------------------------------


@dataclass
class _Origin:
    """Where a record comes from: a span, or a log record standing for one."""

    record_id: str
    system: str
    started_at: datetime
    ended_at: datetime | None
    trace_id: str | None
    span_id: str | None
    parent_span_id: str | None
    source: Literal["span", "log"]
    operation: str
    error: bool = False
    error_text: str = ""
    resource: Mapping[str, Any] = field(default_factory=dict)
    scope: str = ""
    span_name: str = ""


def _record(
    attrs: Mapping[str, Any],
    origin: _Origin,
    span_events: Sequence[tuple[str, dict[str, Any]]] = (),
) -> dict[str, Any]:
    invocation = _invocation_parameters(attrs)
    # OpenInference names only the model that answered (``llm.model_name``, often a dated
    # snapshot); the one asked for is in the invocation parameters.
    request_model = _first(attrs, "gen_ai.request.model", "llm.request.model_name") or _first(
        invocation, "model"
    )
    response_model = _first(
        attrs,
        "gen_ai.response.model",
        "llm.response.model_name",
        "llm.model_name",
        "embedding.model_name",
    )
    model = request_model or response_model
    record: dict[str, Any] = {
        "id": origin.record_id,
        "system": origin.system,
        "started_at": origin.started_at,
        "ended_at": origin.ended_at,
        "trace_id": origin.trace_id,
        "span_id": origin.span_id,
        "model": model,
        "model_version": response_model if response_model != model else None,
        "provider": _first(
            attrs, "gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"
        ),
        "app_version": _first(origin.resource, "service.version"),
        "instructions_version": _first(
            attrs, "traceloop.prompt.version", "llm.prompt_template.version"
        ),
        "user_id": _first(
            attrs, "user.id", "enduser.id", "llm.user", "traceloop.association.properties.user_id"
        ),
        "session_id": _first(
            attrs,
            "session.id",
            "gen_ai.conversation.id",
            "traceloop.association.properties.session_id",
        ),
        "parameters": _parameters(attrs, invocation),
        "usage": _usage(attrs),
        "status": "ok",
        "error": "",
        "attributes": _kept_attributes(attrs, origin),
    }
    if origin.ended_at is not None:
        millis = (origin.ended_at - origin.started_at).total_seconds() * 1000
        record["latency_ms"] = millis if 0 <= millis <= 86_400_000 else None
    if origin.error or attrs.get("error.type") is not None:
        record["error"] = origin.error_text or _text(attrs.get("error.type")) or "error"
        timed_out = "timeout" in f"{attrs.get('error.type')} {origin.error_text}".lower()
        record["status"] = "timeout" if timed_out else "error"
    _apply_content(record, _content(attrs, span_events))
    if record.get("finish_reason") is None:
        reasons = attrs.get("gen_ai.response.finish_reasons")
        if isinstance(reasons, list) and reasons:
            reasons = reasons[0]
        record["finish_reason"] = _name(reasons) or _first(
            attrs, "llm.response.finish_reason", "llm.finish_reason"
        )
    return record


def _apply_content(record: dict[str, Any], content: _Content) -> None:
    instructions = list(content.instructions)
    messages: list[dict[str, Any]] = []
    for msg in content.inputs:
        if _role(msg.role)[0] == "system" and not msg.calls and not msg.responses:
            if msg.text:
                instructions.append(msg.text)
        else:
            messages.extend(_as_messages(msg))
    record["instructions"] = "\n\n".join(instructions)
    record["messages"] = messages
    first = content.outputs[0] if content.outputs else None
    record["output"] = first.text if first else ""
    record["finish_reason"] = first.finish_reason if first else None
    calls: list[dict[str, Any]] = []
    for msg in content.outputs:
        for call in msg.calls:
            _add_call(calls, call)
    record["tool_calls"] = calls


def _invocation_parameters(attrs: Mapping[str, Any]) -> Mapping[str, Any]:
    """OpenInference's ``llm.invocation_parameters``: the request's settings as a JSON object."""
    value = _structured(attrs.get("llm.invocation_parameters"))
    return value if isinstance(value, dict) else {}


def _parameters(attrs: Mapping[str, Any], invocation: Mapping[str, Any]) -> dict[str, Any]:
    """Request settings as scalars: gen_ai.request.*, OpenLLMetry's llm.*, OpenInference's JSON."""
    params: dict[str, Any] = {}
    for key, value in attrs.items():
        if key.startswith("gen_ai.request.") and key != "gen_ai.request.model":
            _set_param(params, key[len("gen_ai.request.") :], value)
    for key, name in (
        ("llm.top_k", "top_k"),
        ("llm.frequency_penalty", "frequency_penalty"),
        ("llm.presence_penalty", "presence_penalty"),
        ("llm.is_streaming", "stream"),
        ("llm.request.repetition_penalty", "repetition_penalty"),
    ):
        if key in attrs and name not in params:
            _set_param(params, name, attrs[key])
    for key, value in invocation.items():
        if key != "model" and key not in params:
            _set_param(params, key, value)
    return params


def _set_param(params: dict[str, Any], key: str, value: Any) -> None:
    if len(params) >= MAX_PARAMETERS or not key or len(key) > SHORT:
        return
    if isinstance(value, str):
        params[key] = _clean(value, REF)[0]
    elif _is_number(value) or isinstance(value, bool):
        params[key] = value


def _usage(attrs: Mapping[str, Any]) -> dict[str, int] | None:
    def tokens(*keys: str) -> int | None:
        for key in keys:
            number = _int(attrs.get(key))
            if number is not None and 0 <= number <= 100_000_000:
                return number
        return None

    usage = {
        "input_tokens": tokens(
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.prompt_tokens",
            "llm.token_count.prompt",
            "llm.usage.prompt_tokens",
        ),
        "output_tokens": tokens(
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.completion_tokens",
            "llm.token_count.completion",
            "llm.usage.completion_tokens",
        ),
    }
    return {key: value for key, value in usage.items() if value is not None} or None


def _kept_attributes(attrs: Mapping[str, Any], origin: _Origin) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key in KEPT_ATTRIBUTES:
        value = attrs.get(key)
        if isinstance(value, str | bool) or _is_number(value):
            kept[key] = value
    kept["gen_ai.operation.name"] = origin.operation
    kept["otlp.source"] = origin.source
    if origin.parent_span_id:
        kept["otlp.parent_span_id"] = origin.parent_span_id
    if origin.scope:
        kept["otel.scope.name"] = origin.scope
    if origin.span_name:
        kept["otlp.span_name"] = origin.span_name
    return kept


def _finish(record: dict[str, Any]) -> dict[str, Any]:
    """Fit a record to InteractionIn's limits and clean its strings; mark what was cut."""
    cut = False

    def fit(value: Any, limit: int) -> str:
        nonlocal cut
        text, was_cut = _clean(_text(value), limit)
        cut = cut or was_cut
        return text

    def fit_optional(value: Any, limit: int) -> str | None:
        return fit(value, limit) or None if value is not None else None

    for key in ("instructions", "output", "error"):
        if key in record:
            record[key] = fit(record[key], TEXT)
    for key in (
        "model",
        "model_version",
        "provider",
        "app_version",
        "instructions_version",
        "user_id",
        "session_id",
        "finish_reason",
    ):
        if key in record:
            record[key] = fit_optional(record[key], SHORT)
    messages = list(record.get("messages") or [])
    if len(messages) > MAX_MESSAGES:
        cut = True
        messages = messages[-MAX_MESSAGES:]  # the latest turns matter most in an incident
    record["messages"] = [_fit_message(m, fit, fit_optional) for m in messages]
    calls = list(record.get("tool_calls") or [])
    cut = cut or len(calls) > MAX_TOOL_CALLS
    record["tool_calls"] = [_fit_call(call, fit, fit_optional) for call in calls[:MAX_TOOL_CALLS]]
    docs = list(record.get("retrieval") or [])
    cut = cut or len(docs) > MAX_RETRIEVAL
    record["retrieval"] = [_fit_doc(doc, fit, fit_optional) for doc in docs[:MAX_RETRIEVAL]]
    attributes = dict(record.get("attributes") or {})
    for key, value in list(attributes.items()):
        if isinstance(value, str):
            attributes[key] = fit(value, REF)
    if cut:
        attributes["otlp.truncated"] = True
    record["attributes"] = dict(islice(attributes.items(), MAX_RECORD_ATTRIBUTES))
    if record.get("status", "ok") == "ok" and record.get("finish_reason") in REFUSALS:
        record["status"] = "refused"
    return record


_Fit = Callable[[Any, int], str]
_FitOptional = Callable[[Any, int], str | None]


def _fit_text(value: Any, limit: int) -> str:
    return _clean(_text(value), limit)[0]


def _fit_optional_text(value: Any, limit: int) -> str | None:
    return _fit_text(value, limit) or None if value is not None else None


def _fit_message(
    message: Mapping[str, Any], fit: _Fit, fit_optional: _FitOptional
) -> dict[str, Any]:
    role = message.get("role")
    return {
        "role": role if role in SCHEMA_ROLES else "user",
        "content": fit(message.get("content"), TEXT),
        "name": fit_optional(message.get("name"), SHORT),
    }


def _fit_call(call: Mapping[str, Any], fit: _Fit, fit_optional: _FitOptional) -> dict[str, Any]:
    fitted = dict(call)
    fitted["id"] = fit_optional(call.get("id"), SHORT)
    fitted["name"] = fit(call.get("name"), SHORT) or "unknown"
    fitted["arguments"] = fit(call.get("arguments"), TEXT)
    if "result" in call:
        fitted["result"] = fit(call.get("result"), TEXT)
    return fitted


def _fit_doc(doc: Mapping[str, Any], fit: _Fit, fit_optional: _FitOptional) -> dict[str, Any]:
    score = _float(doc.get("score"))
    return {
        "id": fit_optional(doc.get("id"), SHORT),
        "uri": fit_optional(doc.get("uri"), REF),
        "title": fit_optional(doc.get("title"), SHORT),
        "content": fit(doc.get("content"), TEXT),
        "trust": doc.get("trust") if doc.get("trust") in ("trusted", "untrusted") else "unknown",
        "score": score,
    }


def _add_call(calls: list[dict[str, Any]], call: Mapping[str, Any]) -> None:
    """Add a tool call, or fill the one it completes: the call with the same id; else the same
    call sent again; else (a tool span without id) the first call of that name still waiting
    for its result."""
    call_id = call.get("id")
    target = next((c for c in calls if call_id is not None and c.get("id") == call_id), None)
    if target is None:
        same = ("name", "arguments", "started_at")
        target = next((c for c in calls if all(c.get(k) == call.get(k) for k in same)), None)
    if target is None and call.get("started_at") is not None:
        target = next(
            (
                c
                for c in calls
                if c.get("name") == call.get("name")
                and not c.get("result")
                and c.get("started_at") is None
                and (c.get("id") is None or call_id is None)
            ),
            None,
        )
    if target is None:
        if len(calls) < MAX_TOOL_CALLS:
            calls.append(dict(call))
        return
    for key, value in call.items():
        current = target.get(key)
        empty = current in (None, "") or (key == "name" and current == "unknown")
        if value not in (None, "") and (empty or (key == "status" and value == "error")):
            target[key] = value


# --- spans ---------------------------------------------------------------------------------------


def _classify(attrs: Mapping[str, Any], event_names: set[str]) -> tuple[str | None, str]:
    """("llm" | "tool" | "retrieval" | None, operation name)."""
    operation = (_name(attrs.get("gen_ai.operation.name")) or "").lower()
    openinference = (_name(attrs.get("openinference.span.kind")) or "").upper()
    traceloop = (_name(attrs.get("traceloop.span.kind")) or "").lower()
    request_type = (_name(attrs.get("llm.request.type")) or "").lower()
    if operation == "execute_tool" or openinference == "TOOL" or traceloop == "tool":
        return "tool", "execute_tool"
    if operation == "retrieval" or openinference == "RETRIEVER":
        return "retrieval", "retrieval"
    if operation in CHAT_OPERATIONS:
        return "llm", "text_completion" if operation == "completion" else operation
    if operation == "embeddings":
        return "llm", "embeddings"
    if openinference in OPENINFERENCE_OPERATIONS:
        return "llm", OPENINFERENCE_OPERATIONS[openinference]
    if request_type in OPENLLMETRY_OPERATIONS:
        return "llm", OPENLLMETRY_OPERATIONS[request_type]
    if operation in NOT_MODEL_CALLS or openinference or traceloop:
        return None, operation  # agents, chains, workflows, memory: wrappers, not model calls
    if "db.query.result" in event_names:
        return "retrieval", "retrieval"
    # Older or custom operations still name a model: treat them as model calls.
    model_keys = ("gen_ai.request.model", "gen_ai.response.model", "gen_ai.input.messages")
    if any(key in attrs for key in model_keys) or "gen_ai.prompt.0.content" in attrs:
        return "llm", operation or "chat"
    return None, operation


def _span_events(span: Any) -> list[tuple[str, dict[str, Any], int]]:
    return [
        (event.name, _attributes(event.attributes, MAX_ITEMS), int(event.time_unix_nano))
        for event in islice(span.events, MAX_SPAN_EVENTS)
    ]


def _error_text(span: Any, events: Sequence[tuple[str, dict[str, Any], int]]) -> str:
    if span.status.message:
        return str(span.status.message)
    for name, attrs, _ in events:
        if name == "exception":
            kind = _text(attrs.get("exception.type"))
            message = _text(attrs.get("exception.message"))
            return f"{kind}: {message}" if kind and message else kind or message
    return ""


def spans_to_interactions(request: ExportTraceServiceRequest) -> TraceMapping:
    """Map an OTLP traces request to interaction records and unjoined tool/retrieval fragments."""
    mapping = TraceMapping()
    parents = _parent_index(request)
    records: dict[str, dict[str, Any]] = {}
    tools: list[ToolFragment] = []
    documents: list[RetrievalFragment] = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes, MAX_ITEMS)
        system = system_of(resource)
        for scope_spans in resource_spans.scope_spans:
            scope = str(scope_spans.scope.name)
            for span in scope_spans.spans:
                try:
                    _map_span(
                        span, resource, system, scope, parents, mapping, records, tools, documents
                    )
                # One malformed span must not lose the batch; the reason goes back to the sender.
                except Exception:
                    log.exception("could not map an OTLP span")
                    mapping.reject("a span could not be read")
    joined = join_fragments(list(records.values()), tools, documents)
    mapping.interactions = joined.interactions
    mapping.tool_fragments = joined.tool_fragments
    mapping.retrieval_fragments = joined.retrieval_fragments
    return mapping


def _parent_index(request: Any) -> dict[tuple[str, str], str]:
    parents: dict[tuple[str, str], str] = {}
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                trace_id = _hex_id(span.trace_id, 16)
                span_id = _hex_id(span.span_id, 8)
                parent = _hex_id(span.parent_span_id, 8)
                if trace_id and span_id and parent:
                    parents[(trace_id, span_id)] = parent
    return parents


def _ancestors(
    parents: Mapping[tuple[str, str], str], trace_id: str, parent: str | None
) -> tuple[str, ...]:
    chain: list[str] = []
    while parent and parent not in chain and len(chain) < MAX_ANCESTORS:
        chain.append(parent)
        parent = parents.get((trace_id, parent))
    return tuple(chain)


def _map_span(
    span: Any,
    resource: Mapping[str, Any],
    system: str | None,
    scope: str,
    parents: Mapping[tuple[str, str], str],
    mapping: TraceMapping,
    records: dict[str, dict[str, Any]],
    tools: list[ToolFragment],
    documents: list[RetrievalFragment],
) -> None:
    attrs = _attributes(span.attributes)
    events = _span_events(span)
    kind, operation = _classify(attrs, {name for name, _, _ in events})
    if kind is None:
        mapping.ignored += 1
        return
    trace_id = _hex_id(span.trace_id, 16)
    span_id = _hex_id(span.span_id, 8)
    if trace_id is None or span_id is None:
        mapping.reject("a GenAI span has an invalid trace or span id")
        return
    started = _time(int(span.start_time_unix_nano))
    if started is None:
        mapping.reject("a GenAI span has no start time")
        return
    end_nanos = int(span.end_time_unix_nano)
    ended = _time(end_nanos) if end_nanos >= int(span.start_time_unix_nano) else None
    parent = _hex_id(span.parent_span_id, 8)
    failed = span.status.code == STATUS_CODE_ERROR
    ancestors = _ancestors(parents, trace_id, parent)
    if kind == "tool":
        call = _tool_call(attrs, str(span.name), started, failed)
        tools.append(ToolFragment(trace_id, span_id, parent, ancestors, started, call, system))
        return
    if kind == "retrieval":
        docs = tuple(_documents(attrs, events))
        if not docs:  # content capture off: nothing to join
            mapping.ignored += 1
            return
        documents.append(
            RetrievalFragment(trace_id, span_id, parent, ancestors, started, docs, system)
        )
        return
    if system is None:
        mapping.reject(
            "GenAI spans without a system: set the resource attribute firestop.system "
            "(or service.name)"
        )
        return
    if len(system) > SHORT:
        mapping.reject("the resource's system name is longer than 200 characters")
        return
    origin = _Origin(
        record_id=interaction_id(trace_id, span_id),
        system=system,
        started_at=started,
        ended_at=ended,
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        source="span",
        operation=operation,
        error=failed,
        error_text=_error_text(span, events) if failed else "",
        resource=resource,
        scope=scope,
        span_name=str(span.name),
    )
    record = _record(attrs, origin, [(name, event_attrs) for name, event_attrs, _ in events])
    message_events = [
        event
        for position, (name, event_attrs, nanos) in enumerate(events)
        for event in _message_events(
            name, _event_body(event_attrs), event_attrs, trace_id, span_id, nanos, position, system
        )
    ]
    record = merge_events(record, message_events) if message_events else _finish(record)
    existing = records.get(record["id"])
    records[record["id"]] = merge_interaction(existing, record) if existing else record


def _event_body(attrs: Mapping[str, Any]) -> Any:
    """Span events have no body: some put it as JSON in ``gen_ai.event.content``."""
    if "gen_ai.event.content" in attrs:
        return _structured(attrs["gen_ai.event.content"])
    return attrs


def _tool_call(
    attrs: Mapping[str, Any], span_name: str, started: datetime, failed: bool
) -> dict[str, Any]:
    name = _first(attrs, "gen_ai.tool.name", "tool.name", "traceloop.entity.name")
    if name is None:
        name = span_name.removeprefix("execute_tool").strip() or "unknown"
    arguments = next(
        (
            attrs[key]
            for key in (
                "gen_ai.tool.call.arguments",
                "input.value",
                "traceloop.entity.input",
                "tool.parameters",
            )
            if key in attrs
        ),
        None,
    )
    result = next(
        (
            attrs[key]
            for key in ("gen_ai.tool.call.result", "output.value", "traceloop.entity.output")
            if key in attrs
        ),
        None,
    )
    call = {
        "id": _first(attrs, "gen_ai.tool.call.id", "tool_call.id", "tool.id"),
        "name": name,
        "arguments": _text(arguments),
        "result": _text(result),
        "status": "error" if failed else "ok",
        "started_at": started,
    }
    return _fit_call(call, _fit_text, _fit_optional_text)


def _documents(
    attrs: Mapping[str, Any], events: Sequence[tuple[str, dict[str, Any], int]]
) -> list[dict[str, Any]]:
    """Retrieved documents: GenAI ``gen_ai.retrieval.documents``, OpenInference
    ``retrieval.documents.N.document.*``, OpenLLMetry ``db.query.result`` events."""
    docs: list[dict[str, Any]] = []
    value = _structured(attrs.get("gen_ai.retrieval.documents"))
    for item in value if isinstance(value, list) else ():
        if isinstance(item, dict):
            docs.append(_document(item, item.get("metadata")))
    for item in _indexed(attrs, "retrieval.documents", MAX_RETRIEVAL):
        plain = {key.removeprefix("document."): v for key, v in item.items()}
        docs.append(_document(plain, plain.get("metadata")))
    for name, event_attrs, _ in events:
        if name == "db.query.result":
            plain = {key.removeprefix("db.query.result."): v for key, v in event_attrs.items()}
            plain.setdefault("content", plain.get("document"))
            docs.append(_document(plain, plain.get("metadata")))
    return [_fit_doc(doc, _fit_text, _fit_optional_text) for doc in docs[:MAX_RETRIEVAL]]


def _document(item: Mapping[str, Any], metadata: Any) -> dict[str, Any]:
    meta = _structured(metadata)
    meta = meta if isinstance(meta, dict) else {}

    def pick(*keys: str) -> Any:
        for source in (item, meta):
            for key in keys:
                if _name(source.get(key)) is not None:
                    return source[key]
        return None

    return {
        "id": _name(pick("id", "doc_id", "document_id")),
        "uri": _name(pick("uri", "url", "source", "file_path")),
        "title": _name(pick("title")),
        "content": _content_text(pick("content", "text", "page_content")),
        "score": _float(item.get("score")),
    }


# --- joining tool and retrieval spans ------------------------------------------------------------


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _parent_of(record: Mapping[str, Any]) -> Any:
    return (record.get("attributes") or {}).get("otlp.parent_span_id")


def _candidates(records: Sequence[Mapping[str, Any]], trace_id: str) -> list[int]:
    return [
        i
        for i, record in enumerate(records)
        if record.get("trace_id") == trace_id
        and (record.get("attributes") or {}).get("gen_ai.operation.name") != "embeddings"
    ]


def _nearest_ancestor(
    records: Sequence[Mapping[str, Any]], pool: list[int], ancestors: Sequence[str]
) -> int | None:
    for ancestor in ancestors:
        for i in pool:
            if records[i].get("span_id") == ancestor:
                return i
    return None


def _siblings_first(
    records: Sequence[Mapping[str, Any]], pool: list[int], parent: str | None
) -> list[int]:
    siblings = [i for i in pool if parent and _parent_of(records[i]) == parent]
    return siblings or pool


def _choose_for_tool(records: Sequence[Mapping[str, Any]], fragment: ToolFragment) -> int | None:
    pool = _candidates(records, fragment.trace_id)
    call_id = fragment.tool_call_id
    if call_id:
        for i in pool:
            if any(call.get("id") == call_id for call in records[i].get("tool_calls") or ()):
                return i
    ancestor = _nearest_ancestor(records, pool, fragment.ancestor_span_ids)
    if ancestor is not None:
        return ancestor

    def could_have_made_it(record: Mapping[str, Any]) -> bool:
        ids = [call.get("id") for call in record.get("tool_calls") or ()]
        return not (call_id and ids and all(ids))  # every call has another id: not this one

    before = [
        i
        for i in pool
        if (started := _as_datetime(records[i].get("started_at"))) is not None
        and started <= fragment.started_at
        and could_have_made_it(records[i])
    ]
    before = _siblings_first(records, before, fragment.parent_span_id)
    return max(
        before, key=lambda i: _as_datetime(records[i].get("started_at")) or EPOCH, default=None
    )


def _choose_for_retrieval(
    records: Sequence[Mapping[str, Any]], fragment: RetrievalFragment
) -> int | None:
    pool = _candidates(records, fragment.trace_id)
    ancestor = _nearest_ancestor(records, pool, fragment.ancestor_span_ids)
    if ancestor is not None:
        return ancestor
    after = [
        i
        for i in pool
        if (started := _as_datetime(records[i].get("started_at"))) is not None
        and started >= fragment.started_at
    ]
    after = _siblings_first(records, after, fragment.parent_span_id)
    return min(
        after, key=lambda i: _as_datetime(records[i].get("started_at")) or EPOCH, default=None
    )


def join_fragments(
    interactions: Sequence[Mapping[str, Any]],
    tool_fragments: Iterable[ToolFragment] = (),
    retrieval_fragments: Iterable[RetrievalFragment] = (),
) -> JoinResult:
    """Join tool and retrieval fragments onto interactions by the rule in the module docstring.

    The database layer passes the stored interactions of the fragments' traces (dicts as
    produced here; ``started_at`` may be a datetime or ISO text) and its pending fragments;
    it saves ``interactions[i]`` for each ``i`` in ``changed`` and keeps what is left. Joining
    the same fragment twice changes nothing.
    """
    records = [dict(record) for record in interactions]
    changed: set[int] = set()
    left_tools: list[ToolFragment] = []
    left_documents: list[RetrievalFragment] = []
    for tool in sorted(tool_fragments, key=lambda f: f.started_at):
        i = _choose_for_tool(records, tool)
        if i is None:
            left_tools.append(tool)
            continue
        calls = [dict(call) for call in records[i].get("tool_calls") or ()]
        _add_call(calls, tool.tool_call)
        records[i] = {**records[i], "tool_calls": calls}
        changed.add(i)
    for retrieval in sorted(retrieval_fragments, key=lambda f: f.started_at):
        i = _choose_for_retrieval(records, retrieval)
        if i is None:
            left_documents.append(retrieval)
            continue
        docs = [dict(doc) for doc in records[i].get("retrieval") or ()]
        seen = {_doc_key(doc) for doc in docs}
        for doc in retrieval.documents:
            if _doc_key(doc) not in seen and len(docs) < MAX_RETRIEVAL:
                docs.append(dict(doc))
                seen.add(_doc_key(doc))
        records[i] = {**records[i], "retrieval": docs}
        changed.add(i)
    return JoinResult(records, sorted(changed), left_tools, left_documents)


def _doc_key(doc: Mapping[str, Any]) -> tuple[Any, ...]:
    return (doc.get("id"), doc.get("uri"), doc.get("content"))


# --- logs and message events ---------------------------------------------------------------------


def _message_role(event_name: str) -> str | None:
    """``gen_ai.{role}.message`` → role (any role the sender uses), ``gen_ai.choice`` → choice."""
    if event_name == CHOICE_EVENT:
        return "choice"
    if event_name.startswith("gen_ai.") and event_name.endswith(".message"):
        role = event_name[len("gen_ai.") : -len(".message")]
        if role and "." not in role:
            return role
    return None


def _message_events(
    event_name: str,
    body: Any,
    attrs: Mapping[str, Any],
    trace_id: str,
    span_id: str,
    nanos: int,
    order: int,
    system: str | None,
) -> list[MessageEvent]:
    role = _message_role(event_name)
    if role is None:
        return []
    body = _structured(body)
    provider = _first(attrs, "gen_ai.provider.name", "gen_ai.system")
    common: dict[str, Any] = {
        "trace_id": trace_id,
        "span_id": span_id,
        "time_unix_nano": nanos,
        "order": order,
        "provider": provider,
        "system": system,
    }
    if role == "choice":
        choice = body if isinstance(body, dict) else {"message": {"content": body}}
        message = dict(choice["message"]) if isinstance(choice.get("message"), dict) else {}
        if "tool_calls" not in message and "tool_calls" in choice:
            # OpenLLMetry's events put the calls beside the message, not in it.
            message["tool_calls"] = choice["tool_calls"]
        msg = _msg_from_dict(message, "assistant")
        index = _int(choice.get("index"))
        return [
            MessageEvent(
                kind="choice",
                role="assistant",
                content=msg.text,
                tool_calls=tuple(msg.calls),
                index=index if index is not None and 0 <= index < 1_000_000 else 0,
                finish_reason=_name(choice.get("finish_reason")) or msg.finish_reason,
                **common,
            )
        ]
    data = body if isinstance(body, dict) else {"content": body}
    msg = _msg_from_dict({**data, "role": data.get("role") or role}, role)
    if not msg.text and not msg.calls and not msg.responses:
        return []  # content capture off: nothing to place
    text = "\n".join(part for part in (*msg.responses, msg.text) if part)
    return [
        MessageEvent(
            kind="message",
            role=msg.role,
            content=text,
            name=msg.name,
            tool_call_id=msg.tool_call_id,
            tool_calls=tuple(msg.calls),
            **common,
        )
    ]


def logs_to_events(request: ExportLogsServiceRequest) -> LogMapping:
    """Map an OTLP logs request: message events to place later, details events as records."""
    mapping = LogMapping()
    order = 0
    for resource_logs in request.resource_logs:
        resource = _attributes(resource_logs.resource.attributes, MAX_ITEMS)
        system = system_of(resource)
        for scope_logs in resource_logs.scope_logs:
            scope = str(scope_logs.scope.name)
            for record in scope_logs.log_records:
                order += 1
                try:
                    _map_log(record, resource, system, scope, order, mapping)
                except Exception:  # as for spans: one bad record must not lose the batch
                    log.exception("could not map an OTLP log record")
                    mapping.reject("a log record could not be read")
    return mapping


def _map_log(
    record: Any,
    resource: Mapping[str, Any],
    system: str | None,
    scope: str,
    order: int,
    mapping: LogMapping,
) -> None:
    attrs = _attributes(record.attributes)
    name = str(getattr(record, "event_name", "") or "") or _name(attrs.get("event.name")) or ""
    if name != DETAILS_EVENT and _message_role(name) is None:
        mapping.ignored += 1
        return
    trace_id = _hex_id(record.trace_id, 16)
    span_id = _hex_id(record.span_id, 8)
    nanos = int(record.time_unix_nano) or int(record.observed_time_unix_nano)
    body = _from_any(record.body, _Budget()) if record.HasField("body") else None
    if name != DETAILS_EVENT:
        if trace_id is None or span_id is None:
            mapping.reject("GenAI message events need the trace and span id of their model call")
            return
        mapping.events.extend(
            _message_events(name, body, attrs, trace_id, span_id, nanos, order, system)
        )
        return
    started = _time(nanos)
    if system is None or started is None:
        mapping.reject(
            "GenAI events without a system or time: set the resource attribute firestop.system "
            "(or service.name) and the record's time"
        )
        return
    if len(system) > SHORT:
        mapping.reject("the resource's system name is longer than 200 characters")
        return
    if isinstance(body, dict):  # some emitters put the attributes in the body
        attrs = {**{str(k): v for k, v in body.items()}, **attrs}
    digest = hashlib.sha256(record.SerializeToString(deterministic=True)).hexdigest()[:40]
    kind, operation = _classify(attrs, set())
    origin = _Origin(
        record_id=interaction_id(trace_id, span_id)
        if trace_id and span_id
        else f"otlp-log:{digest}",
        system=system,
        started_at=started,
        ended_at=None,
        trace_id=trace_id if span_id else None,
        span_id=span_id if trace_id else None,
        parent_span_id=None,
        source="log",
        operation=operation if kind == "llm" else "chat",
        resource=resource,
        scope=scope,
    )
    mapping.interactions.append(_finish(_record(attrs, origin)))


def _matches(record: Mapping[str, Any], event: MessageEvent) -> bool:
    trace_id, span_id = record.get("trace_id"), record.get("span_id")
    return (trace_id is None or trace_id == event.trace_id) and (
        span_id is None or span_id == event.span_id
    )


def merge_events(interaction: Mapping[str, Any], events: Iterable[MessageEvent]) -> dict[str, Any]:
    """Place message events into a record: system → ``instructions``, others → ``messages``
    (in time order, skipping ones already there), the lowest-index choice → ``output`` and
    ``finish_reason`` when those are empty, every choice's tool calls → ``tool_calls``.

    Given all of an interaction's events at once, the result depends on the record and the
    set of events, not on their order, and merging them again changes nothing. Batches merged
    one after another give the same record when they arrive in time order (as exporters send
    them); a batch that overtakes an earlier one puts its messages after the ones already
    placed, because stored messages carry no time. A caller that must be exact keeps the events
    (``as_dict``) and merges them all into the span's record. Events of another span are
    ignored.
    """
    record = dict(interaction)
    relevant = [event for event in events if _matches(record, event)]
    inputs = sorted(
        (e for e in relevant if e.kind == "message"), key=lambda e: (e.time_unix_nano, e.order)
    )
    choices = sorted(
        (e for e in relevant if e.kind == "choice"),
        key=lambda e: (e.index, e.time_unix_nano, e.order),
    )
    instructions = str(record.get("instructions") or "")
    placed: list[dict[str, Any]] = []
    for event in inputs:
        role, _ = _role(event.role)
        if role == "system" and not event.tool_calls:
            if event.content and event.content not in instructions:
                instructions = (
                    f"{instructions}\n\n{event.content}" if instructions else event.content
                )
            continue
        msg = _Msg(
            role=event.role, text=event.content, name=event.name, calls=list(event.tool_calls)
        )
        placed.extend(_fit_message(m, _fit_text, _fit_optional_text) for m in _as_messages(msg))
    record["instructions"] = instructions
    record["messages"] = _union(record.get("messages") or [], placed)
    if choices:
        if not record.get("output"):
            record["output"] = choices[0].content
        if not record.get("finish_reason"):
            record["finish_reason"] = choices[0].finish_reason
        calls = [dict(call) for call in record.get("tool_calls") or ()]
        for choice in choices:
            for call in choice.tool_calls:
                _add_call(calls, call)
        record["tool_calls"] = calls
    if not record.get("provider"):
        record["provider"] = next((e.provider for e in relevant if e.provider), None)
    return _finish(record)


def skeleton_from_events(events: Sequence[MessageEvent]) -> dict[str, Any] | None:
    """A record made from events alone (their span has not arrived), or None when they lack a
    system or a time. When the span comes, ``merge_interaction`` lets it win."""
    if not events:
        return None
    key = events[0].key
    same = [event for event in events if event.key == key]
    system = next((event.system for event in same if event.system), None)
    times = [event.time_unix_nano for event in same if event.time_unix_nano > 0]
    if system is None or not times:
        return None
    skeleton = {
        "id": interaction_id(*key),
        "system": system[:SHORT],
        "started_at": _time(min(times)),
        "trace_id": key[0],
        "span_id": key[1],
        "attributes": {"otlp.source": "log"},
    }
    return merge_events(skeleton, same)


def merge_interaction(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Merge two records of the same interaction (a span and a log-derived one, or one sent
    twice). The span-derived record wins wherever both have a value, whichever comes first;
    lists are united without duplicates; an error status beats "ok"."""
    primary, secondary = (b, a) if _source(b) == "span" and _source(a) != "span" else (a, b)
    merged = dict(primary)
    for key, value in secondary.items():
        mine = merged.get(key)
        if key in ("attributes", "parameters"):
            merged[key] = {**(value or {}), **(mine or {})}
        elif key == "usage":
            merged[key] = {**(value or {}), **(mine or {})} or None
        elif key == "tool_calls":
            calls = [dict(call) for call in mine or ()]
            for call in value or ():
                _add_call(calls, call)
            merged[key] = calls
        elif key in LIST_FIELDS:
            merged[key] = _union(mine or [], value or [])
        elif key == "status":
            if merged.get("status", "ok") == "ok" and value not in (None, "ok"):
                merged["status"] = value
                merged["error"] = merged.get("error") or secondary.get("error") or ""
        elif mine in (None, "", [], {}):
            merged[key] = value
    return _finish(merged)


def _source(record: Mapping[str, Any]) -> Any:
    return (record.get("attributes") or {}).get("otlp.source")


def _union(first: Sequence[Any], second: Sequence[Any]) -> list[Any]:
    """``first``, then what ``second`` has more of. Counting (not set union) keeps a message
    said twice, and merging the same list again still adds nothing."""
    out = [dict(item) if isinstance(item, Mapping) else item for item in first]
    have = Counter(_jsonable_key(item) for item in out)
    for item in second:
        key = _jsonable_key(item)
        if have[key]:
            have[key] -= 1
        else:
            out.append(dict(item) if isinstance(item, Mapping) else item)
    return out


def _jsonable_key(item: Any) -> str:
    """The same for an item as mapped here and as stored, which leaves out what is None."""
    return json.dumps(_without_none(_jsonable(item)), sort_keys=True, default=str)


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
