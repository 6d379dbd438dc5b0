"""Reading telemetry request bodies: size limits before and after gzip, JSON and NDJSON.

The limit is checked on the declared length, on the bytes as they stream in, and again while
inflating, so neither a large upload nor a small gzip bomb is ever held in memory whole.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from fastapi import Request

from firestop.errors import FieldError, FirestopError, invalid
from firestop.ledger.schemas import RejectedRecord

NDJSON_TYPES = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/jsonlines",
    }
)
JSON_TYPES = frozenset({"application/json", ""})


def too_large(limit: int) -> FirestopError:
    return FirestopError(
        f"the request body is larger than the {limit} bytes allowed (after decompression); "
        "send smaller batches",
        [],
        413,
        "Content too large",
        "too-large",
    )


def unsupported(detail: str) -> FirestopError:
    return FirestopError(detail, [], 415, "Unsupported media type", "unsupported-media-type")


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, decompressed when it says gzip, refused past ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip", "deflate"):
        raise unsupported(f"unsupported Content-Encoding {encoding!r}; use gzip or none")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise too_large(limit)
    if encoding == "identity":
        return bytes(raw)
    return inflate(bytes(raw), limit, gzip=encoding != "deflate")


def inflate(data: bytes, limit: int, *, gzip: bool = True) -> bytes:
    """gzip (every member of a multi-member stream) or zlib "deflate", refused past ``limit``.

    Inflation stops as soon as the output passes the limit, so a zip bomb costs at most
    ``limit`` bytes of memory. Every ingest path (native, OTLP) decompresses here.
    """
    wbits = 16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS
    name = "gzip" if gzip else "deflate"
    out = bytearray()
    try:
        inflater = zlib.decompressobj(wbits=wbits)
        while True:
            out += inflater.decompress(data, limit - len(out) + 1)
            if len(out) > limit:
                raise too_large(limit)
            data = inflater.unconsumed_tail
            if inflater.eof:
                data = inflater.unused_data
                if not data:
                    return bytes(out)
                if not gzip:
                    raise invalid(
                        "the deflate data is followed by other bytes",
                        [FieldError("body", f"{len(data)} bytes after the end of the stream")],
                    )
                # A gzip stream may hold several members one after another: all are the body.
                inflater = zlib.decompressobj(wbits=wbits)
            elif not data:
                raise invalid(
                    f"the {name} data is truncated", [FieldError("body", "unexpected end of data")]
                )
    except zlib.error as exc:
        raise invalid(f"the body is not valid {name} data", [FieldError("body", str(exc))]) from exc


def parse_records(body: bytes, media: str) -> list[Any]:
    """A JSON array (or one object) or NDJSON. A bad NDJSON line is rejected on its own."""
    if media in NDJSON_TYPES:
        items: list[Any] = []
        for number, line in enumerate(body.splitlines()):
            if not line.strip():
                continue
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                items.append(
                    RejectedRecord(
                        index=len(items),
                        id=None,
                        errors=[{"loc": f"line {number + 1}", "msg": f"not valid JSON: {exc}"}],
                    )
                )
        return items
    if media not in JSON_TYPES:
        raise unsupported(
            f"cannot read {media!r}; send application/json (an array of interactions) "
            "or application/x-ndjson (one interaction per line)"
        )
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FirestopError(
            "the body is not valid JSON",
            [FieldError("body", str(exc))],
            400,
            "Bad request",
            "bad-request",
        ) from exc
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        raise invalid(
            "expected a JSON array of interactions",
            [FieldError("body", f"got a JSON {type(data).__name__}")],
        )
    return data
