"""Credentials in prompts, outputs, documents and tool traffic (D3), detector id ``secret``.

Nothing here fires on randomness alone: English prose about passwords and keys must stay
silent, and so must UUIDs, git hashes and base64 images. Every rule needs a *shape* first, a
vendor prefix (``AKIA``, ``ghp_``, ``sk_live_``), a structure (a JWT whose header decodes to
JSON with ``alg``, a PEM block with a body), or a key name in an assignment, and then a
validator: a checksum where the vendor has one (GitHub and npm tokens carry a CRC-32), a
decoding check (JWT, Azure keys, HTTP basic credentials), and for assigned values a test that
the value looks issued rather than written (long enough, mixed characters, not a placeholder
such as ``your-api-key-here``, ``xxxx``, ``<token>`` or ``${API_KEY}``).

Settings (``config.setting("secret", name)``): ``sources`` and ``ignore_rules`` as for the
personal-data detector (see ``hits.RuleFilter``).

Formats follow the vendors' own documentation of their token prefixes: AWS IAM "Understanding
unique ID prefixes"; GitHub "Behind GitHub's new authentication token formats" (2021); GitLab
"Token overview"; Slack "Token types"; Stripe "API keys"; Google Cloud "API keys"; npm "About
access tokens"; PyPI "API tokens" (macaroons); RFC 7519 (JWT); RFC 7468 (PEM); RFC 3986
(userinfo in URLs); RFC 7617 (HTTP Basic).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import math
import re
from collections.abc import Sequence
from typing import Any

from firestop.detect import checksums
from firestop.detect.base import Finding, Match, Pattern, SystemConfig, TextField
from firestop.detect.hits import Handler, Hit, PerConfig, RuleFilter, cased, inspect_matches
from firestop.ledger.schemas import InteractionIn

DETECTOR_ID = "secret"

# Patterns start with their vendor prefix, and what may come before a token is checked after
# that prefix: Python's ``re`` then jumps from prefix to prefix instead of trying every position.
_E = r"(?![A-Za-z0-9_-])"  # token end


def _token(prefix: str, body: str) -> str:
    """``prefix`` + ``body``, not inside a longer identifier (the guard follows the prefix)."""
    width = len(prefix.replace("\\", ""))
    return rf"{prefix}(?<![A-Za-z0-9_-].{{{width}}}){body}{_E}"


# Each pattern also gives the shared scanner a ``prefilter`` (see ``base.Pattern``): the
# pattern without its guards, its key names without their preceding-character check, and any
# repetition it ends in cut to its least count. Every match of the pattern starts with a match
# of its prefilter, so no field with a match is missed, while the prefilter is ASCII without
# lookarounds, which Hyperscan matches bytewise (``scan.byte_safe``) at twice the speed and
# compiles in milliseconds, and has one end per occurrence instead of one per possible length
# (each end is a call back into Python).
def _vendor(name: str, prefix: str, body: str, least: str | None = None) -> Pattern:
    """A vendor token: ``prefix`` then ``body``; ``least`` is ``body`` with its end cut."""
    return Pattern(name, _token(prefix, body), prefilter=prefix + (least or body))


_ASSIGN = r"[\"']?[ \t]*(?:=>|:=|[:=])[ \t]*"

# Key names whose value is a credential when it looks like one; "password" has its own rule.
_KEY_NAMES = cased(
    "api[_-]?key|apikey|api[_-]?secret|api[_-]?token|access[_-]?token|auth[_-]?token"
    "|refresh[_-]?token|bearer[_-]?token|secret[_-]?key|client[_-]?secret|app[_-]?secret"
    "|private[_-]?token|access[_-]?key|signing[_-]?key|encryption[_-]?key|token|secret"
)
_PW_KEY_NAMES = cased("password|passwd|passphrase|pwd")
# The same key names with no check of what precedes them, for prefilters.
_KEYS_ANYWHERE = cased(
    "api[_-]?key|apikey|api[_-]?secret|api[_-]?token|access[_-]?token|auth[_-]?token"
    "|refresh[_-]?token|bearer[_-]?token|secret[_-]?key|client[_-]?secret|app[_-]?secret"
    "|private[_-]?token|access[_-]?key|signing[_-]?key|encryption[_-]?key|token|secret",
    not_after="",
)
_PW_KEYS_ANYWHERE = cased("password|passwd|passphrase|pwd", not_after="")
# Characters of an assigned value (see ``key_assignment``).
_VALUE = r"[^\s\"'`,;(){}\[\]<>]"

PATTERNS: tuple[Pattern, ...] = (
    _vendor("aws_access_key", "A", r"(?:KIA|SIA|BIA|CCA)[A-Z2-7]{16}"),
    Pattern(
        "aws_secret_key",
        cased("aws[_-]?secret[_-]?access[_-]?key|secret[_-]?access[_-]?key")
        + rf"{_ASSIGN}[\"']?[A-Za-z0-9/+]{{40}}(?![A-Za-z0-9/+=])",
        prefilter=cased("secret[_-]?access[_-]?key", not_after="")
        + rf"{_ASSIGN}[\"']?[A-Za-z0-9/+]{{40}}",
    ),
    # The secret handed over in prose right after its key id: "access key AKIA…, secret …".
    Pattern(
        "aws_key_pair",
        _token("A", r"(?:KIA|SIA)[A-Z2-7]{16}")
        + r"[^\n]{1,80}?(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
        prefilter=r"A(?:KIA|SIA)[A-Z2-7]{16}",
    ),
    _vendor("github_token", "gh", r"[pousr]_[A-Za-z0-9]{36}"),
    _vendor("github_pat", "github_pat_", r"[A-Za-z0-9]{22}_[A-Za-z0-9]{59}"),
    Pattern(
        "gitlab_token",
        r"gl(?<![A-Za-z0-9_-].{2})(?:pat|dt|rt|ptt|cbt|ft|soat|oas|imt|agent|ffct)-"
        r"[A-Za-z0-9_-]{20,64}(?:\.[A-Za-z0-9_.-]{2,32})?(?![A-Za-z0-9_-]|\.[A-Za-z0-9])",
        prefilter=r"gl(?:pat|dt|rt|ptt|cbt|ft|soat|oas|imt|agent|ffct)-[A-Za-z0-9_-]{20}",
    ),
    _vendor(
        "slack_token",
        "xox",
        r"(?:[abposr]|e(?:\.xox[bp])?)-[0-9]{1,16}-[A-Za-z0-9-]{10,250}",
        r"(?:[abposr]|e(?:\.xox[bp])?)-[0-9]{1,16}-[A-Za-z0-9-]{10}",
    ),
    _vendor(
        "slack_app_token",
        "xapp-",
        r"[0-9]-[A-Z0-9]{9,12}-[0-9]{10,16}-[a-f0-9]{32,80}",
        r"[0-9]-[A-Z0-9]{9,12}-[0-9]{10}",
    ),
    Pattern(
        "slack_webhook",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{20,160}",
        prefilter=r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{20}",
    ),
    _vendor("stripe_secret_key", "sk_live_", r"[A-Za-z0-9]{20,247}", r"[A-Za-z0-9]{20}"),
    _vendor("stripe_restricted_key", "rk_live_", r"[A-Za-z0-9]{20,247}", r"[A-Za-z0-9]{20}"),
    _vendor("google_api_key", "AIza", r"[A-Za-z0-9_-]{35}"),
    _vendor(
        "openai_key",
        "sk-",
        r"(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})",
        r"(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})",
    ),
    _vendor(
        "anthropic_key",
        "sk-ant-",
        r"(?:api|admin|oat|sid)[0-9]{2}-[A-Za-z0-9_-]{80,120}",
        r"(?:api|admin|oat|sid)[0-9]{2}-[A-Za-z0-9_-]{80}",
    ),
    _vendor("npm_token", "npm_", r"[A-Za-z0-9]{36}"),
    _vendor("pypi_token", "pypi-AgEIcHlwaS5vcmc", r"[A-Za-z0-9_-]{50,}", r"[A-Za-z0-9_-]{50}"),
    _vendor("huggingface_token", "hf_", r"[A-Za-z]{34}"),
    _vendor("sendgrid_key", r"SG\.", r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"),
    _vendor(
        "jwt",
        "eyJ",
        r"[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}",
        r"[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16}",
    ),
    Pattern("private_key", r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----"),
    # Found at "://" and widened in Python, so neither engine starts a match at every letter.
    # The prefilter's single unbounded run covers both of the pattern's parts and the ":".
    Pattern(
        "url_credentials",
        r"://[^\s:/?#@\"'<>]{0,128}:[^\s/?#@\"'<>]{1,256}@[A-Za-z0-9\[]",
        prefilter=r"://[^\s/?#@\"'<>]*:[^\s/?#@\"'<>]+@[A-Za-z0-9\[]",
    ),
    Pattern(
        "ado_password",
        cased("password|pwd") + r"[ \t]*=[ \t]*[^;\"'\s][^;\"'\r\n]{0,127}",
        prefilter=cased("password|pwd", not_after="") + r"[ \t]*=",
    ),
    Pattern(
        "azure_key",
        # Connection strings spell the keys this way (Azure Storage documentation).
        r"(?:A(?<![A-Za-z0-9].)ccountKey|S(?<![A-Za-z0-9].)haredAccessKey)"
        r"=[A-Za-z0-9+/]{40,100}={0,2}",
        prefilter=r"(?:AccountKey|SharedAccessKey)=[A-Za-z0-9+/]{40}",
    ),
    Pattern(
        "key_assignment",
        rf"{_KEY_NAMES}{_ASSIGN}(?:b?[\"'`])?{_VALUE}{{16,512}}",
        # The value's 16 characters end the prefilter, so it stays byte-safe.
        prefilter=rf"{_KEYS_ANYWHERE}{_ASSIGN}(?:b?[\"'`])?{_VALUE}{{16}}",
    ),
    Pattern(
        "password_assignment",
        rf"{_PW_KEY_NAMES}{_ASSIGN}(?:b?[\"'`])?{_VALUE}{{8,256}}",
        prefilter=rf"{_PW_KEYS_ANYWHERE}{_ASSIGN}(?:b?[\"'`])?{_VALUE}{{8}}",
    ),
    Pattern(
        "bearer",
        cased("bearer") + r"[ \t]+[A-Za-z0-9_~+/.-]{20,}=*",
        prefilter=cased("bearer", not_after="") + r"[ \t]+[A-Za-z0-9_~+/.-]{20}",
    ),
    Pattern(
        "basic_auth",
        cased("basic") + r"[ \t]+[A-Za-z0-9+/]{8,}={0,2}",
        prefilter=cased("basic", not_after="") + r"[ \t]+[A-Za-z0-9+/]{8}",
    ),
)

_TITLES = {
    "secret.aws_access_key": "AWS access key",
    "secret.aws_secret_key": "AWS secret access key",
    "secret.github_token": "GitHub token",
    "secret.gitlab_token": "GitLab token",
    "secret.slack_token": "Slack token",
    "secret.slack_webhook": "Slack webhook URL",
    "secret.stripe_key": "Stripe live key",
    "secret.google_api_key": "Google API key",
    "secret.openai_key": "OpenAI API key",
    "secret.anthropic_key": "Anthropic API key",
    "secret.npm_token": "npm token",
    "secret.pypi_token": "PyPI token",
    "secret.huggingface_token": "Hugging Face token",
    "secret.sendgrid_key": "SendGrid API key",
    "secret.jwt": "JSON Web Token",
    "secret.private_key": "Private key",
    "secret.url_password": "Password in a URL",
    "secret.connection_string": "Database connection string with a password",
    "secret.azure_key": "Azure storage or service key",
    "secret.generic_api_key": "API key or token",
    "secret.password": "Password",
    "secret.bearer_token": "Bearer token",
    "secret.basic_auth": "HTTP basic credentials",
}
RULES = tuple(_TITLES)


# --- what a real credential looks like -------------------------------------------------------

# Words that mark a value as written by a person for a reader: documentation, templates, tests.
_PLACEHOLDER_WORDS = (
    "your", "example", "placeholder", "changeme", "change_me", "change-me", "dummy", "sample",
    "redacted", "xxxx", "****", "....", "insert", "replace", "here", "fake", "todo", "secret",
    "password", "passwd", "token", "apikey", "api_key", "api-key", "test", "demo", "foobar",
    "lorem", "123456", "abcdef", "qwerty", "enter", "<", ">", "${", "{{", "%(", "$(",
)  # fmt: skip
# Published example credentials (AWS documentation, Azurite's well-known development key).
_KNOWN_EXAMPLES = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    }
)


def _placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(word in lowered for word in _PLACEHOLDER_WORDS) or value in _KNOWN_EXAMPLES


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts: dict[str, int] = {}
    for c in value:
        counts[c] = counts.get(c, 0) + 1
    n = len(value)
    return -sum(k / n * math.log2(k / n) for k in counts.values())


def _classes(value: str) -> int:
    return (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
        + any(not c.isalnum() for c in value)
    )


def _random_enough(value: str, *, min_entropy: float = 3.0) -> bool:
    """A vendor token body: not one repeated character, not a word, not a sequence."""
    if len(set(value)) < 6 or _entropy(value) < min_entropy:
        return False
    return not _placeholder(value)


def _issued_looking(value: str) -> bool:
    """Could ``value`` (assigned to a key-like name) be a machine-issued credential?

    Letters and digits both, mixed through the value rather than a digit suffix on a word
    ("get_token_v2"), and enough entropy; paths, URLs and code are left alone.
    """
    if len(value) < 16 or value.startswith(("/", "./", "~/", "http")) or "://" in value:
        return False
    if not any(c.isdigit() for c in value) or not any(c.isalpha() for c in value):
        return False
    switches = sum(1 for a, b in itertools.pairwise(value) if a.isdigit() != b.isdigit())
    if switches < 3:
        return False
    # Dotted or snake_case identifiers: os.environ.API_KEY2, settings.secret_key_v2.
    words = [w for w in re.split(r"[._-]", value) if w]
    if len(words) > 1 and all(w.isalpha() or w[:-1].isalpha() for w in words):
        return False
    return _entropy(value) >= 3.0 and not _placeholder(value)


def _password_like(value: str) -> bool:
    """A password someone actually set: 8+ characters from 3 classes, not a placeholder."""
    if len(value) < 8 or _classes(value) < 3 or _placeholder(value):
        return False
    # Code, not a value: self.password, config.db_password, os.getenv.
    return not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+", value)


def _masked(value: str, prefix: int = 0) -> str:
    return value[:prefix] + "…" + value[-4:] if len(value) > prefix + 8 else "…"


def _hit(rule: str, start: int, end: int, severity: str, priority: int, **detail: Any) -> Hit:
    return Hit(f"secret.{rule}", start, end, severity, "SECRET", dict(detail), priority)


# --- vendor tokens ---------------------------------------------------------------------------


def _aws_access_key(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    value = text[start:end]
    if value in _KNOWN_EXAMPLES or value.endswith("EXAMPLE") or not _random_enough(value[4:]):
        return None
    # ASIA keys are temporary (STS) and expire within hours; AKIA keys live until revoked.
    temporary = value.startswith("ASIA")
    return _hit(
        "aws_access_key", start, end, "SEV2" if temporary else "SEV1", 0,
        masked=_masked(value, 4), temporary=temporary,
    )  # fmt: skip


def _aws_secret_key(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    value_start = end - 40
    value = text[value_start:end]
    if value in _KNOWN_EXAMPLES or _classes(value) < 3 or not _random_enough(value):
        return None
    return _hit("aws_secret_key", value_start, end, "SEV1", 0, masked=_masked(value))


def _github_token(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    value = text[start:end]
    # Classic tokens end in a CRC-32 of their random part: a typo or an invented token fails.
    if not checksums.crc_token_ok(value):
        return None
    kind = {"p": "personal", "o": "oauth", "u": "user-to-server", "s": "server", "r": "refresh"}
    return _hit(
        "github_token", start, end, "SEV2", 0, masked=_masked(value, 4), kind=kind[value[2]]
    )


def _github_pat(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    value = text[start:end]
    if not _random_enough(value[11:]):
        return None
    return _hit(
        "github_token", start, end, "SEV2", 0, masked=_masked(value, 11), kind="fine-grained"
    )


def _prefixed(rule: str, severity: str, prefix_length: int) -> Handler:
    """A handler for a vendor token whose prefix the pattern already pinned down."""

    def handle(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
        value = text[start:end]
        if not _random_enough(value[prefix_length:]):
            return None
        return _hit(rule, start, end, severity, 0, masked=_masked(value, prefix_length))

    return handle


def _gitlab_token(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    value = text[start:end]
    body = value.split("-", 1)[1]
    if not _random_enough(body, min_entropy=3.2):
        return None
    return _hit(
        "gitlab_token", start, end, "SEV2", 0, masked=_masked(value, 6), kind=value.split("-")[0]
    )


def _slack_token(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    value = text[start:end]
    last = value.rsplit("-", 1)[-1]
    if len(last) < 10 or not _random_enough(last, min_entropy=2.8):
        return None
    return _hit("slack_token", start, end, "SEV2", 0, masked=_masked(value, 5))


def _slack_webhook(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    value = text[start:end]
    parts = value.split("/")[4:]
    if len(parts) < 3 or len(parts[-1]) < 20:
        return None
    secret = parts[-1]
    # Slack's documentation writes T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX.
    if not _random_enough(secret) or all(set(p[1:]) <= {"0"} for p in parts[:2]):
        return None
    return _hit("slack_webhook", start, end, "SEV3", 0, masked=_masked(value, 33))


def _crc_token(rule: str) -> Handler:
    def handle(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
        value = text[start:end]
        if not checksums.crc_token_ok(value):
            return None
        return _hit(rule, start, end, "SEV2", 0, masked=_masked(value, 4))

    return handle


# --- structured secrets ----------------------------------------------------------------------

# jwt.io's sample token: on every tutorial page, nobody's session.
_JWT_IO_SIGNATURE = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"


def _b64url_json(part: str) -> Any:
    padded = part + "=" * (-len(part) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, binascii.Error):
        return None


def _jwt(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    header_part, payload_part, signature = text[start:end].split(".")
    header = _b64url_json(header_part)
    payload = _b64url_json(payload_part)
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return None
    alg = header.get("alg")
    # An unsigned token ("alg": "none") grants nothing to whoever holds it.
    if not isinstance(alg, str) or alg.lower() == "none" or signature == _JWT_IO_SIGNATURE:
        return None
    detail: dict[str, Any] = {"alg": alg, "claims": sorted(str(k) for k in payload)[:20]}
    exp = payload.get("exp")
    expired = isinstance(exp, int | float) and exp < record.started_at.timestamp()
    detail["expired"] = expired
    return Hit("secret.jwt", start, end, "SEV3" if expired else "SEV2", "JWT", detail, 1)


_PEM_BODY = re.compile(r"(?:[A-Za-z0-9+/=\s]|\\n|\\r|[A-Za-z-]+:[^\n]*\n)*")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")


def _private_key(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    header = text[start:end]
    body = _PEM_BODY.match(text, end)
    body_end = body.end() if body else end
    key_chars = sum(c.isalnum() or c in "+/" for c in text[end:body_end].replace("\\n", ""))
    # Documentation shows the armour around "..." or a few characters; a key has hundreds.
    if key_chars < 64:
        return None
    closing = _PEM_END.match(text, body_end)
    stop = closing.end() if closing else body_end
    kind = header[len("-----BEGIN ") : header.index("PRIVATE KEY")].strip() or "PKCS8"
    encrypted = "ENCRYPTED" in kind or "Proc-Type: 4,ENCRYPTED" in text[end:body_end]
    return Hit(
        "secret.private_key", start, stop, "SEV2" if encrypted else "SEV1", "PRIVATE_KEY",
        {"key_type": kind, "encrypted": encrypted, "complete": closing is not None}, 0,
    )  # fmt: skip


_DB_SCHEMES = frozenset(
    {
        "postgres", "postgresql", "mysql", "mariadb", "mongodb", "mongodb+srv", "redis", "rediss",
        "amqp", "amqps", "mssql", "sqlserver", "oracle", "jdbc:postgresql", "jdbc:mysql",
        "cockroachdb", "clickhouse", "couchbase", "neo4j", "neo4j+s", "bolt",
    }
)  # fmt: skip
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-:")
_HOST = re.compile(r"\[?[A-Za-z0-9.:-]*\]?")
# Compared with the host in a URL, never bound to.
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "0.0.0.0", "host.docker.internal")  # noqa: S104


def _url_credentials(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    i = start
    while i > 0 and text[i - 1] in _SCHEME_CHARS:
        i -= 1
    scheme = text[i:start].lower()
    if ":" in scheme and not scheme.startswith("jdbc:"):
        scheme = scheme.rsplit(":", 1)[1]  # "url:https" in "url:https://…"
        i = start - len(scheme)
    if not scheme or not scheme[0].isalpha():
        return None
    userinfo = text[start + 3 : end - 2]
    user, _, password = userinfo.partition(":")
    # user:password@, <password>, ***, ${DB_PASSWORD}, and the Docker default postgres:postgres.
    if password == user or _placeholder(password) or _looks_blank(password):
        return None
    host_match = _HOST.match(text, end - 1)
    host = host_match.group() if host_match else ""
    stop = host_match.end() if host_match else end
    local = host.lower().startswith(_LOCAL_HOSTS)
    rule = "connection_string" if scheme in _DB_SCHEMES else "url_password"
    return Hit(
        f"secret.{rule}", i, stop, "SEV3" if local else "SEV2", "CREDENTIALS",
        {"scheme": scheme, "host": host, "masked": f"{scheme}://…:…@{host}"}, 2,
    )  # fmt: skip


def _looks_blank(value: str) -> bool:
    return len(set(value)) <= 2 or value[0] in "<[{$%*" or value.lower() in {"pass", "pw", "p"}


# Keys that make a "Password=…" a connection string rather than a line of prose or config.
_ADO_KEYS = re.compile(
    r"(?:server|data source|host|user id|uid|user|initial catalog|database|addr|address"
    r"|port|datasource)[ \t]*=",
    re.IGNORECASE,
)


def _ado_password(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    # Inside a "Key=value;Key=value" string: right after a ";" or the string's opening, with
    # another connection-string key in the same string.
    before = text[max(0, start - 300) : start].rstrip(" \t")
    if before and before[-1] not in ";\"'\n=":
        return None
    segment_start = max(before.rfind(c) for c in "\"'\n") + 1
    line_end = text.find("\n", end)
    segment = before[segment_start:] + text[start : line_end if line_end != -1 else len(text)]
    if ";" not in segment or not _ADO_KEYS.search(segment):
        return None
    value_start = text.index("=", start) + 1
    while text[value_start] in " \t":
        value_start += 1
    value = text[value_start:end].strip()
    if len(value) < 4 or _placeholder(value) or _looks_blank(value) or "[" in value:
        return None
    return Hit(
        "secret.connection_string", start, value_start + len(value), "SEV2", "CREDENTIALS",
        {"masked": "Password=…", "style": "ado"}, 2,
    )  # fmt: skip


def _azure_key(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    key_start = text.index("=", start) + 1
    value = text[key_start:end]
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        return None
    # Storage account keys are 64 random bytes, shared access keys 32.
    if len(raw) not in (32, 64) or value in _KNOWN_EXAMPLES or not _random_enough(value):
        return None
    return _hit("azure_key", start, end, "SEV1", 0, masked=_masked(value))


# --- assignments and headers -----------------------------------------------------------------

_ASSIGN_RE = re.compile(_ASSIGN + r"(?:b?[\"'`])?")


def _assigned_value(text: str, start: int, end: int) -> tuple[str, int, int] | None:
    sep = _ASSIGN_RE.search(text, start, end)
    if sep is None:
        return None
    key = text[start : sep.start()].strip("\"' \t")
    return key, sep.end(), end


# Values in a vendor's format belong to that vendor's rule; when it turned them down (a GitHub
# token whose checksum fails) the generic rule must not report them after all.
_VENDOR_SHAPED = re.compile(
    r"gh[pousr]_|github_pat_|npm_|gl[a-z]{1,5}-|xox[a-z]-|xapp-|[sr]k_live_|AIza|sk-|A[KS]IA"
    r"|hf_|SG\.|pypi-|eyJ"
)


def _key_assignment(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    found = _assigned_value(text, start, end)
    if found is None:
        return None
    key, value_start, value_end = found
    value = text[value_start:value_end].rstrip(".")
    if _VENDOR_SHAPED.match(value) or not _issued_looking(value):
        return None
    return Hit(
        "secret.generic_api_key", value_start, value_start + len(value), "SEV3", "SECRET",
        {"key": key, "masked": _masked(value)}, 4,
    )  # fmt: skip


def _password_assignment(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    found = _assigned_value(text, start, end)
    if found is None:
        return None
    key, value_start, value_end = found
    value = text[value_start:value_end]
    if value.endswith(".") and value[:-1].isalnum():
        value = value[:-1]  # the full stop of a sentence
    if not _password_like(value):
        return None
    return Hit(
        "secret.password", value_start, value_start + len(value), "SEV3", "PASSWORD",
        {"key": key, "masked": f"{len(value)} characters"}, 4,
    )  # fmt: skip


def _bearer(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    value_start = start + 6
    while text[value_start] in " \t":
        value_start += 1
    value = text[value_start:end]
    if _VENDOR_SHAPED.match(value) or not _issued_looking(value.rstrip("=")):
        return None
    return _hit("bearer_token", value_start, end, "SEV2", 3, masked=_masked(value))


def _basic_auth(text: str, start: int, end: int, record: InteractionIn) -> Hit | None:
    value_start = start + 5
    while text[value_start] in " \t":
        value_start += 1
    value = text[value_start:end]
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    if not colon or not user or not decoded.isprintable():
        return None
    if len(password) < 4 or password == user or _placeholder(password):
        return None
    return _hit("basic_auth", value_start, end, "SEV2", 3, user=user[:1] + "…")


_HANDLERS: dict[str, Handler] = {
    "aws_access_key": _aws_access_key,
    "aws_secret_key": _aws_secret_key,
    "aws_key_pair": _aws_secret_key,
    "github_token": _github_token,
    "github_pat": _github_pat,
    "gitlab_token": _gitlab_token,
    "slack_token": _slack_token,
    "slack_app_token": _prefixed("slack_token", "SEV2", 5),
    "slack_webhook": _slack_webhook,
    "stripe_secret_key": _prefixed("stripe_key", "SEV1", 8),
    "stripe_restricted_key": _prefixed("stripe_key", "SEV1", 8),
    "google_api_key": _prefixed("google_api_key", "SEV2", 4),
    "openai_key": _prefixed("openai_key", "SEV2", 8),
    "anthropic_key": _prefixed("anthropic_key", "SEV2", 13),
    "npm_token": _crc_token("npm_token"),
    "pypi_token": _prefixed("pypi_token", "SEV2", 20),
    "huggingface_token": _prefixed("huggingface_token", "SEV2", 3),
    "sendgrid_key": _prefixed("sendgrid_key", "SEV2", 3),
    "jwt": _jwt,
    "private_key": _private_key,
    "url_credentials": _url_credentials,
    "ado_password": _ado_password,
    "azure_key": _azure_key,
    "key_assignment": _key_assignment,
    "password_assignment": _password_assignment,
    "bearer": _bearer,
    "basic_auth": _basic_auth,
}
assert set(_HANDLERS) == {p.name for p in PATTERNS}


class SecretDetector:
    """Credentials: cloud and vendor keys, tokens, private keys, passwords in URLs and config."""

    id = DETECTOR_ID

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
        rules = _RULES(config)
        return inspect_matches(self.id, _TITLES, _HANDLERS, record, fields, matches, rules)


# The ``sources``/``ignore_rules`` settings, read once per configuration object.
_RULES = PerConfig(lambda config: RuleFilter.read(config, DETECTOR_ID))


DETECTOR = SecretDetector()
