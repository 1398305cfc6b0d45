#!/usr/bin/env python3
"""The differential corpus for core/tests/phone_differential.rs.

Prints one line per (typed string, book) pair, tab-separated:

    book  typed  expected_e164  expected_extension  kind

where expected_e164 is what Google's libphonenumber (PyPI `phonenumbers`, pinned below) gives for
a *valid* number and `-` otherwise. `kind` tells the Rust test which deliberate difference, if any,
applies (see README.md beside this file):

- `plain`: Kartka must give exactly libphonenumber's answer;
- `ext-word`: the extension is written with a word libphonenumber does not know (`вн.`, `wew.`);
  the expected answer is libphonenumber's reading of the same string written with `ext.`;
- `letters`: the string has letters in the number itself; Kartka keeps it as typed (no E.164);
- `space`: the string has a space libphonenumber does not know (thin, narrow no-break); the
  expected answer is libphonenumber's reading with ordinary spaces.

The corpus is generated from a fixed seed, so every run prints the same lines.
"""

import random
import re
import sys

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

PINNED = "9.0.42"
BOOKS = ["UA", "RU", "PL", "KZ", "BY", "GB", "US", "DE"]
# Regions whose numbers are typed in the books: the books' own and the neighbours' and
# destinations' a master's clients come from.
SOURCES = BOOKS + ["FR", "IT", "ES", "TR", "IL", "MD", "LT", "CZ", "CA", "AE", "GE", "UZ"]
TYPES = [
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.VOIP,
]
# Numbers the issue names, typed as people type them.
NAMED = [
    "+49 89 12345678",
    "+49 171 1234567",
    "8 (812) 123-45-67",
    "+7 (812) 123 45 67",
    "8 (843) 212-34-56",
    "8 (861) 255-12-34",
    "8 (846) 332-12-34",
    "8 (863) 240-12-34",
    "8 (831) 419-12-34",
    "8-800-555-35-35",
    "+7 800 555 35 35",
    "044 235 12 34 доб. 5",
    "+44 (0)7911 123456",
    "+49 (0)89 12345678",
    "701 123 4567",
    "8 701 123 45 67",
    "8 029 123-45-67",
    "80291234567",
    "+375 29 123-45-67",
    "０６７ １２３ ４５ ６７",
    "٠٦٧ ١٢٣ ٤٥ ٦٧",
    "۰۶۷ ۱۲۳ ۴۵ ۶۷",
    "067 123 45 67",
    "+38 (067) 123-45-67",
    "00380671234567",
    "8 10 380 67 123 45 67",
    "8 912 345-67-89",
    "601 234 567",
    "+48 601-234-567",
    "(212) 555-0123",
    "1 800 555 0199",
    "011 44 20 7946 0958",
    "020 7946 0958",
    "07911 123456",
    "030 123456",
    "0171 1234567",
]
JUNK = [
    "",
    "123",
    "call me",
    "+",
    "++380671234567",
    "067 123",
    "0000000000",
    "+380 00 000",
    "1234567890123456789",
    "+999 123 456 789",
    "ask at the desk",
    "067 ABC 45 67",
    "1-800-FLOWERS",
    "+7 8OO 555 35 35",
    "tel. 067",
]
# How people separate digit groups, every dash and space the keyboards produce included.
SEPARATORS = [" ", "-", ".", "", "\u00a0", "\u2009", "\u2013", "\u2014", "\u2011", "\u2212", "\u2010"]
# Extensions as masters write them: (marker as typed, libphonenumber-readable form, kind).
EXTENSIONS = [
    (" доб. {}", " доб. {}", "plain"),
    (" доб {}", " доб {}", "plain"),
    (" вн. {}", " ext. {}", "ext-word"),
    (" wew. {}", " ext. {}", "ext-word"),
    (" ext. {}", " ext. {}", "plain"),
    (" x{}", " x{}", "plain"),
    (" #{}", " #{}", "plain"),
    (";ext={}", ";ext={}", "plain"),
]
FULLWIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def reading(typed, book):
    """libphonenumber's E.164 and extension for a valid number, or ('-', '-')."""
    try:
        number = phonenumbers.parse(typed, book)
    except phonenumbers.NumberParseException:
        return "-", "-"
    if not phonenumbers.is_valid_number(number):
        return "-", "-"
    return phonenumbers.format_number(number, PhoneNumberFormat.E164), number.extension or "-"


