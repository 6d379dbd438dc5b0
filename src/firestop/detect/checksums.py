"""Check digits and structural rules that turn a number-shaped string into a real identifier.

The personal-data and secret detectors find *candidates* with regular expressions; these pure
functions decide which candidates are real. Each takes the bare characters (separators already
removed) and says yes or no. Sources for every format are cited beside it; the algorithms are
public facts, written here from those descriptions.
"""

from __future__ import annotations

import zlib

# --- payment cards ---------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """ISO/IEC 7812-1 Annex B (the Luhn mod-10 check) over a string of ASCII digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# (brand, issuer-number prefixes as (low, high) over the same number of leading digits, lengths).
# Ranges from the issuer identification number tables published by the card schemes (summarised
# in ISO/IEC 7812 registrations and the schemes' own acquirer documentation).
_CARD_BRANDS: tuple[tuple[str, tuple[tuple[int, int], ...], frozenset[int]], ...] = (
    ("amex", ((34, 34), (37, 37)), frozenset({15})),
    ("mir", ((2200, 2204),), frozenset({16, 17, 18, 19})),
    ("mastercard", ((51, 55), (2221, 2720)), frozenset({16})),
    ("visa", ((4, 4),), frozenset({13, 16, 19})),
    ("discover", ((6011, 6011), (644, 649), (65, 65)), frozenset({16, 17, 18, 19})),
    ("jcb", ((3528, 3589),), frozenset({16, 17, 18, 19})),
    ("diners", ((300, 305), (36, 36), (38, 39)), frozenset({14, 15, 16, 17, 18, 19})),
    ("unionpay", ((62, 62),), frozenset({16, 17, 18, 19})),
    ("maestro", ((50, 50), (56, 58), (63, 63), (67, 67)), frozenset(range(12, 20))),
)


def card_brand(digits: str) -> str | None:
    """The scheme whose prefix and length rules ``digits`` satisfies, or None."""
    for brand, ranges, lengths in _CARD_BRANDS:
        if len(digits) not in lengths:
            continue
        for low, high in ranges:
            width = len(str(low))
            if low <= int(digits[:width]) <= high:
                return brand
    return None


# Numbers the schemes and payment processors publish for testing; never a real person's card.
TEST_CARDS = frozenset(
    {
        "4111111111111111",
        "4242424242424242",
        "4012888888881881",
        "4000056655665556",
        "5555555555554444",
        "5105105105105100",
        "2223003122003222",
        "378282246310005",
        "371449635398431",
        "6011111111111117",
        "6011000990139424",
        "3056930009020004",
        "36227206271667",
        "3566002020360505",
        "6200000000000005",
    }
)

# --- IBAN ------------------------------------------------------------------------------------

# Total IBAN length per country, from the SWIFT IBAN Registry (ISO 13616), release 98 (2024).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def iban_ok(iban: str) -> bool:
    """Registry length and the ISO 7064 MOD 97-10 check (the remainder must be 1)."""
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    if not iban.isascii() or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def mod97_check_digits(country: str, bban: str) -> str:
    """The two check digits that make ``country + ?? + bban`` a valid IBAN (for tests, docs)."""
    value = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{98 - value % 97:02d}"


# --- national identifiers --------------------------------------------------------------------

# Published sample numbers that are invalid by the Social Security Administration's own
# statement (the Woolworth wallet card and advertising samples).
_SSN_SAMPLES = frozenset({"078051120", "219099999", "123456789"})


def us_ssn_ok(digits: str) -> bool:
    """SSA rules: area not 000, 666 or 900-999; group not 00; serial not 0000."""
    if len(digits) != 9 or digits in _SSN_SAMPLES or len(set(digits)) == 1:
        return False
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    return area not in (0, 666) and area < 900 and group != 0 and serial != 0


def us_itin_ok(digits: str) -> bool:
    """IRS ITIN: 9 in front, group 50-65, 70-88, 90-92 or 94-99 (IRS Publication 1915)."""
    if len(digits) != 9 or digits[0] != "9":
        return False
    group = int(digits[3:5])
    return 50 <= group <= 65 or 70 <= group <= 88 or 90 <= group <= 92 or 94 <= group <= 99


# HMRC National Insurance Manual NIM39110: prefixes never issued.
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
_NINO_FIRST = frozenset("ABCEGHJKLMNOPRSTWXYZ")
_NINO_SECOND = frozenset("ABCEGHJKLMNPRSTWXYZ")


def uk_nino_ok(value: str) -> bool:
    """UK National Insurance number: two letters, six digits, A-D; letter and prefix rules."""
    if len(value) != 9 or not value[2:8].isdigit() or value[8] not in "ABCD":
        return False
    return (
        value[0] in _NINO_FIRST and value[1] in _NINO_SECOND and value[:2] not in _NINO_BAD_PREFIXES
    )


