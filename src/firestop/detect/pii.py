"""Personal data in prompts, outputs, documents and tool traffic (D3), detector id ``pii``.

Every rule is a cheap pattern for the shared scanner plus a validator that runs only on what the
pattern found: check digits where the format has them (cards, IBAN, national identifiers),
structural rules where it does not (phone numbers, IP addresses), and nearby words where a bare
number would be ambiguous (a 9-digit number is a Dutch BSN only next to "BSN"). Patterns start
with a literal where the format allows, because the scanner and Python ``re`` both run fastest
from one; the e-mail pattern, for instance, starts at the ``@`` and the local part is read
backwards in Python.

Settings (``config.setting("pii", name)``):

- ``sources``: the text sources to check (``Source`` values); default all of them.
- ``ignore_rules``: rule ids not to report, either everywhere (``"pii.ip"``), a whole family
  (``"pii.national_id"``) or in one source only (``"pii.email@instructions"``: the operator's
  own support address in the system prompt).
- ``allow_domains``: e-mail domains (and their subdomains) that are never reported.
- ``report_role_mailboxes``: report support@, team@ and other function mailboxes too (default
  false: they name a function, not a person).
- ``report_private_ips``: report private and documentation addresses too (default true, at a
  lower severity); public addresses are always reported.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from firestop.detect import checksums
from firestop.detect.base import Finding, Match, Pattern, SystemConfig, TextField
from firestop.detect.hits import Handler, Hit, PerConfig, RuleFilter, cased, inspect_matches
from firestop.ledger.schemas import InteractionIn

DETECTOR_ID = "pii"

# Lookbehinds sit after a pattern's first character, not before it: Python's ``re`` can then
# jump to candidate starts instead of trying every position (5-30x faster), and Hyperscan
# ignores them in prefilter mode anyway.
_NOT_ALNUM_AFTER = r"(?![A-Za-z0-9])"
# Not part of a longer number, a decimal or a dashed/dotted code.
_NUM_GUARD = r"(?<![A-Za-z0-9_.-].)"
_NUM_AFTER = r"(?![A-Za-z0-9_]|[.-][0-9])"
# Nor the tail or head of a longer grouped number ("Tracking: 9400 0712 3058 9473 5688 44").
_GROUP_GUARD = r"(?<![0-9][ -].)"
_GROUP_AFTER = r"(?![ -][0-9])"
_ALNUM_GUARD = r"(?<![A-Za-z0-9].)"

# Each pattern also gives the shared scanner a ``prefilter`` (see ``base.Pattern``): the
# pattern without its lookarounds, cut after its leading literal keywords or after the least
# of any repetition it ends in. Every match of the pattern starts with a match of its
# prefilter, so Hyperscan still finds every field worth handing to Python, while keeping to
# ASCII and dropping the lookarounds lets it match bytewise (``scan.byte_safe``), and a fixed
# end reports one match per occurrence instead of one per possible length, each a call back
# into Python.
_ASSIGN = r"[\"']?[ \t]*(?:=>|:=|[:=])"

_MONTH = (
    cased(
        "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
        "|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?",
        not_after="",
    )
    + r"\.?"
)
_DATE = (
    r"(?:[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}"
    r"|[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}"
    rf"|[0-9]{{1,2}}(?:st|nd|rd|th)?(?: of)? {_MONTH},? [0-9]{{4}}"
    rf"|{_MONTH} [0-9]{{1,2}}(?:st|nd|rd|th)?,? [0-9]{{4}})"
)
_DOB_WORDS_RE = (
    "born|date[ _-]?of[ _-]?birth|birth[ _-]?date|birthday|dob|geboren|geburtsdatum"
    "|fecha de nacimiento|date de naissance|data di nascita"
)
_DOB_WORDS = cased(_DOB_WORDS_RE)
_PHONE_WORDS_RE = (
    "phone|telephone|tel|mobile|cell|cellphone|fax|whatsapp|sms|handy|telefon|telefono"
    "|portable|call(?: me| us| you)?|ring(?: me| us| you)|text(?: me| us| you)"
    "|reach(?: me| us| you)|contact(?: me| us| you)"
)
_PHONE_WORDS = cased(_PHONE_WORDS_RE)

# Key names that announce personal data, and how bad that data is. Identifiers that have their
# own validated rule (SSN, NINO, BSN, NHS, Aadhaar, Steuer-ID, IBAN, card numbers) are not
# here: that rule decides, so "bsn": "123456789", which fails the 11-check, stays silent.
_FIELD_KEYS: tuple[tuple[str, str], ...] = (
    ("passport(?:[_ -]?(?:number|no|num|id))?", "SEV2"),
    ("national[_ -]?(?:id|identity)(?:[_ -]?(?:number|no|num))?", "SEV2"),
    ("tax[_ -]?(?:id|number)|taxpayer[_ -]?id", "SEV2"),
    ("driv(?:er'?s?|ing)[_ -]?licen[cs]e(?:[_ -]?(?:number|no|num))?", "SEV2"),
    ("medical[_ -]?record[_ -]?(?:number|no)|mrn|patient[_ -]?id", "SEV2"),
    ("cvv2?|cvc2?|card[_ -]?security[_ -]?code", "SEV2"),
    ("bank[_ -]?account(?:[_ -]?(?:number|no|num))?|account[_ -]?number|routing[_ -]?number",
     "SEV2"),
    ("date[_ -]?of[_ -]?birth|birth[_ -]?date|dob|mother'?s?[_ -]?maiden[_ -]?name", "SEV3"),
    ("home[_ -]?address|street[_ -]?address|postal[_ -]?address", "SEV3"),
    ("full[_ -]?name|first[_ -]?name|last[_ -]?name|surname|given[_ -]?name|family[_ -]?name",
     "SEV3"),
)  # fmt: skip
_NAME_KEY = re.compile(r"name$", re.IGNORECASE)


_STEUER_WORDS = (
    "steuer-?id|steuerliche identifikationsnummer|steuer-?identifikationsnummer"
    "|identifikationsnummer|id ?nr|tax id"
)


def _context(words: str, number: str) -> str:
    """Prefilter of a "keyword, then a number within a few characters" pattern.

    The gap is unbounded (and the keyword unguarded) so that the prefilter is byte-safe; the
    number's first digits keep it from matching every mention of the keyword.
    """
    return cased(words, not_after="") + r"[^0-9\n]+" + number


def _patterns() -> tuple[Pattern, ...]:
    keys = cased("|".join(k for k, _ in _FIELD_KEYS))
    return (
        # Starts at "@": the local part is read backwards in Python (see module docstring).
        Pattern(
            "email",
            r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
            r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])",
            prefilter=r"@[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2}",
        ),
        Pattern(
            "phone_intl",
            r"\+(?<![A-Za-z0-9_+].)[1-9](?:[ .()-]{0,2}[0-9]){6,16}(?![0-9])",
            prefilter=r"\+[1-9](?:[ .()-]{0,2}[0-9]){6}",
        ),
        # North American numbers with separators: (212) 555-0123, 212-555-0123, 1 212 555 0123.
        # What may precede one is checked in Python (the first character varies).
        Pattern(
            "phone_nanp",
            r"(?:1[ .-])?(?:\([2-9][0-9]{2}\)[ .-]?|[2-9][0-9]{2}[ .-])"
            r"[2-9][0-9]{2}[ .-][0-9]{4}(?![A-Za-z0-9_-]|\.[0-9])",
            prefilter=r"(?:\([2-9][0-9]{2}\)[ .-]?|[2-9][0-9]{2}[ .-])[2-9][0-9]{2}[ .-][0-9]{4}",
        ),
        # Any other national format only next to a word that says it is a phone number.
        Pattern(
            "phone_ctx",
            rf"{_PHONE_WORDS}{_NOT_ALNUM_AFTER}[^0-9\n]{{0,20}}"
            r"(?:\+|00)?[0-9(][0-9 ()./-]{7,20}[0-9](?![0-9])",
            # The gap before the number may be any length here: a bounded gap of characters
            # that are not ASCII would need UTF-8 mode. "+" or "00" then "[0-9(]" are also
            # eight characters of "[0-9(+][0-9 ()./-]{7}".
            prefilter=cased(_PHONE_WORDS_RE, not_after="") + r"[^0-9\n]*[0-9(+][0-9 ()./-]{7}",
        ),
        Pattern(
            "card",
            rf"[2-6]{_NUM_GUARD}{_GROUP_GUARD}[0-9]{{3}}(?:[ -]?[0-9]){{8,15}}"
            rf"{_NUM_AFTER}{_GROUP_AFTER}",
            prefilter=r"[2-6][0-9]{3}(?:[ -]?[0-9]){8}",
        ),
        Pattern(
            "iban",
            rf"[A-Z]{_ALNUM_GUARD}[A-Z][0-9]{{2}}(?: ?[A-Z0-9]){{11,30}}",
            prefilter=r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11}",
        ),
        Pattern(
            "us_ssn",
            rf"[0-9]{_NUM_GUARD}{_GROUP_GUARD}"
            rf"(?:[0-9]{{2}}-[0-9]{{2}}-[0-9]{{4}}|[0-9]{{2}} [0-9]{{2}} [0-9]{{4}})"
            rf"{_NUM_AFTER}{_GROUP_AFTER}",
            prefilter=r"[0-9]{3}(?:-[0-9]{2}-| [0-9]{2} )[0-9]{4}",
        ),
        Pattern(
            "us_ssn_ctx",
            cased("ssn|social security(?: number| no)?")
            + r"[^0-9A-Za-z\n][^0-9\n]{0,20}[0-9]{9}(?![0-9])",
            prefilter=_context("ssn|social security", "[0-9]{9}"),
        ),
        Pattern(
            "uk_nino",
            rf"[A-CEGHJ-PR-TW-Z]{_ALNUM_GUARD}[A-CEGHJ-NPR-TW-Z] ?[0-9]{{2}} ?[0-9]{{2}} ?"
            rf"[0-9]{{2}} ?[A-D]{_NOT_ALNUM_AFTER}",
            prefilter=r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]",
        ),
        Pattern(
            "nl_bsn_ctx",
            cased("bsn|burgerservicenummer|sofi-?nummer")
            + r"[^0-9A-Za-z\n][^0-9\n]{0,30}[0-9]{2,4}[ .]?[0-9]{2,3}[ .]?[0-9]{3}(?![0-9])",
            prefilter=_context("bsn|burgerservicenummer|sofi-?nummer", "[0-9]{2}"),
        ),
        Pattern(
            "es_dni",
            rf"[0-9]{_ALNUM_GUARD}[0-9]{{7}}-?[A-Z]{_NOT_ALNUM_AFTER}",
            prefilter=r"[0-9]{8}-?[A-Z]",
        ),
        Pattern(
            "es_nie",
            rf"[XYZ]{_ALNUM_GUARD}-?[0-9]{{7}}-?[A-Z]{_NOT_ALNUM_AFTER}",
            prefilter=r"[XYZ]-?[0-9]{7}-?[A-Z]",
        ),
        Pattern(
            "it_cf",
            rf"[A-Z]{_ALNUM_GUARD}[A-Z]{{5}}[0-9LMNP-V]{{2}}[ABCDEHLMPRST][0-9LMNP-V]{{2}}[A-Z]"
            rf"[0-9LMNP-V]{{3}}[A-Z]{_NOT_ALNUM_AFTER}",
            prefilter=r"[A-Z]{6}[0-9LMNP-V]{2}[ABCDEHLMPRST][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z]",
        ),
        Pattern(
            "fr_nir",
            rf"[12378]{_NUM_GUARD}{_GROUP_GUARD} ?[0-9]{{2}} ?[0-9]{{2}} ?(?:[0-9]{{2}}|2[AB]) ?"
            rf"[0-9]{{3}} ?[0-9]{{3}} ?[0-9]{{2}}{_NUM_AFTER}{_GROUP_AFTER}",
            prefilter=r"[12378] ?[0-9]{2} ?[0-9]{2} ?(?:[0-9]{2}|2[AB]) ?"
            r"[0-9]{3} ?[0-9]{3} ?[0-9]{2}",
        ),
        Pattern(
            "de_steuer_id_ctx",
            cased(_STEUER_WORDS)
            + r"[^0-9A-Za-z\n][^0-9\n]{0,30}[1-9][0-9]{1,2}(?: ?[0-9]{3}){3}(?![0-9])",
            prefilter=_context(_STEUER_WORDS, "[1-9][0-9]"),
        ),
        Pattern(
            "in_aadhaar",
            r"[2-9](?<![A-Za-z0-9_.-].)(?<![0-9][ -].)"
            r"(?:[0-9]{3} [0-9]{4} [0-9]{4}|[0-9]{3}-[0-9]{4}-[0-9]{4})"
            r"(?![A-Za-z0-9_]|[ .-][0-9])",
            prefilter=r"[2-9][0-9]{3}(?: [0-9]{4} |-[0-9]{4}-)[0-9]{4}",
        ),
        Pattern(
            "in_aadhaar_ctx",
            cased("aadhaa?r|uidai") + r"[^0-9A-Za-z\n][^0-9\n]{0,30}[2-9][0-9]{11}(?![0-9])",
            prefilter=_context("aadhaa?r|uidai", "[2-9][0-9]{11}"),
        ),
        Pattern(
            "uk_nhs_ctx",
            cased("nhs")
            + r"[^0-9A-Za-z\n][^0-9\n]{0,20}[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}(?![0-9])",
            prefilter=_context("nhs", "[0-9]{3}"),
        ),
        # Octets above 255 and leading zeros are left to ``ipaddress``.
        Pattern(
            "ipv4",
            r"[0-9](?<![A-Za-z0-9_.].)[0-9]{0,2}(?:\.[0-9]{1,3}){3}(?![A-Za-z0-9_]|\.[0-9])",
            prefilter=r"[0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]",
        ),
        # Compressed IPv6 is found at its "::" and widened in Python; the full form needs 8 groups.
        Pattern("ipv6_compressed", r"::(?:(?<=[0-9A-Fa-f]::)|(?=[0-9A-Fa-f]))", prefilter="::"),
        Pattern(
            "ipv6_full",
            r"[0-9A-Fa-f](?<![A-Za-z0-9_:.].)[0-9A-Fa-f]{0,3}(?::[0-9A-Fa-f]{1,4}){7}"
            r"(?![A-Za-z0-9_:])",
            prefilter=r"[0-9A-Fa-f](?::[0-9A-Fa-f]{1,4}){6}:[0-9A-Fa-f]",
        ),
        Pattern(
            "dob",
            # No digits or sentence ends between the word and the date: "born in 1985 and moved
            # on 12/03/2001" gives no date of birth.
            rf"(?:{_DOB_WORDS}|D\.O\.B\.?|d\.o\.b\.?){_NOT_ALNUM_AFTER}[^\n0-9.;!?]{{0,40}}?"
            rf"(?<![0-9]){_DATE}(?![0-9])",
            # Any date form starts with a digit or a month name.
            prefilter=rf"{cased(_DOB_WORDS_RE, not_after='')}|[Dd]\.[Oo]\.[Bb]",
        ),
        # "key": "value", key = value, key: value; one pattern per group of keys, because one
        # alternation of them all is more than Hyperscan's prefilter keeps exact (it then flags
        # any "token = " in code).
        *(
            Pattern(
                f"named_field_{i}",
                rf"{cased(k)}[\"']?[ \t]*(?:=>|:=|[:=])[ \t]*"
                r"(?:\"[^\"\n]{1,120}\"|'[^'\n]{1,120}'|[^ \t\r\n,;{}\[\]()\"'<>]{1,80})",
                prefilter=cased(k, not_after="") + _ASSIGN,
            )
            for i, (k, _) in enumerate(_FIELD_KEYS)
        ),
        # In prose, "my passport is X1234567", "account number 32131162": the value must be an
        # identifier. Kept apart from the form above for the same reason (joined, every " that"
        # became a candidate).
        Pattern(
            "named_field_prose",
            rf"{keys}\.?[ \t]+(?:(?:is|was|no\.?|#)[ \t]+)?[A-Z0-9][A-Z0-9-]{{5,24}}"
            r"(?![A-Za-z0-9-])",
            prefilter=cased("|".join(k for k, _ in _FIELD_KEYS), not_after="")
            + r"\.?[ \t]+(?:(?:is|was|no\.?|#)[ \t]+)?[A-Z0-9][A-Z0-9-]{5}",
        ),
    )


PATTERNS = _patterns()


_TITLES = {
    "pii.email": "E-mail address",
    "pii.phone": "Phone number",
    "pii.card": "Payment card number",
    "pii.iban": "Bank account number (IBAN)",
    "pii.national_id.us_ssn": "US Social Security number",
    "pii.national_id.us_itin": "US taxpayer number (ITIN)",
    "pii.national_id.uk_nino": "UK National Insurance number",
    "pii.national_id.uk_nhs": "NHS number",
    "pii.national_id.nl_bsn": "Dutch citizen service number (BSN)",
    "pii.national_id.es_dni": "Spanish identity number (DNI)",
    "pii.national_id.es_nie": "Spanish foreigner number (NIE)",
    "pii.national_id.it_cf": "Italian fiscal code",
    "pii.national_id.fr_nir": "French social security number (NIR)",
    "pii.national_id.de_steuer_id": "German tax identification number",
    "pii.national_id.in_aadhaar": "Aadhaar number",
    "pii.ip": "IP address",
    "pii.dob": "Date of birth",
    "pii.named_field": "Personal-data field",
}
RULES = tuple(_TITLES)


# --- small helpers ---------------------------------------------------------------------------


def _digits(value: str) -> str:
    return "".join(c for c in value if "0" <= c <= "9")


def _tail(text: str, start: int, end: int, allowed: str) -> int:
    """Where the run of ``allowed`` characters ending at ``end`` begins (a value after a key)."""
    i = end
    while i > start and text[i - 1] in allowed:
        i -= 1
    while i < end and not text[i].isalnum():
        i += 1
    return i


def _mask_tail(value: str, keep: int = 4) -> str:
    return "…" + value[-keep:] if len(value) > keep else "…"


# --- e-mail ----------------------------------------------------------------------------------

_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
# Image and code file names look like addresses: logo@2x.png, icon@3x.webp, chunk@1.2.js.
_FILE_TLDS = frozenset(
    {"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "css", "js", "mjs", "map", "json"}
)
# RFC 2606 and RFC 6761 names that can never be a real mailbox: reported, at low severity.
_RESERVED_DOMAINS = ("example.com", "example.org", "example.net")
_RESERVED_TLDS = ("example", "test", "invalid", "localhost")
# Mailboxes of a function rather than a person (RFC 2142 and common practice): not personal
# data, so not reported unless a system asks for them (``report_role_mailboxes``).
_ROLE_MAILBOXES = frozenset(
    {
        "info", "support", "help", "helpdesk", "sales", "contact", "team", "hello", "admin",
        "noreply", "no-reply", "donotreply", "billing", "security", "privacy", "abuse",
        "postmaster", "webmaster", "hostmaster", "marketing", "press", "media", "jobs", "careers",
        "hr", "legal", "office", "service", "feedback", "enquiries", "inquiries", "accounts",
        "finance", "orders", "notifications", "alerts", "mailer-daemon", "dpo", "compliance",
    }
)  # fmt: skip


def _email(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    i = start
    while i > 0 and start - i < 64 and text[i - 1] in _LOCAL_CHARS:
        i -= 1
    while i < start and text[i] in ".-+":
        i += 1
    local = text[i:start]
    if not local or local.endswith(".") or ".." in local:
        return None
    before = text[max(0, i - 7) : i]
    # user:password@host is a URL's credentials (the secret detector's), not a mailbox.
    if before.endswith("/") or (before.endswith(":") and not before.lower().endswith("mailto:")):
        return None
    token_start = max(text.rfind(c, 0, i) for c in " \t\n\"'<>(")
    if "://" in text[token_start + 1 : i]:  # scheme://user:pa~ss@host: still a URL
        return None
    domain = text[start + 1 : end].lower()
    tld = domain.rsplit(".", 1)[-1]
    if tld in _FILE_TLDS:
        return None
    # git@github.com:org/repo.git and other scp-style remotes.
    if end < len(text) and text[end] == ":" and end + 1 < len(text) and not text[end + 1].isspace():
        return None
    reserved = tld in _RESERVED_TLDS or any(
        domain == d or domain.endswith("." + d) for d in _RESERVED_DOMAINS
    )
    detail: dict[str, Any] = {"masked": f"{local[0]}…@{domain}", "domain": domain}
    if reserved:
        detail["reserved_domain"] = True
    if local.lower() in _ROLE_MAILBOXES:
        detail["role_mailbox"] = True
    return Hit("pii.email", i, end, "SEV4" if reserved else "SEV3", "EMAIL", detail, 3)


# --- phone numbers ---------------------------------------------------------------------------


def _country_codes() -> dict[str, tuple[int, int]]:
    """E.164 country codes (ITU-T E.164 list of assigned codes) with national number lengths.

    Lengths for the common countries come from their national numbering plans as filed with the
    ITU; the rest get the E.164 bounds. Codes absent here are unassigned or spare.
    """
    known: dict[str, tuple[int, int]] = {
        "1": (10, 10), "7": (10, 10), "20": (8, 10), "27": (9, 9), "30": (10, 10),
        "31": (9, 9), "32": (8, 9), "33": (9, 9), "34": (9, 9), "36": (8, 9), "39": (6, 11),
        "40": (9, 9), "41": (9, 9), "43": (4, 13), "44": (9, 10), "45": (8, 8), "46": (7, 9),
        "47": (8, 8), "48": (9, 9), "49": (6, 13), "51": (8, 9), "52": (10, 10), "54": (10, 11),
        "55": (10, 11), "56": (9, 9), "57": (10, 10), "60": (8, 10), "61": (9, 9),
        "62": (8, 12), "63": (8, 10), "64": (8, 10), "65": (8, 8), "66": (8, 9), "81": (9, 10),
        "82": (8, 10), "84": (9, 10), "86": (10, 11), "90": (10, 10), "91": (10, 10),
        "92": (9, 10), "234": (8, 10), "254": (9, 9), "351": (9, 9), "353": (7, 9),
        "358": (5, 12), "380": (9, 9), "420": (9, 9), "421": (9, 9), "852": (8, 8),
        "886": (8, 9), "966": (8, 9), "971": (8, 9), "972": (8, 9),
    }  # fmt: skip
    others = [53, 58, 93, 94, 95, 98, 211, 212, 213, 216, 218, *range(220, 259)]
    others += [*range(260, 270), 290, 291, 297, 298, 299, *range(350, 360)]
    others += [*range(370, 379), *range(381, 384), 385, 386, 387, 389, 423]
    others += [*range(500, 510), *range(590, 600), 670, *range(672, 684), *range(685, 693)]
    others += [850, 853, 855, 856, 880, *range(960, 969), *range(970, 978), 979]
    others += [992, 993, 994, 995, 996, 998]
    for code in others:
        known.setdefault(str(code), (5, 12))
    return known


_COUNTRY_CODES = _country_codes()


def _nanp_ok(nsn: str) -> bool:
    """North American Numbering Plan: NXX area code and exchange, neither N11 nor N9X areas."""
    if len(nsn) != 10 or nsn[0] in "01" or nsn[3] in "01":
        return False
    return nsn[1:3] != "11" and nsn[1] != "9" and nsn[4:6] != "11"


def _international_ok(digits: str) -> tuple[str, str] | None:
    """(country code, national number) when ``digits`` (after "+") is a plausible E.164 number."""
    if not 8 <= len(digits) <= 15:
        return None
    for width in (1, 2, 3):
        cc = digits[:width]
        if cc not in _COUNTRY_CODES:
            continue
        nsn = digits[width:]
        low, high = _COUNTRY_CODES[cc]
        # "+44 020 …": a trunk zero written after the country code is a common slip.
        if nsn.startswith("0") and cc != "39" and low <= len(nsn) - 1 <= high:
            nsn = nsn[1:]
        if not low <= len(nsn) <= high or len(set(nsn)) == 1:
            return None
        if cc == "1" and not _nanp_ok(nsn):
            return None
        return cc, nsn
    return None


def _phone_hit(start: int, end: int, digits: str, fictional: bool, cc: str | None) -> Hit:
    detail: dict[str, Any] = {"masked": (f"+{cc} " if cc else "") + "…" + digits[-2:]}
    if cc:
        detail["country_code"] = cc
    if fictional:
        detail["fictional"] = True
    return Hit("pii.phone", start, end, "SEV4" if fictional else "SEV3", "PHONE", detail, 3)


def _fictional(nsn: str) -> bool:
    # 555-0100 to 555-0199 are reserved for fiction and examples (NANPA).
    return len(nsn) == 10 and nsn[3:6] == "555" and nsn[6:8] == "01"


def _balanced(value: str) -> bool:
    return value.count("(") == value.count(")")


# Numbers that are labelled as something else: "order 234-567-8901", "invoice no. 4532…".
_REFERENCE_BEFORE = re.compile(
    r"(?:order|invoice|ref|reference|tracking|ticket|case|sku|serial|part|model|isbn|imei"
    r"|transaction|txn|confirmation|booking|account|acct|nhs)(?: n(?:o|um|umber)\.?| id| #)?"
    r"[ \t]*[:#]?[ \t]*$",
    re.IGNORECASE,
)


def _labelled_as_reference(text: str, start: int) -> bool:
    return _REFERENCE_BEFORE.search(text, max(0, start - 30), start) is not None


_SEPARATOR_RUNS = re.compile(r"[ .-]+")


def _phone_intl(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    # Greedy matching may swallow a following number ("+44 20 7946 0958 2024"): drop trailing
    # groups until what is left is a valid number.
    cuts = [m.start() for m in _SEPARATOR_RUNS.finditer(text, start, end)]
    stops = [end, *reversed(cuts)]
    for stop in stops:
        candidate = text[start:stop]
        if not _balanced(candidate):
            continue
        parsed = _international_ok(_digits(candidate.replace("(0)", "")))
        if parsed is not None:
            cc, nsn = parsed
            return _phone_hit(start, stop, nsn, cc == "1" and _fictional(nsn), cc)
    return None


def _phone_nanp(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    value = text[start:end]
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_+.-"):
        return None
    if start > 1 and text[start - 2].isdigit() and text[start - 1] in " -":
        return None  # the tail of a longer grouped number
    if not _balanced(value) or _labelled_as_reference(text, start):
        return None
    digits = _digits(value)
    nsn = digits[1:] if len(digits) == 11 else digits
    if not _nanp_ok(nsn):
        return None
    return _phone_hit(start, end, nsn, _fictional(nsn), "1" if len(digits) == 11 else None)


_PHONE_NUMBER_AT_END = re.compile(r"(?:\+|00)?[0-9(][0-9 ()./-]{7,20}[0-9]$")
_DATE_LIKE = re.compile(r"[0-9]{1,4}[./-][0-9]{1,2}[./-][0-9]{1,4}(?:[ T]|$)")


def _phone_ctx(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    found = _PHONE_NUMBER_AT_END.search(text, start, end)
    if found is None:
        return None
    value = found.group()
    if not _balanced(value) or _DATE_LIKE.match(value):
        return None
    digits = _digits(value)
    if value.startswith(("+", "00")):
        parsed = _international_ok(digits[2:] if value.startswith("00") else digits)
        if parsed is None:
            return None
        return _phone_hit(found.start(), end, parsed[1], False, parsed[0])
    # A national number: 9 to 12 digits with the trunk prefix, in at most six groups.
    if not 9 <= len(digits) <= 12 or len(set(digits)) <= 2:
        return None
    if len(digits) == 10 and digits[0] != "0" and not _nanp_ok(digits):
        return None
    if len(_SEPARATOR_RUNS.findall(value)) > 5:
        return None
    return _phone_hit(found.start(), end, digits, _fictional(digits), None)


# --- payment cards and bank accounts ---------------------------------------------------------

_CARD_GROUPINGS = ((4, 6, 5), (4, 6, 4), (4, 6))


def _card_grouping_ok(value: str) -> bool:
    """No separators, or one kind of separator in the groupings card schemes print."""
    seps = {c for c in value if c in " -"}
    if not seps:
        return True
    if len(seps) > 1:
        return False
    groups = tuple(len(g) for g in value.split(seps.pop()))
    if any(n == 0 for n in groups):
        return False
    if groups[: len(groups) - 1] and all(n == 4 for n in groups[:-1]) and groups[-1] <= 4:
        return True
    return groups in _CARD_GROUPINGS


def _card(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    value = text[start:end]
    digits = _digits(value)
    if not 12 <= len(digits) <= 19 or len(set(digits)) == 1:
        return None
    if not _card_grouping_ok(value) or not checksums.luhn_ok(digits):
        return None
    if _labelled_as_reference(text, start):
        return None
    brand = checksums.card_brand(digits)
    if brand is None:
        return None
    detail: dict[str, Any] = {"masked": _mask_tail(digits), "brand": brand}
    test = digits in checksums.TEST_CARDS
    if test:
        detail["test_number"] = True
    return Hit("pii.card", start, end, "SEV4" if test else "SEV2", "CARD", detail, 1)


def _iban(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    country = text[start : start + 2]
    length = checksums.IBAN_LENGTHS.get(country)
    if length is None:
        return None
    # Read exactly the registry length, so a following word ("… 0130 00 EUR") is left out.
    chars: list[str] = []
    i = start
    while i < end and len(chars) < length:
        if text[i] != " ":
            chars.append(text[i])
        i += 1
    if len(chars) != length or (i < len(text) and text[i].isalnum()):
        return None
    compact = "".join(chars)
    if not checksums.iban_ok(compact):
        return None
    detail = {"masked": compact[:2] + _mask_tail(compact), "country": country}
    return Hit("pii.iban", start, i, "SEV2", "IBAN", detail, 1)


# --- national identifiers --------------------------------------------------------------------


def _national(rule: str, start: int, end: int, masked: str, **extra: Any) -> Hit:
    return Hit(
        f"pii.national_id.{rule}", start, end, "SEV2", "NATIONAL_ID", {"masked": masked, **extra}, 0
    )


def _us_ssn(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    digits = _digits(text[start:end])
    if checksums.us_ssn_ok(digits):
        return _national("us_ssn", start, end, _mask_tail(digits))
    # A 9xx number is an ITIN only when the text says so; "SSN 918-96-7354" is a wrong SSN.
    if checksums.us_itin_ok(digits) and _ITIN_WORDS.search(text, max(0, start - 40), start):
        return _national("us_itin", start, end, _mask_tail(digits))
    return None


_ITIN_WORDS = re.compile(r"(?i)\bitin\b|taxpayer|tax id")


def _us_ssn_ctx(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    return _us_ssn(text, end - 9, end, record)


def _uk_nino(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    value = text[start:end]
    compact = value.replace(" ", "")
    # Either written solid or in the printed pairs: "AB 12 34 56 C".
    if " " in value and value.count(" ") != 4:
        return None
    if not checksums.uk_nino_ok(compact):
        return None
    return _national("uk_nino", start, end, compact[:2] + "…" + compact[-1])


def _context_number(
    text: str, start: int, end: int, check: Callable[[str], bool], rule: str
) -> Hit | None:
    i = _tail(text, start, end, "0123456789 .-")
    digits = _digits(text[i:end])
    if not check(digits):
        return None
    return _national(rule, i, end, _mask_tail(digits, 3))


def _nl_bsn(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    return _context_number(text, start, end, checksums.nl_bsn_ok, "nl_bsn")


def _de_steuer_id(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    return _context_number(text, start, end, checksums.de_steuer_id_ok, "de_steuer_id")


def _uk_nhs(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    return _context_number(text, start, end, checksums.uk_nhs_ok, "uk_nhs")


def _in_aadhaar(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    return _context_number(text, start, end, checksums.in_aadhaar_ok, "in_aadhaar")


def _es_dni(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    compact = text[start:end].replace("-", "")
    if not checksums.es_dni_ok(compact):
        return None
    rule = "es_nie" if compact[0] in "XYZ" else "es_dni"
    return _national(rule, start, end, _mask_tail(compact, 3))


def _it_cf(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    value = text[start:end]
    if not checksums.it_codice_fiscale_ok(value):
        return None
    return _national("it_cf", start, end, value[:3] + "…" + value[-1])


def _fr_nir(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    compact = text[start:end].replace(" ", "")
    if not checksums.fr_nir_ok(compact):
        return None
    return _national("fr_nir", start, end, compact[0] + "…" + compact[-2:])


# --- IP addresses ----------------------------------------------------------------------------

# Dotted quads that are not addresses: versions, section numbers, user-agent tokens.
_NOT_AN_ADDRESS_BEFORE = re.compile(
    r"(?:version|ver\.?|release|build|firmware|rev(?:ision)?|section|chapter|clause|step"
    r"|figure|table|rule|item|§)[ \t]*[:#=]?[ \t]*$|[A-Za-z][A-Za-z0-9_-]*/$",
    re.IGNORECASE,
)
# "1.2.3.4" is more often a version than an address unless something says it is an address.
_ADDRESS_WORDS = re.compile(
    r"(?<![A-Za-z])(?:ip|ipv4|address|addr|host|server|client|remote|peer)"
    r"(?![A-Za-z])",
    re.IGNORECASE,
)
# Public resolvers everyone quotes: addresses, but nobody's.
_WELL_KNOWN = frozenset({"8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "208.67.222.222"})

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip_hit(start: int, end: int, address: Address) -> Hit:
    public = address.is_global
    if isinstance(address, ipaddress.IPv4Address):
        masked = str(address).rsplit(".", 1)[0] + ".x"
    else:
        masked = str(address).rsplit(":", 1)[0] + ":x"
    scope = "public" if public else "private"
    detail = {"masked": masked, "version": address.version, "scope": scope}
    return Hit("pii.ip", start, end, "SEV3" if public else "SEV4", "IP", detail, 3)


def _address_wanted(address: Address) -> bool:
    # Loopback, "any", link-local, multicast and reserved addresses never identify a person.
    return not (
        address.is_loopback
        or address.is_unspecified
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
    )


def _ipv4(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    value = text[start:end]
    if value in _WELL_KNOWN or _NOT_AN_ADDRESS_BEFORE.search(text, max(0, start - 20), start):
        return None
    if _url_host(text, start):
        return None
    if len(value) == 7 and not _ADDRESS_WORDS.search(text, max(0, start - 30), start):
        return None
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:  # an octet over 255, or a leading zero
        return None
    as_int = int(address)
    # Netmasks (255.255.255.0 …) are valid addresses too.
    if value.startswith("255.") and (as_int | (as_int - 1)) & 0xFFFFFFFF == 0xFFFFFFFF:
        return None
    if value.startswith("0.") or not _address_wanted(address):
        return None
    return _ip_hit(start, end, address)


def _url_host(text: str, start: int) -> bool:
    """An address right after "://" or "user:pass@" names a server, not a person's machine."""
    return text.endswith("://", 0, start) or (start > 0 and text[start - 1] == "@")


