"""The GB 32100 check character on published codes (issue 19)."""

from __future__ import annotations

import pytest

from geo.errors import InvalidInput
from layers.enterprises.credit_code import CHARSET, parse_credit_code

# Codes as published on the registrants' own licences and the national enterprise credit
# information system; the first is the code most write-ups of the standard work through.
PUBLISHED = {
    "91350100M000100Y43": "350100",
    "91110108551385082Q": "110108",  # 小米科技有限责任公司
    "9144030071526726XG": "440300",  # 深圳市腾讯计算机系统有限公司
    "91330100716105852F": "330100",  # 阿里巴巴（中国）有限公司
    "914403001922038216": "440300",  # 华为技术有限公司
}


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_pass_and_every_other_check_character_fails(code: str) -> None:
    assert parse_credit_code(code.lower()).division == PUBLISHED[code]  # typed in lower case too
    for wrong in CHARSET:
        if wrong != code[-1]:
            with pytest.raises(InvalidInput, match=f"check character {wrong}, expected {code[-1]}"):
                parse_credit_code(code[:17] + wrong)


def test_a_swap_of_two_characters_is_caught() -> None:
    code = "91110108551385082Q"
    swapped = code[:9] + code[10] + code[9] + code[11:]
    with pytest.raises(InvalidInput, match="check character"):
        parse_credit_code(swapped)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("9111010855138508", "18 characters, not 16"),
        ("91110108551385O82Q", "character 15 'O' is not one GB 32100 uses"),
        ("B1110108551385082Q", "B is no registration authority"),
        ("911101A8551385082Q", "division code"),
    ],
)
def test_malformed_codes_say_what_is_wrong(value: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says) as caught:
        parse_credit_code(value)
    assert caught.value.field == "credit_code"