def grouped(digits, rng):
    """The digits split into groups of 2-4 with one separator, as typed on a card."""
    sep = rng.choice(SEPARATORS)
    groups, i = [], 0
    while i < len(digits):
        n = rng.choice([2, 3, 4])
        groups.append(digits[i : i + n])
        i += n
    return sep.join(groups)


def typed_forms(number, rng):
    """(typed, kind) for one number: its national and international forms as people write them."""
    region = phonenumbers.region_code_for_number(number)
    cc = str(number.country_code)
    nsn = phonenumbers.national_significant_number(number)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    trunk = (meta.national_prefix if meta else None) or ""
    forms = [
        national,
        international,
        e164,
        e164[1:],
        "00" + cc + " " + grouped(nsn, rng),
        "810 " + cc + " " + grouped(nsn, rng),
        "011 " + cc + " " + grouped(nsn, rng),
        "+" + cc + " " + grouped(nsn, rng),
        "+" + cc + " (" + nsn[:3] + ") " + grouped(nsn[3:], rng),
        trunk + grouped(nsn, rng),
        "(" + trunk + nsn[:3] + ") " + grouped(nsn[3:], rng),
        nsn,
        ".".join([trunk + nsn[:3], nsn[3:6], nsn[6:]]),
        "+" + cc + " (" + trunk + ")" + nsn[:3] + " " + nsn[3:],
        (trunk + nsn).translate(FULLWIDTH),
        ("+" + cc + nsn).translate(FULLWIDTH),
        (trunk + " " + grouped(nsn, rng)).translate(ARABIC_INDIC),
        national.replace(" ", rng.choice(SEPARATORS)),
    ]
    out = [(f, "plain") for f in forms]
    typed_ext, canonical, kind = rng.choice(EXTENSIONS)
    ext = str(rng.randint(1, 9999))
    base = rng.choice([national, international])
    out.append((base + typed_ext.format(ext), kind, base + canonical.format(ext)))
    return out


def numbers(rng):
    """Example numbers of every type of every source region, and neighbours of them (the last
    digits changed, so valid, possible-but-invalid and impossible numbers all appear)."""
    for region in SOURCES:
        for t in TYPES:
            example = phonenumbers.example_number_for_type(region, t)
            if example is None:
                continue
            yield example
            nsn = phonenumbers.national_significant_number(example)
            for _ in range(3):
                cut = rng.randint(2, min(5, len(nsn) - 1))
                tail = "".join(rng.choice("0123456789") for _ in range(cut))
                try:
                    yield phonenumbers.parse("+" + str(example.country_code) + nsn[:-cut] + tail)
                except phonenumbers.NumberParseException:
                    pass


def main():
    if phonenumbers.__version__ != PINNED:
        sys.exit(f"phonenumbers {phonenumbers.__version__} installed, {PINNED} pinned")
    rng = random.Random(23)
    cases = [(t, "plain", t) for t in NAMED + JUNK]
    for n in numbers(rng):
        for form in typed_forms(n, rng):
            if len(form) == 2:
                cases.append((form[0], form[1], form[0]))
            else:
                cases.append(form)
    seen = set()
    out = sys.stdout
    for typed, kind, canonical in cases:
        if "\t" in typed or "\n" in typed or typed in seen:
            continue
        seen.add(typed)
        if kind == "plain" and any(c.isalpha() for c in strip_extension_words(typed)):
            kind = "letters"
        spaced = re.sub(r"\s", " ", canonical)
        if spaced != canonical and kind == "plain":
            kind = "space"
        canonical = spaced
        for book in BOOKS:
            e164, ext = reading(canonical, book)
            out.write(f"{book}\t{typed}\t{e164}\t{ext}\t{kind}\n")


def strip_extension_words(typed):
    """The typed string without the extension markers libphonenumber and Kartka both read."""
    low = typed.lower()
    for word in ["доб.", "доб", "ext.", "ext", ";ext="]:
        low = low.replace(word, "")
    return low.replace("x", "", 1) if " x" in low else low


if __name__ == "__main__":
    main()
