"""The unified social credit code (统一社会信用代码, GB 32100-2015) and its check character.

Eighteen characters from the 31 the standard allows (digits and capitals without I, O, Z, S,
V): the registration authority (1), the kind of entity (1), the administrative division of
registration (6 digits), the organisation code (9, GB 11714) and a check character. The check
character is ``31 − Σ cᵢ·wᵢ mod 31`` over the first seventeen, with weights ``wᵢ = 3^(i−1) mod
31`` and 31 read as 0. Written here rather than taken from a library: the whole algorithm is
these few lines, and no maintained PyPI package carries it (``python-stdnum`` has the older
GB 11714 organisation code only).
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.errors import InvalidInput

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_VALUE = {c: i for i, c in enumerate(CHARSET)}
# GB 32100 table 1: the authorities that register (机构编制, 外交, 司法行政, 文化, 民政, 旅游,
# 宗教, 工会, 工商, 中央军委改革和编制办公室, 农业, 其他).
AUTHORITIES = frozenset("123456789ANY")


@dataclass(frozen=True)
class CreditCode:
    """A checked code and its parts."""

    code: str
    authority: str
    kind: str
    division: str  # where it was registered: 370203 for 市北区
    organisation: str


def check_character(first17: str) -> str:
    """The GB 32100 check character of the first seventeen characters.

    >>> check_character("91110108551385082")  # a published code: 91110108551385082Q
    'Q'
    """
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def parse_credit_code(value: str, field: str = "credit_code") -> CreditCode:
    """A unified social credit code, checked; ``InvalidInput`` naming what is wrong.

    >>> parse_credit_code("9144030071526726XG").division
    '440300'
    >>> parse_credit_code("9144030071526726XA")
    Traceback (most recent call last):
    ...
    geo.errors.InvalidInput: credit code 9144030071526726XA: check character A, expected G
    >>> parse_credit_code("91440300O1526726XG")
    Traceback (most recent call last):
    ...
    geo.errors.InvalidInput: credit code 91440300O1526726XG: character 9 'O' is not one GB 32100 uses
    """
    code = value.strip().upper()
    if len(code) != 18:
        raise InvalidInput(f"credit code {value!r}: 18 characters, not {len(code)}", field=field)
    for i, c in enumerate(code, start=1):
        if c not in CHARSET:
            raise InvalidInput(
                f"credit code {code}: character {i} {c!r} is not one GB 32100 uses", field=field
            )
    if code[0] not in AUTHORITIES:
        raise InvalidInput(f"credit code {code}: {code[0]} is no registration authority", field=field)
    if not code[2:8].isdigit():
        raise InvalidInput(f"credit code {code}: characters 3–8 are a division code (6 digits)", field=field)
    expected = check_character(code[:17])
    if code[17] != expected:
        raise InvalidInput(
            f"credit code {code}: check character {code[17]}, expected {expected}", field=field
        )
    return CreditCode(code, code[0], code[1], code[2:8], code[8:17])
