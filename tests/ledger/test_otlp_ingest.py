"""Real telemetry into a running server: the OpenTelemetry SDK's OTLP/HTTP exporters, and the
OTLP JSON encoding by hand. Every style arrives as interactions with tools and retrieval."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from opentelemetry._logs import LogRecord as ApiLogRecord
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Tracer
from sqlalchemy import select
from sqlalchemy.orm import Session

from firestop.ledger.models import Interaction, PendingTelemetry
from tests.conftest import LiveServer
from tests.ledger.support import add_system

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def otel(
    live_server: LiveServer, client: TestClient, auth: Auth
) -> Iterator[tuple[Tracer, Any, str]]:
    """A tracer and a logger exporting to the live server, as an instrumented app would."""
    add_system(client, auth, "claims-agent", tools=[{"name": "lookup_policy"}])
    headers = auth("telemetry")
    resource = Resource.create({"service.name": "Claims Agent", "deployment.environment": "t"})
    spans = TracerProvider(resource=resource)
    spans.add_span_processor(
        SimpleSpanProcessor(
            OTLPSpanExporter(endpoint=f"{live_server.url}/v1/traces", headers=headers)
        )
    )
    logs = LoggerProvider(resource=resource)
    logs.add_log_record_processor(
        SimpleLogRecordProcessor(
            OTLPLogExporter(endpoint=f"{live_server.url}/v1/logs", headers=headers)
        )
    )
    yield spans.get_tracer("test"), logs.get_logger("test"), live_server.url
    spans.shutdown()
    logs.shutdown()


def stored(db: Session) -> list[Interaction]:
    db.expire_all()
    return list(db.scalars(select(Interaction).order_by(Interaction.id)))


def test_new_genai_conventions_with_tool_and_retrieval_spans(
    otel: tuple[Tracer, Any, str], db: Session
) -> None:
    tracer, _, _ = otel
    with tracer.start_as_current_span("invoke_agent claims", kind=SpanKind.INTERNAL):
        with tracer.start_as_current_span("retrieval kb") as retrieval:
            retrieval.set_attribute("gen_ai.operation.name", "retrieval")
            retrieval.set_attribute(
                "gen_ai.retrieval.documents",
                json.dumps([{"id": "pol-7", "content": "Policy 7 covers water damage."}]),
            )
        with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT) as chat:
            chat.set_attribute("gen_ai.operation.name", "chat")
            chat.set_attribute("gen_ai.provider.name", "openai")
            chat.set_attribute("gen_ai.request.model", "gpt-4o")
            chat.set_attribute("gen_ai.request.temperature", 0.1)
            chat.set_attribute("gen_ai.usage.input_tokens", 120)
            chat.set_attribute("gen_ai.conversation.id", "conv-1")
            chat.set_attribute(
                "gen_ai.system_instructions",
                json.dumps([{"type": "text", "content": "You handle insurance claims."}]),
            )
            chat.set_attribute(
                "gen_ai.input.messages",
                json.dumps(
                    [{"role": "user", "parts": [{"type": "text", "content": "Am I covered?"}]}]
                ),
            )
            chat.set_attribute(
                "gen_ai.output.messages",
                json.dumps(
                    [
                        {
                            "role": "assistant",
                            "parts": [
                                {"type": "text", "content": "Let me check."},
                                {
                                    "type": "tool_call",
                                    "id": "call_1",
                                    "name": "lookup_policy",
                                    "arguments": {"policy": 7},
                                },
                            ],
                            "finish_reason": "tool_calls",
                        }
                    ]
                ),
            )
        with tracer.start_as_current_span("execute_tool lookup_policy") as tool:
            tool.set_attribute("gen_ai.operation.name", "execute_tool")
            tool.set_attribute("gen_ai.tool.name", "lookup_policy")
            tool.set_attribute("gen_ai.tool.call.id", "call_1")
            tool.set_attribute("gen_ai.tool.call.result", "covered up to 10000")
    with tracer.start_as_current_span("GET /health", kind=SpanKind.SERVER) as http:
        http.set_attribute("http.request.method", "GET")
    rows = stored(db)
    assert len(rows) == 1  # the agent wrapper and the HTTP span are not interactions
    row = rows[0]
    assert row.system.slug == "claims-agent"
    assert (row.provider, row.model, row.session_id) == ("openai", "gpt-4o", "conv-1")
    assert row.content["instructions"] == "You handle insurance claims."
    assert row.content["messages"][0]["content"] == "Am I covered?"
    assert row.content["output"] == "Let me check."
    call = row.content["tool_calls"][0]
    assert (call["name"], call["result"]) == ("lookup_policy", "covered up to 10000")
    assert row.content["retrieval"][0]["content"] == "Policy 7 covers water damage."
    assert row.tools == "lookup_policy"
    assert row.client_id == f"otlp:{row.trace_id}:{row.span_id}"
    assert not db.scalars(select(PendingTelemetry)).all()


def test_older_style_events_before_and_after_their_span(
    otel: tuple[Tracer, Any, str], db: Session
) -> None:
    tracer, logger, _ = otel

    def event(name: str, body: dict[str, Any], span: Any) -> None:
        ctx = span.get_span_context()
        logger.emit(
            ApiLogRecord(
                timestamp=time.time_ns(),
                trace_id=ctx.trace_id,
                span_id=ctx.span_id,
                trace_flags=ctx.trace_flags,
                body=body,
                attributes={"event.name": name, "gen_ai.system": "openai"},
                event_name=name,
            )
        )

    # First interaction: the events come before the span ends (and so before it is exported).
    span = tracer.start_span("chat gpt-4o-mini", kind=SpanKind.CLIENT)
    span.set_attribute("gen_ai.operation.name", "chat")
    span.set_attribute("gen_ai.system", "openai")
    span.set_attribute("gen_ai.request.model", "gpt-4o-mini")
    event("gen_ai.system.message", {"content": "Be brief."}, span)
    event("gen_ai.user.message", {"content": "What is my excess?"}, span)
    event(
        "gen_ai.choice",
        {"index": 0, "finish_reason": "stop", "message": {"content": "It is 250."}},
        span,
    )
    span.end()
    # Second: the span first, the events after.
    later = tracer.start_span("chat gpt-4o-mini", kind=SpanKind.CLIENT)
    later.set_attribute("gen_ai.operation.name", "chat")
    later.set_attribute("gen_ai.system", "openai")
    later.set_attribute("gen_ai.request.model", "gpt-4o-mini")
    later.end()
    event("gen_ai.user.message", {"content": "And for glass?"}, later)
    event(
        "gen_ai.choice",
        {"index": 0, "finish_reason": "stop", "message": {"content": "Glass has none."}},
        later,
    )
    rows = [r for r in stored(db) if r.model == "gpt-4o-mini"]
    assert len(rows) == 2
    first, second = sorted(rows, key=lambda r: r.started_at)
    assert first.content["instructions"] == "Be brief."
    assert first.content["messages"] == [{"role": "user", "content": "What is my excess?"}]
    assert first.content["output"] == "It is 250."
    assert second.content["messages"] == [{"role": "user", "content": "And for glass?"}]
    assert second.content["output"] == "Glass has none."
    assert not db.scalars(select(PendingTelemetry)).all()


def test_openllmetry_and_openinference_keys(otel: tuple[Tracer, Any, str], db: Session) -> None:
    tracer, _, _ = otel
    with tracer.start_as_current_span("openai.chat", kind=SpanKind.CLIENT) as span:
        span.set_attribute("llm.request.type", "chat")
        span.set_attribute("gen_ai.system", "openai")
        span.set_attribute("gen_ai.request.model", "gpt-4.1")
        span.set_attribute("gen_ai.prompt.0.role", "user")
        span.set_attribute("gen_ai.prompt.0.content", "Summarise claim 12.")
        span.set_attribute("gen_ai.completion.0.role", "assistant")
        span.set_attribute("gen_ai.completion.0.content", "Claim 12 is a burst pipe.")
    with tracer.start_as_current_span("agent") as agent:
        agent.set_attribute("openinference.span.kind", "AGENT")
        with tracer.start_as_current_span("retrieve") as retriever:
            retriever.set_attribute("openinference.span.kind", "RETRIEVER")
            retriever.set_attribute("retrieval.documents.0.document.id", "doc-1")
            retriever.set_attribute("retrieval.documents.0.document.content", "Pipes: covered.")
        with tracer.start_as_current_span("ChatOpenAI") as llm:
            llm.set_attribute("openinference.span.kind", "LLM")
            llm.set_attribute("llm.model_name", "gpt-4o")
            llm.set_attribute("llm.provider", "openai")
            llm.set_attribute("llm.input_messages.0.message.role", "user")
            llm.set_attribute("llm.input_messages.0.message.content", "Are pipes covered?")
            llm.set_attribute("llm.output_messages.0.message.role", "assistant")
            llm.set_attribute("llm.output_messages.0.message.content", "Yes.")
            llm.set_attribute("session.id", "s-9")
        with tracer.start_as_current_span("lookup_policy") as tool:
            tool.set_attribute("openinference.span.kind", "TOOL")
            tool.set_attribute("tool.name", "lookup_policy")
            tool.set_attribute("input.value", '{"policy": 7}')
            tool.set_attribute("output.value", "found")
    rows = {r.model: r for r in stored(db)}
    assert rows["gpt-4.1"].content["messages"][0]["content"] == "Summarise claim 12."
    assert rows["gpt-4.1"].content["output"] == "Claim 12 is a burst pipe."
    inference = rows["gpt-4o"]
    assert inference.session_id == "s-9"
    assert inference.content["output"] == "Yes."
    assert inference.content["retrieval"][0]["id"] == "doc-1"
    assert inference.content["tool_calls"][0]["name"] == "lookup_policy"


def _json_span(trace_hex: str, span_hex: str, model: str) -> dict[str, Any]:
    now = time.time_ns()
    return {
        "traceId": trace_hex,
        "spanId": span_hex,
        "name": f"chat {model}",
        "kind": 3,
        "startTimeUnixNano": str(now),
        "endTimeUnixNano": str(now + 5_000_000),
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": model}},
            {
                "key": "gen_ai.input.messages",
                "value": {"stringValue": json.dumps([{"role": "user", "content": "hello"}])},
            },
        ],
    }


def _json_request(*spans: dict[str, Any], system: str = "claims-agent") -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "firestop.system", "value": {"stringValue": system}}]
                },
                "scopeSpans": [{"scope": {"name": "hand"}, "spans": list(spans)}],
            }
        ]
    }


def test_otlp_json_with_hex_and_base64_ids_and_gzip(
    live_server: LiveServer, client: TestClient, auth: Auth, db: Session
) -> None:
    add_system(client, auth, "claims-agent")
    headers = {**auth("telemetry"), "content-type": "application/json"}
    hex_span = _json_span("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "m-hex")
    b64_span = _json_span("W47/95gDgQPSabYzgT/GDA==", "7uGbfsPBsXQ=", "m-b64")
    body = gzip.compress(json.dumps(_json_request(hex_span)).encode())
    r = httpx.post(
        f"{live_server.url}/v1/traces",
        content=body,
        headers={**headers, "content-encoding": "gzip"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    r = httpx.post(f"{live_server.url}/v1/traces", json=_json_request(b64_span), headers=headers)
    assert r.status_code == 200
    rows = stored(db)
    assert {r.trace_id for r in rows} == {"5b8efff798038103d269b633813fc60c"}
    assert {r.span_id for r in rows} == {"eee19b7ec3c1b174"}
    assert len(rows) == 1  # the same span twice (hex, then base64 ids) is one interaction


def test_rejections_are_partial_success_and_bad_bodies_400(
    live_server: LiveServer, client: TestClient, auth: Auth, db: Session
) -> None:
    add_system(client, auth, "claims-agent")
    headers = {**auth("telemetry"), "content-type": "application/json"}
    good = _json_request(_json_span("0" * 31 + "1", "0" * 15 + "1", "m-1"))
    unknown = _json_request(_json_span("0" * 31 + "2", "0" * 15 + "2", "m-2"), system="no-such")
    both = {"resourceSpans": good["resourceSpans"] + unknown["resourceSpans"]}
    r = httpx.post(f"{live_server.url}/v1/traces", json=both, headers=headers)
    assert r.status_code == 200
    partial = r.json()["partialSuccess"]
    assert int(partial["rejectedSpans"]) == 1
    assert "no-such" in partial["errorMessage"]
    assert [row.model for row in stored(db)] == ["m-1"]
    for body, media in ((b"\x00\xffgarbage", "application/x-protobuf"), (b"{", "application/json")):
        r = httpx.post(
            f"{live_server.url}/v1/traces", content=body, headers={**headers, "content-type": media}
        )
        assert r.status_code == 400, r.text
    r = httpx.post(
        f"{live_server.url}/v1/traces", content=b"x", headers={**headers, "content-type": "text/x"}
    )
    assert r.status_code == 415
    r = httpx.post(f"{live_server.url}/v1/traces", json=good)
    assert r.status_code == 401
