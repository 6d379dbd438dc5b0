"""The personal-data detector, through the shared scanner, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from firestop.detect import checksums, secret
from firestop.detect.base import Finding, SystemConfig
from firestop.detect.engine import ContentEngine
from firestop.detect.pii import DETECTOR, RULES
from firestop.ledger.schemas import InteractionIn

HYPERSCAN = ContentEngine([DETECTOR])
PYTHON_RE = ContentEngine([DETECTOR], engine="re")
STARTED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def config(**pii: Any) -> SystemConfig:
    return SystemConfig(
        id=1,
        slug="x",
        criticality="high",
        content_mode="full",
        approved_models=(),
        other_models=(),
        tools={},
        settings={"pii": pii} if pii else {},
    )


def record(output: str = "", *, user: str = "", instructions: str = "") -> InteractionIn:
    messages = [{"role": "user", "content": user}] if user else []
    return InteractionIn(
        system="x",
        started_at=STARTED,
        instructions=instructions,
        messages=messages,
        output=output,
    )


def run(rec: InteractionIn, cfg: SystemConfig | None = None) -> list[Finding]:
    """Findings from the Hyperscan path, after checking that plain ``re`` finds the same."""
    cfg = cfg or config()
    found = HYPERSCAN.run(rec, cfg)
    assert PYTHON_RE.run(rec, cfg) == found
    return found


def hits(text: str, **settings_: Any) -> list[tuple[str, str]]:
    """(rule, matched text) for everything found in ``text`` given as the model's output."""
    return [(f.rule, text[f.start : f.end]) for f in run(record(text), config(**settings_))]


def test_the_hyperscan_path_is_the_one_exercised() -> None:
    assert HYPERSCAN.scanner.engine == "hyperscan"
    assert PYTHON_RE.scanner.engine == "re"


POSITIVES = [
    ("Contact jane.doe@acme-corp.co.uk today.", "pii.email", "jane.doe@acme-corp.co.uk"),
    ("<a href='mailto:bob.smith+news@shop.io'>", "pii.email", "bob.smith+news@shop.io"),
    ("Call +44 (0)20 7946 0958 after six.", "pii.phone", "+44 (0)20 7946 0958"),
    ("Her number is +49 30 901820.", "pii.phone", "+49 30 901820"),
    ("Reach me at (415) 867-2309 or by post.", "pii.phone", "(415) 867-2309"),
    ("US office: 1-212-867-2309.", "pii.phone", "1-212-867-2309"),
    ("Tel: 030 12345678", "pii.phone", "030 12345678"),
    ("mobile 06 12 34 56 78", "pii.phone", "06 12 34 56 78"),
    ("Charge 4539 1488 0343 6467 please", "pii.card", "4539 1488 0343 6467"),
    ("amex 3782-822463-10005", "pii.card", "3782-822463-10005"),
    ("pay to DE89 3704 0044 0532 0130 00 EUR", "pii.iban", "DE89 3704 0044 0532 0130 00"),
    ("IBAN: FR1420041010050500013M02606", "pii.iban", "FR1420041010050500013M02606"),
    ("SSN 536-90-4399 on file", "pii.national_id.us_ssn", "536-90-4399"),
    ("Social Security number: 536904399", "pii.national_id.us_ssn", "536904399"),
    ("ITIN 912-70-1234", "pii.national_id.us_itin", "912-70-1234"),
    ("NI number AB123456C", "pii.national_id.uk_nino", "AB123456C"),
    ("NINO: AB 12 34 56 C", "pii.national_id.uk_nino", "AB 12 34 56 C"),
    ("NHS number 943 476 5919", "pii.national_id.uk_nhs", "943 476 5919"),
    ("BSN: 111222333", "pii.national_id.nl_bsn", "111222333"),
    ("DNI 12345678Z", "pii.national_id.es_dni", "12345678Z"),
    ("NIE X1234567L", "pii.national_id.es_nie", "X1234567L"),
    ("codice fiscale RSSMRA85T10A562S", "pii.national_id.it_cf", "RSSMRA85T10A562S"),
    ("NIR 2 55 08 14 168 025 38", "pii.national_id.fr_nir", "2 55 08 14 168 025 38"),
    ("Steuer-ID: 86 095 742 719", "pii.national_id.de_steuer_id", "86 095 742 719"),
    (
        "Steuerliche Identifikationsnummer 65929970489",
        "pii.national_id.de_steuer_id",
        "65929970489",
    ),
    ("Aadhaar 2345 6789 0124", "pii.national_id.in_aadhaar", "2345 6789 0124"),
    ("aadhaar no: 234567890124", "pii.national_id.in_aadhaar", "234567890124"),
    ("login from 81.2.69.160 at noon", "pii.ip", "81.2.69.160"),
    ("client 2a00:1450:4001:81c::200e connected", "pii.ip", "2a00:1450:4001:81c::200e"),
    ("from 2001:4860:4860:0:0:0:0:8888.", "pii.ip", "2001:4860:4860:0:0:0:0:8888"),
    ("I was born on 12 March 1985.", "pii.dob", "12 March 1985"),
    ("DOB: 1990-05-12", "pii.dob", "1990-05-12"),
    ("Date of birth: 03/04/1979", "pii.dob", "03/04/1979"),
    ("She was born March 3rd, 1990 in Leeds", "pii.dob", "March 3rd, 1990"),
    ('{"passport_number": "X1234567"}', "pii.named_field", "X1234567"),
    ("driver's license no: D1234-56789", "pii.named_field", "D1234-56789"),
    (
        '{"ssn": "on file", "bsn": "123456789", "tax_id": "12-3456789"}',
        "pii.named_field",
        "12-3456789",
    ),
    ("first_name: Jane", "pii.named_field", "Jane"),
    ("my passport is 403696019, expires next year", "pii.named_field", "403696019"),
    ("Bank account number 32131162 (sort code 02-52-74)", "pii.named_field", "32131162"),
    ("Passport No. G15838142 OK.", "pii.named_field", "G15838142"),
    ("Best to reach me on 08401 327867 during the day", "pii.phone", "08401 327867"),
    ("A colleague will call you on 060336 88798 today.", "pii.phone", "060336 88798"),
    ("<input name=q> mother_maiden_name='Smith'", "pii.named_field", "Smith"),
]


