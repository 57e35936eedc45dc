"""统一社会信用代码 (GB 32100-2015): the identity of every enterprise and social organization.

Layout of the 18 characters:
    1      registration authority code (登记管理部门码: 1 机构编制, 5 民政, 9 市场监管, Y 其他 ...)
    2      type code (机构类别码)
    3-8    administrative division code (登记管理机关行政区划码, 6 digits)
    9-17   organization code (主体标识码, GB 11714), whose 9th character is its own check
    18     check character over the first 17 (mod 31)

A wrong code is refused with the reason, so the person typing it knows which part to look at.
"""
from __future__ import annotations

import unicodedata

from shared.errors import DomainError, FieldError

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
VALUE = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, ...
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# provinces (省级行政区划码前两位); 100000 is used by national-level registrations
PROVINCES = frozenset("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
                      "50 51 52 53 54 61 62 63 64 65 71 81 82".split())


def _refuse(code: str, message: str) -> DomainError:
    return DomainError(code, message, 422, [FieldError("uscc", message)])


def normalize_uscc(code: str) -> str:
    """Full-width characters, spaces and lower case are typing accidents, not a different code."""
    return "".join(unicodedata.normalize("NFKC", code or "").split()).upper()


def organization_code_check(body: str) -> str:
    """Check character of an 8-character GB 11714 organization code body (letters A=10 ... Z=35)."""
    total = sum(int(ch, 36) * w for ch, w in zip(body, ORG_WEIGHTS))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def uscc_check(prefix17: str) -> str:
    """Check character (position 18) of the first 17 characters."""
    check = 31 - sum(VALUE[ch] * w for ch, w in zip(prefix17, WEIGHTS)) % 31
    return CHARSET[0 if check == 31 else check]


def validate_uscc(code: str) -> str:
    """The normalized code, or DomainError 422 on field "uscc" saying which rule it breaks."""
    value = normalize_uscc(code)
    if len(value) != 18:
        raise _refuse("uscc_length", f"统一社会信用代码应为18位，实际为{len(value)}位 / "
                                     f"the unified social credit code has 18 characters, got {len(value)}")
    for position, ch in enumerate(value, start=1):
        if ch not in VALUE:
            raise _refuse("uscc_bad_character",
                          f"统一社会信用代码第{position}位“{ch}”不是有效字符（不使用 I、O、Z、S、V） / "
                          f"character {position} '{ch}' is not allowed (I, O, Z, S, V are never used)")
    division = value[2:8]
    if not division.isdigit() or not (division[:2] in PROVINCES or division == "100000"):
        raise _refuse("uscc_bad_division_code",
                      f"统一社会信用代码第3-8位“{division}”不是有效的行政区划码 / "
                      f"characters 3-8 '{division}' are not an administrative division code")
    if organization_code_check(value[8:16]) != value[16]:
        raise _refuse("uscc_bad_organization_code",
                      "统一社会信用代码第9-17位组织机构代码校验位错误 / "
                      "the check character of the organization code (characters 9-17) is wrong")
    if uscc_check(value[:17]) != value[17]:
        raise _refuse("uscc_bad_check_character",
                      "统一社会信用代码校验位（第18位）错误，请核对 / "
                      "the check character (character 18) is wrong; please check the code")
    return value


def make_uscc(prefix17: str) -> str:
    """Append the check character to 17 characters (the organization-code check is taken as given)."""
    prefix = normalize_uscc(prefix17)
    if len(prefix) != 17 or any(ch not in VALUE for ch in prefix):
        raise ValueError(f"need 17 characters from {CHARSET}, got {prefix17!r}")
    return prefix + uscc_check(prefix)


def uscc_from_parts(division: str, body8: str, authority: str = "9", type_code: str = "1") -> str:
    """A fully valid code (both check characters computed), e.g. for tests and benchmarks:
    uscc_from_parts("450503", f"{n:08d}")."""
    return make_uscc(authority + type_code + division + body8 + organization_code_check(body8))
