"""The credential detector, through the shared scanner, on both engines.

Credential-shaped test values are assembled at run time (prefix + body), so that secret
scanners run over this repository do not flag the test file itself.
"""

from __future__ import annotations

import base64
import json
import random
import string
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firestop.detect import checksums
from firestop.detect.base import Finding, SystemConfig
from firestop.detect.engine import ContentEngine
from firestop.detect.secret import DETECTOR, RULES
from firestop.ledger.schemas import InteractionIn

HYPERSCAN = ContentEngine([DETECTOR])
PYTHON_RE = ContentEngine([DETECTOR], engine="re")
STARTED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ALNUM = string.ascii_letters + string.digits


def config(**secret: Any) -> SystemConfig:
    return SystemConfig(
        id=1,
        slug="x",
        criticality="high",
        content_mode="full",
        approved_models=(),
        other_models=(),
        tools={},
        settings={"secret": secret} if secret else {},
    )


def record(output: str = "", *, user: str = "") -> InteractionIn:
    messages = [{"role": "user", "content": user}] if user else []
    return InteractionIn(system="x", started_at=STARTED, messages=messages, output=output)


def run(rec: InteractionIn, cfg: SystemConfig | None = None) -> list[Finding]:
    """Findings from the Hyperscan path, after checking that plain ``re`` finds the same."""
    cfg = cfg or config()
    found = HYPERSCAN.run(rec, cfg)
    assert PYTHON_RE.run(rec, cfg) == found
    return found


def hits(text: str, **settings_: Any) -> list[tuple[str, str]]:
    return [(f.rule, text[f.start : f.end]) for f in run(record(text), config(**settings_))]


def rnd(n: int, alphabet: str = ALNUM, *, seed: int = 1) -> str:
    r = random.Random(seed * 1000 + n)
    return "".join(r.choice(alphabet) for _ in range(n))


def github_token(body: str, prefix: str = "ghp") -> str:
    return f"{prefix}_{body}{checksums.base62_crc32(body)}"


