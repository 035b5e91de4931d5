"""A firm's registration authority (登记机关), held as the division code of its seat: the
city's (``370200``: 青岛市's market regulation or administrative-approval bureau, which
registers joint-stock companies, financial firms and the largest ones) or a district's. The
daily push tells a street of both levels' changes (市级 and 区级).

GB 32100 puts the division of the authority that issued a credit code in its characters 3–8,
so that is the authority when an extract names none; a firm that moved in keeps its code but
its file went to its new district's authority, so the register holds the authority apart from
the code, and an extract's 登记机关 column wins.
"""

from __future__ import annotations

from geo.errors import InvalidInput

# Qingdao's county-level divisions (GB/T 2260 as china-division 2.7.0 has them) and the city
QINGDAO = {
    "370200": "青岛市", "370202": "市南区", "370203": "市北区", "370211": "黄岛区", "370212": "崂山区",
    "370213": "李沧区", "370214": "城阳区", "370215": "即墨区", "370281": "胶州市", "370283": "平度市",
    "370285": "莱西市",
}  # fmt: skip
CITY = "370200"
LEVELS = ("city", "district", "other")  # the city's authority, the firm's district's, another's
# (the database computes a firm's level: layers.db.models.REGISTRAR_LEVEL_SQL)
LEVEL_NAMES = {"city": "市级", "district": "区级", "other": "外区"}


def registrar_of(named: str, credit_code: str) -> str:
    """The authority's division from an extract's 登记机关 (a six-digit code, or a name that
    holds a Qingdao district's or the city's name), else from the credit code.

    >>> registrar_of("青岛市市北区行政审批服务局", "91370203MA3C4Q1D2X")
    '370203'
    >>> registrar_of("青岛市市场监督管理局", "91370203MA3C4Q1D2X"), registrar_of("", "91370212MA3C4Q1D2X")
    ('370200', '370212')
    >>> registrar_of("北京市朝阳区市场监督管理局", "91110105MA3C4Q1D2X")  # elsewhere: the code says
    '110105'
    """
    named = named.strip()
    if not named:
        return credit_code[2:8]
    if named.isdigit():
        if len(named) != 6:
            raise InvalidInput(f"registrar {named!r} is no six-digit division code", field="registrar")
        return named
    for code, name in QINGDAO.items():
        if code != CITY and name in named:
            return code
    if named.startswith(QINGDAO[CITY]):
        return CITY
    return credit_code[2:8]


def name_of(registrar: str, level_: str) -> str:
    """How a page names an authority: its level, and its division when it is another's.

    >>> name_of("370200", "city"), name_of("370203", "district"), name_of("370212", "other")
    ('市级', '区级', '外区 崂山区')
    """
    if level_ != "other":
        return LEVEL_NAMES[level_]
    return f"{LEVEL_NAMES[level_]} {QINGDAO.get(registrar, registrar)}"
