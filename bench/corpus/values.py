"""Values to plant in the corpus: personal data, secrets, and look-alikes that are neither.

Every identifier with a check digit is *computed* with its published algorithm (Luhn for cards,
ISO 7064 MOD 97-10 for IBANs, the national rules for identity numbers), written here on purpose
independently of ``firestop.detect.checksums``: a benchmark that reused the detector's own
validators could not catch a mistake in them. Look-alikes are built by breaking exactly one rule
(a wrong check digit, an unissued prefix), so they stay as close to the real thing as possible.

Each function takes a ``random.Random`` and returns the text to plant, already formatted the way
people write it (spaces, dashes, parentheses …).
"""

from __future__ import annotations

import base64
import json
import string
import zlib
from random import Random

DIGITS = string.digits
UPPER = string.ascii_uppercase
ALNUM = string.ascii_letters + string.digits
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
B64 = string.ascii_letters + string.digits + "+/"
B64URL = string.ascii_letters + string.digits + "-_"
HEX = "0123456789abcdef"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def rand(rng: Random, alphabet: str, n: int) -> str:
    return "".join(rng.choices(alphabet, k=n))


def digits(rng: Random, n: int) -> str:
    return "".join(rng.choices(DIGITS, k=n))


# --- e-mail ----------------------------------------------------------------------------------

_FIRST = _words(
    "amelia oliver noah sofia liam emma lucas mia ethan zoe aarav priya chen wei yuki hiro "
    "fatima omar lena jonas chloe hugo giulia marco sara pablo ines joao ana olga ivan "
    "kwame ama thabo nandi sean aoife mateo valentina lars ingrid emre elif tomasz marta"
)
_LAST = _words(
    "watson okafor nguyen kowalski garcia muller rossi dubois smith patel khan tanaka "
    "kim silva santos jensen novak hughes obrien murphy andersson lindqvist yilmaz "
    "fernandez moreau schmidt costa walsh mensah dlamini ibrahim sato haddad"
)
_MAIL_DOMAINS = _words(
    "gmail.com outlook.com yahoo.co.uk hotmail.fr web.de proton.me icloud.com gmx.net "
    "fastmail.com libero.it orange.fr btinternet.com aol.com zoho.com mail.ru"
)
_WORK_DOMAINS = _words(
    "northwind-logistics.com hartwell-insurance.co.uk brightpath.io lumen-health.org "
    "acme-retail.de verdant.energy kestrel.finance baywater.nl cobaltworks.fr "
    "ridgeline-legal.com"
)


def first_name(rng: Random) -> str:
    return rng.choice(_FIRST).capitalize()


def last_name(rng: Random) -> str:
    name = rng.choice(_LAST)
    return "O'Brien" if name == "obrien" else name.capitalize()


def email(rng: Random) -> str:
    f, last = rng.choice(_FIRST), rng.choice(_LAST)
    style = rng.randrange(7)
    if style == 0:
        local = f"{f}.{last}"
    elif style == 1:
        local = f"{f[0]}{last}"
    elif style == 2:
        local = f"{f}{last}{rng.randrange(1, 99)}"
    elif style == 3:
        local = f"{f}_{last}"
    elif style == 4:
        local = f"{f}.{last}+{rng.choice(['orders', 'claims', 'news', 'work'])}"
    elif style == 5:
        local = f"{f}{rng.randrange(1970, 2005)}"
    else:
        local = f"{last}.{f[0]}"
    domain = rng.choice(_WORK_DOMAINS if rng.random() < 0.35 else _MAIL_DOMAINS)
    if rng.random() < 0.08:
        local, domain = local.capitalize(), domain.upper() if rng.random() < 0.3 else domain
    return f"{local}@{domain}"


# --- phone numbers ---------------------------------------------------------------------------

_US_AREAS = _words(
    "212 213 206 303 305 312 404 415 469 503 512 602 617 646 702 713 718 805 813 917 "
    "720 919 978 347 224 408 510 651 704 858"
)


def _us_line(rng: Random) -> tuple[str, str, str]:
    area = rng.choice(_US_AREAS)
    exchange = str(rng.randrange(2, 10)) + digits(rng, 2)
    if exchange[1:] == "11" or exchange == "555":  # N11 service codes; 555 is mostly fiction
        exchange = "4" + exchange[1:3].replace("11", "27")
    return area, exchange, digits(rng, 4)