_HEX_COLON = frozenset("0123456789abcdefABCDEF:.")


def _ipv6(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    i, j = start, end
    while i > 0 and text[i - 1] in _HEX_COLON:
        i -= 1
    while j < len(text) and text[j] in _HEX_COLON:
        j += 1
    while j > i and text[j - 1] == ".":  # a full stop ending the sentence
        j -= 1
    # Part of a longer word or name: "std::vector", "Foo::Bar".
    if (i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")) or (
        j < len(text) and (text[j].isalnum() or text[j] == "_")
    ):
        return None
    value = text[i:j]
    # Compressed forms need substance: "a::b" in C++ parses as an address but is not one.
    if "::" in value:
        groups = [g for g in value.split(":") if g]
        if len(groups) < 2 or not any(c.isdigit() for c in value):
            return None
    try:
        address = ipaddress.IPv6Address(value)
    except ValueError:
        return None
    if not _address_wanted(address) or _url_host(text, i) or text.endswith(("://[", "@["), 0, i):
        return None
    return _ip_hit(i, j, address)


# --- dates of birth and named fields ---------------------------------------------------------

_DATE_RE = re.compile(_DATE, re.IGNORECASE)
_MONTH_RE = re.compile(_MONTH, re.IGNORECASE)
_MONTHS = {
    m: n
    for n, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


def _plausible_birth_date(value: str, today: date) -> bool:
    numbers = [int(n) for n in re.findall(r"[0-9]+", value)]
    month_name = _MONTH_RE.search(value)
    if month_name is not None and len(numbers) == 2:
        day, year = numbers
        candidates = [(year, _MONTHS[month_name.group()[:3].lower()], day)]
    elif len(numbers) == 3:
        a, b, c = numbers
        if a > 31:
            candidates = [(a, b, c)]
        else:
            year = c + (1900 if c > today.year % 100 else 2000) if c < 100 else c
            candidates = [(year, b, a), (year, a, b)]
    else:
        return False
    for year, month, day in candidates:
        try:
            born = date(year, month, day)
        except ValueError:
            continue
        if today.year - 130 <= born.year and born <= today:
            return True
    return False


def _dob(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    found = None
    for m in _DATE_RE.finditer(text, start, end):
        found = m
    if found is None or found.end() != end:
        return None
    if not _plausible_birth_date(found.group(), record.started_at.date()):
        return None
    return Hit("pii.dob", found.start(), end, "SEV3", "DATE_OF_BIRTH", {"masked": "…"}, 2)


_FIELD_KEY_RES = tuple((re.compile(rf"(?:{k})", re.IGNORECASE), sev) for k, sev in _FIELD_KEYS)
_VALUE_START = re.compile(r"[\"']?[ \t]*(?:=>|:=|[:=])[ \t]*")
_PLACEHOLDERS = frozenset(
    {
        "null", "none", "nil", "n/a", "na", "unknown", "redacted", "removed", "hidden", "string",
        "str", "int", "integer", "date", "datetime", "text", "varchar", "number", "optional",
        "required", "true", "false", "example", "sample", "test", "todo", "tbd", "undefined",
        "value", "any", "bool", "list", "dict", "object", "uuid", "char",
    }
)  # fmt: skip


def _looks_masked(value: str) -> bool:
    masking = sum(1 for c in value if c in "xX*#•_-.?")
    return masking * 2 >= len(value)


_YEARS = re.compile(r"(?:19|20)[0-9]{2}(?:-(?:19|20)?[0-9]{2})?")
_PROSE_VALUE = re.compile(r"\.?[ \t]+(?:(?:is|was|no\.?|#)[ \t]+)?([A-Z0-9][A-Z0-9-]{5,24})$")


def _named_field(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    separator = _VALUE_START.search(text, start, end)
    if separator is None:
        return _prose_field(text, start, end)
    key = text[start : separator.start()].strip("\"' \t")
    value_start = separator.end()
    value = text[value_start:end]
    quoted = value[:1] in "\"'"
    if quoted:
        value_start += 1
        value = value[1:-1]
    else:
        value = value.rstrip(".")
    bare = value.strip()
    lowered = bare.lower()
    if len(bare) < 2 or lowered in _PLACEHOLDERS or _looks_masked(bare):
        return None
    if bare[0] in "<{$%[(" or "{{" in bare or "${" in bare:
        return None
    # Unquoted letters are usually code (ssn: str, dob = row.dob); a capitalised word after a
    # name key ("first_name: Jane") is the exception.
    name_like = _NAME_KEY.search(key) is not None and bare[0].isupper() and bare.isalpha()
    if not quoted and not name_like and not any(c.isdigit() for c in bare):
        return None
    # Code, not data: last_name = Column(String), full_name: Optional[str], dob = row.dob.
    if not quoted and end < len(text) and text[end] in "([.":
        return None
    severity = next((sev for rx, sev in _FIELD_KEY_RES if rx.fullmatch(key)), "SEV3")
    detail = {"key": key, "masked": f"{len(bare)} characters"}
    return Hit(
        "pii.named_field",
        value_start,
        value_start + len(value),
        severity,
        "PERSONAL_DATA",
        detail,
        4,
    )


def _prose_field(text: str, start: int, end: int) -> Hit | None:
    """ "my passport is X1234567": an identifier-shaped value, mostly digits, after the key."""
    found = _PROSE_VALUE.search(text, start, end)
    if found is None:
        return None
    key = text[start : found.start()].strip()
    value = found.group(1)
    if sum(c.isdigit() for c in value) < 5 or len(set(_digits(value))) < 3:
        return None
    if _YEARS.fullmatch(value) or _DATE_LIKE.match(value):  # "passport 2019-2029"
        return None
    if key.lower().endswith("name"):
        return None
    severity = next((sev for rx, sev in _FIELD_KEY_RES if rx.fullmatch(key)), "SEV3")
    detail = {"key": key, "masked": f"{len(value)} characters"}
    return Hit("pii.named_field", found.start(1), end, severity, "PERSONAL_DATA", detail, 4)


_HANDLERS: dict[str, Handler] = {
    "email": _email,
    "phone_intl": _phone_intl,
    "phone_nanp": _phone_nanp,
    "phone_ctx": _phone_ctx,
    "card": _card,
    "iban": _iban,
    "us_ssn": _us_ssn,
    "us_ssn_ctx": _us_ssn_ctx,
    "uk_nino": _uk_nino,
    "nl_bsn_ctx": _nl_bsn,
    "es_dni": _es_dni,
    "es_nie": _es_dni,
    "it_cf": _it_cf,
    "fr_nir": _fr_nir,
    "de_steuer_id_ctx": _de_steuer_id,
    "in_aadhaar": _in_aadhaar,
    "in_aadhaar_ctx": _in_aadhaar,
    "uk_nhs_ctx": _uk_nhs,
    "ipv4": _ipv4,
    "ipv6_compressed": _ipv6,
    "ipv6_full": _ipv6,
    "dob": _dob,
    "named_field_prose": _named_field,
    **{f"named_field_{i}": _named_field for i in range(len(_FIELD_KEYS))},
}
assert set(_HANDLERS) == {p.name for p in PATTERNS}


class _Settings:
    """One system's pii settings, read once per configuration object (``hits.PerConfig``)."""

    __slots__ = ("allowed", "private_ips", "role_mailboxes", "rules")

    def __init__(self, config: SystemConfig) -> None:
        self.rules = RuleFilter.read(config, DETECTOR_ID)
        self.allowed = tuple(
            str(d).lower().lstrip("@")
            for d in config.setting(DETECTOR_ID, "allow_domains", ()) or ()
        )
        self.private_ips = bool(config.setting(DETECTOR_ID, "report_private_ips", True))
        self.role_mailboxes = bool(config.setting(DETECTOR_ID, "report_role_mailboxes", False))

    def keep(self, hit: Hit) -> bool:
        """The settings' say on a validated hit: allowed domains, role mailboxes, private IPs."""
        rule = hit.rule
        if rule == "pii.email":
            domain = hit.detail["domain"]
            if any(domain == d or domain.endswith("." + d) for d in self.allowed):
                return False
            return not (hit.detail.get("role_mailbox") and not self.role_mailboxes)
        return not (rule == "pii.ip" and not self.private_ips and hit.detail["scope"] != "public")


class PiiDetector:
    """Personal data: contact details, payment and bank data, national identifiers, IPs, DOBs."""

    id = DETECTOR_ID

    def __init__(self) -> None:
        self._settings = PerConfig(_Settings)

    def patterns(self) -> Sequence[Pattern]:
        return PATTERNS

    def inspect(
        self,
        record: InteractionIn,
        fields: Sequence[TextField],
        matches: Sequence[Match],
        config: SystemConfig,
    ) -> list[Finding]:
        if not matches:
            return []
        settings = self._settings(config)
        return inspect_matches(
            self.id, _TITLES, _HANDLERS, record, fields, matches, settings.rules, settings.keep
        )


DETECTOR = PiiDetector()
