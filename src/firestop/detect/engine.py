"""Running the content detectors over one interaction: one shared scan, then each detector."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from firestop.detect.base import (
    ContentDetector,
    Finding,
    Match,
    Pattern,
    SystemConfig,
    TextField,
    text_fields,
)
from firestop.detect.scan import Scanner
from firestop.ledger.schemas import InteractionIn

log = logging.getLogger(__name__)


class ContentEngine:
    """Compiles every detector's patterns into one scanner; runs the detectors a system enables."""

    def __init__(self, detectors: Sequence[ContentDetector], *, engine: str = "auto") -> None:
        self.detectors = tuple(detectors)
        patterns: list[Pattern] = []
        # By scanner index: the detector that owns the pattern and the name it gave it.
        self._owner: list[tuple[str, str]] = []
        for detector in self.detectors:
            for p in detector.patterns():
                # Pattern names are namespaced by detector so two detectors never collide.
                patterns.append(replace(p, name=f"{detector.id}:{p.name}"))
                self._owner.append((detector.id, p.name))
        self.scanner = Scanner(patterns, engine=engine)
        for detector in self.detectors:
            # A detector with more to prepare than its shared patterns does it now, at
            # start-up, rather than in the middle of someone's request.
            warm = getattr(detector, "warm", None)
            if callable(warm):
                warm()

    def run(self, record: InteractionIn, config: SystemConfig) -> list[Finding]:
        return self.run_many([(record, config)])[0]

    def run_many(self, items: Sequence[tuple[InteractionIn, SystemConfig]]) -> list[list[Finding]]:
        """Findings for each interaction of a batch; the whole batch is scanned in one pass."""
        groups = [text_fields(record) for record, _ in items]
        scanned = self.scanner.scan_many_indexed(groups)
        return [
            self._inspect(record, fields, matches, config)
            for (record, config), fields, matches in zip(items, groups, scanned, strict=True)
        ]

    def _inspect(
        self,
        record: InteractionIn,
        fields: list[TextField],
        matches: list[tuple[int, int, int, int]],
        config: SystemConfig,
    ) -> list[Finding]:
        # Each detector gets its own matches under its own pattern names; the scanner's plain
        # tuples become a Match once, here.
        per_detector: dict[str, list[Match]] = {}
        owners = self._owner
        for pid, index, start, end in matches:
            owner, name = owners[pid]
            mine = per_detector.get(owner)
            if mine is None:
                mine = per_detector[owner] = []
            mine.append(Match(name, index, start, end))
        findings: list[Finding] = []
        for detector in self.detectors:
            if not config.enabled(detector.id):
                continue
            try:
                findings.extend(
                    detector.inspect(record, fields, per_detector.get(detector.id, []), config)
                )
            except Exception:
                # A detector's bug must not lose the interaction or the other detectors' work.
                log.exception(
                    "detector %s failed on an interaction of %s", detector.id, config.slug
                )
        return findings