def phone(rng: Random) -> str:
    """A phone number of one of several countries, in one of the ways people write it."""
    kind = rng.randrange(12)
    if kind <= 2:
        a, e, n = _us_line(rng)
        return rng.choice(
            [
                f"({a}) {e}-{n}",
                f"{a}-{e}-{n}",
                f"{a}.{e}.{n}",
                f"+1 {a} {e} {n}",
                f"+1-{a}-{e}-{n}",
                f"1-{a}-{e}-{n}",
                f"+1 ({a}) {e}-{n}",
            ]
        )
    if kind == 3:  # UK mobile and London; Ofcom's drama ranges (07700 900…, 020 7946 0…) avoided
        mob = "7" + rng.choice(["4", "5", "8", "9"]) + digits(rng, 2)
        rest = digits(rng, 6)
        return rng.choice(
            [
                f"+44 {mob} {rest}",
                f"0{mob} {rest}",
                f"+44 20 3{digits(rng, 3)} {digits(rng, 4)}",
                f"+44 (0)20 8{digits(rng, 3)} {digits(rng, 4)}",
            ]
        )
    if kind == 4:  # Germany: Berlin, Munich, mobiles
        return rng.choice(
            [
                f"+49 30 {digits(rng, 8)}",
                f"+49 89 {digits(rng, 3)} {digits(rng, 4)}",
                f"+49 151 {digits(rng, 8)}",
                f"+49 (0)171 {digits(rng, 7)}",
                f"0049 172 {digits(rng, 7)}",
            ]
        )
    if kind == 5:  # France
        pairs = " ".join(digits(rng, 2) for _ in range(4))
        return rng.choice([f"+33 6 {pairs}", f"+33 1 {pairs}", f"06 {pairs}", f"07 {pairs}"])
    if kind == 6:  # India
        first = rng.choice("6789") + digits(rng, 4)
        return rng.choice([f"+91 {first} {digits(rng, 5)}", f"+91-{first}{digits(rng, 5)}"])
    if kind == 7:  # Australia
        return rng.choice(
            [f"+61 4{digits(rng, 2)} {digits(rng, 3)} {digits(rng, 3)}", f"+61 2 {digits(rng, 8)}"]
        )
    if kind == 8:  # Brazil
        return f"+55 11 9{digits(rng, 4)}-{digits(rng, 4)}"
    if kind == 9:  # Japan
        return rng.choice(
            [
                f"+81 3-{digits(rng, 4)}-{digits(rng, 4)}",
                f"+81 90-{digits(rng, 4)}-{digits(rng, 4)}",
            ]
        )
    if kind == 10:  # Netherlands, Spain
        return rng.choice(
            [f"+31 6 {digits(rng, 8)}", f"+34 6{digits(rng, 2)} {digits(rng, 3)} {digits(rng, 3)}"]
        )
    # Written national-style without a country code, as people do within their own country:
    # US, German mobile, Dutch mobile, Indian mobile.
    a, e, n = _us_line(rng)
    return rng.choice(
        [
            f"{a} {e} {n}",
            f"0151 {digits(rng, 8)}",
            f"06-{digits(rng, 8)}",
            f"0{rng.choice('6789')}{digits(rng, 4)} {digits(rng, 5)}",
        ]
    )


# --- payment cards ---------------------------------------------------------------------------


