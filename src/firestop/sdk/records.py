"""Interaction records on the client side: light checks on the host thread, encoding later.

The split is deliberate. ``prepare`` runs on the application's own thread inside
``Recorder.record`` and must cost next to nothing, so it only looks at the top-level keys and
the types of a few values. ``encode`` runs on the recorder's background thread and does the
expensive part (walking nested values, converting them, producing JSON). The server validates
fully; the SDK only catches what would otherwise make a whole batch fail or a record
unfindable.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

# The top-level fields of the server's ``InteractionIn`` (firestop.ledger.schemas). Written out
# rather than imported so the SDK needs nothing but httpx; a test keeps the two in step.
FIELDS = frozenset(
    {
        "id",
        "system",
        "started_at",
        "ended_at",
        "user_id",
        "session_id",
        "trace_id",
        "span_id",
        "model",
        "provider",
        "model_version",
        "app_version",
        "parameters",
        "instructions_version",
        "instructions",
        "messages",
        "output",
        "finish_reason",
        "retrieval",
        "tool_calls",
        "permissions",
        "moderation",
        "feedback",
        "human_decisions",
        "downstream",
        "outcome",
        "status",
        "error",
        "latency_ms",
        "usage",
        "attributes",
    }
)
STATUSES = frozenset({"ok", "error", "timeout", "refused"})
# Fields whose shape is cheap to check on the host thread: a list, or a mapping (or None).
_LIST, _MAPPING = 1, 2
_SHAPES = {
    **dict.fromkeys(
        (
            "messages",
            "retrieval",
            "tool_calls",
            "permissions",
            "moderation",
            "feedback",
            "human_decisions",
            "downstream",
        ),
        _LIST,
    ),
    **dict.fromkeys(("parameters", "attributes", "outcome", "usage"), _MAPPING),
}
_SEQUENCES = (list, tuple)
_NUMBERS = (int, float)
_TIMES = (datetime, str)
MAX_ID_LENGTH = 200


class InvalidRecord(ValueError):
    """A record the SDK will not send; the message says why (it is logged, never raised)."""


def new_id() -> str:
    """A fresh client id (a random UUID, version 4, as 32 hex digits). The server ignores a
    record whose id it has already stored, so retries are safe.

    Built from os.urandom directly: uuid.uuid4() costs several times more, on the host thread.
    """
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def iso(value: datetime) -> str:
    # The server refuses naive times. A naive datetime in an application almost always comes
    # from datetime.now(), i.e. local time, which is what astimezone() assumes.
    if value.tzinfo is None:
        value = value.astimezone()
    return value.isoformat()


def _check_time(name: str, value: object) -> None:
    # Only the type is checked here; datetimes become ISO-8601 text when encoded, off the host
    # thread, and the server parses strings.
    if not isinstance(value, _TIMES):
        raise InvalidRecord(f"{name} must be a datetime or an ISO-8601 string, not {_kind(value)}")


def _kind(value: object) -> str:
    return type(value).__name__


def prepare(data: dict[str, Any], system: str) -> str:
    """Check and complete ``data`` in place; return its client id.

    Cost grows with the number of top-level keys only (at most ~30), never with the size of
    prompts or outputs. Raises ``InvalidRecord``; the recorder turns that into a counted drop.
    """
    if not FIELDS.issuperset(data):
        unknown = sorted(str(name) for name in data if name not in FIELDS)
        raise InvalidRecord(f"unknown field(s) {', '.join(map(repr, unknown[:5]))}")
    ident = data.get("id")
    if ident is None:
        ident = data["id"] = new_id()
    elif not isinstance(ident, str) or not ident or len(ident) > MAX_ID_LENGTH:
        raise InvalidRecord(f"id must be a non-empty string of at most {MAX_ID_LENGTH} characters")
    if data.setdefault("system", system) is None:
        data["system"] = system
    elif not isinstance(data["system"], str):
        raise InvalidRecord(f"system must be a string, not {_kind(data['system'])}")
    started = data.get("started_at")
    if started is None:
        data["started_at"] = datetime.now(UTC)
    else:
        _check_time("started_at", started)
    ended = data.get("ended_at")
    if ended is not None:
        _check_time("ended_at", ended)
    status = data.get("status")
    if status is not None and status not in STATUSES:
        raise InvalidRecord(f"status must be one of {', '.join(sorted(STATUSES))}")
    latency = data.get("latency_ms")
    if latency is not None and (
        isinstance(latency, bool) or not isinstance(latency, _NUMBERS) or latency < 0
    ):
        raise InvalidRecord("latency_ms must be a non-negative number")
    for name, value in data.items():
        shape = _SHAPES.get(name)
        if shape is None or value is None:
            continue
        if shape == _LIST:
            if not isinstance(value, _SEQUENCES):
                raise InvalidRecord(f"{name} must be a list, not {_kind(value)}")
        elif type(value) is not dict and not isinstance(value, Mapping):
            raise InvalidRecord(f"{name} must be a mapping, not {_kind(value)}")
    return ident


def _as_text(value: object) -> object:
    """Tool arguments/results and message content are text on the server; applications often
    hold them as dicts or lists (OpenAI-style content parts), so send those as JSON text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=_json_default, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return str(value)


def _texts(items: object, keys: tuple[str, ...]) -> object:
    if not isinstance(items, list | tuple):
        return items
    out: list[object] = []
    for item in items:
        if isinstance(item, Mapping) and any(
            key in item and not isinstance(item[key], str) for key in keys
        ):
            item = {k: (_as_text(v) if k in keys else v) for k, v in item.items()}
        out.append(item)
    return out


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, Mapping):
        return dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{_kind(value)} is not JSON serialisable")


def encode(data: Mapping[str, Any]) -> bytes:
    """One record as compact UTF-8 JSON. Raises ``InvalidRecord`` for values JSON cannot hold
    (unknown objects, NaN or infinity, which would make the whole batch unreadable)."""
    # None means "not given" for every field; the server's schema only takes null for some.
    data = {key: value for key, value in data.items() if value is not None}
    if "tool_calls" in data:
        data = {**data, "tool_calls": _texts(data["tool_calls"], ("arguments", "result"))}
    if "messages" in data:
        data = {**data, "messages": _texts(data["messages"], ("content",))}
    try:
        text = json.dumps(
            data, default=_json_default, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidRecord(f"not JSON serialisable: {exc}") from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (from badly decoded bytes) cannot be UTF-8; escaped JSON can carry
        # them and lets the server decide rather than losing the record here.
        return json.dumps(data, default=_json_default, allow_nan=False).encode("ascii")
