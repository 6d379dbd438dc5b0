"""Presidio's rule-based recognizers as a peer for the ``pii`` detector, with no NLP model.

DESIGN.md names "Presidio pattern-only analyzer on the same texts" as the peer for detection.
Presidio normally loads a spaCy model for names and for context words; that model cannot be
downloaded here, and it would be a different comparison anyway. So the analyzer is built from
the predefined recognizers that need no model (the regex ``PatternRecognizer``s and the
``phonenumbers``-based ``PhoneRecognizer``) and Presidio's own ``NoOpNlpEngine``. Without
tokens Presidio cannot raise a score for nearby context words; its default threshold (0) keeps
every candidate anyway, which is the most generous reading of "pattern-only".

Presidio has recognizers for some identifiers we check that its English defaults leave out:
Spanish DNI/NIE, Italian codice fiscale and German Steuer-ID are registered for "es", "it" and
"de", and UK NINO and Aadhaar are switched off. They are added for English here, so both tools
look for the same things in the same texts.

Presidio is not a Firestop dependency. Install it beside the project, in its own virtualenv:

    python3 -m venv .venv-bench && .venv-bench/bin/pip install -e . presidio-analyzer
    .venv-bench/bin/python bench/presidio_compare.py            # a smoke run
    .venv-bench/bin/python bench/detect_quality.py               # the comparison itself
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

INSTALL_HINT = (
    "Presidio is not installed in this Python. Install it in a separate virtualenv:\n"
    "  python3 -m venv .venv-bench && .venv-bench/bin/pip install -e . presidio-analyzer\n"
    "and run this script with .venv-bench/bin/python."
)

# Presidio entity type -> our rule. Types without a counterpart (URL, UUID, US_PASSPORT,
# DATE_TIME …) are left out: DATE_TIME is every date, not a date of birth, so mapping it to
# pii.dob would compare different things.
ENTITY_RULES: dict[str, str] = {
    "EMAIL_ADDRESS": "pii.email",
    "PHONE_NUMBER": "pii.phone",
    "CREDIT_CARD": "pii.card",
    "IBAN_CODE": "pii.iban",
    "IP_ADDRESS": "pii.ip",
    "US_SSN": "pii.national_id.us_ssn",
    "US_ITIN": "pii.national_id.us_itin",
    "UK_NINO": "pii.national_id.uk_nino",
    "UK_NHS": "pii.national_id.uk_nhs",
    "ES_NIF": "pii.national_id.es_dni",
    "ES_NIE": "pii.national_id.es_nie",
    "IT_FISCAL_CODE": "pii.national_id.it_cf",
    "DE_TAX_ID": "pii.national_id.de_steuer_id",
    "IN_AADHAAR": "pii.national_id.in_aadhaar",
}

# Recognizers for identifiers we check that Presidio leaves out of its English defaults,
# because they are registered for another language or switched off.
_COUNTERPART_RECOGNIZERS = (
    "EsNifRecognizer",
    "EsNieRecognizer",
    "ItFiscalCodeRecognizer",
    "DeTaxIdRecognizer",
    "UkNinoRecognizer",
    "InAadhaarRecognizer",
)
# Rule-based recognizers that are not PatternRecognizer subclasses but need no model either.
_MODEL_FREE = frozenset({"PhoneRecognizer"})

try:
    from importlib.metadata import PackageNotFoundError, version

    PRESIDIO_VERSION: str | None = version("presidio-analyzer")
except PackageNotFoundError:
    PRESIDIO_VERSION = None

RECOGNIZERS: list[str] | None = None  # filled in when the analyzer is built


def _offline_tldextract() -> None:
    """Presidio's e-mail check uses tldextract, which fetches the public suffix list over the
    network on first use; use the snapshot shipped inside the package instead."""
    import tldextract
    import tldextract.tldextract

    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())


@cache
def analyzer() -> Any:
    """A Presidio ``AnalyzerEngine`` with model-free recognizers only (built once)."""
    global RECOGNIZERS
    try:
        from presidio_analyzer import AnalyzerEngine, PatternRecognizer, RecognizerRegistry
        from presidio_analyzer import predefined_recognizers as predefined
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
    except ImportError as exc:
        raise RuntimeError(f"{INSTALL_HINT}\n({exc})") from exc
    _offline_tldextract()
    nlp_engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    # Whatever needs a model (the spaCy NER recognizer and friends) goes.
    registry.recognizers = [
        r
        for r in registry.recognizers
        if isinstance(r, PatternRecognizer) or type(r).__name__ in _MODEL_FREE
    ]
    loaded = {type(r).__name__ for r in registry.recognizers}
    for name in _COUNTERPART_RECOGNIZERS:
        cls = getattr(predefined, name, None)
        if cls is not None and name not in loaded:
            registry.add_recognizer(cls(supported_language="en"))
    RECOGNIZERS = sorted(type(r).__name__ for r in registry.recognizers)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


def presidio_entities(
    texts: Sequence[str], *, score_threshold: float = 0.0
) -> list[list[tuple[str, int, int]]]:
    """For each text, Presidio's (entity type, start, end) results, in text order."""
    engine = analyzer()
    out: list[list[tuple[str, int, int]]] = []
    for text in texts:
        results = engine.analyze(text=text, language="en", score_threshold=score_threshold)
        out.append(sorted((r.entity_type, r.start, r.end) for r in results))
    return out


_SAMPLES = (
    "Write to jane.doe@acme-mail.co.uk or call +44 20 7946 0958 before Friday.",
    "Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, SSN 536-90-4399.",
    "NINO AB123456C, NHS number 943 476 5919, codice fiscale RSSMRA85T10A562S.",
    "The scheduler shipped version 2.4.1 on 12 March; nothing personal in this sentence.",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="text files to analyse (default: samples)")
    parser.add_argument("--score-threshold", type=float, default=0.0)
    args = parser.parse_args(argv)
    texts = [Path(p).read_text(encoding="utf-8") for p in args.files] or list(_SAMPLES)
    try:
        analyzer()
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 2
    started = time.perf_counter()
    results = presidio_entities(texts, score_threshold=args.score_threshold)
    spent = time.perf_counter() - started
    for text, found in zip(texts, results, strict=True):
        print(text[:100])
        for entity, start, end in found:
            rule = ENTITY_RULES.get(entity, "-")
            print(f"    {entity:18} {rule:32} {text[start:end]!r}")
    chars = sum(len(t) for t in texts)
    print(
        f"presidio-analyzer {PRESIDIO_VERSION}, {len(RECOGNIZERS or [])} recognizers: "
        f"{len(texts)} texts, {chars} characters in {spent * 1000:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