def luhn_digit(body: str) -> str:
    """The check digit that makes ``body`` + digit pass the Luhn mod-10 test."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = ord(ch) - 48
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


# (brand, prefixes, length): prefixes as the schemes publish them.
_CARD_BRANDS = (
    ("visa", ("4",), 16),
    ("mastercard", ("51", "52", "53", "54", "55", "2221", "2320", "2490", "2705"), 16),
    ("amex", ("34", "37"), 15),
    ("discover", ("6011", "65", "644", "649"), 16),
    ("jcb", ("3528", "3540", "3566", "3589"), 16),
    ("diners", ("36", "300", "305"), 14),
    ("unionpay", ("62",), 16),
)
_BRAND_WEIGHTS = (40, 25, 12, 7, 6, 4, 6)
# Numbers the card schemes publish for testing: never generated as a customer's card.
_TEST_CARDS = frozenset(
    {
        "4111111111111111",
        "4242424242424242",
        "4012888888881881",
        "5555555555554444",
        "5105105105105100",
        "378282246310005",
        "371449635398431",
        "6011111111111117",
    }
)


def _card_digits(rng: Random) -> tuple[str, str]:
    brand, prefixes, length = rng.choices(_CARD_BRANDS, weights=_BRAND_WEIGHTS)[0]
    while True:
        prefix = rng.choice(prefixes)
        body = prefix + digits(rng, length - len(prefix) - 1)
        number = body + luhn_digit(body)
        if number not in _TEST_CARDS:
            return brand, number


def format_card(rng: Random, number: str) -> str:
    style = rng.random()
    if style < 0.35:
        return number
    sep = " " if style < 0.8 else "-"
    if len(number) == 15:
        return sep.join((number[:4], number[4:10], number[10:]))
    if len(number) == 14:
        return sep.join((number[:4], number[4:10], number[10:]))
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


def card(rng: Random) -> str:
    return format_card(rng, _card_digits(rng)[1])


def card_bad_luhn(rng: Random) -> str:
    """A card-shaped number with a brand prefix whose last digit is off by one or more."""
    number = _card_digits(rng)[1]
    wrong = str((int(number[-1]) + rng.randrange(1, 10)) % 10)
    return format_card(rng, number[:-1] + wrong)


# --- IBAN ------------------------------------------------------------------------------------

# Country, BBAN layout from the SWIFT IBAN registry: n = digit, a = upper-case letter,
# c = letter or digit.
_IBAN_LAYOUTS = (
    ("DE", "18n"),
    ("GB", "4a14n"),
    ("FR", "10n11n2n"),
    ("ES", "20n"),
    ("NL", "4a10n"),
    ("IT", "1a10n12n"),
    ("BE", "12n"),
    ("CH", "5n12c"),
    ("AT", "16n"),
    ("PL", "24n"),
    ("IE", "4a14n"),
    ("SE", "20n"),
    ("PT", "21n"),
    ("DK", "14n"),
)


def _bban(rng: Random, layout: str) -> str:
    out: list[str] = []
    number = ""
    for ch in layout:
        if ch.isdigit():
            number += ch
            continue
        count, number = int(number), ""
        alphabet = {"n": DIGITS, "a": UPPER, "c": DIGITS + UPPER}[ch]
        out.append(rand(rng, alphabet, count))
    return "".join(out)


def _mod97(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text)) % 97


def iban_compact(rng: Random, *, valid: bool = True) -> str:
    country, layout = rng.choice(_IBAN_LAYOUTS)
    bban = _bban(rng, layout)
    check = 98 - _mod97(bban + country + "00")
    if not valid:
        # Any other pair of check digits (2-98) that differs modulo 97 fails the check.
        wrong = rng.randrange(2, 99)
        while (wrong - check) % 97 == 0:
            wrong = rng.randrange(2, 99)
        check = wrong
    return f"{country}{check:02d}{bban}"


def format_iban(rng: Random, compact: str) -> str:
    # The paper format groups by four; electronic forms use none.
    if rng.random() < 0.55:
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return compact


def iban(rng: Random) -> str:
    return format_iban(rng, iban_compact(rng))


def iban_bad_check(rng: Random) -> str:
    return format_iban(rng, iban_compact(rng, valid=False))


# --- national identifiers --------------------------------------------------------------------


def us_ssn(rng: Random) -> str:
    """SSA rules: area 001-899 except 666, group 01-99, serial 0001-9999."""
    area = rng.randrange(1, 900)
    if area == 666:
        area = 667
    group, serial = rng.randrange(1, 100), rng.randrange(1, 10000)
    sep = "-" if rng.random() < 0.85 else " "
    return f"{area:03d}{sep}{group:02d}{sep}{serial:04d}"


def us_ssn_invalid(rng: Random) -> str:
    """SSN-shaped but never issued: area 000 or 666, or group 00.

    (Area 9xx is not used: those are ITINs, taxpayer numbers that are personal data too.)
    """
    kind = rng.randrange(3)
    if kind == 2:
        return f"{rng.randrange(1, 900):03d}-00-{rng.randrange(1, 10000):04d}"
    area = ("000", "666")[kind]
    return f"{area}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


_NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
_NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"
_NINO_BAD = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def uk_nino(rng: Random) -> str:
    while True:
        prefix = rng.choice(_NINO_FIRST) + rng.choice(_NINO_SECOND)
        if prefix not in _NINO_BAD:
            break
    body = digits(rng, 6)
    suffix = rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{prefix} {body[:2]} {body[2:4]} {body[4:]} {suffix}"
    return f"{prefix}{body}{suffix}"


def nl_bsn(rng: Random) -> str:
    """Dutch BSN: the "11-proef", weights 9..2 and -1 over nine digits."""
    while True:
        body = str(rng.randrange(1, 10)) + digits(rng, 7)
        total = sum(w * int(c) for w, c in zip(range(9, 1, -1), body, strict=True))
        last = total % 11
        if last < 10:
            return body + str(last)


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def es_dni(rng: Random) -> str:
    if rng.random() < 0.25:  # NIE, a foreign resident's number: X/Y/Z stand for 0/1/2
        lead = rng.randrange(3)
        body = digits(rng, 7)
        return f"{'XYZ'[lead]}{body}{_DNI_LETTERS[int(str(lead) + body) % 23]}"
    number = rng.randrange(10_000_000, 100_000_000)
    sep = "-" if rng.random() < 0.2 else ""
    return f"{number}{sep}{_DNI_LETTERS[number % 23]}"


# Values of each character in odd (1st, 3rd, …) positions of a codice fiscale (DM 23/12/1976).
_CF_ODD_VALUES = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10,
                  22, 25, 24, 23)  # fmt: skip
_CF_MONTHS = "ABCDEHLMPRST"
_CF_PLACES = ("H501", "F205", "L219", "G273", "A944", "D612", "F839", "C351", "L736", "B157")
_CONSONANTS = "BCDFGHJKLMNPQRSTVWXZ"


def _cf_char_value(ch: str, odd: bool) -> int:
    index = int(ch) if ch.isdigit() else ord(ch) - 65
    return _CF_ODD_VALUES[index] if odd else index


def it_codice_fiscale(rng: Random) -> str:
    letters = rand(rng, _CONSONANTS, 3) + rand(rng, _CONSONANTS, 2) + rng.choice("AEIOU")
    day = rng.randrange(1, 29) + (40 if rng.random() < 0.5 else 0)
    body = (
        letters
        + f"{rng.randrange(40, 100):02d}"
        + rng.choice(_CF_MONTHS)
        + f"{day:02d}"
        + rng.choice(_CF_PLACES)
    )
    total = sum(_cf_char_value(c, i % 2 == 0) for i, c in enumerate(body))
    return body + chr(65 + total % 26)


def fr_nir(rng: Random) -> str:
    """French NIR: sex, year, month, department, commune, order, then 97 - (number mod 97)."""
    body = (
        rng.choice("12")
        + f"{rng.randrange(40, 100):02d}"
        + f"{rng.randrange(1, 13):02d}"
        + f"{rng.randrange(1, 96):02d}"
        + f"{rng.randrange(1, 990):03d}"
        + f"{rng.randrange(1, 999):03d}"
    )
    key = 97 - int(body) % 97
    if rng.random() < 0.5:
        b = body
        return f"{b[0]} {b[1:3]} {b[3:5]} {b[5:7]} {b[7:10]} {b[10:13]} {key:02d}"
    return f"{body}{key:02d}"


def de_steuer_id(rng: Random) -> str:
    """German tax id: ten digits, exactly one of them twice, then an ISO 7064 MOD 11,10 digit."""
    while True:
        pool = rng.sample(DIGITS, 9)
        body = [*pool, rng.choice(pool)]
        rng.shuffle(body)
        if body[0] != "0":
            break
    product = 10
    for ch in body:
        total = (int(ch) + product) % 10 or 10
        product = total * 2 % 11
    check = (11 - product) % 10
    number = "".join(body) + str(check)
    if rng.random() < 0.5:
        return f"{number[:2]} {number[2:5]} {number[5:8]} {number[8:]}"
    return number


# Verhoeff's multiplication, permutation and inverse tables (J. Verhoeff, 1969).
_V_MUL = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)  # fmt: skip
_V_PERM = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4), (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7), (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)  # fmt: skip
_V_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def verhoeff_digit(body: str) -> str:
    c = 0
    for i, ch in enumerate(reversed(body)):
        c = _V_MUL[c][_V_PERM[(i + 1) % 8][int(ch)]]
    return str(_V_INV[c])


def in_aadhaar(rng: Random) -> str:
    body = str(rng.randrange(2, 10)) + digits(rng, 10)
    number = body + verhoeff_digit(body)
    if rng.random() < 0.7:
        return f"{number[:4]} {number[4:8]} {number[8:]}"
    return number


def uk_nhs(rng: Random) -> str:
    """NHS number: nine digits and a mod-11 check digit (weights 10..2); 10 is never issued."""
    while True:
        body = digits(rng, 9)
        check = 11 - sum((10 - i) * int(c) for i, c in enumerate(body)) % 11
        if check == 11:
            check = 0
        if check != 10:
            n = body + str(check)
            return rng.choice([f"{n[:3]} {n[3:6]} {n[6:]}", n, f"{n[:3]}-{n[3:6]}-{n[6:]}"])


# --- IP addresses and dates ------------------------------------------------------------------


def ipv4_public(rng: Random) -> str:
    while True:
        a = rng.randrange(1, 224)
        # Skip private, loopback, CGNAT, link-local and documentation blocks.
        if a in (10, 100, 127, 169, 172, 192, 198, 203):
            continue
        return f"{a}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def ipv4_private(rng: Random) -> str:
    return rng.choice(
        [
            f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            f"192.168.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            f"172.{rng.randrange(16, 32)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        ]
    )


def ipv6(rng: Random) -> str:
    groups = [f"{rng.randrange(0x2001, 0x2A10):x}"] + [
        f"{rng.randrange(0x10000):x}" for _ in range(7)
    ]
    if rng.random() < 0.5:
        return ":".join(groups)
    return ":".join(groups[:3]) + "::" + ":".join(groups[6:])


_MONTH_NAMES = _words(
    "January February March April May June July August September October November December"
)


def date_text(rng: Random, year_low: int, year_high: int) -> str:
    y, m, d = rng.randrange(year_low, year_high), rng.randrange(1, 13), rng.randrange(1, 29)
    style = rng.randrange(6)
    if style == 0:
        return f"{y}-{m:02d}-{d:02d}"
    if style == 1:
        return f"{d:02d}/{m:02d}/{y}"
    if style == 2:
        return f"{m}/{d}/{y}"
    if style == 3:
        return f"{_MONTH_NAMES[m - 1]} {d}, {y}"
    if style == 4:
        return f"{d} {_MONTH_NAMES[m - 1]} {y}"
    return f"{d:02d}.{m:02d}.{y}"


def birth_date(rng: Random) -> str:
    return date_text(rng, 1938, 2006)


def recent_date(rng: Random) -> str:
    return date_text(rng, 2022, 2026)


# --- secrets ---------------------------------------------------------------------------------


def aws_access_key(rng: Random) -> str:
    return rng.choice(("AKIA", "AKIA", "AKIA", "ASIA")) + rand(rng, UPPER + "234567", 16)


def aws_secret_key(rng: Random) -> str:
    return rand(rng, B64, 40)


def _base62_crc32(body: str) -> str:
    value = zlib.crc32(body.encode())
    out = ""
    while value:
        value, rest = divmod(value, 62)
        out = BASE62[rest] + out
    return out.rjust(6, "0")


def github_token(rng: Random) -> str:
    """``ghp_`` and friends: 30 random base62 characters and their CRC-32 in base62."""
    prefix = rng.choice(("ghp_", "ghp_", "ghp_", "gho_", "ghs_", "ghu_"))
    body = rand(rng, BASE62, 30)
    return prefix + body + _base62_crc32(body)


def github_token_bad_checksum(rng: Random) -> str:
    body = rand(rng, BASE62, 30)
    good = _base62_crc32(body)
    bad = good[:-1] + ("A" if good[-1] != "A" else "B")
    return "ghp_" + body + bad


def npm_token(rng: Random) -> str:
    body = rand(rng, BASE62, 30)
    return "npm_" + body + _base62_crc32(body)


def github_fine_grained(rng: Random) -> str:
    return "github_pat_11" + rand(rng, UPPER + DIGITS, 20) + "_" + rand(rng, ALNUM, 59)


def slack_token(rng: Random) -> str:
    kind = rng.choice(("xoxb", "xoxb", "xoxp"))
    parts = [digits(rng, rng.choice((11, 12, 13))), digits(rng, rng.choice((11, 12, 13)))]
    if kind == "xoxp":
        parts.append(digits(rng, 13))
        parts.append(rand(rng, HEX, 32))
    else:
        parts.append(rand(rng, ALNUM, 24))
    return kind + "-" + "-".join(parts)


def slack_webhook(rng: Random) -> str:
    return (
        "https://hooks.slack.com/services/T"
        + rand(rng, UPPER + DIGITS, 8)
        + "/B"
        + rand(rng, UPPER + DIGITS, 10)
        + "/"
        + rand(rng, ALNUM, 24)
    )


def stripe_key(rng: Random) -> str:
    return rng.choice(("sk_live_", "sk_live_", "rk_live_")) + rand(rng, ALNUM, rng.choice((24, 99)))


def google_api_key(rng: Random) -> str:
    return "AIza" + rand(rng, B64URL, 35)


def openai_key(rng: Random) -> str:
    if rng.random() < 0.5:
        return "sk-" + rand(rng, ALNUM, 20) + "T3BlbkFJ" + rand(rng, ALNUM, 20)
    return "sk-proj-" + rand(rng, B64URL, 74) + "T3BlbkFJ" + rand(rng, B64URL, 74)


def anthropic_key(rng: Random) -> str:
    return "sk-ant-api03-" + rand(rng, B64URL, 93) + "AA"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(rng: Random) -> str:
    alg = rng.choice(("HS256", "RS256", "ES256"))
    header: dict[str, str] = {"alg": alg, "typ": "JWT"}
    if alg != "HS256":
        header["kid"] = rand(rng, ALNUM, 16)
    payload = {
        "sub": f"user-{rng.randrange(10**6)}",
        "iat": 1_760_000_000 + rng.randrange(10**7),
        "exp": 1_780_000_000 + rng.randrange(10**7),
        "scope": rng.choice(("claims:read", "orders:write", "admin", "openid profile")),
    }
    sig_len = {"HS256": 32, "RS256": 256, "ES256": 64}[alg]
    sig = bytes(rng.getrandbits(8) for _ in range(sig_len))
    return ".".join(
        (
            _b64url(json.dumps(header, separators=(",", ":")).encode()),
            _b64url(json.dumps(payload, separators=(",", ":")).encode()),
            _b64url(sig),
        )
    )


def _pem_body(rng: Random, head: str, chars: int) -> str:
    text = head + rand(rng, B64, chars - len(head))
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "\n".join(lines)


def private_key(rng: Random) -> str:
    """A PEM private key block; bodies start with the DER prefix real keys of that kind have."""
    kind = rng.randrange(4)
    if kind == 0:
        label, body = "EC PRIVATE KEY", _pem_body(rng, "MHcCAQEEI", 160)
    elif kind == 1:
        label = "OPENSSH PRIVATE KEY"
        body = _pem_body(
            rng, "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW", 400
        )
    elif kind == 2:
        label, body = "PRIVATE KEY", _pem_body(rng, "MC4CAQAwBQYDK2VwBCIEI", 64)
    else:
        label, body = "RSA PRIVATE KEY", _pem_body(rng, "MIIEowIBAAKCAQEA", 1588)
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"


def password(rng: Random) -> str:
    """A password as people choose them for services: not a dictionary word, some symbols."""
    words = ("Summer", "Falcon", "River", "Orbit", "Maple", "Tiger", "Copper", "Nova")
    style = rng.randrange(3)
    if style == 0:
        return rng.choice(words) + digits(rng, rng.randrange(2, 5)) + rng.choice("!$*_-.")
    if style == 1:
        return rand(rng, ALNUM, rng.randrange(12, 24))
    return rand(rng, ALNUM, 6) + rng.choice("!_-~") + rand(rng, ALNUM, 8)


_DB_HOSTS = (
    "db-prod-3.internal",
    "claims-db.c7x2kq.eu-west-1.rds.amazonaws.com",
    "db-primary.eu-west-1.internal",
    "pg-main.northwind.lan",
    "orders-replica.prod.svc.cluster.local",
)


def connection_string(rng: Random) -> tuple[str, tuple[int, int]]:
    """A connection string with its password; the span of the password within it."""
    user = rng.choice(("claims_app", "svc_orders", "readonly", "etl", "admin", "app"))
    secret = password(rng)
    kind = rng.randrange(5)
    if kind <= 1:
        scheme = rng.choice(("postgresql", "postgres", "mysql", "mariadb"))
        port = {"mysql": 3306, "mariadb": 3306}.get(scheme, 5432)
        head = f"{scheme}://{user}:"
        tail = f"@{rng.choice(_DB_HOSTS)}:{port}/{rng.choice(('claims', 'orders', 'kb', 'app'))}"
    elif kind == 2:
        head = f"mongodb+srv://{user}:"
        tail = f"@cluster0.{rand(rng, 'abcdefghijklmnopqrstuvwxyz0123456789', 5)}.mongodb.net/prod"
    elif kind == 3:
        head = "redis://default:"
        tail = f"@cache-{rng.randrange(1, 9)}.internal:6379/0"
    else:
        host = f"sql-{rng.choice(('prod', 'claims', 'billing'))}.database.windows.net"
        head = f"Server=tcp:{host},1433;Database=claims;User ID={user};Password="
        tail = ";Encrypt=True;Connection Timeout=30;"
    return head + secret + tail, (len(head), len(head) + len(secret))


def azure_storage_string(rng: Random) -> tuple[str, tuple[int, int]]:
    account = "st" + rand(rng, "abcdefghijklmnop", 8)
    head = f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey="
    key = rand(rng, B64, 86) + "=="
    return head + key + ";EndpointSuffix=core.windows.net", (len(head), len(head) + len(key))


def url_with_password(rng: Random) -> tuple[str, tuple[int, int]]:
    user = rng.choice(("deploy", "ci-bot", "jenkins", "backup", "svc-sync"))
    secret = password(rng)
    host = rng.choice(
        (
            "git.northwind.lan/platform/infra.git",
            "artifacts.brightpath.io/repository/pypi/simple",
            "ftp.hartwell-insurance.co.uk/exports/",
            "registry.internal:5000/v2/",
            "api.partner-claims.net/v1/upload",
        )
    )
    scheme = "ftp" if host.startswith("ftp.") else "https"
    head = f"{scheme}://{user}:"
    return f"{head}{secret}@{host}", (len(head), len(head) + len(secret))


# --- look-alikes (labelled as negatives) ---------------------------------------------------


def uuid4(rng: Random) -> str:
    h = rand(rng, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{rng.choice('89ab')}{h[17:20]}-{h[20:]}"


def git_sha(rng: Random, n: int = 40) -> str:
    return rand(rng, HEX, n)


def sha256_digest(rng: Random) -> str:
    return "sha256:" + rand(rng, HEX, 64)


def order_number(rng: Random) -> str:
    return rng.choice(
        (
            f"ORD-{digits(rng, 8)}",
            f"#{rng.randrange(100000, 9999999)}",
            f"A{digits(rng, 3)}-{digits(rng, 7)}",
            f"{rng.randrange(100, 999)}-{digits(rng, 7)}-{digits(rng, 7)}",  # marketplace style
            f"INV-{rng.randrange(2022, 2027)}-{digits(rng, 6)}",
        )
    )


def tracking_number(rng: Random) -> str:
    return rng.choice(
        (
            "1Z" + rand(rng, UPPER + DIGITS, 6) + digits(rng, 10),
            "9400 " + " ".join(digits(rng, 4) for _ in range(4)) + " " + digits(rng, 2),
            f"JD{digits(rng, 18)}",
        )
    )


def semver(rng: Random) -> str:
    return f"{rng.randrange(0, 20)}.{rng.randrange(0, 40)}.{rng.randrange(0, 30)}"


def dotted_version(rng: Random) -> str:
    """Four-part versions and section numbers: shaped like an IPv4 address, but not one."""
    parts = (
        rng.randrange(1, 12),
        rng.randrange(0, 10),
        rng.randrange(0, 40),
        rng.randrange(1, 400),
    )
    return ".".join(map(str, parts))


def epoch_ms(rng: Random) -> str:
    return str(1_700_000_000_000 + rng.randrange(10**11))


def isbn13(rng: Random) -> str:
    body = "978" + digits(rng, 9)
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body))
    check = (10 - total % 10) % 10
    return f"{body[:3]}-{body[3]}-{body[4:7]}-{body[7:12]}-{check}"


def money(rng: Random) -> str:
    amount = rng.randrange(5, 250_000) + rng.randrange(100) / 100
    return rng.choice(("$", "£", "€", "USD ", "EUR ")) + f"{amount:,.2f}"
