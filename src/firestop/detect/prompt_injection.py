"""Direct and indirect prompt injection, scored so that text *about* injection does not fire.

Where it looks. The user's messages are checked for *direct* attempts (rule
``prompt_injection.direct``); retrieved documents and tool results — text the model reads but
that someone other than the user or the operator may have written — for *indirect* ones
(``prompt_injection.indirect``). System instructions, earlier model turns and the output are not
checked: the operator wrote the first, and the others are the model's own words.

How it decides. Each pattern that matches is a *cue* of a *family* (instruction override,
jailbreak persona, system-prompt extraction, fake chat-template delimiters, role headers, "new
instructions", text addressed to an AI, concealment from the user, exfiltration requests,
markdown-image exfiltration, hidden characters). A cue's weight depends on its family and on
whether the field is direct or indirect (text addressed "to the AI" is normal in a user's
message and suspicious in a web page). Its context then adjusts it:

* negated ("never ignore previous instructions", "do not reveal your system prompt"): −3
* after an override, a phrase that makes it defensive or the user's own ("ignore any
  instructions *in the document*", "ignore the previous instructions *I gave you*"): −3
* quoted or in inline code ("attackers write 'ignore previous instructions'"): −2
* discussion vocabulary within 200 characters in the same paragraph ("prompt injection",
  "attackers", "for example", "such as", "said" …): −2 — unless the cue is hidden, because
  nobody hides a lesson; a question about the phrase itself ("what is 'ignore …'"): −1.5
* inside a fenced code block: −1.5
* an override reported in the infinitive ("the customer asked us *to disregard* the earlier
  delivery instructions"; "I want you to …" still counts): −1.5
* at the start of a sentence or line, where an imperative stands: +0.5
* text addressed to an AI followed by a directive in the same sentence ("AI agents: *send* …"),
  or role headers staging a conversation with a privileged turn ("### System: … ### User:"): +1
* inside hidden HTML (a comment, ``display:none``, white or zero-size text): +1
* decoded from Unicode tag characters, found only once invisible characters are removed, or
  spelled with look-alike Cyrillic or Greek letters inside Latin words: +1

Hidden characters are cues of their own: tag characters that spell text, runs of eight or more
invisible characters, a bidi override in text with no right-to-left script. Zero-width joiners
inside emoji or between letters of scripts that use them, right-to-left marks in Hebrew or
Arabic text, a leading byte-order mark and the tag sequences of subdivision flags are not.

A field's score takes the strongest cue of each family, strongest family first, and adds them
with halving weights (w1 + w2/2 + w3/4 …): one strong cue suffices, several weak ones add up
slowly, and a lesson that lists five attack phrases with discussion around them stays below the
threshold. The field fires at ``threshold`` (setting, default 3). Every cue, its adjustments and
the resulting score are in the finding's ``detail``.

Severity hint. Direct: SEV4 (an attempt; trended), SEV3 when the interaction also called a tool.
Indirect: SEV3 from an untrusted or unknown source, SEV4 from a trusted one; one level higher when
a tool call follows it (the agent may have acted on it).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from firestop.detect.base import Finding, Match, Pattern, Source, SystemConfig, TextField
from firestop.ledger.schemas import InteractionIn, Trust

DETECTOR_ID = "prompt_injection"

# Whitespace between words. Python's \s also takes the no-break spaces of pasted text and web
# pages; the regexes with spaces in them run in Python (see _Spec.trigger).
_WS = r"\s+"
_APOS = "['\u2019]"

# Characters a reader does not see: zero-width, bidi controls, invisible operators, the BOM and
# the Unicode tag block (which maps ASCII one-to-one, so whole sentences can hide in it).
_INVISIBLE_CLASS = (
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)


def _w(regex: str) -> str:
    """A pattern written with " " meaning some whitespace, " ?" perhaps some, and "'" either
    apostrophe; inside a character class every character keeps its literal meaning."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            out.append(regex[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
            out.append(c)
        elif c == "[":
            in_class = True
            out.append(c)
            if regex[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if regex[i + 1 : i + 2] == "]":  # a leading "]" is literal
                out.append("]")
                i += 1
        elif c == " " and regex[i + 1 : i + 2] == "?":
            out.append(r"\s*")
            i += 1
        elif c == " ":
            out.append(_WS)
        elif c == "'":
            out.append(_APOS)
        else:
            out.append(c)
        i += 1
    return "".join(out)


_OVERRIDE_VERB = r"(?:ignore|disregard|forget|override|overrule|bypass|neglect|discard|set aside)"
_OVERRIDE_VERB_ANY = _OVERRIDE_VERB.replace(" ", r"\s+")
# Disjoint from _STRONG (which has "all"), so that no word can be read two ways: overlapping
# alternatives inside repeats would make Python backtrack exponentially on "all all all …".
_FILLER = r"(?:any|every|each|of|the|these|those|and|or|,)"
_STRONG = (
    r"(?:previous|previously|prior|above|earlier|preceding|foregoing|former|original|initial"
    r"|existing|system|developer|safety|hidden|old|your|standing|current|given|aforementioned"
    r"|all)"
)
# The qualifiers that make "ignore … instructions" an override on their own; "all" alone
# ("ignore all rules") is weaker: people say it of games and kids.
_STRONG_ONLY = re.compile(_STRONG.replace("|all)", ")"), re.IGNORECASE)
_RULES = (
    r"(?:instructions?|prompts?|directions?|directives?|rules|guidelines|guardrails|constraints"
    r"|commands?|programming|restrictions|polic(?:y|ies)|guidance|training)"
)
_AI = (
    r"(?:AI|A\.I\.|LLM|GPT|ChatGPT|Claude|Gemini|Copilot|AI assistant|AI agent|AI model"
    r"|language model|large language model)"
)
_AI_LOOSE = (
    r"(?:AI|LLM|GPT|ChatGPT|Claude|Gemini|Copilot|assistant|chat ?bot|bot|agent"
    r"|language model|model)"
)


# A Cyrillic or Greek letter touching a Latin one: "ignоre" spelled with a Cyrillic "о" reads
# the same and slips past word filters. Benign text almost never mixes scripts inside a word.
_CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁһԛԝАВЕКМНОРСТХІЈЅοαειϲκνρτυχΑΒΕΗΙΚΜΝΟΡΤΥΧΖ",
    "aeopcyxijsdhqwABEKMHOPCTXIJSoaeickvptuxABEHIKMNOPTYXZ",
)
_MIXED_SCRIPT = "[A-Za-z][\u0370-\u03ff\u0400-\u04ff]|[\u0370-\u03ff\u0400-\u04ff][A-Za-z]"


