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
    A call that *acts* (sends, pays, writes, deletes, runs a command) with a value that only a
    stranger supplied: the value is in third-party content the interaction brought in, and in
    nothing the user, the operator or the system's own data said. This is how an indirect
    prompt injection turns into harm — the e-mail that says "forward the contract to …", the web
    page whose IBAN ends up in a payout, the README whose ``curl … | sh`` ends up in a shell.

    *Third-party content* (who could have written it): retrieved documents marked
    ``untrusted``; tool results marked ``untrusted``; and unlabelled (``unknown``) results of
    tools that bring in outside content — judged by the tool's name (web, url, browser, inbox,
    mail, upload, review, feed, …) or listed in the setting ``taint_untrusted_tools``. Tool-role
    messages count by their ``name`` the same way (unnamed ones not at all: nothing says where
    they came from). Unlabelled results of the system's other
    tools — an order lookup, a CRM, a claims database — are its own data: telemetry rarely
    labels them, and a customer's address an order lookup returns is not an attacker's.
    ``taint_trusted_tools`` overrides the name for a tool whose results are internal.
    Retrieved documents of unknown trust are not counted either way: a knowledge base that does
    not label its documents would otherwise taint every call.

    *Innocent origins* (a value also found here is let through): the system instructions, the
    user's messages, trusted documents, and results — trusted or unlabelled internal ones —
    returned *before* the call, unless that result only echoes the value from its own call's
    arguments (a lookup of the attacker's address must not launder it). A value the user typed
    is the user's request even when an untrusted document also holds it: the user is the
    principal of the conversation, and a user attacking through their own messages is direct
    prompt injection, another detector's business. An e-mail address that third-party content
    gives only as its own sender (a ``From:``/``Sender:`` header or ``from`` member) is not a
    stranger's value either: replying to whoever wrote is what an e-mail agent is for. A reply
    that leaks data to a malicious sender is not visible as a value flow; ``Reply-To:`` and
    addresses in the body are not exempt.

    *Calls that act*: every call except readers — tools whose name says they only read (get,
    lookup, search, list, read, fetch, track, …) and says no action (send, pay, delete, …).
    Destructive tools always act; a name that says neither is treated as acting. Following a
    link a web page gave (a fetch) is what browsing agents do and is not a finding. The setting
    ``taint_ignore_tools`` exempts further tools.

    *Values*: URLs, e-mail addresses and IBANs (mod-97 valid) anywhere in the arguments; account
    and phone numbers (8–19 digits) and file paths only in an argument named for a destination
    (``to``, ``account``, ``phone``, ``path`` …), since elsewhere such a number is usually an
    order or invoice reference the agent is working on; and, for tools that execute their
    arguments (shell, exec, SQL, script), any verbatim stretch of at least ``taint_min_length``
    (20) characters. Dates are not account numbers. A link or address an outsider wrote that is
    only passed on (a message body, a calendar entry) is reported too, at a lower severity: it
    is how phishing spreads through an agent, and whether passing such links on is a system's
    job (a digest of web results, meetings from invitations) is for its inventory to say with
    ``taint_ignore_tools``.

Severity hints: an unapproved destructive call SEV2 (SEV3 when the call failed); an unlisted
tool SEV3; tainted arguments SEV2 when the tool is destructive or a value is a destination (a
recipient, a payee account, a link or path the tool acts on, anything in a command it runs),
else SEV3 (an outsider's link or address passed on in a message body). Category:
insecure_behaviour for all three.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from firestop.detect.base import Finding, Match, Pattern, SystemConfig, TextField, ToolRef, redact
from firestop.detect.checksums import iban_ok
from firestop.ledger.schemas import InteractionIn, ToolCall, Trust

DETECTOR_ID = "tool_misuse"

# One pass over an argument for every shape of value an attacker plants: a link to follow or to
# send data to, an address to write to, an account to pay. An IBAN's digits follow letters, so
# the bare-digits branch (8–19 digits, spaces or hyphens allowed) never takes them.
_SHAPES = re.compile(
    r"(?P<url>[Hh][Tt][Tt][Pp][Ss]?://[^\s<>\"'`\\]+)"
    r"|(?P<email>\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+\b)"
    r"|(?P<iban>\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b)"
    r"|(?P<digits>(?<![\w.])[0-9](?:[ -]?[0-9]){7,18}(?![\w.]))"
)
# Cheap tests for whether _SHAPES can match at all (most arguments hold no such value).
_DIGIT_RUN = re.compile(r"[0-9][0-9 -]{6,}[0-9]")
_DATE = re.compile(r"^(?:19|20)\d{2}[-/. ]?(?:0[1-9]|1[0-2])[-/. ]?(?:0[1-9]|[12]\d|3[01])$")
_SEPARATORS = re.compile(r"[\s-]")
# A file path as one whole argument value: "/etc/cron.d/x", "~/.ssh/config", "C:\\Users\\x".
_PATH = re.compile(r"(?:[A-Za-z]:[\\/]|~?/|\.{1,2}[\\/])?[\w.@-]+(?:[\\/][\w.@-]+)+[\\/]?")
# What comes right before an address that is its message's own sender: a "From:" or "Sender:"
# header line, or a "from"/"sender" member, with no other address or line break in between.
# Replying to whoever wrote is what an e-mail agent is for; "Reply-To:" is not exempt (pointing
# replies elsewhere is the classic invoice fraud). Matched on the lower-cased text before it.
_SENDER = re.compile(r'(?:^|[\n{,])[ \t>]*"?(?:from|sender)"?[ \t]*:[ \t]*"?[^\n"@]{0,100}$')
# Bounds on the work for hostile arguments (every field may be a megabyte).
_MAX_VALUES = 100  # shaped values (URLs, addresses, numbers) checked per call
_MAX_VERBATIM = 4096  # characters of each argument value probed for verbatim stretches
_MAX_CONFIGS = 256  # configurations whose settings are kept (a few per system at a time)
_MAX_NAMES = 1024  # tool names whose role is remembered per configuration (names are input)

# The words of a tool or argument name: snake_case, kebab-case, camelCase and HTTPCase alike.
_NAME_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

# Tools that run what they are given: outside text in their arguments is the attack itself.
_EXECUTES = frozenset(
    {"shell", "bash", "sh", "zsh", "powershell", "pwsh", "cmd", "terminal", "exec",
     "execute", "eval", "evaluate", "script", "command", "sql", "python", "interpreter", "repl",
     "ssh"}
)  # fmt: skip
# Verbs of tools that change something outside the conversation, wherever they stand in the
# name ("issue_refund", "get_and_delete_file").
_ACTS = frozenset(
    {"send", "forward", "reply", "publish", "notify", "invite", "pay", "payout", "wire",
     "refund", "withdraw", "remit", "approve", "submit", "write", "update", "upsert", "insert",
     "patch", "edit", "modify", "delete", "remove", "destroy", "purge", "erase", "truncate",
     "cancel", "revoke", "grant", "deploy", "push", "upload", "install", "uninstall", "kill",
     "terminate", "restart", "disable", "enable", "rename", "dial", "purchase", "escalate",
     "assign", "create", "add", "save"}
)  # fmt: skip
# Words that are verbs only as the first word of a name: "post_message" acts, "list_posts"
# reads; "lookup_order" reads, "order_parts" acts. (A name with no reading word at all acts
# anyway: "email_customer".)
_ACTS_FIRST = frozenset(
    {"post", "share", "order", "request", "issue", "release", "change", "transfer", "charge",
     "book", "export", "import", "copy", "sign", "call", "run", "set", "put", "open", "close",
     "archive", "move", "drop", "stop", "reset", "register", "subscribe", "schedule", "sync",
     "apply", "commit", "buy", "sell", "deposit", "respond", "redirect", "store", "merge",
     "invoke"}
)  # fmt: skip
# Words of tools that only read.
_READS = frozenset(
    {"get", "lookup", "look", "search", "find", "list", "read", "fetch", "query", "track",
     "view", "show", "describe", "check", "browse", "browser", "navigate", "visit",
     "retrieve", "load", "download", "scrape", "crawl", "summarise", "summarize", "count",
     "inspect", "status", "peek", "preview", "validate", "verify"}
)  # fmt: skip
# Words of tools whose results are content from outside the organisation when unlabelled.
_OUTSIDE = frozenset(
    {"web", "www", "internet", "url", "urls", "http", "https", "browse", "browser", "webpage",
     "website", "scrape", "crawl", "download", "inbox", "mail", "email", "emails", "mailbox",
     "imap", "gmail", "upload", "uploads", "attachment", "attachments", "review", "reviews",
     "comment", "comments", "forum", "social", "tweet", "tweets", "twitter", "reddit", "rss",
     "feed", "news", "sms", "whatsapp", "telegram", "google", "bing", "serp"}
)  # fmt: skip
# Argument names that say where the action goes.
_DESTINATIONS = frozenset(
    {"to", "cc", "bcc", "recipient", "recipients", "email", "mail", "address", "addr", "url",
     "uri", "link", "href", "endpoint", "webhook", "callback", "host", "hostname", "domain",
     "server", "remote", "redirect", "iban", "bban", "account", "acct", "routing", "sort",
     "swift", "bic", "beneficiary", "payee", "wallet", "card", "phone", "tel", "telephone",
     "mobile", "cell", "fax", "sms", "whatsapp", "destination", "dest", "target", "forward",
     "reply", "path", "file", "filename", "filepath", "dir", "directory", "folder"}
)  # fmt: skip
# ... of which these take a bare number (an account or a phone) or a path.
_NUMBER_DESTINATIONS = frozenset(
    {"to", "recipient", "recipients", "iban", "bban", "account", "acct", "routing", "sort",
     "swift", "beneficiary", "payee", "wallet", "card", "phone", "tel", "telephone", "mobile",
     "cell", "fax", "sms", "whatsapp", "destination", "dest"}
)  # fmt: skip
_PATH_DESTINATIONS = frozenset(
    {"path", "file", "filename", "filepath", "dir", "directory", "folder", "destination", "dest",
     "target", "location"}
)  # fmt: skip
# Argument names of content: a value there is passed on, not acted on ("email_body").
_CONTENTS = frozenset(
    {"body", "text", "content", "contents", "message", "subject", "title", "note", "notes",
     "comment", "description", "summary", "html", "markdown", "caption", "memo", "reason"}
)  # fmt: skip


def _words(name: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _NAME_WORDS.findall(name))


def _first_and_words(name: str) -> tuple[str, frozenset[str]]:
    words = [w.lower() for w in _NAME_WORDS.findall(name)]
    return (words[0] if words else ""), frozenset(words)


@dataclass(slots=True, frozen=True)
class _Role:
    """What a tool does, as far as taint is concerned."""

    acts: bool  # its arguments go somewhere or change something: they are checked
    executes: bool  # it runs its arguments: verbatim outside text counts too
    outside: bool  # its unlabelled results are content from outside the organisation


@dataclass(slots=True, frozen=True)
class _ArgKind:
    """What an argument's name says about the values in it."""

    destination: bool  # a URL or address here is where the action goes
    number: bool  # a bare 8–19 digit number here is an account or phone
    path: bool  # a file path here is where the tool writes or deletes


@lru_cache(maxsize=1024)  # argument names repeat from call to call; bounded, as they are input
def _arg_kind(key: str | None) -> _ArgKind:
    if not key:
        return _ArgKind(False, False, False)
    words = _words(key)
    if words & _CONTENTS:
        return _ArgKind(False, False, False)
    return _ArgKind(
        bool(words & _DESTINATIONS),
        bool(words & _NUMBER_DESTINATIONS),
        bool(words & _PATH_DESTINATIONS),
    )


class _Profile:
    """One system's settings for this detector and the roles of its tools, kept per config."""

    def __init__(self, config: SystemConfig) -> None:
        self.tools = config.tools
        self.folded: dict[str, ToolRef] | None = None  # made when a name needs folding
        self.allow_unlisted = bool(config.setting(DETECTOR_ID, "allow_unlisted", False))
        self.ignore = frozenset(_names(config.setting(DETECTOR_ID, "taint_ignore_tools", ())))
        self.untrusted_tools = frozenset(
            _names(config.setting(DETECTOR_ID, "taint_untrusted_tools", ()))
        )
        self.trusted_tools = frozenset(
            _names(config.setting(DETECTOR_ID, "taint_trusted_tools", ()))
        )
        self.min_length = max(8, int(config.setting(DETECTOR_ID, "taint_min_length", 20)))
        self._roles: dict[str, _Role] = {}

    def ref(self, name: str) -> ToolRef | None:
        ref = self.tools.get(name)
        if ref is None:
            if self.folded is None:
                self.folded = {n.casefold(): r for n, r in self.tools.items()}
            ref = self.folded.get(name.casefold())
        return ref

    def role(self, name: str) -> _Role:
        role = self._roles.get(name)
        if role is None:
            role = self._role(name)
            if len(self._roles) < _MAX_NAMES:
                self._roles[name] = role
        return role

    def _role(self, name: str) -> _Role:
        first, words = _first_and_words(name)
        ref = self.ref(name)
        executes = bool(words & _EXECUTES)
        changes = executes or bool(words & _ACTS) or first in _ACTS_FIRST
        # A name that says neither reading nor acting is treated as acting: checking it costs a
        # little, and an unknown tool is where surprises are.
        acts = name not in self.ignore and (
            changes or not words & _READS or (ref is not None and ref.destructive)
        )
        outside = name in self.untrusted_tools or (
            name not in self.trusted_tools and not changes and bool(words & _OUTSIDE)
        )
        return _Role(acts, executes, outside)


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v) for v in value]
    return []


