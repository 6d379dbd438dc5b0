"""How well the content detectors find what the corpus planted, and how often they cry wolf.

    .venv/bin/python bench/detect_quality.py                       # 20,000 interactions, seed 7
    .venv/bin/python bench/detect_quality.py --n 5000 --show-errors 5 --json quality.json

Every content detector runs over a labelled corpus (``bench/corpus``) exactly as ingest runs
it: one ``ContentEngine`` with every detector, each system's configuration from the corpus
inventory. Per detector it reports, at the interaction level (did the detector flag the
interaction?), precision, recall, F1 and the false-positive rate on the interactions that have
nothing for it; for ``pii`` and ``secret`` also at the span level (a found span counts when it
overlaps a planted value of the same type); for ``prompt_injection`` recall and false-positive
rate for direct (user) and indirect (documents, tool results) injection separately.

On the personal-data subset it then runs Presidio's pattern recognizers (no NLP model; see
``bench/presidio_compare.py``) over the same texts and sets the span-level figures of every
entity type both know side by side.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus.generate import (  # noqa: E402
    DETECTORS,
    LabelledInteraction,
    Span,
    configs,
    generate,
)
from firestop.detect.base import Finding, Match, text_fields  # noqa: E402
from firestop.detect.engine import ContentEngine  # noqa: E402
from firestop.detect.pipeline import CONTENT_MODULES  # noqa: E402
from firestop.ledger.schemas import InteractionIn  # noqa: E402

TARGETS = {
    "pii": "F1 ≥ 0.95",
    "secret": "F1 ≥ 0.95",
    "prompt_injection": "recall ≥ 0.90, FPR ≤ 1 %",
}
SPAN_DETECTORS = ("pii", "secret")
# Where a finding of prompt_injection says it came from.
_INDIRECT_SOURCES = ("retrieval[", "tool_calls[")


# --- scoring ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None if p is None or r is None else 0.0
        return 2 * p * r / (p + r)

    @property
    def fpr(self) -> float | None:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "fpr": self.fpr,
        }


@dataclass(slots=True)
class SpanCounts:
    """Span-level counts: planted values found (recall) and found spans that are real."""

    planted: int = 0
    found: int = 0  # planted values overlapped by a finding of the same type
    predicted: int = 0
    correct: int = 0  # findings that overlap a planted value of their type

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.found / self.planted if self.planted else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "planted": self.planted,
            "found": self.found,
            "predicted": self.predicted,
            "correct": self.correct,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


@dataclass(slots=True, frozen=True)
class Predicted:
    path: str
    start: int
    end: int
    rule: str


def _overlaps(a: Span | Predicted, b: Span | Predicted) -> bool:
    return a.path == b.path and a.start < b.end and b.start < a.end


def match_spans(
    planted: Sequence[Span], predicted: Sequence[Predicted]
) -> tuple[list[bool], list[bool]]:
    """Which planted spans were found, and which predicted spans were right (same type)."""
    found = [False] * len(planted)
    right = [False] * len(predicted)
    for i, s in enumerate(planted):
        for j, p in enumerate(predicted):
            if _overlaps(s, p) and s.matches(p.rule):
                found[i] = True
                right[j] = True
    return found, right


@dataclass(slots=True)
class Errors:
    """A few examples of each kind of mistake, for the detector's authors."""

    false_negatives: list[dict[str, Any]] = field(default_factory=list)
    false_positives: list[dict[str, Any]] = field(default_factory=list)


# --- running ---------------------------------------------------------------------------------


def load_detectors() -> tuple[list[Any], list[str]]:
    detectors, missing = [], []
    for name in CONTENT_MODULES:
        try:
            detectors.append(importlib.import_module(f"firestop.detect.{name}").DETECTOR)
        except ImportError:
            missing.append(name)
    return detectors, missing


def run_detectors(
    records: Sequence[InteractionIn], engine: ContentEngine
) -> tuple[list[list[Finding]], float]:
    by_slug = configs()
    started = time.perf_counter()
    findings = [engine.run(record, by_slug[record.system]) for record in records]
    return findings, time.perf_counter() - started


def _field_text(record: InteractionIn, path: str) -> str:
    for f in text_fields(record):
        if f.path == path:
            return f.text
    return ""