@dataclass(slots=True, frozen=True)
class _Spec:
    """A cue's exact regex, and the cheap trigger that the shared scanner looks for instead.

    Hyperscan needs minutes to compile some exact regexes (bounded gaps, nested repeats of word
    lists), so a spec with a ``trigger`` hands the scanner a simpler superset — keywords and an
    unbounded gap — and the exact regex then runs in Python only around a trigger's match,
    ``reach`` characters before and after it. A spec without a trigger is scanned as it is.
    """

    name: str
    family: str
    regex: str
    caseless: bool = True
    trigger: str | None = None
    reach: tuple[int, int] = (0, 0)


_SPECS: tuple[_Spec, ...] = (
    _Spec(
        "override",
        "override",
        _w(
            rf"\b{_OVERRIDE_VERB}(?: {_FILLER}){{0,3}} {_STRONG}(?: (?:{_FILLER}|{_STRONG})){{0,3}}"
            rf"(?: [\w-]+)? {_RULES}\b"
        ),
        trigger=rf"\b{_OVERRIDE_VERB_ANY}\b",
        reach=(0, 160),
    ),
    _Spec(
        "override_loose",
        "override",
        _w(
            r"\b(?:ignore|disregard|forget) (?:(?:all|everything) )?(?:of )?(?:(?:the|that|what) )?"
            r"(?:above|(?:you (?:were|have been|'ve been) )?(?:told|said|instructed|given) "
            r"(?:before|above|earlier|previously))\b"
            r"|\bforget everything (?:you (?:know|were told|have been told)|above|before)\b"
        ),
        trigger=r"\b(?:ignore|disregard|forget)\b",
        reach=(0, 120),
    ),
    _Spec(
        "override_i18n",
        "override",
        _w(
            r"\bignora(?:r)? (?:todas )?(?:las )?instrucciones (?:anteriores|previas)"
            r"|\bignore[rz]? (?:toutes )?(?:les )?instructions (?:précédentes|antérieures)"
            r"|\bignorier(?:e|en)? (?:alle )?(?:vorherigen|bisherigen|obigen|vorigen) "
            r"(?:Anweisungen|Instruktionen|Befehle)"
            r"|\bignora (?:tutte )?(?:le )?istruzioni precedenti"
            r"|\bignore (?:todas )?(?:as )?instruções anteriores"
        ),
    ),
    _Spec(
        "persona",
        "jailbreak",
        _w(
            r"\byou(?:'re| are) (?:now |going to be |to act as |acting as )(?:(?:an?|the|in|my) )?"
            r"(?:developer mode|dev mode|god mode|jailbr(?:oken|eak)|unrestricted|unfiltered"
            r"|uncensored|unchained|unbound|evil|amoral|free from|freed from|no longer (?:bound"
            r"|restricted|limited|an? (?:AI|assistant|language model)|ChatGPT|Claude))"
            r"|\byou(?:'re| are) no longer (?:an? )?(?:AI|assistant|AI assistant|language model"
            r"|ChatGPT|Claude|bound|restricted|limited)\b"
            # Phones, browsers and Windows have a real developer mode: only the AI-flavoured
            # modes count when switched on, and developer mode when it changes what "you" do.
            r"|\b(?:god|jailbreak|unrestricted|sudo|DAN) mode (?:is )?(?:now )?"
            r"(?:enabled|activated|on|engaged|unlocked)\b"
            r"|\b(?:enable|activate|enter|switch to|turn on|unlock) (?:the )?"
            r"(?:god|jailbreak|unrestricted|sudo) mode\b"
            r"|\bin (?:developer|dev|god|jailbreak|DAN|unrestricted) mode,? you (?:can|will|must"
            r"|answer|respond|are|have|should|do|ignore)\b"
            r"|\bas (?:an? |my )?(?:unfiltered|unrestricted|uncensored|amoral|unethical"
            r"|evil|jailbroken|rogue|unaligned) (?:AI|assistant|model|chat ?bot|language model"
            r"|version)\b"
            r"|\bpretend (?:that )?(?:you (?:have|are under|are not bound by)|there are) no "
            r"(?:restrictions|rules|limits|limitations|filters|guidelines|content polic(?:y|ies)"
            r"|safety (?:rules|guidelines))(?! (?:on|for|about|in|to|at)\b)"
        ),
    ),
    # DAN is a name too ("you are now Dan's manager"): only the capitalised persona counts.
    _Spec(
        "dan",
        "jailbreak",
        _w(
            r"\b(?:[Yy]ou (?:are|'re) (?:now )?|[Aa]ct as |[Bb]ecome |[Pp]retend to be )DAN\b"
            r"|\bDAN [Mm]ode\b|\b[Dd]o [Aa]nything [Nn]ow\b"
        ),
        caseless=False,
    ),
    _Spec(
        "bypass_safety",
        "jailbreak",
        _w(
            r"\b(?:ignore|bypass|disable|turn off|remove|circumvent|evade|drop) (?:all )?"
            r"(?:(?:your|of your) (?:(?:safety|content|ethical|moral) )?"
            r"(?:filters?|guardrails|safeguards|restrictions|content polic(?:y|ies)|censorship"
            r"|alignment|ethics)"
            r"|(?:the |any )?(?:safety|ethical|moral) (?:filters?|guardrails|safeguards"
            r"|restrictions|polic(?:y|ies)))\b"
        ),
        # Bounded word gaps keep Python linear on hostile text (an unbounded gap rescans the
        # rest of the line from every verb) and still compile quickly in Hyperscan.
        trigger=r"\b(?:ignore|bypass|disable|turn\s+off|remove|circumvent|evade|drop)"
        r"(?:\s+[\w,'"
        "\u2019"
        r"-]+){0,6}?\s+(?:filters?|guardrails|safeguards|restrictions"
        r"|polic(?:y|ies)|censorship|alignment|ethics)\b",
    ),
    _Spec(
        "reveal",
        "reveal",
        _w(
            r"\b(?:print|reveal|show|display|output|repeat|recite|dump|leak|tell me|give me|share"
            r"|write out|type out|spell out|return|echo|expose|disclose|copy|paste|provide|send me)"
            r"(?: (?:me|us|back|out|all|exactly|verbatim|word for word|of|everything in"
            r"|the contents of|the text of))* (?:your|the|this|its) "
            r"(?:(?:full|entire|complete|exact|original|initial|hidden|secret|internal|underlying"
            r"|first|actual|raw|verbatim|current|confidential) )*"
            r"(?:system (?:prompt|message|instructions?)|(?:initial|original|hidden|secret"
            r"|internal|developer) (?:prompt|instructions)|pre-?prompt|meta ?prompt"
            r"|instructions (?:above|you were given|you received)"
            r"|(?:prompt|instructions|text|words) above)\b"
            r"|\brepeat (?:the |all )?(?:words|text|everything|all) (?:above|before this"
            r"|from the (?:beginning|start))\b"
        ),
        # The object is the rare part; the verb stands up to a few words before it.
        trigger=r"\b(?:system\s+(?:prompt|message|instructions?)|(?:initial|original|hidden"
        r"|secret|internal|developer)\s+(?:prompt|instructions)|pre-?prompt|meta\s*prompt"
        r"|(?:instructions|prompt|text|words|everything|all)\s+(?:above|before\s+this"
        r"|from\s+the\s+(?:beginning|start))|instructions\s+you\s+(?:were\s+given|received))\b",
        reach=(120, 10),
    ),
    _Spec(
        "reveal_question",
        "reveal",
        _w(
            r"\bwhat your (?:(?:full|exact|original|initial|hidden|secret|internal|system) )*"
            r"(?:system prompt|system message|instructions|prompt|rules)\b"
            r"|\bwhat(?:'s| is| are| was| were) (?:your|the) (?:(?:full|exact|original|initial"
            r"|hidden|secret|internal) )*(?:system prompt|system message|system instructions"
            r"|(?:initial|original|hidden|secret) instructions)\b"
        ),
    ),
    _Spec(
        "template_token",
        "delimiter",
        r"<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|start_header_id"
        r"|end_header_id|begin_of_text|end_of_text)\|>|\[/?INST\]|<</?SYS>>"
        r"|<(?:start|end)_of_turn>|</s>\s*<s>",
        caseless=False,
    ),
    _Spec(
        "role_header",
        "delimiter",
        r"(?:(?<![^\n])|(?<=\\n)|(?<=[\"'])|(?<=\] ))[ \t]*(?:#{1,6}[ \t]*|\*\*|__|\[|<)?"
        r"(?:system|assistant|developer|admin(?:istrator)?|root|sudo|operator|human|user|AI)"
        r"(?:[ \t_-]+(?:prompt|message|instructions?|override|note|update|command|notice"
        r"|alert))?"
        r"[ \t]*(?:(?:\*\*|__|\]|>)[ \t]*)?:"
        r"|</?(?:system|system_prompt|system-prompt|instructions|admin)>",
    ),
    _Spec(
        "void_rules",
        "override",
        _w(
            r"\b(?:your|the|all|any|previous|prior|earlier|original|above|old|existing|safety"
            r"|system)(?: (?:previous|prior|earlier|original|above|old|existing|safety|system"
            r"|content))* (?:instructions|rules|guidelines|restrictions|directives|prompts?"
            r"|policies|guardrails|filters) (?:(?:are|were|have been|has been|is) )?(?:now )?"
            r"(?:outdated|void|null|cancel+ed|revoked|obsolete|suspended|lifted|disabled"
            r"|deactivated|no longer (?:valid|apply|applicable|in effect|active)|superseded"
            r"|replaced|overridden|removed)\b"
        ),
        trigger=r"\b(?:instructions|rules|guidelines|restrictions|directives|prompts?|policies"
        r"|guardrails|filters)\s+(?:(?:are|were|have\s+been|has\s+been|is)\s+)?(?:now\s+)?"
        r"(?:outdated|void|null|cancel+ed|revoked|obsolete|suspended|lifted|disabled|deactivated"
        r"|no\s+longer|superseded|replaced|overridden|removed)\b",
        reach=(60, 30),
    ),
    _Spec(
        "fake_boundary",
        "boundary",
        r"\[(?:END|BEGIN|START) OF (?:DOCUMENT|CONTEXT|INPUT|DATA|TEXT|EMAIL|PAGE|CONVERSATION"
        r"|SEARCH RESULTS?|USER INPUT|SYSTEM PROMPT)\]"
        r"|(?<!-)-{3,} ?(?:END|BEGIN) OF (?:DOCUMENT|CONTEXT|INPUT|SYSTEM PROMPT) ?-{3,}",
        caseless=False,
    ),
    _Spec(
        "new_instructions",
        "new_instructions",
        _w(
            r"\b(?:new|updated|revised|real|actual|true|additional|secret|hidden|override|priority"
            r"|urgent) (?:system (?:prompt|instructions?)|instructions?|directives?|orders"
            r"|objectives?|task)"
            rf"(?: (?:for|to) (?:the )?{_AI_LOOSE}| from (?:the |your )?(?:system|admin\w*"
            r"|developer|operator|owner|security team|IT)(?: \w+)?)?[\t\x20]*(?::|--? |follow"
            "|\u2014)"
            r"|\byour (?:new|real|true|actual|only|primary|updated) (?:task|goal|objective"
            r"|instructions?|purpose|role|job|mission|directive) (?:is|are|will be|now is)\b"
            r"|\bfrom now on,? (?:you|your|respond|reply|answer|only|always|never|act|behave"
            r"|ignore)\b"
            r"|\b(?:instead|rather),? (?:you (?:must|should|will) )?(?:respond|reply|say|output"
            r"|write|print|answer) (?:only|exactly)\b"
        ),
    ),
    _Spec(
        "addressed",
        "addressed",
        _w(
            r"\b(?:note|message|instructions?|attention|important|reminder|notice|directive"
            rf"|request|warning)s? (?:to|for) (?:the |any |all |every )?{_AI_LOOSE}s?\b"
            r"|\b(?:if|when) you are (?:an? |the )?(?:AI|LLM|GPT|large language model"
            r"|language model|AI (?:assistant|model|agent)|chat ?bot|automated (?:system|agent"
            r"|assistant)|bot)\b"
            rf"|\b(?:dear|hey|hi|hello|attention|attn) {_AI_LOOSE}s?\b"
            rf"|(?<![^\n.!?>\"',;])[\t\x20>*#-]{{0,8}}(?:(?:the|dear|to the) )?{_AI}s?"
            r"[\t\x20]{0,4}[:,]"
            r"|\b(?:to|for) (?:any|all|the|every) (?:AI|LLM|GPT|assistant|agent|language model"
            r"|AI model|model|bot|crawler)s? (?:reading|processing|parsing|summari[sz]ing"
            r"|analy[sz]ing|viewing|crawling|indexing|that (?:reads?|process(?:es)?"
            r"|summari[sz]es?))\b"
            rf"|\b{_AI_LOOSE}s? (?:reading|reads|processing|processes|summari[sz]ing"
            r"|summari[sz]es|analy[sz]ing|analy[sz]es|sees) (?:this|these|the following)\b"
            r"|\b(?:(?:the|this|any|all|every) )?(?:AI|LLM|GPT|ChatGPT|Claude|Gemini|Copilot"
            r"|AI assistant|AI agent|AI model|language model)s? (?:must|should|will|shall|is to"
            r"|are to|needs? to|has to|have to)\b"
            r"|\b(?:the|this|any|all|every) (?:assistant|chat ?bot)s? (?:must|should|will|shall"
            r"|is to|are to|needs? to|has to|have to)\b"
            # Spoken to, with a comma: transcripts write "Assistant:" instead.
            r"|(?<![^\n.!?>\"'])[\t\x20>*#-]{0,8}(?:assistant|chat ?bot), "
        ),
    ),
    _Spec(
        "conceal",
        "conceal",
        _w(
            r"\b(?:ignore|disregard) (?:what |anything |everything )?(?:the |this )?user"
            r"(?:'s)?(?: (?:says|said|asks?|asked|wants|requests?|questions?|instructions?"
            r"|messages?|query|prompt))?\b"
            r"|\b(?:do not|don't|never|without) (?:(?:tell(?:ing)?|inform(?:ing)?|notify(?:ing)?"
            r"|alert(?:ing)?|warn(?:ing)?) (?:the )?(?:user|human|customer|recipient)\b"
            r"|let(?:ting)? (?:the )?(?:user|human) (?:know|see|find out|notice)\b)"
            r"|\b(?:do not|don't|never) (?:mention|reveal|disclose|show) (?:this|these|that|it"
            r"|any of this)(?: instructions?| message| note)? to (?:the )?(?:user|human)\b"
            r"|\b(?:the )?user (?:must|should|does|need|will) (?:not|never) (?:know|see|be told"
            r"|find out|notice|learn)\b"
            r"|\bkeep (?:this|it) (?:a )?secret from (?:the )?user\b"
            r"|\bwithout (?:the )?(?:user|human)(?:'s)? (?:knowledge|knowing|noticing|consent"
            r"|approval|permission|awareness)\b"
        ),
    ),
    _Spec(
        "exfil",
        "exfil",
        _w(
            r"\b(?:send|forward|e-?mail|post|upload|transmit|exfiltrate|leak|copy|submit|append"
            r"|include|embed|encode)(?: (?:all|the|this|that|these|their|his|her|its|any|every"
            r"|full|entire|complete|user's|users'|customer's|private|personal|confidential"
            r"|sensitive|previous|current|whole|of|customer|client|user|employee|patient|company"
            r"|account|internal))* (?:conversation|chat|history|messages?"
            r"|data|credentials?|passwords?|api[\x20_-]?keys?|tokens?|secrets?|emails?|files?"
            r"|documents?|contents?|details|information|info|context|inbox|contacts|records"
            r"|session|cookies?|summary|list|lists|database|numbers|addresses|logs|reports?"
            r"|transcripts?|notes|results)\b[^.\n]{0,80}?\b(?:to|into|in|at|via|using) "
            r"(?:https?://|www\.|[\w.+-]+@[\w-]+\.|the (?:following|url|link|address|endpoint"
            r"|server|webhook|image)|this (?:url|link|address|endpoint)|my (?:server|email"
            r"|endpoint))"
        ),
        trigger=r"\b(?:send|forward|e-?mail|post|upload|transmit|exfiltrate|leak|copy|submit"
        r"|append|include|embed|encode)(?:\s+\S+){0,16}?\s+(?:to|into|in|at|via|using)\s+(?:https?://"
        r"|www\.|[\w.+-]+@[\w-]+\.|the\s+(?:following|url|link|address|endpoint|server|webhook"
        r"|image)|this\s+(?:url|link|address|endpoint)|my\s+(?:server|email|endpoint))",
    ),
    _Spec(
        "markdown_image",
        "exfil_image",
        # The part before "?" cannot contain one, so Python never backtracks over a long URL.
        # Each part stops at a character the next cannot start with (alt text at "[", a tag at
        # "<", the URL at "?"), so Python never rescans: linear on hostile input.
        r"!\[[^\]\[\n]*\]\(\s*<?https?://[^\s)>?]+\?[^\s)>]*\)"
        r"|<img\b[^<>]*?\bsrc\s*=\s*[\"']?https?://[^\s\"'<>?]+\?[^\s\"'<>]*",
    ),
    _Spec("hidden_chars", "hidden_text", _INVISIBLE_CLASS + "+", caseless=False),
    _Spec("mixed_script", "hidden_text", _MIXED_SCRIPT, caseless=False),
    _Spec(
        "hidden_comment",
        "hidden_html",
        r"<!--[\s\S]{0,2000}?-->",
        trigger=r"<!--",
        reach=(0, 2010),
    ),
    _Spec(
        "hidden_html",
        "hidden_html",
        r"\bstyle\s*=\s*[\"'][^\"'<>]*?(?:display\s*:\s*none|visibility\s*:\s*hidden"
        r"|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?(?![\d.])|opacity\s*:\s*0(?:\.0+)?(?![\d.])"
        r"|(?<![-\w])color\s*:\s*(?:#f{3}(?:f{3})?\b|white\b|rgba?\(\s*255\s*,\s*255\s*,\s*255)"
        r"|(?:left|top|text-indent)\s*:\s*-\d{3,})"
        r"|<[a-z][a-z0-9]*\b[^<>]*?\shidden(?=[\s>/=])",
    ),
)