def _only_sender(text: str, needle: str) -> bool:
    """Whether every place ``text`` (lower-cased) holds the address ``needle`` names a sender."""
    at = text.find(needle)
    while at >= 0:
        if _SENDER.search(text, max(0, at - 160), at) is None:
            return False
        at = text.find(needle, at + len(needle))
    return True


def _raw(text: str) -> str:
    return text


def _lower(text: str) -> str:
    return text.lower()


def _squeezed(text: str) -> str:
    return _SEPARATORS.sub("", text)


# A text a stranger could have written: its path, the text, its trust, and for a tool result
# the index of the call that returned it (-1 otherwise).
_Source = tuple[str, str, Trust, int]
_UNTRUSTED, _UNKNOWN, _TRUSTED = Trust.untrusted, Trust.unknown, Trust.trusted


class _Innocent:
    """What the user, the operator and the system's own data said; views made only if needed."""

    def __init__(self, record: InteractionIn, internal: Sequence[int]) -> None:
        self._record = record
        self._internal = internal  # indexes of calls with trusted or internal results
        self._views: dict[object, str] = {}
        self._results: dict[tuple[int, object], tuple[str, str]] = {}

    def contains(self, needle: str, view: Callable[[str], str], before: int) -> bool:
        """Whether an innocent text holds ``needle``; results only of calls before ``before``."""
        text = self._views.get(view)
        if text is None:
            r = self._record
            parts = [r.instructions]
            parts += [m.content for m in r.messages if m.role in ("user", "system", "developer")]
            parts += [d.content for d in r.retrieval if d.trust is _TRUSTED]
            text = self._views[view] = view("\n\x00\n".join(p for p in parts if p))
        if needle in text:
            return True
        for i in self._internal:
            if i >= before:
                break
            seen = self._results.get((i, view))
            if seen is None:
                call = self._record.tool_calls[i]
                seen = self._results[(i, view)] = (view(call.result), view(call.arguments))
            result, arguments = seen
            # A result that repeats its own call's argument says nothing about where it came from.
            if needle in result and needle not in arguments:
                return True
        return False


