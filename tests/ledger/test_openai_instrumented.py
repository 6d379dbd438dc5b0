"""A real ``openai`` client, instrumented in turn by each OpenAI instrumentation (OpenTelemetry's
own ``openai-v2``, OpenLLMetry, OpenInference), calls a fake model server on loopback and
exports over OTLP/HTTP to a running Firestop: the shapes real instrumentations emit, in each of
their content modes, arrive as whole interactions.

Each instrumentation patches the ``openai`` module globally. A test instruments with its own
tracer and logger providers and uninstruments before it ends; where an instrumentation's
``uninstrument()`` leaves wrappers behind (OpenLLMetry's does: it passes "module", "Class.method"
to an ``unwrap`` that wants "module.Class", "method"), the test takes them off itself, so no
test sees another's patches, whatever the order.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest
import wrapt
from fastapi.testclient import TestClient
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExportResult, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from sqlalchemy import select
from sqlalchemy.orm import Session

from firestop.ledger.models import PendingTelemetry
from tests.conftest import LiveServer
from tests.ledger.support import add_system

Auth = Callable[[str], dict[str, str]]
# OpenLLMetry defines a pydantic model the pydantic 1 way when it is instrumented.
pytestmark = pytest.mark.filterwarnings("ignore:Support for class-based `config` is deprecated")

SYSTEM = "claims-agent"
MODEL = "gpt-4o-mini"
SNAPSHOT = "gpt-4o-mini-2024-07-18"  # what the model server says answered
INSTRUCTIONS = "You handle insurance claims. Be brief."
QUESTION = "What is my excess?"
ANSWER = "Your excess is 250."
TOOL_INSTRUCTIONS = "Look policies up before you answer."
TOOL_QUESTION = "Does policy 7 cover a burst pipe?"
CALL_ID = "call_Wq3uBk5pT0x7"
TOOL_RESULT = "Policy 7 covers water damage up to 10000."
FINAL_ANSWER = "Yes: policy 7 covers water damage up to 10000."
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "lookup_policy",
            "description": "Look an insurance policy up by its number.",
            "parameters": {
                "type": "object",
                "properties": {"policy": {"type": "integer"}},
                "required": ["policy"],
            },
        },
    }
]


# --- a fake OpenAI-compatible model server -------------------------------------------------------


def _completion(request: dict[str, Any], number: int) -> dict[str, Any]:
    """A chat completion as the OpenAI API returns it: text, or a call of the offered tool."""
    messages = request.get("messages") or []
    if messages and messages[-1].get("role") == "tool":
        message: dict[str, Any] = {"role": "assistant", "content": FINAL_ANSWER}
        finish, usage = "stop", (84, 14)
    elif request.get("tools"):
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": CALL_ID,
                    "type": "function",
                    "function": {"name": "lookup_policy", "arguments": '{"policy": 7}'},
                }
            ],
        }
        finish, usage = "tool_calls", (63, 17)
    else:
        message = {"role": "assistant", "content": ANSWER}
        finish, usage = "stop", (31, 9)
    return {
        "id": f"chatcmpl-fake{number}",
        "object": "chat.completion",
        "created": 1_764_240_000 + number,
        "model": SNAPSHOT,
        "system_fingerprint": "fp_5f1e2b3c4d",
        "service_tier": "default",
        "choices": [
            {
                "index": 0,
                "message": {**message, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
    }


@dataclass
class ModelServer:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    """``POST /v1/chat/completions`` on a free loopback port, in a thread."""
    requests: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": "not found", "type": "invalid_request"}})
                return
            requests.append(request)
            self._send(200, _completion(request, len(requests)))

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("x-request-id", f"req_{len(requests)}")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield ModelServer(url=f"http://127.0.0.1:{server.server_address[1]}/v1", requests=requests)
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


# --- the instrumentations ------------------------------------------------------------------------


def _otel_v2() -> BaseInstrumentor:
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    return OpenAIInstrumentor()


def _openllmetry(*, use_attributes: bool) -> Callable[[], BaseInstrumentor]:
    def make() -> BaseInstrumentor:
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor

        return OpenAIInstrumentor(use_attributes=use_attributes)

    return make


def _openinference() -> BaseInstrumentor:
    from openinference.instrumentation.openai import OpenAIInstrumentor

    return OpenAIInstrumentor()


@dataclass(frozen=True)
class Style:
    """One instrumentation in one of its modes."""

    name: str
    instrumentor: Callable[[], BaseInstrumentor]
    env: dict[str, str]
    logs: bool = False  # the content comes as log events
    legacy_v2: bool = False  # openai-v2's pre-1.0 util-genai path: per-message log events
    uninstrument_leaves_wrappers: bool = False

    def __str__(self) -> str:
        return self.name


CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
STYLES = [
    # gen_ai.input.messages / gen_ai.output.messages on the span.
    Style("otel-v2-span", _otel_v2, {CAPTURE: "span_only"}),
    # A gen_ai.client.inference.operation.details log event holds the messages.
    Style("otel-v2-event", _otel_v2, {CAPTURE: "event_only"}, logs=True),
    Style("otel-v2-span-and-event", _otel_v2, {CAPTURE: "span_and_event"}, logs=True),
    # gen_ai.system on the span; gen_ai.{system,user,assistant,tool}.message and gen_ai.choice
    # log events, as openai-v2 emits with opentelemetry-util-genai before 1.0.
    Style("otel-v2-legacy-events", _otel_v2, {CAPTURE: "true"}, logs=True, legacy_v2=True),
    # OpenLLMetry's default: the GenAI message attributes on the span.
    Style(
        "openllmetry",
        _openllmetry(use_attributes=True),
        {"TRACELOOP_TRACE_CONTENT": "true"},
        uninstrument_leaves_wrappers=True,
    ),
    # OpenLLMetry's events: gen_ai.choice with the tool calls beside the message.
    Style(
        "openllmetry-events",
        _openllmetry(use_attributes=False),
        {"TRACELOOP_TRACE_CONTENT": "true"},
        logs=True,
        uninstrument_leaves_wrappers=True,
    ),
    # llm.input_messages.N.* / llm.output_messages.N.*, llm.model_name is the snapshot.
    Style("openinference", _openinference, {}),
]
# Settings of these instrumentations that would change what they emit.
UNSET = (
    "OTEL_SEMCONV_STABILITY_OPT_IN",
    "OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT",
    "OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK",
    "OPENINFERENCE_HIDE_INPUTS",
    "OPENINFERENCE_HIDE_OUTPUTS",
    "OPENINFERENCE_HIDE_INPUT_MESSAGES",
    "OPENINFERENCE_HIDE_OUTPUT_MESSAGES",
    "OPENINFERENCE_HIDE_INPUT_TEXT",
    "OPENINFERENCE_HIDE_OUTPUT_TEXT",
    "TRACELOOP_METRICS_ENABLED",
)


def _wrapped_openai() -> list[tuple[type, str]]:
    """Attributes of the ``openai`` package's classes that wrapt wrappers stand in for."""
    found: list[tuple[type, str]] = []
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "openai" or name.startswith("openai.")):
            continue
        for cls in list(vars(module).values()):
            # type(), not isinstance(): openai's lazy proxies import what they stand for
            # when asked for their __class__.
            if not issubclass(type(cls), type) or cls.__module__ != name:
                continue
            found.extend(
                (cls, attr)
                for attr, value in list(vars(cls).items())
                if isinstance(value, wrapt.FunctionWrapper)
            )
    return found