@pytest.mark.parametrize(("text", "rule", "value"), POSITIVES)
def test_each_rule_finds_its_value(text: str, rule: str, value: str) -> None:
    assert hits(text) == [(rule, value)]


def test_every_rule_has_a_positive_case() -> None:
    assert {rule for _, rule, _ in POSITIVES} == set(RULES)


NEGATIVES = [
    # check digits that fail
    "card 4111 1111 1111 1112 declined",
    "IBAN DE88 3704 0044 0532 0130 00",
    "GB82WEST12345698765433",
    "BSN: 123456789",
    "DNI 12345678A",
    "codice fiscale RSSMRA85T10A562X",
    "NIR 2 55 08 14 168 025 39",
    "Steuer-ID: 86 095 742 718",
    "NHS number 943 476 5918",
    "Aadhaar 2345 6789 0125",
    # numbers that break the issuing rules
    "SSN 000-12-3456 and 666-12-3456 and 536-00-4399 and 536-90-0000 and 900-12-3456",
    "the SSA's sample 123-45-6789 and the Woolworth card 078-05-1120",
    "NINO QQ123456C or GB123456A or AB123456E",
    # versions, sections, masks, well-known and local addresses
    "upgrade to version 1.2.3.4 now; v10.4.2.1; release 4.0.0.12",
    "Mozilla/5.0 Chrome/120.0.6099.109 Safari/537.36",
    "see section 2.3.1.4 and 1.2.3.4 of the manual",
    "listen on 127.0.0.1 and 0.0.0.0 with mask 255.255.255.0 via 8.8.8.8",
    "bind ::1 and fe80::1 only",
    "999.12.3.4 is not an address; nor is 1.2.3.4.5",
    # code that looks like addresses
    "std::vector<int> v; Foo::Bar::baz(); a::b",
    "MAC 00:1A:2B:3C:4D:5E at 10:30:45",
    # timestamps, dates, order numbers, identifiers
    "at 2024-05-12T10:30:00Z and 2024-05-12 10:30:00, epoch 1715509800, id 20240512103000",
    "order 234-567-8901 shipped; invoice no. 4532015112830366 paid",
    "ISBN 978-0-306-40615-7",
    "Tracking: 9400 0712 3058 9473 5688 44.",
    "the passport office at 10 Downing Street; account number 12; passport 2019-2029",
    "uuid 123e4567-e89b-12d3-a456-426614174000, commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    "The meeting is on 12/03/2024 and the launch on 1 May 2025.",
    "She was born in 1985 and moved on 12/03/2001 to Leeds, years later.",
    "+10000000 users; 3 + 4 = 7; 1e+10",
    # things that look like e-mail addresses
    "logo@2x.png and icon@3x.webp",
    "git clone git@github.com:org/repo.git",
    "postgres://app:s3cret@db.internal/app",
    "mongodb+srv://claims_app:aXdT75~g6tdG74k@cluster0.lfh6k.mongodb.net/prod",
    '{"to": "team@brightpath.io", "cc": "support@acme.io", "from": "noreply@acme.io"}',
    # an address that is a server in a URL, and a 9xx "SSN" nobody calls an ITIN
    "mysql://app:Summer086$@10.20.4.17:3306/claims and http://81.2.69.160/admin",
    "The form says SSN 918-96-7354 but that looks wrong to me.",
    "@decorator.route and @types/node",
    # named fields that carry no value
    'ssn: str\ndob = row.dob\n"ssn": null\n"passport_number": "<redacted>"',
    '"ssn": "XXX-XX-XXXX", "card_number": "****-****-****-1234", "dob": "{{ dob }}"',
    "first_name: str\nlast_name = Column(String)\nfull_name: Optional[str]",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_hard_negatives_stay_silent(text: str) -> None:
    assert hits(text) == []


def test_a_finding_carries_place_severity_group_and_a_masked_value() -> None:
    text = "Charge 4539 1488 0343 6467 please"
    (finding,) = run(record(text))
    assert finding.detector == "pii"
    assert finding.title == "Payment card number in the model's output"
    assert finding.path == "output"
    assert (finding.start, finding.end) == (7, 26)
    assert finding.category == "confidentiality"
    assert finding.severity == "SEV2"
    assert finding.group == "pii.card:output"
    assert finding.detail == {"source": "output", "masked": "…6467", "brand": "visa"}
    assert finding.excerpt == "Charge [CARD] please"


@pytest.mark.parametrize(("text", "rule", "value"), POSITIVES)
def test_no_excerpt_or_detail_holds_the_raw_value(text: str, rule: str, value: str) -> None:
    for finding in run(record(text)):
        assert value not in finding.excerpt
        assert value not in str(finding.detail)


def test_neighbouring_values_are_blanked_in_each_others_excerpts() -> None:
    text = "a@acme.io, b@acme.io"
    first, second = run(record(text))
    assert "b@acme.io" not in first.excerpt and "a@acme.io" not in second.excerpt
    assert first.excerpt.startswith("[EMAIL]")


def test_group_separates_sources() -> None:
    rec = record("write to jane@acme.io", user="I am jane@acme.io")
    findings = run(rec)
    assert sorted(f.group for f in findings) == ["pii.email:output", "pii.email:user"]
    assert {f.path for f in findings} == {"output", "messages[0].content"}


def test_published_test_numbers_and_reserved_names_are_reported_low() -> None:
    findings = run(record("4111 1111 1111 1111 for bob@example.com or (212) 555-0123"))
    assert [(f.rule, f.severity) for f in findings] == [
        ("pii.card", "SEV4"),
        ("pii.email", "SEV4"),
        ("pii.phone", "SEV4"),
    ]
    assert findings[0].detail["test_number"] is True
    assert findings[1].detail["reserved_domain"] is True
    assert findings[2].detail["fictional"] is True


def test_private_addresses_are_low_and_can_be_left_out() -> None:
    text = "from 10.20.30.40 and 81.2.69.160"
    assert [(f.detail["scope"], f.severity) for f in run(record(text))] == [
        ("private", "SEV4"),
        ("public", "SEV3"),
    ]
    assert hits(text, report_private_ips=False) == [("pii.ip", "81.2.69.160")]


def test_sources_setting_limits_where_to_look() -> None:
    rec = record("mail jane@acme.io", user="mail john@acme.io")
    findings = run(rec, config(sources=["user"]))
    assert [f.path for f in findings] == ["messages[0].content"]


def test_ignore_rules_by_rule_family_and_source() -> None:
    rec = record(
        "mail jane@acme.io, SSN 536-90-4399",
        instructions="Escalate to maria.lopez@acme.io, NINO AB123456C",
    )
    rules = {(f.rule, f.path) for f in run(rec, config(ignore_rules=["pii.email@instructions"]))}
    assert rules == {
        ("pii.email", "output"),
        ("pii.national_id.us_ssn", "output"),
        ("pii.national_id.uk_nino", "instructions"),
    }
    rules = {(f.rule, f.path) for f in run(rec, config(ignore_rules=["pii.national_id"]))}
    assert rules == {("pii.email", "output"), ("pii.email", "instructions")}


def test_allow_domains_skips_the_organisations_own_addresses() -> None:
    text = "support@acme.com, help@eu.acme.com, jane@notacme.com"
    assert hits(text, allow_domains=["acme.com"]) == [("pii.email", "jane@notacme.com")]


def test_role_mailboxes_only_when_asked() -> None:
    text = "write to team@brightpath.io"
    assert hits(text) == []
    assert hits(text, report_role_mailboxes=True) == [("pii.email", "team@brightpath.io")]


def test_a_disabled_detector_reports_nothing() -> None:
    assert HYPERSCAN.run(record("jane@acme.io"), config(enabled=False)) == []


def test_every_occurrence_is_a_finding_because_redaction_uses_them() -> None:
    text = " ".join(f"user{i}@acme.io" for i in range(300))
    findings = run(record(text))
    assert len(findings) == 300
    assert all(text[f.start : f.end] == f"user{i}@acme.io" for i, f in enumerate(findings))


def test_a_specific_rule_wins_over_a_named_field() -> None:
    text = '{"ssn": "536-90-4399", "date_of_birth": "1990-05-12", "passport_no": "X1234567"}'
    assert hits(text) == [
        ("pii.national_id.us_ssn", "536-90-4399"),
        ("pii.dob", "1990-05-12"),
        ("pii.named_field", "X1234567"),
    ]


def test_a_date_of_birth_must_be_a_real_past_date() -> None:
    assert hits("born 31/02/1990") == []
    assert hits("born on 1 May 2030") == []  # after the interaction
    assert hits("born 12/05/1990") == [("pii.dob", "12/05/1990")]


BENIGN = (
    "The quarterly review covered the migration of the billing service to the new cluster. Most "
    "teams reported that the rollout went smoothly, although the support desk noted a rise in "
    "tickets about password resets during the first week. The security group reminded everyone "
    "that access keys must be rotated every ninety days and that tokens should never be pasted "
    "into chat. On 12 March the platform team shipped version 2.4 of the scheduler, which cut "
    "average latency by about thirty percent. Customers in three regions saw faster page loads, "
    "and the error rate fell below one in ten thousand requests. Next quarter we plan to retire "
    "the legacy reporting pipeline and write a short guide for new engineers. "
)


TECHNICAL = """Upgrade the client to version 2.31.0 and set `max_tokens=4096` in the request.
The service runs at https://api.internal.example/v1/jobs; logs at 10:32:05 UTC on 2024-05-12.
def refresh(session, token_store):
    token = token_store.get("access_token")
    if token is None or token.expired:
        token = session.post(url, json={"grant_type": "client_credentials"}).json()
    return token
`api_key: str = Field(default=None)` reads the key from the environment. Release 3.4.1 fixes
12 bugs; see section 4.2 and issue #1873.
{"id": 1842, "status": "done", "elapsed_ms": 231, "retries": 2, "region": "eu-west-1"}
The pod restarted 3 times between 09:00 and 09:45; p99 latency was 412 ms, down from 530 ms.
"""


def test_benign_prose_is_no_candidate_for_any_pattern() -> None:
    # Not a timing test: what keeps ordinary text cheap is that Hyperscan's prefilter passes
    # nothing in it on to Python. A pattern whose prefilter approximation grows too loose (an
    # alternation Hyperscan cannot keep exact) shows up here first.
    engine = ContentEngine([DETECTOR, secret.DETECTOR])
    for text in (BENIGN * 2, TECHNICAL * 2):
        assert [engine.scanner.patterns[i].name for i in engine.scanner.candidates(text)] == []


def _luhn_complete(body: str) -> str:
    """``body`` plus the digit that makes it Luhn-valid (written independently of the code)."""
    for check in "0123456789":
        digits = [int(c) for c in body + check]
        total = sum(digits[-1::-2]) + sum(sum(divmod(2 * d, 10)) for d in digits[-2::-2])
        if total % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


@settings(max_examples=150, deadline=None)
@given(
    prefix=st.sampled_from(["4", "51", "52", "53", "54", "55"]),
    digits=st.text("0123456789", min_size=14, max_size=14),
    separator=st.sampled_from(["", " ", "-"]),
    before=st.sampled_from(["Card ", "pay with ", "(", "number: ", "\n"]),
    after=st.sampled_from([" today.", ")", ", thanks", "", "\n"]),
)
def test_any_luhn_valid_card_in_a_sentence_is_found(
    prefix: str, digits: str, separator: str, before: str, after: str
) -> None:
    number = _luhn_complete((prefix + digits)[:15])
    assume(len(set(number)) > 1)
    written = separator.join(number[i : i + 4] for i in range(0, 16, 4))
    text = f"{before}{written}{after}"
    assert ("pii.card", written) in hits(text)


@settings(max_examples=150, deadline=None)
@given(digits=st.text("0123456789", min_size=16, max_size=16))
def test_numbers_that_fail_luhn_are_never_cards(digits: str) -> None:
    assume(not checksums.luhn_ok(digits))
    text = f"Card {' '.join(digits[i : i + 4] for i in range(0, 16, 4))} declined"
    assert [r for r, _ in hits(text) if r == "pii.card"] == []


@settings(max_examples=100, deadline=None)
@given(
    country=st.sampled_from(["DE", "NL", "FR", "ES", "IT", "BE", "AT", "PL"]),
    digits=st.text("0123456789", min_size=30, max_size=30),
)
def test_any_mod97_valid_iban_is_found_and_a_changed_one_is_not(country: str, digits: str) -> None:
    bban = digits[: checksums.IBAN_LENGTHS[country] - 4]
    value = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    iban = f"{country}{98 - value % 97:02d}{bban}"
    assert hits(f"IBAN {iban}.") == [("pii.iban", iban)]
    wrong = iban[:4] + str((int(iban[4]) + 1) % 10) + iban[5:]
    assert hits(f"IBAN {wrong}.") == []


# Text made of the pieces the patterns look for, so that near-misses are common.
FRAGMENTS = st.sampled_from(
    [
        " ", "\n", ".", ",", ":", "::", "@", "+", "-", "(", ")", "'", '"', "=", "/", "0", "1",
        "4", "9", "12", "555", "2024", "4111", "1990-05-12", "born ", "DOB: ", "ssn", "SSN ",
        "phone ", "tel ", "BSN: ", "NHS ", "aadhaar ", "AB", "DE89", "X", "Z", "acme", ".io",
        "example.com", "fe80", "2001:db8", "version ", "\"passport_number\": ", "first_name: ",
        "Jane", "é", "ſ", "K",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(FRAGMENTS, max_size=40).map("".join))
def test_both_engines_agree_on_arbitrary_text(text: str) -> None:
    rec = record(text)
    assert HYPERSCAN.run(rec, config()) == PYTHON_RE.run(rec, config())


def test_settings_are_read_once_per_config() -> None:
    # Parsed once per configuration object (configs are cached and never changed), and a new
    # object with other settings is read afresh.
    first = config(allow_domains=["Example.org"])
    found = DETECTOR._settings(first)
    assert DETECTOR._settings(first) is found
    assert found.allowed == ("example.org",)
    assert DETECTOR._settings(config()).allowed == ()
