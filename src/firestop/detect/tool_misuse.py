"""Agent tool misuse visible in a single interaction.

Three rules (rates and sequences far from the baseline need history and live in a stream
detector):

``tool_misuse.unlisted_tool``
    A tool call whose name is not in the system's tool allow-list (``config.tools``; exact name,
    else case-insensitive). A system that lists no tools has an empty allow-list, so every call
    is unlisted. The setting ``allow_unlisted: true`` switches the rule off for a system whose
    inventory does not try to enumerate its tools.

``tool_misuse.unapproved_destructive``
    A call of a tool the inventory marks destructive without an approval whose status is
    "approved" (no approval, pending, denied or "none" all count).

``tool_misuse.tainted_arguments``
    A call whose arguments carry something that came from content a stranger could write — a
    retrieved document marked untrusted, or an earlier tool result of untrusted or unknown trust
    (a tool-role message too: its trust is unknown) — and that neither the user's messages nor
    the system instructions contain. Retrieved documents of unknown trust are not counted: a
    knowledge base that does not label its documents would otherwise taint every call.
    "Something" is a URL, an e-mail address, an account number (an IBAN or a run of 8–19 digits
    that is not a date) or a verbatim stretch of at least ``taint_min_length`` (20) characters.
    Values that a trusted document or trusted tool result also contains are let through: they
    have an innocent origin. Tools that are meant to take outside content as input (a URL
    fetcher fed by a search tool) can be exempted with ``taint_ignore_tools``.

Severity hints: an unapproved destructive call SEV2 (SEV3 when the call failed); an unlisted
tool SEV3; tainted arguments SEV2 when the tool is destructive, else SEV3 for a URL, address or
account number and SEV4 for a verbatim stretch alone (a weak signal: agents legitimately pass on
titles and names they were shown). Category: insecure_behaviour for all three.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from firestop.detect.base import Finding, Match, Pattern, SystemConfig, TextField, ToolRef, redact
from firestop.ledger.schemas import InteractionIn, ToolCall, Trust

DETECTOR_ID = "tool_misuse"

# One pass over the arguments for every shape of value an attacker plants: a link to follow or
# to send data to, an address to write to, an account to pay. An IBAN's digits follow letters,
# so the bare-digits branch (8–19 digits, spaces or hyphens allowed) never takes them.
_SHAPES = re.compile(
    r"(?P<url>[Hh][Tt][Tt][Pp][Ss]?://[^\s<>\"'`\\]+)"
    r"|(?P<email>\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+\b)"
    r"|(?P<iban>\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b)"
    r"|(?P<digits>(?<![\w.])\d(?:[ -]?\d){7,18}(?![\w.]))"
)
# Bounds on the work for hostile arguments (every field may be a megabyte).
_MAX_VALUES = 100  # shaped values (URLs, addresses, numbers) checked per call
_MAX_VERBATIM = 4096  # characters of each argument value probed for verbatim stretches
_DIGIT_RUN = re.compile(r"\d[\d -]{6,}\d")
_DATE = re.compile(r"^(?:19|20)\d{2}[-/. ]?(?:0[1-9]|1[0-2])[-/. ]?(?:0[1-9]|[12]\d|3[01])$")
_SEPARATORS = re.compile(r"[\s-]")


# An untrusted text: its path, the text, its trust, and for a tool result the index of the call
# that returned it (-1 otherwise).
_Source = tuple[str, str, Trust, int]
_UNTRUSTED, _UNKNOWN, _TRUSTED = Trust.untrusted, Trust.unknown, Trust.trusted


def _raw(text: str) -> str:
    return text


def _lower(text: str) -> str:
    return text.lower()


def _squeezed(text: str) -> str:
    return _SEPARATORS.sub("", text)


class _Trusted:
    """What the user, the operator and trusted sources said; joined only if a taint needs it."""

    def __init__(self, record: InteractionIn) -> None:
        self._record = record
        self._views: dict[object, str] = {}

    def contains(self, needle: str, view: Callable[[str], str]) -> bool:
        text = self._views.get(view)
        if text is None:
            r = self._record
            parts = [r.instructions]
            parts += [m.content for m in r.messages if m.role in ("user", "system", "developer")]
            parts += [d.content for d in r.retrieval if d.trust is _TRUSTED]
            parts += [c.result for c in r.tool_calls if c.result_trust is _TRUSTED]
            text = self._views[view] = view("\n\x00\n".join(p for p in parts if p))
        return needle in text


@dataclass(slots=True)
class _Taint:
    kind: str  # url, email, account, verbatim
    value: str
    source: str  # path of the untrusted text it came from


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a parsed JSON value (keys are structure, not content: skipped)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


def argument_values(arguments: str) -> list[str]:
    """The texts to compare: the arguments as they are, or their decoded JSON string values.

    JSON only changes a value's text where it escapes something (quotes, newlines, non-ASCII as
    \\uXXXX); without a backslash the raw arguments hold every value verbatim, and searching
    them whole is much cheaper than parsing.
    """
    text = arguments.strip()
    if "\\" in text and text[:1] in "{[":
        try:
            return [s for s in _strings(json.loads(text)) if s]
        except ValueError:
            pass
    return [arguments]


def _longest_shared(value: str, text: str, at: int, k: int) -> tuple[int, int]:
    """The longest stretch of ``value`` around value[at:at+k] that ``text`` contains."""
    # Containment is monotone (a shorter stretch of a contained one is contained), so each end
    # grows by doubling steps and then halving ones: O(log n) searches of ``text``, not O(n).
    lo, hi = at, at + k
    step = 1
    while step:
        if hi + step <= len(value) and value[lo : hi + step] in text:
            hi += step
            step *= 2
        else:
            step //= 2
    step = 1
    while step:
        if lo - step >= 0 and value[lo - step : hi] in text:
            lo -= step
            step *= 2
        else:
            step //= 2
    return lo, hi


class ToolMisuse:
    id = DETECTOR_ID

    def patterns(self) -> Sequence[Pattern]:
        return ()

    def inspect(
        self,
        record: InteractionIn,
        fields: Sequence[TextField],
        matches: Sequence[Match],
        config: SystemConfig,
    ) -> list[Finding]:
        if not record.tool_calls:
            return []
        findings: list[Finding] = []
        allow_unlisted = bool(config.setting(DETECTOR_ID, "allow_unlisted", False))
        folded: dict[str, ToolRef] | None = None
        unlisted: dict[str, list[int]] = {}
        refs: list[ToolRef | None] = []
        for i, call in enumerate(record.tool_calls):
            ref = config.tools.get(call.name)
            if ref is None:
                if folded is None:
                    folded = {name.casefold(): ref for name, ref in config.tools.items()}
                ref = folded.get(call.name.casefold())
            refs.append(ref)
            if ref is None:
                if not allow_unlisted:
                    unlisted.setdefault(call.name, []).append(i)
                continue
            if ref.destructive and (call.approval is None or call.approval.status != "approved"):
                findings.append(self._destructive(i, call))
        for name, calls in unlisted.items():
            findings.append(self._unlisted(name, calls, record, config))
        findings.extend(self._taint(record, refs, config))
        return findings

    # -- allow-list and approvals ----------------------------------------------------------

    def _unlisted(
        self, name: str, calls: list[int], record: InteractionIn, config: SystemConfig
    ) -> Finding:
        first = record.tool_calls[calls[0]]
        listed = sorted(config.tools)
        return Finding(
            detector=DETECTOR_ID,
            rule=f"{DETECTOR_ID}.unlisted_tool",
            title=(
                f"Tool {name!r} is not on the system's tool allow-list"
                if listed
                else f"Tool {name!r} called by a system whose inventory lists no tools"
            ),
            path=f"tool_calls[{calls[0]}]",
            excerpt=f"tool={name} calls={len(calls)} status={first.status}",
            severity="SEV3",
            category="insecure_behaviour",
            group=f"tool:{name}",
            detail={
                "tool": name,
                "calls": calls,
                "allow_list": listed[:50],
                "approval": first.approval.status if first.approval else None,
            },
        )

    def _destructive(self, index: int, call: ToolCall) -> Finding:
        status = call.approval.status if call.approval else "none"
        ran = call.status == "ok"
        return Finding(
            detector=DETECTOR_ID,
            rule=f"{DETECTOR_ID}.unapproved_destructive",
            title=f"Destructive tool {call.name!r} called without approval"
            + ("" if ran else " (the call failed)"),
            path=f"tool_calls[{index}]",
            excerpt=f"tool={call.name} approval={status} status={call.status}",
            # A destructive action that went through is the harm itself; a failed one a near miss.
            severity="SEV2" if ran else "SEV3",
            category="insecure_behaviour",
            group=f"tool:{call.name}",
            detail={
                "tool": call.name,
                "approval": status,
                "approved_by": call.approval.by if call.approval else None,
                "status": call.status,
            },
        )

    # -- taint -----------------------------------------------------------------------------

    def _taint(
        self, record: InteractionIn, refs: Sequence[ToolRef | None], config: SystemConfig
    ) -> list[Finding]:
        # Plain tuples, not objects: this runs for every interaction with a tool call.
        untrusted: list[_Source] = []
        for i, d in enumerate(record.retrieval):
            if d.content and d.trust is _UNTRUSTED:
                untrusted.append((f"retrieval[{i}].content", d.content, d.trust, -1))
        for i, m in enumerate(record.messages):
            if m.role == "tool" and m.content:
                untrusted.append((f"messages[{i}].content", m.content, _UNKNOWN, -1))
        for i, c in enumerate(record.tool_calls):
            if c.result and c.result_trust is not _TRUSTED:
                untrusted.append((f"tool_calls[{i}].result", c.result, c.result_trust, i))
        if not untrusted:
            return []
        ignore = config.setting(DETECTOR_ID, "taint_ignore_tools", ()) or ()
        min_length = max(8, int(config.setting(DETECTOR_ID, "taint_min_length", 20)))
        trusted = _Trusted(record)
        findings: list[Finding] = []
        for j, call in enumerate(record.tool_calls):
            if not call.arguments or call.name in ignore:
                continue
            # A result can only have shaped the arguments of calls made after it.
            sources = [s for s in untrusted if s[3] < j]
            if not sources:
                continue
            taints = self._taints(call.arguments, sources, trusted, min_length)
            if taints:
                findings.append(self._tainted(j, call, refs[j], taints, sources))
        return findings

    def _taints(
        self, arguments: str, sources: Sequence[_Source], trusted: _Trusted, min_length: int
    ) -> list[_Taint]:
        taints: list[_Taint] = []
        # Lower-cased and squeezed copies of each source, made once and only when needed.
        views: dict[tuple[int, Callable[[str], str]], str] = {}
        checked = 0
        for value in argument_values(arguments):
            # Values with a recognisable shape first: addresses and numbers an attacker plants.
            # Cheap tests say whether any can be there (most arguments hold none).
            shaped = "://" in value or "@" in value or _DIGIT_RUN.search(value) is not None
            for m in _SHAPES.finditer(value) if shaped else ():
                checked += 1
                if checked > _MAX_VALUES:
                    break  # hostile arguments: the first values are enough to judge
                kind = m.lastgroup or ""
                found = m.group(0)
                view: Callable[[str], str]
                if kind == "url":
                    found = found.rstrip(".,;:!?)]}'\"")
                    needle, view = found, _raw
                elif kind == "email":
                    needle, view = found.lower(), _lower
                else:
                    needle = _SEPARATORS.sub("", found)
                    if _DATE.match(needle):
                        continue
                    kind, view = "account", _squeezed
                for i, (path, text, _, _) in enumerate(sources):
                    seen = views.get((i, view))
                    if seen is None:
                        seen = views[(i, view)] = view(text)
                    if needle in seen:
                        if not trusted.contains(needle, view):
                            taints.append(_Taint(kind, found, path))
                        break
            if taints:
                # A planted address is one taint, not also a "verbatim" stretch of itself.
                for t in taints:
                    value = value.replace(t.value, "\x00")
            if len(value) >= min_length:
                taints.extend(self._verbatim(value, sources, trusted, min_length))
        # One taint per value and kind is enough to explain the finding.
        unique: dict[tuple[str, str], _Taint] = {}
        for t in taints:
            unique.setdefault((t.kind, t.value), t)
        return list(unique.values())

    @staticmethod
    def _verbatim(
        value: str, sources: Sequence[_Source], trusted: _Trusted, min_length: int
    ) -> list[_Taint]:
        # Any shared stretch of min_length characters contains a whole window of k characters
        # starting at a multiple of k (k = min_length // 2), so probing those windows finds it.
        k = min_length // 2
        value = value[:_MAX_VERBATIM]  # a stretch planted further in is past reasonable cost
        found: list[_Taint] = []
        for path, text, _, _ in sources:
            p = 0
            while p + k <= len(value):
                if value[p : p + k] not in text:
                    p += k
                    continue
                lo, hi = _longest_shared(value, text, p, k)
                stretch = value[lo:hi]
                if (
                    hi - lo >= min_length
                    and sum(c.isalnum() for c in stretch) >= min_length // 2
                    and not trusted.contains(stretch, _raw)
                ):
                    found.append(_Taint("verbatim", stretch, path))
                    break
                p = max(p + k, hi)
        return found

    def _tainted(
        self,
        index: int,
        call: ToolCall,
        ref: ToolRef | None,
        taints: list[_Taint],
        sources: Sequence[_Source],
    ) -> Finding:
        strong = [t for t in taints if t.kind != "verbatim"]
        top = (strong or taints)[0]
        start = call.arguments.find(top.value)
        end = start + len(top.value) if start >= 0 else None
        trust = {s[0]: s[2].value for s in sources}
        destructive = ref is not None and ref.destructive
        severity = "SEV2" if destructive else "SEV3" if strong else "SEV4"
        kinds = sorted({t.kind for t in taints})
        return Finding(
            detector=DETECTOR_ID,
            rule=f"{DETECTOR_ID}.tainted_arguments",
            title=f"Arguments of tool {call.name!r} carry content from an untrusted source",
            path=f"tool_calls[{index}].arguments",
            start=start if start >= 0 else None,
            end=end,
            # The value may be personal data (an e-mail address, an account): never shown.
            excerpt=(
                redact(call.arguments, start, start + len(top.value), f"{top.kind} from untrusted")
                if start >= 0
                else f"tool={call.name} [{top.kind} from untrusted]"
            ),
            severity=severity,
            category="insecure_behaviour",
            group=f"tool:{call.name}",
            detail={
                "tool": call.name,
                "destructive": destructive,
                "kinds": kinds,
                "taints": [
                    {
                        "kind": t.kind,
                        "length": len(t.value),
                        "source": t.source,
                        "trust": trust.get(t.source),
                    }
                    for t in taints[:20]
                ],
            },
        )


DETECTOR = ToolMisuse()
