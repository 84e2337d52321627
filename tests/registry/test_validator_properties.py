"""Any single-character substitution in a valid identifier, USCC or resident ID is rejected.

MOD 37,36 (ISO/IEC 7064), the GB 32100 weights mod 31 and the GB 11643 weights mod 11 all detect
every single substitution, and the structural checks catch characters outside the alphabet, so
the assertion holds for every generated case.
"""

import datetime

from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.validators import (
    USCC_ALPHABET,
    format_identifier,
    id_number_check_char,
    uscc_check_char,
    validate_id_number,
    validate_identifier,
    validate_uscc,
)

# Replacement characters: the code alphabets plus what a typo or a bad input method produces.
REPLACEMENTS = st.sampled_from(
    [*"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-/ ", "０", "Ａ", "Ｘ", "。", "京"]
)


@st.composite
def usccs(draw):
    first = draw(st.sampled_from("123456789ANY"))
    second = draw(st.sampled_from("1239"))
    division = draw(st.text("0123456789", min_size=6, max_size=6))
    org = draw(st.text(USCC_ALPHABET, min_size=9, max_size=9))
    body = first + second + division + org
    return body + uscc_check_char(body)


@st.composite
def identifiers(draw):
    type_code = draw(usccs()) + draw(st.text("0123456789", min_size=3, max_size=3))
    issuer = draw(usccs())
    serial = draw(st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=20))
    version = draw(st.integers(1, 999))
    return format_identifier(type_code, issuer, serial, version)


@st.composite
def resident_ids(draw):
    area = draw(st.sampled_from(["110101", "110105", "110108", "310104", "440305", "650102"]))
    birth = draw(st.dates(datetime.date(1900, 1, 1), datetime.date(2020, 12, 31)))
    sequence = draw(st.text("0123456789", min_size=3, max_size=3))
    body = f"{area}{birth:%Y%m%d}{sequence}"
    return body + id_number_check_char(body)


def _substitute(draw, value: str) -> str:
    position = draw(st.integers(0, len(value) - 1))
    replacement = draw(REPLACEMENTS.filter(lambda c: c != value[position]))
    return value[:position] + replacement + value[position + 1 :]


def _rejected(validator, value) -> bool:
    try:
        validator(value)
    except ValidationError:
        return True
    return False


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_it_detects_any_single_substitution_in_an_identifier(data):
    valid = data.draw(identifiers())
    assert validate_identifier(valid) is None
    assert _rejected(validate_identifier, _substitute(data.draw, valid))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_it_detects_any_single_substitution_in_a_uscc(data):
    valid = data.draw(usccs())
    assert validate_uscc(valid) is None
    assert _rejected(validate_uscc, _substitute(data.draw, valid))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_it_detects_any_single_substitution_in_a_resident_id(data):
    valid = data.draw(resident_ids())
    assert validate_id_number(valid) is None
    assert _rejected(validate_id_number, _substitute(data.draw, valid))


def test_it_detects_every_substitution_in_the_domain_vectors_exhaustively():
    # Not sampled: every position × every character of the alphabet, for the fixed vectors.
    alphabet36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    cases = [
        (validate_identifier, "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U", alphabet36),
        (validate_uscc, "11110000MB0000001Y", alphabet36),
        (validate_id_number, "11010819850101002X", "0123456789X"),
    ]
    for validator, valid, alphabet in cases:
        for i, original in enumerate(valid):
            for ch in alphabet:
                if ch != original:
                    assert _rejected(validator, valid[:i] + ch + valid[i + 1 :]), (valid, i, ch)