_FAMILY = {s.name: s.family for s in _SPECS}
_BY_NAME = {s.name: s for s in _SPECS}
# Python-side copies for scanning decoded or cleaned text (rare; the shared scanner does fields).
_EXACT = {s.name: re.compile(s.regex, re.IGNORECASE if s.caseless else 0) for s in _SPECS}
# What decoded or cleaned text is scanned for: the cues that carry words.
_COMPILED = tuple(
    (name, rx) for name, rx in _EXACT.items() if _FAMILY[name] not in ("hidden_text", "hidden_html")
)
# A field with thousands of trigger words is hostile or degenerate: past this many per pattern
# the rest are not searched (the finding says so), which bounds the work on any input.
_MAX_TRIGGERS = 200
_FENCE = re.compile("```")
_MAX_DECODED = 4096  # tag characters decoded and searched per run

# Base weights, (direct, indirect). Text addressed to "the AI" or hiding from "the user" is what a
# user's own message normally does or cannot mean; in a document it is the signature of injection.
_WEIGHTS: dict[str, tuple[float, float]] = {
    "override": (3.0, 3.0),
    "override_loose": (2.0, 2.5),
    "override_i18n": (3.0, 3.0),
    "persona": (3.0, 3.0),
    "dan": (3.0, 3.0),
    "bypass_safety": (2.5, 2.5),
    "reveal": (3.0, 3.0),
    "reveal_question": (2.5, 2.5),
    "template_token": (3.0, 3.0),
    "role_header": (1.5, 1.5),
    "new_instructions": (2.0, 2.5),
    "void_rules": (2.0, 2.0),
    "fake_boundary": (2.0, 2.0),
    "addressed": (0.5, 2.0),
    "conceal": (1.0, 2.5),
    "exfil": (1.0, 2.0),
    "markdown_image": (0.5, 1.0),
}

