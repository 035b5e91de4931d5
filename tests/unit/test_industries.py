"""The GB/T 4754-2017 table the register's industry codes are checked against."""

from collections import Counter

import pytest

from geo.errors import InvalidInput
from layers.enterprises.industries import check_industry, industry_name, industry_table

# The standard's structure: classes (小类) per section, and divisions (大类) per section.
CLASSES = {
    "A": 72, "B": 39, "C": 609, "D": 18, "E": 44, "F": 128, "G": 67, "H": 16, "I": 34, "J": 48,
    "K": 5, "L": 58, "M": 48, "N": 33, "O": 32, "P": 17, "Q": 30, "R": 48, "S": 34, "T": 1,
}  # fmt: skip
DIVISIONS = {
    "A": 5, "B": 7, "C": 31, "D": 3, "E": 4, "F": 2, "G": 8, "H": 2, "I": 3, "J": 4,
    "K": 1, "L": 2, "M": 3, "N": 4, "O": 3, "P": 1, "Q": 2, "R": 5, "S": 6, "T": 1,
}  # fmt: skip


def test_the_table_is_the_whole_standard() -> None:
    table = industry_table()
    rows = list(table.values())
    assert Counter(r.section for r in rows if r.level == "class") == CLASSES
    assert Counter(r.section for r in rows if r.level == "division") == DIVISIONS
    divisions = {r.code: r for r in rows if r.level == "division"}
    for row in rows:
        if row.level == "class":  # each class under a division of its own section
            assert len(row.code) == 4 and divisions[row.code[:2]].section == row.section, row
    assert all(any(c.startswith(d) for c in table if len(c) == 4) for d in divisions)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("0111", "稻谷种植"), ("1811", "运动机织服装制造"), ("3874", "智能照明器具制造"),
        ("4050", "衡器制造"), ("5267", "机动车充电销售"), ("6433", "互联网科技创新平台"),
        ("6870", "保险监管服务"), ("7432", "海洋环境服务"), ("9700", "国际组织"),
    ],
)  # fmt: skip
def test_classes_of_every_section_are_known(code: str, name: str) -> None:
    assert check_industry(code) == code and industry_name(code) == name


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("1810", "division 18 has no such class"),  # GB/T 4754-2011's, split in 2017
        ("7430", "division 74 has no such class"),  # likewise (7431/7432/7439)
        ("0198", "division 01 has no such class"),
        ("9800", "no division 98"),
        ("B1311", "division 13 is in section C, not B"),
        ("131", "not a GB/T 4754 code"),
    ],
)
def test_codes_that_do_not_exist_are_refused(code: str, says: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_industry(code)
    assert says in str(raised.value) and raised.value.field == "industry"