def nl_bsn_ok(digits: str) -> bool:
    """Dutch burgerservicenummer: the "11-proef" (weights 9..2 and -1), 8 digits zero-padded."""
    if len(digits) == 8:
        digits = "0" + digits
    if len(digits) != 9 or int(digits) == 0:
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(w * (ord(c) - 48) for w, c in zip(weights, digits, strict=True)) % 11 == 0


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"  # Spanish Ministry of the Interior, Real Decreto 1553/2005


def es_dni_ok(value: str) -> bool:
    """Spanish DNI (8 digits and a letter) or NIE (X, Y or Z, 7 digits, letter): mod-23 letter."""
    if len(value) != 9:
        return False
    head = value[:8]
    if head[0] in "XYZ":
        head = str("XYZ".index(head[0])) + head[1:]
    if not head.isdigit():
        return False
    return _DNI_LETTERS[int(head) % 23] == value[8]


# Agenzia delle Entrate, DM 23/12/1976 annex: values of characters in odd (1st, 3rd …) places.
_CF_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (
            1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
            1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25,
            24, 23,
        ),
        strict=True,
    )
)  # fmt: skip


def it_codice_fiscale_ok(value: str) -> bool:
    """Italian codice fiscale: 16 characters, the last a check letter over the first 15."""
    if len(value) != 16 or not value.isascii() or not value.isalnum():
        return False
    total = 0
    for i, ch in enumerate(value[:15]):
        if i % 2 == 0:
            total += _CF_ODD[ch]
        else:
            total += int(ch) if ch.isdigit() else ord(ch) - 65
    return chr(65 + total % 26) == value[15]


def fr_nir_ok(value: str) -> bool:
    """French NIR (numéro de sécurité sociale): 13 characters and a key, 97 - (n mod 97).

    Corsican departments 2A and 2B count as 19 and 18 for the key (INSEE).
    """
    if len(value) != 15 or not value[13:].isdigit():
        return False
    body = value[:13].upper()
    if body[5:7] == "2A":
        body = body[:5] + "19" + body[7:]
    elif body[5:7] == "2B":
        body = body[:5] + "18" + body[7:]
    if not body.isdigit() or body[0] not in "12378":
        return False
    month = int(body[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        return False
    return 97 - int(body) % 97 == int(value[13:])


def de_steuer_id_ok(digits: str) -> bool:
    """German Steuerliche Identifikationsnummer (§ 139b AO; BZSt format description).

    11 digits, no leading zero; in the first ten exactly one digit occurs twice or three times
    (three times never in a row) and the others at most once; the last is an ISO 7064 MOD 11,10
    check digit.
    """
    if len(digits) != 11 or not digits.isdigit() or digits[0] == "0":
        return False
    body = digits[:10]
    counts = [body.count(c) for c in set(body)]
    repeated = [n for n in counts if n > 1]
    if len(repeated) != 1 or repeated[0] > 3:
        return False
    if repeated[0] == 3 and any(body[i] == body[i + 1] == body[i + 2] for i in range(8)):
        return False
    product = 10
    for ch in body:
        total = (ord(ch) - 48 + product) % 10 or 10
        product = total * 2 % 11
    check = 11 - product
    return (0 if check == 10 else check) == ord(digits[10]) - 48


# Verhoeff's dihedral-group check (J. Verhoeff, 1969), as UIDAI specifies for Aadhaar numbers.
_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def verhoeff_ok(digits: str) -> bool:
    check = 0
    for i, ch in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[i % 8][ord(ch) - 48]]
    return check == 0


def in_aadhaar_ok(digits: str) -> bool:
    """Aadhaar: 12 digits, never starting 0 or 1, Verhoeff-valid (UIDAI)."""
    return len(digits) == 12 and digits[0] not in "01" and verhoeff_ok(digits)


def uk_nhs_ok(digits: str) -> bool:
    """NHS number: 10 digits, mod-11 check with weights 10..2 (NHS Data Dictionary)."""
    if len(digits) != 10 or len(set(digits)) == 1:
        return False
    total = sum((10 - i) * (ord(c) - 48) for i, c in enumerate(digits[:9]))
    check = 11 - total % 11
    if check == 10:
        return False
    return (0 if check == 11 else check) == ord(digits[9]) - 48


# --- token checksums -------------------------------------------------------------------------

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62_crc32(body: str) -> str:
    """CRC-32 of ``body`` in six base62 digits, as GitHub and npm append to their tokens.

    Format from GitHub's "Behind GitHub's new authentication token formats" (2021) and npm's
    matching announcement; checked against expired tokens published for that purpose.
    """
    value = zlib.crc32(body.encode("ascii"))
    out = ""
    while value:
        value, rest = divmod(value, 62)
        out = BASE62[rest] + out
    return out.rjust(6, "0")


def crc_token_ok(token: str) -> bool:
    """A ``ghp_``/``npm_``-style token: 30 random base62 characters, then their checksum."""
    rest = token.partition("_")[2]
    if len(rest) != 36 or not rest.isascii() or not rest.isalnum():
        return False
    return base62_crc32(rest[:30]) == rest[30:]