_NEGATED = re.compile(
    _w(
        r"\b(?:do not|don't|never|shouldn't|should not|must not|mustn't|won't|will not|cannot"
        r"|can't|refuse to|not to|no one should|nobody should)(?: \w+){0,2} ?$"
    ),
    re.IGNORECASE,
)
_INFINITIVE = re.compile(r"(?<!\byou )\bto\s+$", re.IGNORECASE)
_DEFENSIVE_TAIL = re.compile(
    _w(
        r"^ (?:that (?:appear|are|come|you find)|in|inside|within|contained|embedded|found|from"
        r"|coming from) (?:in |within |inside )?(?:the |this |that |any |a |an )?"
        r"(?:\w+ ){0,2}(?:document|email|e-mail|page|web ?page|website|file|text|content|message"
        r"|input|data|results?|retrieved|tool|attachment|pdf|context)"
        # The user taking back their own earlier instructions in the same chat.
        r"|^ (?:(?:that|which) )?(?:I|we) (?:just )?(?:gave|sent|wrote|provided|mentioned|said"
        r"|discussed|agreed|set|made|used|posted|typed)\b|^ (?:from me|of mine)\b"
    ),
    re.IGNORECASE,
)
_DISCUSSION = re.compile(
    _w(
        r"(?<![@/.\w-])(?:prompt[\s-]*injections?|injection (?:attacks?|attempts?|payloads?)"
        r"|jailbreak(?:s|ing|ers?)|attack(?:s|ers?|ing)?|adversar\w*|malicious|exploit\w*"
        r"|examples?|e\.g\.|i\.e\.|for instance|such as|phrases? (?:like|such)|known as"
        r"|so[\s-]called|red[\s-]team\w*|researchers?|techniques?|vulnerabilit\w+|OWASP"
        r"|mitigat\w+|defen[cs]es?|defend\w*|safeguard\w*|security (?:training|awareness|team"
        r"|guide|policy|course)|awareness|quoted?|says|said|wrote|reported|hypothetical"
        r"|recogni[sz]e)(?![@\w-])"
    ),
    re.IGNORECASE,
)
# A question whose subject is the cue: "what is 'ignore previous instructions'?", "what does
# … mean". Requests that merely start with "how to" or "explain" are not discussion.
_QUESTION_BEFORE = re.compile(
    _w(r"\b(?:what(?:'s| is| are| does| do)|is|does|meaning of|definition of) ?[\"'`]?$"),
    re.IGNORECASE,
)
_SENTENCE_START = re.compile(
    _w(r"(?:^|[\n.!?:;>\])*#-]|\b(?:please|now|and|so|then|also|first|next|finally|ok|okay),?) ?$"),
    re.IGNORECASE,
)
_STRONG_DIRECTIVE = re.compile(
    _w(
        r"\b(?:ignore|disregard|send|forward|e-?mail (?:it|this|them|the)|transfer|exfiltrate"
        r"|upload|post (?:it|this|them|the)|include (?:the|this|a|all)|insert|append|embed"
        r"|secretly|covertly|silently|without (?:telling|informing|asking)|do not (?:tell"
        r"|mention|reveal|inform)|don't (?:tell|mention|reveal|inform)|never (?:mention|reveal"
        r"|tell)|you must|you should|you will|always recommend|recommend|instead|navigate to"
        r"|visit|click|call the|execute|run|delete|grant|approve|rank|rate|score|select|hire"
        r"|prioriti[sz]e|classify|say|tell|disclose|reveal|give|provide|share|respond|reply"
        r"|answer|write|output|state|claim|mention|mark|add|install|download|modify|change"
        r"|remove|create)\b"
    ),
    re.IGNORECASE,
)
_QUOTES = "\"'`\u2018\u2019\u201c\u201d\u00ab\u00bb\u201e"
_PLACEHOLDER = re.compile(
    r"[{}\[\]<>$]|%7[bBdD]|%5[bBdD]|%3[cCeE]"
    r"|\b(?:INSERT|DATA|SECRET|PASSWORD|TOKEN|CONVERSATION|HISTORY|SUMMARY|BASE64|ENCODED"
    r"|CONTEXT|MEMORY|CHAT|USER|EMAIL|NAME|INFO|PII)\b"
)
_SUSPICIOUS_KEY = re.compile(
    r"[?&](?:data|d|secret|leak|exfil|payload|conversation|conv|chat|history|memory|summary"
    r"|password|pwd|token|key|info|msg|message|q|content|text)=",
    re.IGNORECASE,
)
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_BIDI_OVERRIDE = frozenset("\u202d\u202e")
_BIDI_OTHER = frozenset("\u200e\u200f\u202a\u202b\u202c\u2066\u2067\u2068\u2069")
_JOINERS = frozenset("\u200c\u200d")
_PRIVILEGED_ROLES = frozenset(
    {"system", "admin", "administrator", "developer", "root", "sudo", "operator"}
)
_INVISIBLE = frozenset(
    chr(c)
    for lo, hi in (
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x2069),
        (0xFEFF, 0xFEFF),
        (0xE0000, 0xE007F),
    )
    for c in range(lo, hi + 1)
)
_TAG_FLAG = "\U0001f3f4"  # waving black flag: England, Scotland, Wales are spelled with tags