def _context(text: str, start: int, end: int, width: int = 60) -> str:
    lo, hi = max(0, start - width), min(len(text), end + width)
    snippet = text[lo:start] + "⟦" + text[start:end] + "⟧" + text[end:hi]
    # Invisible characters would hide what the example is about: show their code points.
    shown = "".join(
        c if c.isprintable() or c == " " else f"<U+{ord(c):04X}>" if ord(c) > 127 else " "
        for c in snippet
    )
    return ("…" if lo else "") + " ".join(shown.split()) + ("…" if hi < len(text) else "")


def evaluate(
    items: Sequence[LabelledInteraction],
    records: Sequence[InteractionIn],
    findings: Sequence[Sequence[Finding]],
    engine: ContentEngine,
    show: int,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for det in (d.id for d in engine.detectors):
        counts = Counts()
        spans = SpanCounts()
        per_rule: dict[str, SpanCounts] = defaultdict(SpanCounts)
        per_tag: dict[str, Counts] = defaultdict(Counts)
        errors = Errors()
        injection = {"direct": Counts(), "indirect": Counts()}
        for item, record, found in zip(items, records, findings, strict=True):
            mine = [f for f in found if f.detector == det]
            positive = item.positive(det)
            flagged = bool(mine)
            if positive and flagged:
                counts.tp += 1
            elif positive:
                counts.fn += 1
                if len(errors.false_negatives) < show:
                    errors.false_negatives.append(_fn_example(det, item, record, engine))
            elif flagged:
                counts.fp += 1
                if len(errors.false_positives) < show and det not in SPAN_DETECTORS:
                    errors.false_positives.append(_fp_example(item, record, mine[0]))
            else:
                counts.tn += 1
            # Which hard negatives and plants each mistake came with.
            for tag in item.tags:
                c = per_tag[tag]
                if positive:
                    c.tp += flagged
                    c.fn += not flagged
                else:
                    c.fp += flagged
                    c.tn += not flagged
            if det == "prompt_injection":
                _score_injection(item, mine, injection)
            if det in SPAN_DETECTORS:
                _score_spans(det, item, record, mine, spans, per_rule, errors, show)
        result: dict[str, Any] = {"interaction": counts.as_dict()}
        if det in SPAN_DETECTORS:
            result["span"] = spans.as_dict()
            result["span_by_rule"] = {k: v.as_dict() for k, v in sorted(per_rule.items())}
        if det == "prompt_injection":
            result["direct"] = injection["direct"].as_dict()
            result["indirect"] = injection["indirect"].as_dict()
        result["by_tag"] = {
            k: v.as_dict() for k, v in sorted(per_tag.items()) if _tag_concerns(det, k)
        }
        result["errors"] = {
            "false_negatives": errors.false_negatives,
            "false_positives": errors.false_positives,
        }
        results[det] = result
    return results


def _tag_concerns(detector: str, tag: str) -> bool:
    prefix = {
        "pii": ("pii:", "hn:"),
        "secret": ("secret:", "hn:"),
        "prompt_injection": ("inj:", "injt:", "hn:"),
        "tool_misuse": ("tool:", "inj:indirect", "hn:"),
        "ungrounded_citation": ("cite:", "hn:citation"),
        "unapproved_model": ("model:",),
        "moderation": ("moderation",),
        "policy_terms": ("policy:", "hn:policy"),
    }[detector]
    return tag.startswith(prefix)


def _score_injection(
    item: LabelledInteraction, mine: Sequence[Finding], out: dict[str, Counts]
) -> None:
    labels = item.labels.get("prompt_injection", set())
    for kind in ("direct", "indirect"):
        planted = f"prompt_injection.{kind}" in labels
        flagged = any(
            (f.path or "").startswith(_INDIRECT_SOURCES) == (kind == "indirect") for f in mine
        )
        c = out[kind]
        if planted:
            c.tp += flagged
            c.fn += not flagged
        elif not labels:
            # The false-positive rate is over interactions with no injection of either kind.
            c.fp += flagged
            c.tn += not flagged


def _score_spans(
    det: str,
    item: LabelledInteraction,
    record: InteractionIn,
    mine: Sequence[Finding],
    total: SpanCounts,
    per_rule: dict[str, SpanCounts],
    errors: Errors,
    show: int,
) -> None:
    planted = [s for s in item.spans if s.rule.startswith(det + ".")]
    predicted = [
        Predicted(f.path, f.start, f.end, f.rule)
        for f in mine
        if f.path is not None and f.start is not None and f.end is not None
    ]
    found, right = match_spans(planted, predicted)
    total.planted += len(planted)
    total.found += sum(found)
    total.predicted += len(predicted)
    total.correct += sum(right)
    for s, ok in zip(planted, found, strict=True):
        per_rule[s.rule].planted += 1
        per_rule[s.rule].found += ok
        if not ok and len(errors.false_negatives) < show:
            near = [p.rule for p in predicted if _overlaps(s, p)]
            errors.false_negatives.append(
                {
                    "id": item.record["id"],
                    "rule": s.rule,
                    "path": s.path,
                    "text": _context(_field_text(record, s.path), s.start, s.end),
                    "found_instead": near,
                }
            )
    for p, ok in zip(predicted, right, strict=True):
        per_rule[p.rule].predicted += 1
        per_rule[p.rule].correct += ok
        if not ok and len(errors.false_positives) < show:
            near = [s.rule for s in planted if _overlaps(s, p)]
            errors.false_positives.append(
                {
                    "id": item.record["id"],
                    "rule": p.rule,
                    "path": p.path,
                    "text": _context(_field_text(record, p.path), p.start, p.end),
                    "planted_there": near,
                    "tags": item.tags,
                }
            )


def _fn_example(
    det: str, item: LabelledInteraction, record: InteractionIn, engine: ContentEngine
) -> dict[str, Any]:
    example: dict[str, Any] = {
        "id": item.record["id"],
        "system": item.system,
        "expected": sorted(item.labels.get(det, ())),
        "tags": item.tags,
    }
    places = item.places.get(det, [])
    if det == "prompt_injection":
        texts = []
        for path in places:
            text = _field_text(record, path)
            entry: dict[str, Any] = {"path": path, "text": _context(text, 0, 0, 320)}
            score = _injection_score(engine, record, path)
            if score is not None:
                entry["score"] = score
            texts.append(entry)
        example["where"] = texts
    elif det == "tool_misuse":
        example["tool_calls"] = [
            {
                "name": c.name,
                "arguments": c.arguments[:160],
                "approval": c.approval.status if c.approval else None,
            }
            for c in record.tool_calls
        ]
    elif det == "ungrounded_citation":
        example["output"] = record.output[-300:]
        example["retrieved"] = [d.id or d.uri for d in record.retrieval]
        example["tool_results"] = len([c for c in record.tool_calls if c.result])
    elif det == "unapproved_model":
        example["reported"] = [record.provider, record.model, record.model_version]
    elif det == "policy_terms":
        example["where"] = [
            {"path": p, "text": _context(_field_text(record, p), 0, 0, 200)} for p in places
        ]
    return example


def _injection_score(engine: ContentEngine, record: InteractionIn, path: str) -> Any:
    """The prompt_injection score of one field and its cues, to show how far below it stayed."""
    detector = next((d for d in engine.detectors if d.id == "prompt_injection"), None)
    cues = getattr(detector, "cues", None)
    fields = [f for f in text_fields(record) if f.path == path]
    if cues is None or not fields:
        return None
    prefix = "prompt_injection:"
    matches = [
        Match(m.pattern[len(prefix) :], 0, m.start, m.end)
        for m in engine.scanner.scan(fields)
        if m.pattern.startswith(prefix)
    ]
    found = cues(fields[0].text, matches, direct=fields[0].source.value == "user")
    from firestop.detect.prompt_injection import field_score

    return {
        "score": round(field_score(found), 2),
        "cues": [f"{c.pattern} {c.score:.1f} {c.notes}" for c in found if c.score > 0][:6],
    }


def _fp_example(item: LabelledInteraction, record: InteractionIn, f: Finding) -> dict[str, Any]:
    example: dict[str, Any] = {
        "id": item.record["id"],
        "system": item.system,
        "rule": f.rule,
        "title": f.title,
        "tags": item.tags,
    }
    if f.path and f.start is not None and f.end is not None:
        example["text"] = _context(_field_text(record, f.path), f.start, f.end, 150)
    else:
        example["excerpt"] = f.excerpt
    score = f.detail.get("score") if isinstance(f.detail, dict) else None
    if score is not None:
        example["score"] = score
    return example


# --- Presidio --------------------------------------------------------------------------------


def personal_data_subset(items: Sequence[LabelledInteraction], limit: int) -> list[int]:
    """At most ``limit`` interactions: planted personal data, look-alikes, and ordinary ones.

    Up to 60 % are interactions with planted personal data, up to 25 % have number or Unicode
    look-alikes (and nothing planted), the rest are ordinary traffic, so that false positives
    on ordinary text count too. Each group is taken in corpus order.
    """
    planted, lookalike, ordinary = [], [], []
    for i, item in enumerate(items):
        if item.labels.get("pii"):
            planted.append(i)
        elif any(t.startswith(("hn:numbers", "hn:unicode")) for t in item.tags):
            lookalike.append(i)
        elif not item.tags:
            ordinary.append(i)
    chosen = planted[: int(limit * 0.6)]
    chosen += lookalike[: int(limit * 0.25)]
    chosen += ordinary[: limit - len(chosen)]
    return sorted(chosen)


_WORKER = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from bench import presidio_compare as pc
texts = json.load(open(sys.argv[2], encoding="utf-8"))
pc.analyzer()
started = time.perf_counter()
found = pc.presidio_entities(texts)
spent = time.perf_counter() - started
out = {"found": found, "seconds": spent, "version": pc.PRESIDIO_VERSION,
       "recognizers": pc.RECOGNIZERS}
json.dump(out, open(sys.argv[3], "w", encoding="utf-8"))
"""


class PresidioRun:
    """Presidio over the personal-data subset, in its own process while our detectors run.

    Presidio is no dependency of Firestop; ``bench/presidio_compare.py`` says how to install it
    in its own virtualenv (``.venv-bench``). It runs there, on the texts handed over in a file;
    each distinct text is analysed once (system instructions repeat across interactions).
    """

    def __init__(
        self, items: Sequence[LabelledInteraction], records: Sequence[InteractionIn], limit: int
    ) -> None:
        self.subset = personal_data_subset(items, limit)
        self.where: list[tuple[int, str, int]] = []  # interaction, path, index of the text
        index: dict[str, int] = {}
        for i in self.subset:
            for f in text_fields(records[i]):
                self.where.append((i, f.path, index.setdefault(f.text, len(index))))
        self.texts = list(index)
        self.error: str | None = None
        self._tmp = tempfile.TemporaryDirectory()
        self._out = Path(self._tmp.name) / "found.json"
        self._process: subprocess.Popen[str] | None = None
        python = ROOT / ".venv-bench" / "bin" / "python"
        inbox = Path(self._tmp.name) / "texts.json"
        inbox.write_text(json.dumps(self.texts), encoding="utf-8")
        if importlib.util.find_spec("presidio_analyzer") is not None:
            python = Path(sys.executable)
        elif not python.exists():
            self.error = "Presidio is not installed in this Python and .venv-bench does not exist"
            return
        self._process = subprocess.Popen(
            [str(python), "-c", _WORKER, str(ROOT), str(inbox), str(self._out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def result(self) -> dict[str, Any]:
        try:
            if self._process is None:
                raise RuntimeError(self.error)
            _, err = self._process.communicate()
            if self._process.returncode != 0:
                last = err.strip().splitlines()[-1] if err.strip() else "failed"
                raise RuntimeError(last)
            outcome: dict[str, Any] = json.loads(self._out.read_text(encoding="utf-8"))
            return outcome
        finally:
            self._tmp.cleanup()


def compare_presidio(
    run: PresidioRun,
    items: Sequence[LabelledInteraction],
    records: Sequence[InteractionIn],
    findings: Sequence[Sequence[Finding]],
) -> dict[str, Any]:
    from bench.presidio_compare import ENTITY_RULES

    try:
        outcome = run.result()
    except Exception as exc:  # Presidio missing or broken: our own figures still stand
        return {"available": False, "reason": f"Presidio did not run: {exc}"}
    subset = run.subset
    shared = sorted(set(ENTITY_RULES.values()))
    theirs: dict[int, list[Predicted]] = defaultdict(list)
    for i, path, text_index in run.where:
        for entity, start, end in outcome["found"][text_index]:
            rule = ENTITY_RULES.get(entity)
            if rule is not None:
                theirs[i].append(Predicted(path, start, end, rule))
    ours: dict[int, list[Predicted]] = defaultdict(list)
    for i in subset:
        for f in findings[i]:
            if f.detector == "pii" and f.path and f.start is not None and f.end is not None:
                ours[i].append(Predicted(f.path, f.start, f.end, f.rule))
    table: dict[str, dict[str, Any]] = {}
    examples: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rule in shared:
        mine, other = SpanCounts(), SpanCounts()
        for i in subset:
            planted = [s for s in items[i].spans if s.rule == rule]
            for name, counts, predicted in (
                ("firestop", mine, ours[i]),
                ("presidio", other, theirs[i]),
            ):
                candidates = [p for p in predicted if p.rule == rule]
                found, right = _match_shared(planted, candidates)
                counts.planted += len(planted)
                counts.found += sum(found)
                counts.predicted += len(candidates)
                counts.correct += sum(right)
                for p, ok in zip(candidates, right, strict=True):
                    if not ok and len(examples[f"{name} {rule}"]) < 3:
                        text = _field_text(records[i], p.path)
                        examples[f"{name} {rule}"].append(
                            {"false_positive": _context(text, p.start, p.end, 40)}
                        )
                for s, ok in zip(planted, found, strict=True):
                    if not ok and len(examples[f"{name} {rule}"]) < 6:
                        text = _field_text(records[i], s.path)
                        examples[f"{name} {rule}"].append(
                            {"false_negative": _context(text, s.start, s.end, 40)}
                        )
        if mine.planted or mine.predicted or other.predicted:
            table[rule] = {"firestop": mine.as_dict(), "presidio": other.as_dict()}
    return {
        "available": True,
        "interactions": len(subset),
        "texts": len(run.where),
        "distinct_texts": len(run.texts),
        "characters": sum(len(t) for t in run.texts),
        "presidio_seconds": outcome["seconds"],
        "presidio_version": outcome.get("version"),
        "recognizers": outcome.get("recognizers"),
        "by_type": table,
        "examples": dict(examples),
    }


def _match_shared(
    planted: Sequence[Span], predicted: Sequence[Predicted]
) -> tuple[list[bool], list[bool]]:
    found = [False] * len(planted)
    right = [False] * len(predicted)
    for i, s in enumerate(planted):
        for j, p in enumerate(predicted):
            if _overlaps(s, p):
                found[i] = right[j] = True
    return found, right


# --- reporting -------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def verdicts(results: dict[str, Any]) -> dict[str, tuple[bool | None, str]]:
    out: dict[str, tuple[bool | None, str]] = {}
    for det in ("pii", "secret"):
        if det in results:
            span_f1 = results[det]["span"]["f1"]
            int_f1 = results[det]["interaction"]["f1"]
            ok = span_f1 is not None and int_f1 is not None and min(span_f1, int_f1) >= 0.95
            out[det] = (ok, f"span F1 {_num(span_f1)}, interaction F1 {_num(int_f1)}")
    if "prompt_injection" in results:
        r = results["prompt_injection"]
        d, i = r["direct"], r["indirect"]
        recalls = [x for x in (d["recall"], i["recall"]) if x is not None]
        fprs = [x for x in (d["fpr"], i["fpr"], r["interaction"]["fpr"]) if x is not None]
        ok = bool(recalls) and min(recalls) >= 0.9 and max(fprs, default=0.0) <= 0.01
        out["prompt_injection"] = (
            ok,
            f"recall direct {_pct(d['recall'])} / indirect {_pct(i['recall'])}, "
            f"FPR direct {_pct(d['fpr'])} / indirect {_pct(i['fpr'])}",
        )
    return out


def print_report(report: dict[str, Any], show: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=140)
    meta = report["meta"]
    console.print(
        f"[bold]Detection quality[/bold] — {meta['n']} interactions, seed {meta['seed']}, "
        f"engine {meta['engine']} (built in {meta['engine_build_seconds']:.1f} s), "
        f"detectors {meta['detector_seconds']:.1f} s "
        f"({meta['n'] / meta['detector_seconds']:,.0f} interactions/s on one core), "
        f"total {meta['total_seconds']:.0f} s; {meta['machine']}, load average "
        + " ".join(f"{x:.1f}" for x in meta["load_average"])
    )
    if meta["missing"]:
        console.print(f"[yellow]Not available (not measured): {', '.join(meta['missing'])}[/]")
    results = report["detectors"]
    verdict = verdicts(results)
    table = Table(title="Interaction level: did the detector flag the interaction?")
    for col in ("detector", "positives", "negatives", "TP", "FP", "FN", "precision", "recall",
                "F1", "FPR", "target"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("detector", "target") else "right")
    for det, r in results.items():
        c = r["interaction"]
        ok, _ = verdict.get(det, (None, ""))
        mark = "" if ok is None else ("[green]met[/]" if ok else "[red]missed[/]")
        table.add_row(
            det, str(c["tp"] + c["fn"]), str(c["fp"] + c["tn"]), str(c["tp"]), str(c["fp"]),
            str(c["fn"]), _num(c["precision"]), _num(c["recall"]), _num(c["f1"]), _pct(c["fpr"]),
            f"{TARGETS.get(det, '')} {mark}".strip(),
        )  # fmt: skip
    console.print(table)

    for det in SPAN_DETECTORS:
        if det not in results:
            continue
        r = results[det]
        t = Table(title=f"{det}: span level (a planted value is found by an overlapping finding "
                  "of its type)")  # fmt: skip
        for col in ("rule", "planted", "found", "recall", "predicted", "correct", "precision",
                    "F1"):  # fmt: skip
            t.add_column(col, justify="left" if col == "rule" else "right")
        for rule, s in [*r["span_by_rule"].items(), ("all", r["span"])]:
            t.add_row(
                rule, str(s["planted"]), str(s["found"]), _pct(s["recall"]), str(s["predicted"]),
                str(s["correct"]), _pct(s["precision"]), _num(s["f1"]),
                style="bold" if rule == "all" else None,
            )  # fmt: skip
        console.print(t)

    if "prompt_injection" in results:
        r = results["prompt_injection"]
        t = Table(title="prompt_injection by kind (FPR over interactions with no injection)")
        for col in ("kind", "planted", "found", "recall", "false positives", "FPR"):
            t.add_column(col, justify="left" if col == "kind" else "right")
        for kind in ("direct", "indirect"):
            c = r[kind]
            t.add_row(
                kind, str(c["tp"] + c["fn"]), str(c["tp"]), _pct(c["recall"]), str(c["fp"]),
                _pct(c["fpr"]),
            )  # fmt: skip
        console.print(t)

    weak = Table(title="Recall and false-positive rate by what the corpus planted (tags)")
    for col in ("detector", "tag", "positives", "recall", "negatives", "FPR"):
        weak.add_column(col, justify="left" if col in ("detector", "tag") else "right")
    for det, r in results.items():
        for tag, c in r["by_tag"].items():
            positives, negatives = c["tp"] + c["fn"], c["fp"] + c["tn"]
            # Hard negatives are about false positives, plants about recall.
            weak_recall = not tag.startswith("hn:") and positives and (c["recall"] or 0.0) < 0.9
            noisy = negatives and c["fp"] > 0
            if weak_recall or noisy:
                weak.add_row(det, tag, str(positives), _pct(c["recall"]) if positives else "",
                             str(negatives), _pct(c["fpr"]) if negatives else "")  # fmt: skip
    if weak.row_count:
        console.print(weak)

    presidio = report.get("presidio") or {}
    if presidio.get("available"):
        t = Table(
            title=f"Personal data, span level, Firestop vs Presidio pattern recognizers "
            f"({presidio['interactions']} interactions, {presidio['distinct_texts']} distinct "
            f"texts; Presidio {presidio['presidio_seconds']:.1f} s)"
        )
        for col in ("entity", "planted", "Firestop P", "Firestop R", "Firestop F1", "Presidio P",
                    "Presidio R", "Presidio F1", "≥ Presidio"):  # fmt: skip
            t.add_column(col, justify="left" if col == "entity" else "right")
        for rule, pair in presidio["by_type"].items():
            ours, theirs = pair["firestop"], pair["presidio"]
            at_least = _at_least(ours["f1"], theirs["f1"])
            t.add_row(
                rule, str(ours["planted"]), _pct(ours["precision"]), _pct(ours["recall"]),
                _num(ours["f1"]), _pct(theirs["precision"]), _pct(theirs["recall"]),
                _num(theirs["f1"]), "[green]yes[/]" if at_least else "[red]no[/]",
            )  # fmt: skip
        console.print(t)
        if show:
            for key, found in presidio.get("examples", {}).items():
                console.print(f"[bold]{key}[/]", found[:show], highlight=False, soft_wrap=True)
    elif presidio:
        console.print(f"[yellow]Presidio comparison skipped: {presidio.get('reason')}[/]")

    if show:
        for det, r in results.items():
            errs = r["errors"]
            if errs["false_negatives"] or errs["false_positives"]:
                console.rule(f"{det}: examples of mistakes")
            for kind in ("false_negatives", "false_positives"):
                for example in errs[kind]:
                    console.print(f"[bold]{kind[:-1].replace('_', ' ')}[/]", example, markup=True,
                                  highlight=False, soft_wrap=True)  # fmt: skip


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                model,
            )
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs, {model}, Python {platform.python_version()}"


def _at_least(ours: float | None, theirs: float | None) -> bool:
    if theirs is None:
        return True
    return ours is not None and ours >= theirs - 1e-9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="write every figure (and examples) here")
    parser.add_argument(
        "--show-errors",
        type=int,
        default=0,
        metavar="N",
        help="print up to N false negatives and N false positives per detector",
    )
    parser.add_argument("--no-presidio", action="store_true", help="skip the Presidio comparison")
    parser.add_argument(
        "--presidio-limit",
        type=int,
        default=1500,
        metavar="N",
        help="compare with Presidio on at most N interactions of the personal-data subset",
    )
    parser.add_argument(
        "--engine",
        choices=("auto", "hyperscan", "re"),
        default="auto",
        help="the shared scanner's engine (results are the same; re needs no compile step)",
    )
    args = parser.parse_args(argv)
    examples = max(args.show_errors, 5 if args.json else 0)

    started = time.perf_counter()
    items = generate(args.n, seed=args.seed)
    generated = time.perf_counter() - started
    detectors, missing = load_detectors()
    records = [InteractionIn.model_validate(item.record) for item in items]
    presidio = None
    if not args.no_presidio and "pii" not in missing:
        # Started first: it runs in its own process while our detectors run in this one.
        presidio = PresidioRun(items, records, args.presidio_limit)
    compile_started = time.perf_counter()
    engine = ContentEngine(detectors, engine=args.engine)
    compiled = time.perf_counter() - compile_started
    findings, spent = run_detectors(records, engine)
    results = evaluate(items, records, findings, engine, examples)
    report: dict[str, Any] = {
        "meta": {
            "n": args.n,
            "seed": args.seed,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": _machine(),
            "load_average": os.getloadavg(),
            "engine": engine.scanner.engine,
            "generate_seconds": generated,
            "engine_build_seconds": compiled,
            "detector_seconds": spent,
            "missing": missing,
            "positives": {d: sum(item.positive(d) for item in items) for d in DETECTORS},
            "tags": dict(Counter(t.split("@")[0] for item in items for t in item.tags)),
        },
        "detectors": results,
        "verdicts": {k: {"met": v[0], "figures": v[1]} for k, v in verdicts(results).items()},
    }
    if presidio is not None:
        report["presidio"] = compare_presidio(presidio, items, records, findings)
    else:
        why = "not asked for (--no-presidio)" if args.no_presidio else "no pii detector to compare"
        report["presidio"] = {"available": False, "reason": why}
    report["meta"]["total_seconds"] = time.perf_counter() - started
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    print_report(report, args.show_errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