@dataclass(slots=True)
class _Taint:
    kind: str  # url, email, account, path, verbatim
    value: str
    source: str  # path of the untrusted text it came from
    destination: bool  # where the action goes, not just text passed on


def _strings(value: Any, key: str | None) -> Iterator[tuple[str | None, str]]:
    """Every string inside a parsed JSON value with the name of the member that holds it."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from _strings(item, str(k))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield key, str(value)


def argument_values(arguments: str) -> list[tuple[str | None, str]]:
    """(member name, text) for every string value of JSON arguments; else (None, the text)."""
    text = arguments.strip()
    if text[:1] in ("{", "["):
        try:
            return [(k, s) for k, s in _strings(json.loads(text), None) if s]
        except ValueError:
            pass
    return [(None, arguments)]


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

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # By the configuration object's identity (configs are long-lived and cached, and hold
        # dicts, so cannot be hashed); the object is kept so that its id is not reused.
        self._profiles: dict[int, tuple[SystemConfig, _Profile]] = {}

    def patterns(self) -> Sequence[Pattern]:
        return ()

    def profile(self, config: SystemConfig) -> _Profile:
        seen = self._profiles.get(id(config))
        if seen is not None and seen[0] is config:
            return seen[1]
        profile = _Profile(config)
        with self._lock:
            if len(self._profiles) >= _MAX_CONFIGS:
                self._profiles.clear()  # configs are replaced every few seconds: drop the old
            self._profiles[id(config)] = (config, profile)
        return profile

    def inspect(
        self,
        record: InteractionIn,
        fields: Sequence[TextField],
        matches: Sequence[Match],
        config: SystemConfig,
    ) -> list[Finding]:
        if not record.tool_calls:
            return []
        profile = self.profile(config)
        findings: list[Finding] = []
        unlisted: dict[str, list[int]] = {}
        refs: list[ToolRef | None] = []
        for i, call in enumerate(record.tool_calls):
            ref = profile.ref(call.name)
            refs.append(ref)
            if ref is None:
                if not profile.allow_unlisted:
                    unlisted.setdefault(call.name, []).append(i)
                continue
            if ref.destructive and (call.approval is None or call.approval.status != "approved"):
                findings.append(self._destructive(i, call))
        for name, calls in unlisted.items():
            findings.append(self._unlisted(name, calls, record, config))
        findings.extend(self._taint(record, refs, profile))
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
        self, record: InteractionIn, refs: Sequence[ToolRef | None], profile: _Profile
    ) -> list[Finding]:
        calls = record.tool_calls
        roles = [profile.role(c.name) for c in calls]
        # Most interactions only look things up: nothing to check.
        acting = [
            j for j, (c, r) in enumerate(zip(calls, roles, strict=True)) if r.acts and c.arguments
        ]
        if not acting:
            return []
        # Plain tuples, not objects: this runs for every interaction that acts.
        untrusted: list[_Source] = []
        for i, d in enumerate(record.retrieval):
            if d.content and d.trust is _UNTRUSTED:
                untrusted.append((f"retrieval[{i}].content", d.content, d.trust, -1))
        for i, m in enumerate(record.messages):
            if m.role == "tool" and m.content and m.name and profile.role(m.name).outside:
                untrusted.append((f"messages[{i}].content", m.content, _UNKNOWN, -1))
        internal: list[int] = []
        for i, c in enumerate(calls[: acting[-1]]):  # later results can shape no checked call
            if not c.result:
                continue
            trust = c.result_trust
            if trust is _UNTRUSTED or (trust is _UNKNOWN and roles[i].outside):
                untrusted.append((f"tool_calls[{i}].result", c.result, trust, i))
            else:
                internal.append(i)
        if not untrusted:
            return []
        innocent = _Innocent(record, internal)
        findings: list[Finding] = []
        for j in acting:
            call, role = calls[j], roles[j]
            # A result can only have shaped the arguments of calls made after it.
            sources = [s for s in untrusted if s[3] < j]
            if not sources:
                continue
            taints = self._taints(call.arguments, j, role, sources, innocent, profile.min_length)
            if taints:
                findings.append(self._tainted(j, call, refs[j], taints, sources))
        return findings

    def _taints(
        self,
        arguments: str,
        index: int,
        role: _Role,
        sources: Sequence[_Source],
        innocent: _Innocent,
        min_length: int,
    ) -> list[_Taint]:
        taints: list[_Taint] = []
        # Lower-cased and squeezed copies of each source, made once and only when needed.
        views: dict[tuple[int, Callable[[str], str]], str] = {}

        def stranger(needle: str, view: Callable[[str], str], kind: str) -> str | None:
            """The path of the untrusted source that holds ``needle`` when no innocent one does."""
            for i, (path, text, _, _) in enumerate(sources):
                seen = views.get((i, view))
                if seen is None:
                    seen = views[(i, view)] = view(text)
                if needle in seen:
                    if kind == "email" and _only_sender(seen, needle):
                        continue  # the author of that message: a reply goes back to them
                    return None if innocent.contains(needle, view, index) else path
            return None

        checked = 0
        for key, value in argument_values(arguments):
            kind_of = _arg_kind(key)
            # Anything in a command the tool runs is where it goes: a URL there is fetched.
            destination = kind_of.destination or role.executes
            found_here: list[_Taint] = []
            # Cheap tests say whether any shaped value can be there (most arguments hold none).
            digits = _DIGIT_RUN.search(value) is not None
            shaped = "://" in value or "@" in value or digits
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
                elif kind == "iban":
                    needle, view, kind = _SEPARATORS.sub("", found), _squeezed, "account"
                    if not iban_ok(needle):
                        continue
                else:
                    # A bare number is an account or a phone only where the argument says so;
                    # elsewhere it is an order, invoice or claim number being worked on.
                    needle, view, kind = _SEPARATORS.sub("", found), _squeezed, "account"
                    if not kind_of.number or _DATE.match(needle):
                        continue
                path = stranger(needle, view, kind)
                if path is not None:
                    found_here.append(_Taint(kind, found, path, destination))
            if kind_of.path and "://" not in value and _PATH.fullmatch(value.strip()):
                path = stranger(value.strip(), _raw, "path")
                if path is not None:
                    found_here.append(_Taint("path", value.strip(), path, True))
            if found_here:
                taints.extend(found_here)
                # A planted address is one taint, not also a "verbatim" stretch of itself.
                for t in found_here:
                    value = value.replace(t.value, "\x00")
            if role.executes and len(value) >= min_length:
                taints.extend(self._verbatim(value, index, sources, innocent, min_length))
        # One taint per value and kind is enough to explain the finding.
        unique: dict[tuple[str, str], _Taint] = {}
        for t in taints:
            unique.setdefault((t.kind, t.value), t)
        return list(unique.values())

    @staticmethod
    def _verbatim(
        value: str, index: int, sources: Sequence[_Source], innocent: _Innocent, min_length: int
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
                    and not innocent.contains(stretch, _raw, index)
                ):
                    found.append(_Taint("verbatim", stretch, path, False))
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
        # The most telling value first: a destination, then a shaped value, then text.
        top = min(taints, key=lambda t: (not t.destination, t.kind == "verbatim"))
        start = call.arguments.find(top.value)
        end = start + len(top.value) if start >= 0 else None
        trust: Mapping[str, str] = {s[0]: s[2].value for s in sources}
        destructive = ref is not None and ref.destructive
        to_destination = any(t.destination for t in taints)
        severity = "SEV2" if destructive or to_destination else "SEV3"
        kinds = sorted({t.kind for t in taints})
        return Finding(
            detector=DETECTOR_ID,
            rule=f"{DETECTOR_ID}.tainted_arguments",
            title=f"Arguments of tool {call.name!r} carry a value that only untrusted content gave",
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
                "destination": to_destination,
                "kinds": kinds,
                "taints": [
                    {
                        "kind": t.kind,
                        "length": len(t.value),
                        "source": t.source,
                        "trust": trust.get(t.source),
                        "destination": t.destination,
                    }
                    for t in taints[:20]
                ],
            },
        )


DETECTOR = ToolMisuse()