@dataclass(slots=True)
class Cue:
    pattern: str
    family: str
    start: int
    end: int
    weight: float
    notes: list[str] = field(default_factory=list)
    phrase: str = ""
    decoded: bool = False  # found in text decoded from tag characters, not in the field's text

    @property
    def score(self) -> float:
        return max(0.0, self.weight)

    def adjust(self, delta: float, note: str) -> None:
        self.weight += delta
        self.notes.append(f"{note} {delta:+g}")

    def as_detail(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "family": self.family,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 2),
            "adjustments": self.notes,
            "phrase": self.phrase,
        }


def visible(text: str, limit: int = 160) -> str:
    """Text safe to show: control and format characters removed, whitespace collapsed."""
    kept = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf") or c in "\n\t")
    kept = " ".join(kept.split())
    return kept if len(kept) <= limit else kept[: limit - 1] + "…"


def _opening_quote(before: str) -> bool:
    """Whether a quotation opened shortly before a cue and is still open (reported speech)."""
    tail = before[-20:]
    for i in range(len(tail) - 1, -1, -1):
        c = tail[i]
        if c in ".!?\n":
            return False
        if c in _QUOTES:
            # An apostrophe between letters is a contraction ("don't"), not a quotation mark,
            # and a quote after a JSON key ('"comment": "…') opens a value, not a quotation.
            prev = tail[i - 1 : i]
            if prev.isalpha() and c in "'\u2019":
                return False
            return not re.search(r"[\"']\s*:\s*$", before[: len(before) - len(tail) + i])
    return False


def _fences(text: str) -> list[int]:
    """Where the ``` fences are: a cue after an odd number of them is inside a code block."""
    return [m.start() for m in _FENCE.finditer(text)] if "```" in text else []


def _best_by_family(cues: Sequence[Cue]) -> dict[str, float]:
    best: dict[str, float] = {}
    for cue in cues:
        best[cue.family] = max(best.get(cue.family, 0.0), cue.score)
    return best