def b64url(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def jwt(payload: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    head = header or {"alg": "HS256", "typ": "JWT"}
    return f"{b64url(head)}.{b64url(payload)}.{rnd(43, ALNUM + '-_')}"


def pem(kind: str = "RSA ", lines: int = 10) -> str:
    r = random.Random(lines)
    body = "\n".join(
        base64.b64encode(bytes(r.randrange(256) for _ in range(48))).decode() for _ in range(lines)
    )
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"


AWS_ID = "AK" + "IA" + rnd(16, string.ascii_uppercase + "234567")
AWS_SECRET = rnd(40, ALNUM + "/+")
GH = github_token(rnd(30))
GH_PAT = "github" + "_pat_" + rnd(22) + "_" + rnd(59)
GITLAB = "gl" + "pat-" + rnd(20, ALNUM + "_-")
SLACK = "xo" + "xb-" + "123456789012-1234567890123-" + rnd(24)
SLACK_HOOK = "https://hooks.slack.com/services/T0A1B2C3D/B0E1F2G3H/" + rnd(24)
STRIPE = "sk" + "_live_" + rnd(24)
GOOGLE = "AI" + "za" + rnd(35, ALNUM + "_-")
OPENAI = "sk-" + "proj-" + rnd(64, ALNUM + "_-")
ANTHROPIC = "sk-" + "ant-api03-" + rnd(93, ALNUM + "_-") + "AA"
NPM = "npm_" + rnd(30) + checksums.base62_crc32(rnd(30))
PYPI = "pypi-" + "AgEIcHlwaS5vcmc" + rnd(60, ALNUM + "_-")
HF = "hf" + "_" + rnd(34, string.ascii_letters)
SENDGRID = "SG" + "." + rnd(22, ALNUM + "_-") + "." + rnd(43, ALNUM + "_-")
JWT = jwt({"sub": "42", "exp": 1900000000})
HEX32 = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
_R = random.Random(3)
AZURE = base64.b64encode(bytes(_R.randrange(256) for _ in range(64))).decode()

POSITIVES = [
    (f"aws_access_key_id = {AWS_ID}", "secret.aws_access_key", AWS_ID),
    (f"aws_secret_access_key = {AWS_SECRET}", "secret.aws_secret_key", AWS_SECRET),
    (f"export GH_TOKEN={GH}", "secret.github_token", GH),
    (f"token {GH_PAT}", "secret.github_token", GH_PAT),
    (f"CI uses {GITLAB}.", "secret.gitlab_token", GITLAB),
    (f"slack: {SLACK}", "secret.slack_token", SLACK),
    (f"post to {SLACK_HOOK}", "secret.slack_webhook", SLACK_HOOK),
    (f"stripe.api_key = '{STRIPE}'", "secret.stripe_key", STRIPE),
    (f"maps key {GOOGLE}", "secret.google_api_key", GOOGLE),
    (f"OPENAI_API_KEY={OPENAI}", "secret.openai_key", OPENAI),
    (f"use {ANTHROPIC} for claude", "secret.anthropic_key", ANTHROPIC),
    (f"//registry.npmjs.org/:_authToken={NPM}", "secret.npm_token", NPM),
    (f"password = {PYPI}", "secret.pypi_token", PYPI),
    (f"HF_TOKEN {HF}", "secret.huggingface_token", HF),
    (f"SENDGRID {SENDGRID}", "secret.sendgrid_key", SENDGRID),
    (f"cookie session={JWT};", "secret.jwt", JWT),
    (pem(), "secret.private_key", pem()),
    (
        "DATABASE_URL=postgres://app:S3cr3tPassw0rd!@db.internal:5432/app",
        "secret.connection_string",
        "postgres://app:S3cr3tPassw0rd!@db.internal:5432",
    ),
    (
        "use mongodb+srv://svc:Qw8Zx3Lp0v@cluster0.ab1cd.mongodb.net/prod",
        "secret.connection_string",
        "mongodb+srv://svc:Qw8Zx3Lp0v@cluster0.ab1cd.mongodb.net",
    ),
    (
        "Server=tcp:sql.acme.com,1433;Database=app;User ID=app;Password=Zq8!vB2#xL;",
        "secret.connection_string",
        "Password=Zq8!vB2#xL",
    ),
    (
        "fetch https://admin:Xy7kq2Lm9@files.acme.org/report.csv",
        "secret.url_password",
        "https://admin:Xy7kq2Lm9@files.acme.org",
    ),
    (
        f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={AZURE};EndpointSuffix=x",
        "secret.azure_key",
        f"AccountKey={AZURE}",
    ),
    ('api_key = "a8f3K2m9x7Q1w4e6R5t0yZ"', "secret.generic_api_key", "a8f3K2m9x7Q1w4e6R5t0yZ"),
    (f"token: {HEX32}", "secret.generic_api_key", HEX32),
    ('password = "Tr0ub4dor&3x"', "secret.password", "Tr0ub4dor&3x"),
    ("DB_PASSWORD=hU7#kPq2Zt", "secret.password", "hU7#kPq2Zt"),
    (
        "Authorization: Bearer 4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
        "secret.bearer_token",
        "4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
    ),
    (
        "Authorization: Basic " + base64.b64encode(b"alice:Wonderland42!").decode(),
        "secret.basic_auth",
        base64.b64encode(b"alice:Wonderland42!").decode(),
    ),
]  # fmt: skip


def test_the_hyperscan_path_is_the_one_exercised() -> None:
    assert HYPERSCAN.scanner.engine == "hyperscan"


@pytest.mark.parametrize(("text", "rule", "value"), POSITIVES)
def test_each_rule_finds_its_value(text: str, rule: str, value: str) -> None:
    assert hits(text) == [(rule, value)]


def test_every_rule_has_a_positive_case() -> None:
    assert {rule for _, rule, _ in POSITIVES} == set(RULES)


def test_a_real_github_token_published_for_format_checks_validates() -> None:
    # An expired token published (therootcompany/base62-token.js) to pin the checksum format.
    token = "ghp_" + "zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ" + "0mLq17"
    assert checksums.crc_token_ok(token)
    assert hits(f"token {token}") == [("secret.github_token", token)]


NEGATIVES = [
    # prose about credentials
    "Please reset your password: click the link we sent. Never share your API key or token.",
    "The password is stored hashed; the secret key rotates monthly; tokens expire in an hour.",
    "Use a bearer token in the Authorization header, or Basic authentication over TLS.",
    "Basic Information about private keys: keep them secret and keep them safe.",
    # placeholders
    'api_key = "your-api-key-here"\ntoken = "<token>"\nsecret = "changeme"',
    "API_KEY=${API_KEY}\nTOKEN={{ secrets.GITHUB_TOKEN }}\npassword: ********",
    'api_key = "xxxxxxxxxxxxxxxxxxxxxxxx"\nclient_secret = "REPLACE_WITH_YOUR_SECRET1"',
    "Authorization: Bearer <token>\nAuthorization: Bearer YOUR_ACCESS_TOKEN_HERE_123",
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg...\n-----END PRIVATE KEY-----",
    # URLs whose password is a placeholder, or the Docker default
    "postgres://user:password@localhost/db and https://user:<password>@host/x",
    "ftp://me:***@files.example.org/ and redis://:${REDIS_PASSWORD}@cache:6379",
    "postgres://postgres:postgres@db:5432/app",
    # code, not values
    "api_key = os.environ['OPENAI_API_KEY']\ntoken = get_token_v2()\npassword = self.password",
    "max_tokens=4096\ntoken_count: 1234567890123456\npassword_hash = bcrypt(pw)",
    "secret_key = settings.SECRET_KEY_V2\napi_key: str = Field(default=None)",
    'password = os.environ["DB_PASSWORD"] then Server=db;Database=app;User Id=app;',
    "The admin password=unknown; server=db.internal was down",
    # things that look random but are not credentials
    "request 123e4567-e89b-12d3-a456-426614174000 at commit "
    "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    "<img src='data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='>",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 colour #a1b2c3",
    # JWT look-alikes: parts that do not decode, an unsigned token, the jwt.io sample
    "eyJhbGciOiJIUzI1NiJ9.eyJub3Rqc29u.abcdefghijklmnopqrstuvwx",
    "eyJzZWdtZW50IjoxfQ.eyJzZWdtZW50IjoyfQ.c2lnbmF0dXJlc2lnbmF0dXJl",
    jwt({"sub": "1"}, {"alg": "none"}),
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiw"
    "iaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    # an AWS key id is fine (its own rule), but a git hash after it is no secret key
    "user ASIAIOSFODNN7EXAMPLE at commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    # a GitHub-shaped token whose checksum does not match
    GH[:-1] + ("A" if GH[-1] != "A" else "B"),
    "ghp_" + "x" * 36,
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_hard_negatives_stay_silent(text: str) -> None:
    assert hits(text) == []


def test_a_finding_carries_place_severity_group_and_a_masked_value() -> None:
    text = f"aws_access_key_id = {AWS_ID}"
    (finding,) = run(record(text))
    assert finding.detector == "secret"
    assert finding.title == "AWS access key in the model's output"
    assert (finding.path, finding.start, finding.end) == ("output", 20, 40)
    assert finding.category == "confidentiality"
    assert finding.severity == "SEV1"
    assert finding.group == "secret.aws_access_key:output"
    assert finding.detail == {
        "source": "output",
        "masked": f"AKIA…{AWS_ID[-4:]}",
        "temporary": False,
    }
    assert finding.excerpt == "aws_access_key_id = [SECRET]"


@pytest.mark.parametrize(("text", "rule", "value"), POSITIVES)
def test_no_excerpt_or_detail_holds_the_raw_value(text: str, rule: str, value: str) -> None:
    for finding in run(record(text)):
        assert value not in finding.excerpt
        assert value not in json.dumps(finding.detail)


def test_an_aws_key_pair_in_prose_gives_both_halves() -> None:
    text = f"access key {AWS_ID}, secret {AWS_SECRET} (valid 12 h)"
    assert hits(text) == [("secret.aws_access_key", AWS_ID), ("secret.aws_secret_key", AWS_SECRET)]


def test_a_vendor_rule_wins_over_the_generic_assignment() -> None:
    assert hits(f'api_key = "{STRIPE}"') == [("secret.stripe_key", STRIPE)]
    assert hits(f"Authorization: Bearer {JWT}") == [("secret.jwt", JWT)]


def test_jwt_details_and_expiry_against_the_interaction_time() -> None:
    live = jwt({"sub": "42", "exp": int(STARTED.timestamp()) + 3600})
    expired = jwt({"sub": "42", "exp": int(STARTED.timestamp()) - 3600})
    found = run(record(f"{live} {expired}"))
    assert [(f.severity, f.detail["expired"]) for f in found] == [("SEV2", False), ("SEV3", True)]
    assert found[0].detail["alg"] == "HS256"
    assert found[0].detail["claims"] == ["exp", "sub"]


def test_private_keys_whole_block_encrypted_and_json_escaped() -> None:
    key = pem("OPENSSH ")
    (finding,) = run(record(f"here:\n{key}\nthanks"))
    assert (finding.severity, finding.detail["key_type"], finding.detail["complete"]) == (
        "SEV1",
        "OPENSSH",
        True,
    )
    assert f"here:\n{key}\nthanks"[finding.start : finding.end] == key
    (encrypted,) = run(record(pem("ENCRYPTED ")))
    assert (encrypted.severity, encrypted.detail["encrypted"]) == ("SEV2", True)
    escaped = json.dumps({"key": pem("EC ")})
    assert [f.rule for f in run(record(escaped))] == ["secret.private_key"]


def test_temporary_aws_keys_and_local_database_urls_are_lower() -> None:
    temporary = "AS" + "IA" + rnd(16, string.ascii_uppercase + "234567", seed=2)
    local = "postgres://app:S3cr3tPassw0rd!@localhost:5432/app"
    found = run(record(f"{temporary} {local}"))
    assert [(f.rule, f.severity) for f in found] == [
        ("secret.aws_access_key", "SEV2"),
        ("secret.connection_string", "SEV3"),
    ]


def test_sources_and_ignore_rules() -> None:
    rec = record(f"key {STRIPE}", user=f"mine is {GH}")
    assert [f.path for f in run(rec, config(sources=["output"]))] == ["output"]
    found = run(rec, config(ignore_rules=["secret.github_token@user"]))
    assert [f.rule for f in found] == ["secret.stripe_key"]
    assert run(rec, config(ignore_rules=["secret"])) == []


@settings(max_examples=100, deadline=None)
@given(
    body=st.text(ALNUM, min_size=30, max_size=30),
    prefix=st.sampled_from(["ghp", "gho", "ghu", "ghs", "ghr"]),
    position=st.integers(0, 29),
)
def test_checksummed_tokens_are_found_and_any_changed_character_breaks_them(
    body: str, prefix: str, position: int
) -> None:
    token = github_token(body, prefix)
    assert hits(f"token: {token}") == [("secret.github_token", token)]
    changed = body[:position] + ("a" if body[position] != "a" else "b") + body[position + 1 :]
    forged = f"{prefix}_{changed}{token[-6:]}"
    assert hits(f"token: {forged}") == []


_VOCABULARY = """
    the a an and or to of in on for with your our this that is are was be please never always
    password passwords passphrase token tokens secret secrets key keys api private public access
    bearer basic auth authorization credentials login user admin account reset change rotate
    store vault hash salt encrypt header cookie session expire expires hour day week AWS GitHub
    Slack Stripe Google OpenAI JWT PEM BEGIN END PRIVATE KEY SSH TLS HTTPS database connection
    string server host port postgres redis mongodb example sample test demo value config env
"""
WORDS = _VOCABULARY.split()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(WORDS), st.sampled_from([" ", " ", ", ", ". ", ": ", " = ", "\n"])
        ),
        max_size=60,
    ).map(lambda pairs: "".join(w + sep for w, sep in pairs))
)
def test_english_words_about_credentials_never_fire(text: str) -> None:
    assert hits(text) == []


FRAGMENTS = st.sampled_from(
    [
        " ", "\n", ":", "=", "@", "/", "//", "://", "'", '"', ".", "-", "_", "AKIA", "ghp_",
        "xoxb-", "sk_live_", "sk-", "eyJ", "-----BEGIN ", "PRIVATE KEY-----", "Password=",
        "password: ", "token=", "api_key: ", "Bearer ", "Basic ", "AccountKey=", "Server=x;",
        "postgres", "https", "user", "Zq8!vB2#xL", "A1b2C3d4E5f6G7h8", "0123456789",
        "abcdefABCDEF", "K", "ſ",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(FRAGMENTS, max_size=40).map("".join))
def test_both_engines_agree_on_arbitrary_text(text: str) -> None:
    rec = record(text)
    assert HYPERSCAN.run(rec, config()) == PYTHON_RE.run(rec, config())
