"""Firestop's client for AI applications: record interactions, send user reports.

Needs only ``httpx``; nothing from the server side is imported. Typical use::

    from firestop.sdk import Recorder

    recorder = Recorder("https://firestop.example", token, "support-bot")
    with recorder.interaction(model="gpt-4o", user_id=user.id) as it:
        it.add_message("user", question)
        it.output = answer = llm(question)
    ...
    ticket = recorder.report(it.id, "the answer insulted me")  # returns at once
"""

from __future__ import annotations

from firestop.sdk.recorder import (
    DROP_REASONS,
    Backoff,
    Interaction,
    Recorder,
    RecorderStatus,
    ReportTicket,
)
from firestop.sdk.records import FIELDS

__all__ = [
    "DROP_REASONS",
    "FIELDS",
    "Backoff",
    "Interaction",
    "Recorder",
    "RecorderStatus",
    "ReportTicket",
]