def _windows(
    spans: Sequence[tuple[int, int]], size: int, reach: int = 200
) -> list[tuple[int, int]]:
    """Merged windows of ``reach`` characters around the first spans: the text a disguise can
    have hidden a phrase in, searched again without going over a whole large field."""
    merged: list[list[int]] = []
    for start, end in spans[:_MAX_TRIGGERS]:
        lo, hi = max(0, start - reach), min(size, end + reach)
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def field_score(cues: Sequence[Cue]) -> float:
    """Strongest cue per family, strongest family first, added with halving weights."""
    best: dict[str, float] = {}
    for cue in cues:
        best[cue.family] = max(best.get(cue.family, 0.0), cue.score)
    ranked = sorted((s for s in best.values() if s > 0), reverse=True)
    return sum(s * 0.5**i for i, s in enumerate(ranked))


def _hidden_regions(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The character ranges of HTML a reader would not see, from the hidden_html matches."""
    regions: list[tuple[int, int]] = []
    for start, end in spans:
        if text.startswith("<!--", start):
            regions.append((start, end))
            continue
        # A style or attribute that hides: the region is the element it sits on.
        tag_start = text.rfind("<", max(0, start - 400), start + 1)
        name = re.match(r"<([a-zA-Z][a-zA-Z0-9]*)", text[tag_start:]) if tag_start >= 0 else None
        if name is None:
            regions.append((end, min(len(text), end + 1000)))
            continue
        close = text.lower().find(f"</{name.group(1).lower()}", end, end + 20_000)
        regions.append((tag_start, close if close >= 0 else min(len(text), end + 2000)))
    return regions


class PromptInjection:
    id = DETECTOR_ID

    def patterns(self) -> Sequence[Pattern]:
        return tuple(Pattern(s.name, s.trigger or s.regex, s.caseless) for s in _SPECS)

    def inspect(
        self,
        record: InteractionIn,
        fields: Sequence[TextField],
        matches: Sequence[Match],
        config: SystemConfig,
    ) -> list[Finding]:
        if not matches:
            return []
        threshold = float(config.setting(DETECTOR_ID, "threshold", 3.0))
        by_field: dict[int, list[Match]] = {}
        for m in matches:
            by_field.setdefault(m.field, []).append(m)
        findings: list[Finding] = []
        for index, field_matches in by_field.items():
            item = fields[index]
            if item.source is Source.user:
                direct = True
            elif item.source in (Source.retrieval, Source.tool_result):
                direct = False
            else:
                continue
            cues = self.cues(item.text, field_matches, direct=direct)
            score = field_score(cues)
            if score >= threshold:
                findings.append(self._finding(record, item, cues, score, threshold, direct))
        return findings

    # -- scoring ---------------------------------------------------------------------------

    def cues(self, text: str, matches: Sequence[Match], *, direct: bool) -> list[Cue]:
        """Every scored cue in one field (public for tests and for explaining a verdict)."""
        column = 0 if direct else 1
        exact = list(self._exact(text, matches))
        fences = _fences(text)
        hidden_spans = [(a, b) for name, a, b in exact if _FAMILY[name] == "hidden_html"]
        regions = _hidden_regions(text, hidden_spans) if hidden_spans else []
        cues: list[Cue] = []
        seen: set[tuple[str, int]] = set()
        for name, start, end in exact:
            if _FAMILY[name] == "hidden_html" or (name, start) in seen:
                continue
            seen.add((name, start))
            cue = self._cue(text, name, start, end, column)
            inside = any(a <= start and end <= b for a, b in regions)
            self._context(text, cue, fences, hidden="inside hidden HTML" if inside else None)
            cues.append(cue)
        self._fake_turns(cues)
        mixed = [(m.start, m.end) for m in matches if m.pattern == "mixed_script"]
        if mixed:
            cues.extend(self._homoglyphs(text, mixed, cues, column))
        runs = [(m.start, m.end) for m in matches if m.pattern == "hidden_chars"]
        if runs:
            cues.extend(self._invisible(text, runs, cues, column))
        return cues

    @staticmethod
    def _fake_turns(cues: list[Cue]) -> None:
        """Role headers that stage a conversation with a privileged turn in it."""
        roles: dict[str, Cue] = {}
        for cue in cues:
            if cue.pattern == "role_header":
                word = re.search(r"[a-z]+", cue.phrase.lower())
                if word:
                    roles.setdefault(word.group(0), cue)
        privileged = [r for r in roles if r in _PRIVILEGED_ROLES]
        if privileged and len(roles) >= 2:
            roles[privileged[0]].adjust(1.0, "staged conversation turns")

    @staticmethod
    def _exact(text: str, matches: Sequence[Match]) -> Iterator[tuple[str, int, int]]:
        """The exact matches: a trigger's are searched for around it, the others are exact.

        Overlapping windows of one pattern merge into one search, so a match is found once and
        no character is searched twice for the same pattern.
        """
        windows: dict[str, list[list[int]]] = {}
        counts: dict[str, int] = {}
        for m in matches:
            if m.pattern in ("hidden_chars", "mixed_script"):
                continue
            # Past the first matches of a pattern nothing new is learnt (a family scores its
            # strongest cue), and hostile text can hold tens of thousands.
            counts[m.pattern] = seen = counts.get(m.pattern, 0) + 1
            if seen > _MAX_TRIGGERS:
                continue
            spec = _BY_NAME[m.pattern]
            if spec.trigger is None:
                yield m.pattern, m.start, m.end
                continue
            spans = windows.setdefault(m.pattern, [])
            lo = max(0, m.start - spec.reach[0])
            hi = min(len(text), m.end + spec.reach[1])
            if spans and lo <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], hi)  # matches come in order of position
            else:
                spans.append([lo, hi])
        for name, spans in windows.items():
            for lo, hi in spans:
                for exact in _EXACT[name].finditer(text, lo, hi):
                    if exact.end() > exact.start():
                        yield name, exact.start(), exact.end()

    def _cue(self, text: str, pattern: str, start: int, end: int, column: int) -> Cue:
        phrase = text[start:end]
        weight = _WEIGHTS[pattern][column]
        if pattern == "reveal":
            weight = self._reveal_weight(phrase, text[end : end + 40], weight)
        elif pattern == "override" and not _STRONG_ONLY.search(phrase):
            weight -= 0.5  # "ignore all rules" is said of games too; an imperative still counts
        elif pattern == "reveal_question" and not re.search(r"\byour\b", phrase, re.I):
            weight -= 0.5  # "what is the system prompt?" is what people ask to learn
        elif pattern == "new_instructions" and re.search(r"\bsystem prompt\b", phrase, re.I):
            weight = 3.0  # only the operator sets a system prompt
        elif pattern == "new_instructions" and re.match(
            r"your \w+ (?:task|goal|objective|purpose|role|job|mission)\b", phrase, re.IGNORECASE
        ):
            weight = 1.5  # "your new task is …" is how people hand out work, too
        elif pattern == "void_rules" and re.match(r"your\b", phrase, re.IGNORECASE):
            weight = 3.0  # "your previous instructions are void" can only address the model
        elif pattern == "bypass_safety" and not re.search(r"\byour\b", phrase, re.IGNORECASE):
            weight -= 0.5
        elif pattern == "role_header":
            weight = self._role_weight(phrase)
        elif pattern == "new_instructions" and phrase.lower().startswith("from now on"):
            weight = 0.5 if column == 0 else 2.0  # users legitimately set styles for the chat
        elif pattern == "conceal" and re.search(
            r"\bwithout\b|customer|recipient", phrase, re.IGNORECASE
        ):
            weight = min(weight, 1.5)
        elif pattern == "markdown_image":
            weight = self._image_weight(phrase, column)
        cue = Cue(pattern, _FAMILY[pattern], start, end, weight, phrase=visible(phrase, 80))
        if pattern == "addressed" and column == 1:
            tail = text[end : end + 200]
            stop = re.search(r"[.!?\n](?:\s|$)", tail)
            if _STRONG_DIRECTIVE.search(tail[: stop.start() if stop else len(tail)]):
                cue.adjust(1.0, "followed by a directive")
        return cue

    @staticmethod
    def _reveal_weight(phrase: str, after: str, weight: float) -> float:
        p = phrase.lower()
        if p.startswith("repeat"):
            if re.search(
                r"\b(?:your|system|initial|instructions|prompt|everything|verbatim|word for word)"
                r"\b|starting with|beginning with",
                p + " " + after.lower(),
            ):
                return weight
            return 1.5  # "repeat the text above in Spanish": the previous answer, usually
        if not re.search(r"\b(?:your|secret|hidden|internal|initial|original|confidential)\b", p):
            return weight - 1.0  # "print the system prompt" may be a developer's own config
        return weight

    @staticmethod
    def _role_weight(phrase: str) -> float:
        p = phrase.strip().lower()
        if p.startswith("</") or (p.startswith("<") and p.endswith(">")):
            return 2.0
        word = re.search(r"[a-z]+", p)
        role = word.group(0) if word else ""
        qualified = re.search(
            r"\b(?:prompt|message|instructions?|override|note|update|command|notice|alert)\b", p
        )
        marked = p[:1] in "#*_[<"
        shouted = role in _PRIVILEGED_ROLES and role.upper() in phrase
        if role in ("human", "user", "ai", "assistant") and not qualified:
            return 1.0 if not marked else 1.5  # transcripts and FAQs use these innocently
        if qualified:
            return 2.5
        return 2.0 if marked or shouted else 1.5

    @staticmethod
    def _image_weight(phrase: str, column: int) -> float:
        query = phrase.split("?", 1)[1] if "?" in phrase else ""
        if _PLACEHOLDER.search(query):
            return 3.0 if column else 2.0
        if _SUSPICIOUS_KEY.search("?" + query):
            return 2.0 if column else 1.0
        return _WEIGHTS["markdown_image"][column]

    def _context(self, text: str, cue: Cue, fences: Sequence[int], *, hidden: str | None) -> None:
        start, end = cue.start, cue.end
        before = text[max(0, start - 60) : start]
        if _NEGATED.search(before):
            cue.adjust(-3.0, "negated")
        elif cue.family == "override" and _INFINITIVE.search(before):
            # "the customer asked us to disregard the earlier instructions" reports a wish;
            # "I want you to ignore …" still speaks to the model.
            cue.adjust(-1.5, "reported (infinitive)")
        if cue.family == "override" and _DEFENSIVE_TAIL.match(text[end : end + 80]):
            cue.adjust(-3.0, "defensive (about instructions inside content)")
        if _opening_quote(before) and any(q in text[end : end + 80] for q in _QUOTES):
            cue.adjust(-2.0, "quoted")
        if bisect_left(fences, start) % 2 == 1:
            cue.adjust(-1.5, "in a code block")
        if hidden:
            # Hidden text is not a lesson about injection: no discount for discussion words.
            cue.adjust(1.0, hidden)
        else:
            # The paragraph around the cue, at most 200 characters each side: a lesson frames
            # its examples closely, and an attacker's own paragraph is not discounted by an
            # unrelated one elsewhere in the page.
            lo = max(0, start - 200)
            lo = max(lo, text.rfind("\n\n", lo, start) + 1)
            hi = min(len(text), end + 200)
            stop = text.find("\n\n", end, hi)
            hi = stop if stop >= 0 else hi
            talk = _DISCUSSION.search(text[lo:start]) or _DISCUSSION.search(text[end:hi])
            if talk:
                cue.adjust(-2.0, f"discussion context ({visible(talk.group(0), 30)!r})")
            elif _QUESTION_BEFORE.search(text[max(0, start - 30) : start]):
                cue.adjust(-1.5, "asked about")
        at_start = start == 0 or _SENTENCE_START.search(text[max(0, start - 30) : start])
        if at_start and cue.pattern not in ("role_header", "template_token"):
            cue.adjust(0.5, "imperative at sentence start")

    def _invisible(
        self, text: str, runs: Sequence[tuple[int, int]], found: Sequence[Cue], column: int
    ) -> list[Cue]:
        cues: list[Cue] = []
        rtl: bool | None = None
        suspicious_total = 0
        splits_words = False
        suspicious_runs: list[tuple[int, int]] = []
        for start, end in runs[:_MAX_TRIGGERS]:
            run = text[start:end]
            tags = [c for c in run if 0xE0000 <= ord(c) <= 0xE007F]
            if tags and not self._flag_sequence(text, start, run):
                decoded = "".join(
                    chr(ord(c) - 0xE0000)
                    for c in tags[:_MAX_DECODED]
                    if 0xE0020 <= ord(c) < 0xE007F
                )
                if decoded.strip():
                    cue = Cue(
                        "hidden_chars",
                        "hidden_text",
                        start,
                        end,
                        3.0 if len(decoded.strip()) >= 4 else 1.5,
                        [f"{len(tags)} Unicode tag characters spelling hidden text"],
                        phrase=visible(decoded, 80),
                        decoded=True,
                    )
                    cues.append(cue)
                    for inner in self._rescan(decoded, column, "hidden in Unicode tag characters"):
                        inner.start, inner.end, inner.decoded = start, end, True
                        cues.append(inner)
            suspicious = 0
            kinds: set[str] = set()
            # The first characters tell what the run is; a long run is suspicious by length.
            for offset, c in enumerate(run[:64]):
                if 0xE0000 <= ord(c) <= 0xE007F:
                    continue
                if c in _JOINERS and not self._joiner_suspicious(text, start + offset):
                    continue  # emoji sequences, Indic and Persian scripts
                if c == "\ufeff" and start + offset == 0:
                    continue  # byte-order mark
                if c in _BIDI_OTHER or c in _BIDI_OVERRIDE:
                    if rtl is None:
                        rtl = bool(_RTL.search(text))
                    if rtl:
                        continue  # right-to-left text needs its marks
                    kinds.add("bidi override" if c in _BIDI_OVERRIDE else "bidi control")
                else:
                    kinds.add("zero-width")
                suspicious += 1
            if not suspicious:
                continue
            if len(run) > 64:
                suspicious += len(run) - 64 - sum(1 for c in run[64:] if ord(c) >= 0xE0000)
            suspicious_total += suspicious
            suspicious_runs.append((start, end))
            before = text[start - 1 : start]
            after = text[end : end + 1]
            if before.isascii() and before.isalnum() and after.isascii() and after.isalnum():
                splits_words = True
            if suspicious >= 8:
                weight, why = 3.0, f"a run of {suspicious} invisible characters (encoded payload?)"
            elif "bidi override" in kinds:
                weight, why = 2.0, "bidi override reorders what the reader sees"
            elif suspicious >= 4:
                weight, why = 2.0, f"a run of {suspicious} invisible characters"
            else:
                weight, why = 0.5, f"{', '.join(sorted(kinds))} character"
            cues.append(Cue("hidden_chars", "hidden_text", start, end, weight, [why]))
        if suspicious_total and (splits_words or suspicious_total >= 2):
            cues.extend(self._deobfuscate(text, suspicious_runs, found, column))
        return cues

    @staticmethod
    def _flag_sequence(text: str, start: int, run: str) -> bool:
        # 🏴 + tag letters + CANCEL TAG is a subdivision flag, not hidden text.
        return (
            start > 0
            and text[start - 1] == _TAG_FLAG
            and len(run) <= 8
            and run[-1] == "\U000e007f"
            and all(0xE0061 <= ord(c) <= 0xE007A for c in run[:-1])
        )

    @staticmethod
    def _joiner_suspicious(text: str, pos: int) -> bool:
        # Joiners belong between emoji or letters of scripts that use them (non-ASCII); between
        # two ASCII characters, or at the edges of the text, they only hide something.
        before = text[pos - 1 : pos]
        after = text[pos + 1 : pos + 2]
        return not ((before and not before.isascii()) or (after and not after.isascii()))

    def _rescan(self, text: str, column: int, why: str) -> list[Cue]:
        cues: list[Cue] = []
        for name, regex in _COMPILED:
            for m in regex.finditer(text):
                if m.end() > m.start():
                    cue = self._cue(text, name, m.start(), m.end(), column)
                    self._context(text, cue, _fences(text), hidden=why)
                    cues.append(cue)
        return cues

    def _homoglyphs(
        self, text: str, spans: Sequence[tuple[int, int]], found: Sequence[Cue], column: int
    ) -> list[Cue]:
        """Cues that appear once look-alike letters are read as the Latin ones they imitate."""
        best = _best_by_family(found)
        why = "spelled with look-alike letters from another script"
        extra: list[Cue] = []
        for lo, hi in _windows(spans, len(text)):
            # One character for one: offsets in the folded window are offsets in the text.
            folded = text[lo:hi].translate(_CONFUSABLES)
            for cue in self._rescan(folded, column, why):
                if cue.score - 1.0 > best.get(cue.family, 0.0):
                    cue.start, cue.end = cue.start + lo, cue.end + lo
                    extra.append(cue)
        return extra

    def _deobfuscate(
        self, text: str, spans: Sequence[tuple[int, int]], found: Sequence[Cue], column: int
    ) -> list[Cue]:
        """Cues that appear only once the invisible characters are removed."""
        best = _best_by_family(found)
        why = "only visible once invisible characters are removed"
        extra: list[Cue] = []
        for lo, hi in _windows(spans, len(text)):
            kept = [i for i in range(lo, hi) if text[i] not in _INVISIBLE]
            if not kept:
                continue
            cleaned = "".join(text[i] for i in kept)
            for cue in self._rescan(cleaned, column, why):
                if cue.score - 1.0 <= best.get(cue.family, 0.0):
                    continue
                cue.start = kept[min(cue.start, len(kept) - 1)]
                cue.end = kept[min(cue.end, len(kept)) - 1] + 1
                extra.append(cue)
        return extra

    # -- reporting -------------------------------------------------------------------------

    def _finding(
        self,
        record: InteractionIn,
        item: TextField,
        cues: list[Cue],
        score: float,
        threshold: float,
        direct: bool,
    ) -> Finding:
        top = max(cues, key=lambda c: c.score)
        follows, group, origin = self._origin(record, item)
        if direct:
            rule = f"{DETECTOR_ID}.direct"
            severity = "SEV3" if follows else "SEV4"
            title = "Prompt injection attempt in the user's message"
        else:
            rule = f"{DETECTOR_ID}.indirect"
            level = 4 if item.trust is Trust.trusted else 3
            if follows:
                level -= 1
            severity = f"SEV{level}"
            where = "a retrieved document" if item.source is Source.retrieval else "a tool result"
            title = f"Instructions injected through {where}"
            if follows:
                title += ", followed by a tool call"
        if top.decoded:
            excerpt = f"hidden text: {top.phrase}"
        else:
            lo, hi = max(0, top.start - 40), min(len(item.text), top.end + 40)
            excerpt = ("…" if lo else "") + visible(item.text[lo:hi], 240)
            excerpt += "…" if hi < len(item.text) else ""
        ranked = sorted(cues, key=lambda c: -c.score)
        return Finding(
            detector=DETECTOR_ID,
            rule=rule,
            title=title,
            path=item.path,
            start=top.start,
            end=top.end,
            excerpt=excerpt,
            severity=severity,
            category="insecure_behaviour",
            group=group,
            detail={
                "score": round(score, 2),
                "threshold": threshold,
                "kind": "direct" if direct else "indirect",
                "source": item.source.value,
                "trust": item.trust.value,
                "origin": origin,
                "tool_call_follows": follows,
                "families": sorted({c.family for c in cues if c.score > 0}),
                "cues": [c.as_detail() for c in ranked[:20]],
            },
        )

    @staticmethod
    def _origin(record: InteractionIn, item: TextField) -> tuple[bool, str, dict[str, Any]]:
        """Whether a tool call follows the field, its dedup group and where it came from."""
        index_match = re.match(r"(\w+)\[(\d+)\]", item.path)
        kind, index = (index_match.group(1), int(index_match.group(2))) if index_match else ("", 0)
        if kind == "retrieval" and index < len(record.retrieval):
            doc = record.retrieval[index]
            name = doc.uri or doc.id or doc.title or "unnamed"
            origin = {"retrieval": index, "id": doc.id, "uri": doc.uri, "title": doc.title}
            return bool(record.tool_calls), f"retrieval:{name}"[:200], origin
        if kind == "tool_calls" and index < len(record.tool_calls):
            call = record.tool_calls[index]
            follows = len(record.tool_calls) > index + 1
            return follows, f"tool:{call.name}"[:200], {"tool_call": index, "tool": call.name}
        if item.source is Source.user:
            group = f"user:{record.user_id}" if record.user_id else "user"
            return bool(record.tool_calls), group[:200], {"message": index}
        name = ""
        if kind == "messages" and index < len(record.messages):
            name = record.messages[index].name or ""
        return bool(record.tool_calls), f"tool:{name or 'message'}"[:200], {"message": index}


DETECTOR = PromptInjection()
