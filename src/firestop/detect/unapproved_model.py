"""Shadow AI: an interaction served by a model, provider or version the inventory does not approve.

The interaction's ``provider``, ``model`` and ``model_version`` are compared with the system's
approved models (``SystemConfig.approved_models``); ``other_models`` (listed in the inventory but
not approved) only change the wording, because "listed, not approved" is a different conversation
with the system owner than "never heard of it".

How names are compared (providers report the same model in many spellings):

* Provider: lower-cased, split into words; legal-form and filler words ("AI", "Inc", "Ltd" …)
  are dropped and a few cloud aliases are folded (``amazon``→``aws``, ``az``→``azure``,
  ``gcp``→``google``). The reported provider matches an approved entry when it names every word
  the entry names: ``aws.bedrock`` matches "Amazon Bedrock", ``nimbus-ai`` matches "Nimbus AI",
  ``openai`` does *not* match "Azure OpenAI" (a different processor of the data). An entry
  without a provider matches any provider; an interaction without a provider is checked on its
  model name alone.
* Model name: lower-cased; a path prefix (``models/gemini-1.5-pro``, ``meta-llama/Llama-3``) and a
  Bedrock-style vendor prefix (``anthropic.``, ``us.anthropic.``) are removed. The reported name
  matches an approved name when it is equal, or when it is the approved name followed only by a
  *version suffix*: dates (``-2024-08-06``, ``-20240620``, ``@20240620``), snapshot numbers of two
  or more digits (``-0613``, ``-002``), ``-v1``/``-v1:0``, ``:0`` and ``-latest``. Anything else
  makes a different model: ``gpt-4o-mini`` is not ``gpt-4o``, ``llama-3-70b`` is not ``llama-3``.
* Version: checked only when every name-matching approved entry pins one. The reported version is
  ``model_version``, or else the version suffix of the name. Dates compare in either spelling
  (``20240806`` = ``2024-08-06``), a leading ``v`` is ignored, and a pinned version also accepts
  its dotted refinements (pinned ``2.4`` accepts ``2.4.1``). When no version is reported at all
  the check passes unless the setting ``require_version`` is true.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from firestop.detect.base import Finding, Match, ModelRef, Pattern, SystemConfig, TextField
from firestop.ledger.schemas import InteractionIn

DETECTOR_ID = "unapproved_model"

_PROVIDER_FILLER = frozenset(
    {"ai", "inc", "ltd", "llc", "plc", "gmbh", "corp", "corporation", "co", "the", "api", "sa"}
)
_PROVIDER_ALIASES = {"amazon": "aws", "az": "azure", "microsoft": "azure", "gcp": "google"}
_WORDS = re.compile(r"[a-z0-9]+")

# "anthropic." / "us.anthropic." / "meta." before a name that starts with a letter. A segment
# with a hyphen is never a vendor prefix, so "gpt-3.5-turbo" and "llama3.1-8b" stay whole.
_VENDOR_PREFIX = re.compile(r"^(?:[a-z][a-z0-9]*\.)+(?=[a-z])")
_VERSION_PART = r"(?:\d{4}-\d{2}-\d{2}|\d{2,8}|v\d+(?:[.:]\d+)*|latest)"
_VERSION_SUFFIX = re.compile(rf"(?:[-_@.]{_VERSION_PART})+(?::\d+)?|:\d+")
_DATE8 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def normalise_provider(provider: str) -> frozenset[str]:
    words = (_PROVIDER_ALIASES.get(w, w) for w in _WORDS.findall(provider.lower()))
    return frozenset(w for w in words if w not in _PROVIDER_FILLER)


def normalise_name(name: str) -> str:
    name = name.strip().lower()
    name = name.rsplit("/", 1)[-1]
    return _VENDOR_PREFIX.sub("", name)


def normalise_version(version: str) -> str:
    v = version.strip().lower().removeprefix("v")
    date = _DATE8.match(v)
    if date:
        return "-".join(date.groups())
    return v


def split_version(reported: str, approved: str) -> str | None:
    """The version suffix when ``reported`` is ``approved`` plus only a version; None otherwise.

    Returns "" for an exact match.
    """
    if reported == approved:
        return ""
    if not reported.startswith(approved):
        return None
    rest = reported[len(approved) :]
    if not _VERSION_SUFFIX.fullmatch(rest):
        return None
    # "-2024-08-06" → "2024-08-06"; "-20240620-v1:0" → "20240620"; ":0" → "" (no version).
    tokens = [t for t in re.split(r"[-_@:.]", rest) if t]
    dated = re.search(r"\d{4}-\d{2}-\d{2}|\d{6,8}", rest)
    if dated:
        return dated.group(0)
    return tokens[0] if tokens and tokens[0] != "latest" else ""


def version_matches(reported: str, pinned: str) -> bool:
    r, p = normalise_version(reported), normalise_version(pinned)
    return r == p or (r.startswith(p) and r[len(p)] in ".-+")


@dataclass(slots=True, frozen=True)
class _Verdict:
    rule: str | None  # None: approved
    listed: ModelRef | None  # an inventory entry that is listed but not approved
    expected: tuple[str, ...]  # what would have been approved, for the detail


class UnapprovedModel:
    id = DETECTOR_ID

    def __init__(self) -> None:
        # A verdict depends only on the system's configuration and the three reported strings,
        # and a system reports the same handful of combinations all day: cache them per
        # configuration object (configurations are immutable and themselves cached), keyed by
        # its id and holding it so that the id cannot be reused while the entry lives.
        self._cache: dict[int, tuple[SystemConfig, dict[tuple[str | None, ...], _Verdict]]] = {}

    def patterns(self) -> Sequence[Pattern]:
        return ()

    def inspect(
        self,
        record: InteractionIn,
        fields: Sequence[TextField],
        matches: Sequence[Match],
        config: SystemConfig,
    ) -> list[Finding]:
        if not (record.model or record.provider):
            return []  # nothing reported to judge
        entry = self._cache.get(id(config))
        if entry is None or entry[0] is not config:
            if len(self._cache) >= 1024:
                self._cache.clear()
            entry = self._cache[id(config)] = (config, {})
        verdicts = entry[1]
        key = (record.provider, record.model, record.model_version)
        verdict = verdicts.get(key)
        if verdict is None:
            require_version = bool(config.setting(DETECTOR_ID, "require_version", False))
            require_inventory = bool(config.setting(DETECTOR_ID, "require_inventory", False))
            verdict = self._judge(record, config, require_version, require_inventory)
            if len(verdicts) >= 1024:
                verdicts.clear()  # bounded: reported strings come from clients
            verdicts[key] = verdict
        if verdict.rule is None:
            return []
        return [self._finding(record, verdict)]

    def _judge(
        self,
        record: InteractionIn,
        config: SystemConfig,
        require_version: bool,
        require_inventory: bool,
    ) -> _Verdict:
        approved = config.approved_models
        if not approved and not config.other_models:
            if require_inventory:
                return _Verdict(f"{DETECTOR_ID}.model", None, ())
            return _Verdict(None, None, ())

        provider = normalise_provider(record.provider) if record.provider else None

        def provider_ok(ref: ModelRef) -> bool:
            want = normalise_provider(ref.provider)
            return provider is None or not want or want <= provider

        def listed(rule: str, candidates: Sequence[ModelRef]) -> ModelRef | None:
            for ref in candidates:
                if not provider_ok(ref):
                    continue
                if rule.endswith(".provider"):
                    return ref
                if (
                    record.model
                    and split_version(normalise_name(record.model), normalise_name(ref.name))
                    is not None
                ):
                    return ref
            return None

        by_provider = [m for m in approved if provider_ok(m)]
        if not by_provider:
            rule = f"{DETECTOR_ID}.provider"
            expected = tuple(sorted({m.provider for m in approved if m.provider}))
            return _Verdict(rule, listed(rule, config.other_models), expected)
        if not record.model:
            return _Verdict(None, None, ())

        name = normalise_name(record.model)
        by_name: list[tuple[ModelRef, str]] = []
        for ref in by_provider:
            suffix = split_version(name, normalise_name(ref.name))
            if suffix is not None:
                by_name.append((ref, suffix))
        if not by_name:
            rule = f"{DETECTOR_ID}.model"
            expected = tuple(sorted({m.name for m in by_provider}))
            return _Verdict(rule, listed(rule, config.other_models), expected)

        if any(not ref.version for ref, _ in by_name):
            return _Verdict(None, None, ())
        reported = record.model_version or next((s for _, s in by_name if s), "")
        if not reported:
            if require_version:
                expected = tuple(sorted({ref.version for ref, _ in by_name}))
                return _Verdict(f"{DETECTOR_ID}.version", None, expected)
            return _Verdict(None, None, ())
        if any(version_matches(reported, ref.version) for ref, _ in by_name):
            return _Verdict(None, None, ())
        other = next(
            (
                ref
                for ref in config.other_models
                if provider_ok(ref)
                and split_version(name, normalise_name(ref.name)) is not None
                and ref.version
                and version_matches(reported, ref.version)
            ),
            None,
        )
        expected = tuple(sorted({ref.version for ref, _ in by_name}))
        return _Verdict(f"{DETECTOR_ID}.version", other, expected)

    def _finding(self, record: InteractionIn, verdict: _Verdict) -> Finding:
        assert verdict.rule is not None
        kind = verdict.rule.rsplit(".", 1)[1]
        reported = {
            "provider": record.provider,
            "model": record.model,
            "model_version": record.model_version,
        }
        shown = " ".join(f"{k}={v}" for k, v in reported.items() if v)
        status = "listed in the inventory but not approved" if verdict.listed else "not approved"
        if kind == "provider":
            title = f"Provider {record.provider!r} is {status} for this system"
            words = "+".join(sorted(normalise_provider(record.provider or "")))
            path, group = "provider", f"provider:{words}"
            severity, category = "SEV2", "prohibited_use"
        elif kind == "model":
            title = (
                f"Model {record.model!r} is {status} for this system"
                if verdict.expected or verdict.listed
                else f"Model {record.model!r} used by a system whose inventory lists no models"
            )
            path, group = "model", f"model:{normalise_name(record.model or '')}"
            severity, category = "SEV3", "prohibited_use"
        else:
            version = record.model_version or "(none reported)"
            title = f"Model {record.model!r} version {version} is {status} for this system"
            path = "model_version" if record.model_version else "model"
            group = f"version:{normalise_name(record.model or '')}@{record.model_version or ''}"
            # A different version of an approved model: the model is not what it is believed to
            # be, which the taxonomy files under integrity rather than unauthorised use.
            severity, category = "SEV3", "integrity"
        detail: dict[str, object] = {
            "reported": {k: v for k, v in reported.items() if v},
            "expected": list(verdict.expected),
            "listed_not_approved": verdict.listed is not None,
        }
        if verdict.listed is not None:
            detail["inventory_entry"] = {
                "name": verdict.listed.name,
                "provider": verdict.listed.provider,
                "version": verdict.listed.version,
            }
        return Finding(
            detector=DETECTOR_ID,
            rule=verdict.rule,
            title=title,
            path=path,
            excerpt=shown,
            severity=severity,
            category=category,
            group=group,
            detail=detail,
        )


DETECTOR = UnapprovedModel()
