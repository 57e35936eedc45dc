"""统一社会信用代码 (GB 32100-2015) validation: each kind of mistake is refused with its own reason."""
from __future__ import annotations

import pytest

from services.organizations.enterprises.uscc import (
    WEIGHTS, make_uscc, organization_code_check, uscc_check, uscc_from_parts, validate_uscc,
)
from shared.errors import DomainError

REAL_CODES = ["91350100M000100Y43", "91110000600037341L"]  # published codes


def reason(code: str) -> DomainError:
    with pytest.raises(DomainError) as info:
        validate_uscc(code)
    err = info.value
    assert err.status == 422 and err.errors[0].field == "uscc"
    return err


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_published_codes_are_valid(code):
    assert validate_uscc(code) == code


def test_weights_are_powers_of_three_mod_31():
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_check_characters_of_a_real_code_by_hand():
    # organization code M000100Y-4: M=22, Y=34 -> 22*3 + 1*5 + 34*2 = 139; 139 % 11 = 7; 11 - 7 = 4
    assert organization_code_check("M000100Y") == "4"
    assert uscc_check("91350100M000100Y4") == "3"
    assert uscc_check("91110000600037341") == "L"


def test_normalizes_case_spaces_and_full_width():
    assert validate_uscc(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert validate_uscc("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"


def test_length_is_reported():
    err = reason("91350100M000100Y4")
    assert err.code == "uscc_length" and "17" in err.detail


@pytest.mark.parametrize("bad", ["I", "O", "Z", "S", "V", "-"])
def test_characters_outside_the_charset_are_named(bad):
    err = reason("91350100M000100Y4" + bad)
    assert err.code == "uscc_bad_character" and "第18位" in err.detail and bad in err.detail


def test_bad_division_code():
    assert reason(make_uscc("91AB0100M000100Y4")).code == "uscc_bad_division_code"
    assert reason(make_uscc("91990100M000100Y4")).code == "uscc_bad_division_code"  # no province 99


def test_bad_organization_code_check():
    err = reason(make_uscc("91350100M000100Y5"))  # check of M000100Y is 4
    assert err.code == "uscc_bad_organization_code" and "9-17" in err.detail


def test_bad_final_check_character():
    err = reason("91350100M000100Y44")
    assert err.code == "uscc_bad_check_character" and "第18位" in err.detail


def test_x_and_zero_organization_checks():
    bodies = {organization_code_check(f"{n:08d}"): f"{n:08d}" for n in range(200)}
    assert {"X", "0"} <= bodies.keys()
    for body in (bodies["X"], bodies["0"]):
        assert validate_uscc(uscc_from_parts("450503", body))


def test_built_codes_for_yinhai_district_validate():
    codes = {uscc_from_parts("450503", f"{n:08d}") for n in range(1, 500)}
    assert len(codes) == 499
    assert all(validate_uscc(c) == c and c[2:8] == "450503" for c in codes)
    assert uscc_from_parts("450503", "MA5KXXXX".replace("X", "1"), authority="5", type_code="2").startswith("52450503")


def test_make_uscc_refuses_a_bad_prefix():
    with pytest.raises(ValueError):
        make_uscc("9145050300000001")
    with pytest.raises(ValueError):
        make_uscc("9145050300000001O")