def _unwrap_openai() -> None:
    for cls, attr in _wrapped_openai():
        value = vars(cls)[attr]
        while isinstance(value, wrapt.FunctionWrapper):
            value = value.__wrapped__
        setattr(cls, attr, value)


class _SpanExporter(OTLPSpanExporter):
    """The real exporter, remembering what each export came to."""

    results: list[SpanExportResult]

    def export(self, spans: Any) -> SpanExportResult:
        result = super().export(spans)
        self.results.append(result)
        return result


class _LogExporter(OTLPLogExporter):
    results: list[LogRecordExportResult]

    def export(self, batch: Any) -> LogRecordExportResult:
        result = super().export(batch)
        self.results.append(result)
        return result


@contextmanager
def instrumented(
    style: Style, live_server: LiveServer, headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The instrumentation on, exporting to Firestop through its own providers; off after."""
    assert not _wrapped_openai(), "openai is still patched by an earlier instrumentation"
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in style.env.items():
        monkeypatch.setenv(name, value)
    if style.legacy_v2:
        import opentelemetry.instrumentation.openai_v2 as openai_v2

        monkeypatch.setattr(openai_v2, "is_experimental_mode", lambda: False)
    resource = Resource.create({"service.name": SYSTEM, "deployment.environment": "test"})
    spans = _SpanExporter(endpoint=f"{live_server.url}/v1/traces", headers=headers, timeout=60)
    spans.results = []
    logs = _LogExporter(endpoint=f"{live_server.url}/v1/logs", headers=headers, timeout=60)
    logs.results = []
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    instrumentor = style.instrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, logger_provider=logger_provider)
    try:
        yield
        assert tracer_provider.force_flush(10_000)
        assert logger_provider.force_flush(10_000)
    finally:
        instrumentor.uninstrument()
        left = _wrapped_openai()
        _unwrap_openai()
        tracer_provider.shutdown()
        logger_provider.shutdown()
    assert style.uninstrument_leaves_wrappers or not left, left
    assert set(spans.results) == {SpanExportResult.SUCCESS}
    assert set(logs.results) == ({LogRecordExportResult.SUCCESS} if style.logs else set())


# --- the tests -----------------------------------------------------------------------------------


@pytest.fixture
def headers(client: TestClient, auth: Auth) -> dict[str, str]:
    """The system in the inventory, a telemetry token, and the detectors compiled (ingest waits
    for them: on a loaded machine the first export would otherwise race its own timeout)."""
    add_system(client, auth, SYSTEM, tools=[{"name": "lookup_policy"}])
    deadline = time.monotonic() + 120
    while client.get("/healthz").json()["detectors"] != "ready":
        assert time.monotonic() < deadline, "the detectors did not get ready"
        time.sleep(0.05)
    return auth("telemetry")


def _conversation(base_url: str) -> None:
    """What an application does: a question; a question with a tool; the tool's result back."""
    with openai.OpenAI(base_url=base_url, api_key="test", max_retries=0, timeout=20) as llm:
        plain = llm.chat.completions.create(
            model=MODEL,
            temperature=0.2,
            messages=[
                {"role": "system", "content": INSTRUCTIONS},
                {"role": "user", "content": QUESTION},
            ],
        )
        assert plain.choices[0].message.content == ANSWER
        asked: list[Any] = [
            {"role": "system", "content": TOOL_INSTRUCTIONS},
            {"role": "user", "content": TOOL_QUESTION},
        ]
        tooled = llm.chat.completions.create(model=MODEL, messages=asked, tools=TOOLS)
        message = tooled.choices[0].message
        assert message.tool_calls and message.tool_calls[0].id == CALL_ID
        history: list[Any] = [
            *asked,
            message.model_dump(exclude_none=True, exclude={"refusal", "annotations"}),
            {"role": "tool", "tool_call_id": CALL_ID, "content": TOOL_RESULT},
        ]
        final = llm.chat.completions.create(model=MODEL, messages=history, tools=TOOLS)
        assert final.choices[0].message.content == FINAL_ANSWER


def _interactions(client: TestClient, auth: Auth) -> list[dict[str, Any]]:
    """The system's interactions, oldest first, each with its content."""
    reader = auth("responder")
    r = client.get("/api/v1/interactions", params={"system": SYSTEM}, headers=reader)
    assert r.status_code == 200, r.text
    rows = []
    for row in sorted(r.json(), key=lambda row: row["started_at"]):
        r = client.get(f"/api/v1/interactions/{row['id']}/content", headers=reader)
        assert r.status_code == 200, r.text
        rows.append(r.json())
    return rows


@pytest.mark.parametrize("style", STYLES, ids=str)
def test_instrumented_openai_client_gives_whole_interactions(
    style: Style,
    model_server: ModelServer,
    live_server: LiveServer,
    headers: dict[str, str],
    client: TestClient,
    auth: Auth,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with instrumented(style, live_server, headers, monkeypatch):
        _conversation(model_server.url)
    assert not _wrapped_openai()
    assert len(model_server.requests) == 3
    assert not db.scalars(select(PendingTelemetry)).all()  # nothing waits for a missing piece

    rows = _interactions(client, auth)
    assert len(rows) == 3, [row["content"] for row in rows]
    plain, tooled, final = rows
    for row in rows:
        assert (row["system"], row["status"], row["content_mode"]) == (SYSTEM, "ok", "raw")
        assert (row["model"], row["model_version"], row["provider"]) == (MODEL, SNAPSHOT, "openai")
        assert row["client_id"].startswith("otlp:")
        assert row["details"]["attributes"]["gen_ai.operation.name"] == "chat"

    content = plain["content"]
    assert content["instructions"] == INSTRUCTIONS
    assert content["messages"] == [{"role": "user", "content": QUESTION}]
    assert content["output"] == ANSWER
    assert content["tool_calls"] == []
    assert plain["details"]["usage"] == {"input_tokens": 31, "output_tokens": 9}
    assert plain["details"]["finish_reason"] == "stop"
    assert plain["details"]["parameters"]["temperature"] == 0.2

    content = tooled["content"]
    assert content["instructions"] == TOOL_INSTRUCTIONS
    assert content["messages"] == [{"role": "user", "content": TOOL_QUESTION}]
    assert content["output"] == ""
    [call] = content["tool_calls"]
    assert (call["id"], call["name"]) == (CALL_ID, "lookup_policy")
    assert json.loads(call["arguments"]) == {"policy": 7}
    assert tooled["details"]["usage"] == {"input_tokens": 63, "output_tokens": 17}
    # OpenAI says "tool_calls"; the GenAI output-message schema (OpenLLMetry) says "tool_call".
    assert tooled["details"]["finish_reason"] in ("tool_calls", "tool_call")

    content = final["content"]
    assert content["instructions"] == TOOL_INSTRUCTIONS
    user, assistant, tool = content["messages"]
    assert user == {"role": "user", "content": TOOL_QUESTION}
    assert assistant["role"] == "assistant"
    [earlier] = json.loads(assistant["content"])["tool_calls"]
    assert (earlier["id"], earlier["name"]) == (CALL_ID, "lookup_policy")
    assert json.loads(earlier["arguments"]) == {"policy": 7}
    assert (tool["role"], tool["content"]) == ("tool", TOOL_RESULT)
    assert content["output"] == FINAL_ANSWER
    assert final["details"]["usage"] == {"input_tokens": 84, "output_tokens": 14}
    assert final["details"]["finish_reason"] == "stop"
