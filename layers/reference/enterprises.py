"""The reference district's enterprise register, generated: 160,000 firms of 市北区 of which
90,412 operate, their addresses, three years of register changes and two years of monthly
social-insurance headcounts.

Published facts it is built to (PRODUCT.md, the district's big-data bureau): 90,000+
operating firms, 160,000 with the deregistered and revoked ones; 8,576 operating firms whose
registered and operating addresses differ, 4,392 of them registered in the district and
operating outside it, 4,184 at two places inside it. Everything else is generated and says
so (``generated``, the source tag): names (青岛 + a made-up trade name + the trade), credit
codes (GB 32100 check characters and GB 11714 organisation-code check digits, division
370203 or the one a firm came from), an old-town service district's industry mix (trade,
business services, software, shipping and logistics, finance, catering), registered capital
and founding dates with long tails, legal representatives and their phones.

Addresses are the district's standard addresses (many firms share an office tower's
doorplate); a firm registered elsewhere, or operating elsewhere, has a real road of a
Qingdao district the platform does not hold (崂山区, 李沧区, 黄岛区, 城阳区); a few hundred
addresses name a number past the end of their road, so that the geocoder finds only the
road and the firm is ``unresolved``. The separation figures are not stored: the separation
query finds them in the geocoded, located addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, select, text

from layers.addresses.gazetteer import roads_elsewhere
from layers.db.models import ADDRESSES
from layers.enterprises import industries, register, registrars
from layers.enterprises.credit_code import CHARSET, check_character
from layers.grid.index import AreaIndex
from layers.reference.district import DISTRICT_CODE, DISTRICTS, persons

A = ADDRESSES.c

STATUSES = {"在营": 90_412, "注销": 52_214, "吊销": 12_196, "迁出": 5_178}  # 160,000
OUTSIDE = 4_392  # registered here, operating outside the district
ELSEWHERE = 4_184  # registered and operating here, at two places
INBOUND = 1_263  # registered outside, operating here
UNRESOLVED = 386  # an address the geocoder can only place on its road
MOVED_IN = 2_870  # operating firms that moved their registration here in the last three years
YEARS = 3  # of register changes, up to the day of loading
HEADCOUNT_MONTHS = 24
PART = 19  # the seed's offset for this generator
PLATFORM = date(1984, 1, 1)  # the oldest founding date drawn

# An old-town service district's mix (divisions of GB/T 4754, weights in per mille).
MIX = {
    "51": 175, "52": 90, "72": 150, "71": 20, "65": 80, "64": 30, "58": 50, "55": 15, "59": 12,
    "54": 20, "67": 12, "69": 10, "66": 5, "68": 6, "62": 50, "61": 10, "70": 40, "75": 55,
    "73": 12, "74": 18, "50": 40, "48": 8, "49": 7, "80": 20, "83": 15, "84": 8, "86": 5,
    "87": 8, "88": 6, "90": 5, "39": 4, "35": 4, "18": 3, "14": 3, "13": 2, "89": 3, "81": 4,
}  # fmt: skip
TRADES = {
    "51": ("贸易", "商贸", "进出口", "国际贸易", "工贸"), "52": ("商贸", "百货", "商行", "超市"),
    "72": ("企业管理咨询", "商务服务", "供应链管理", "人力资源", "会展服务", "广告"),
    "71": ("设备租赁", "汽车租赁"), "65": ("信息技术", "软件科技", "网络科技", "数字科技"),
    "64": ("网络科技", "互联网科技"), "58": ("国际物流", "国际货运代理", "船务代理"),
    "55": ("海运", "航运"), "59": ("仓储", "物流"), "54": ("运输", "物流"),
    "66": ("商业保理",), "67": ("投资管理", "资产管理"), "68": ("保险代理",),
    "69": ("金融信息服务", "控股"), "62": ("餐饮管理", "餐饮"), "61": ("酒店管理",),
    "70": ("置业", "房地产开发", "物业管理"), "75": ("科技", "科技发展"), "73": ("科技研发",),
    "74": ("工程设计", "检测技术"), "50": ("装饰工程", "建筑装饰"), "48": ("建设工程",),
    "49": ("安装工程",), "80": ("家政服务", "美容美发"), "83": ("教育咨询", "培训"),
    "84": ("医疗管理",), "86": ("文化传媒",), "87": ("影视传媒",), "88": ("文化艺术",),
    "90": ("娱乐",), "89": ("体育文化",),
}  # fmt: skip
TRADE_NAMES = (
    "慧和远嘉瑞恒泰盛华信达丰源鑫隆兴宏博宇昌海港蓝洋帆航安康顺通汇利金银宝德仁诚正美佳"
    "星辰光明晨阳东方新天云峰鼎立聚合众创智联科锐朗晟琪璟瀚澜湾岛岸礼贤润泽祥福禄景明轩"
)  # 100 characters, two or three of them a name
FORMS = (
    ("有限责任公司（自然人投资或控股）", "有限公司", 0.70),
    ("有限责任公司（自然人独资）", "有限公司", 0.13),
    ("股份有限公司（非上市）", "股份有限公司", 0.02),
    ("有限责任公司分公司", "有限公司市北分公司", 0.06),
    ("个人独资企业", "经营部", 0.05),
    ("有限合伙企业", "企业（有限合伙）", 0.04),
)
_CODES = {n: c for c, n in registrars.QINGDAO.items()}
ELSEWHERE_DIVISIONS = {n: _CODES[n] for n in ("崂山区", "李沧区", "黄岛区", "城阳区")}  # no reference data
ORIGINS = ("370202", *ELSEWHERE_DIVISIONS.values())
CITY_CAPITAL = 5_000  # 万元: a firm this large registers with the city (the project's rule)
FINANCE = ("66", "67", "68", "69")


@dataclass(frozen=True)
class FirmRecord:
    credit_code: str
    name: str
    legal_form: str
    industry: str
    label: str | None
    capital: float | None  # 万元
    founded: date
    status: str
    status_on: date | None
    moved_in_on: date | None
    reg_address: str
    op_address: str
    legal_rep: str
    phone: str
    registrar: str  # the division of its 登记机关


FIRM_FIELDS = tuple(c for c in register.FIRM_COLUMNS if c not in ("district", "generated", "source"))


@dataclass(frozen=True)
class Register:
    firms: list[FirmRecord]
    events: list[tuple[str, str, date]]  # credit code, kind, day
    headcounts: list[tuple[str, date, list[int]]]  # credit code, first month, monthly counts


def organisation_code(body: str) -> str:
    """A GB 11714 organisation code: eight characters and their check digit (X for 10).

    >>> organisation_code("55138508"), organisation_code("12345678")  # the first of 91110108551385082Q
    ('551385082', '123456788')
    """
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c, 36) * w for c, w in zip(body, weights, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(division: str, body: str) -> str:
    """The code of a company registered with market regulation (91) in ``division`` whose
    organisation code begins ``body`` (eight characters).

    >>> credit_code("110108", "55138508")  # a published code
    '91110108551385082Q'
    """
    first17 = f"91{division}{organisation_code(body)}"
    return first17 + check_character(first17)


def _bodies(rng: np.random.Generator, founded: list[date]) -> list[str]:
    """Organisation-code bodies: digits before 2016, the MA prefix of the new codes since."""
    digits = rng.integers(0, 10, (len(founded), 8))
    letters = rng.integers(0, len(CHARSET), (len(founded), 6))
    return [
        "MA" + "".join(CHARSET[k] for k in letters[i]) if day.year >= 2016 else "".join(map(str, digits[i]))
        for i, day in enumerate(founded)
    ]


def _classes() -> dict[str, list[str]]:
    table = industries.industry_table()
    out: dict[str, list[str]] = {}
    for code, row in table.items():
        if row.level == "class":
            out.setdefault(code[:2], []).append(code)
    return out


def _nice(value: float) -> float:
    """Registered capital as registers hold it: one significant figure of 万元, at least 1."""
    digits = 10 ** np.floor(np.log10(max(value, 1)))
    return float(max(1.0, round(value / digits) * digits))


def _elsewhere_address(rng: np.random.Generator, roads: list[tuple[str, str]]) -> tuple[str, str]:
    road, district = roads[int(rng.integers(len(roads)))]
    return f"青岛市{district}{road}{int(rng.integers(1, 400))}号", district


def generate(seed: int, addresses: list[str], far_numbers: list[str], as_of: date) -> Register:
    """The register as of ``as_of``: ``addresses`` are the district's standard addresses in a
    fixed order, ``far_numbers`` addresses past the end of their roads."""
    rng = DISTRICTS[DISTRICT_CODE].rng(seed, PART)
    classes = _classes()
    divisions = list(MIX)
    weights = np.array([MIX[d] for d in divisions], dtype=float)
    weights /= weights.sum()
    roads = sorted(  # districts no reference district is: their addresses stay outside the platform
        (r, d)
        for r, d in roads_elsewhere().items()
        if ELSEWHERE_DIVISIONS.get(d, DISTRICT_CODE) not in DISTRICTS
    )
    towers = rng.choice(len(addresses), size=400, replace=False)  # office buildings
    window = as_of - timedelta(days=365 * YEARS)
    yesterday = as_of - timedelta(days=1)

    statuses = [s for s, n in STATUSES.items() for _ in range(n)]
    n = len(statuses)
    operating = [i for i, s in enumerate(statuses) if s == "在营"]
    kinds = ["same"] * n
    order = rng.permutation(operating)
    spans = (("outside", OUTSIDE), ("elsewhere", ELSEWHERE), ("inbound", INBOUND), ("unresolved", UNRESOLVED))
    at = 0
    for kind, count in spans:
        for i in order[at : at + count]:
            kinds[i] = kind
        at += count
    moved_in = set(int(i) for i in order[at : at + MOVED_IN])

    span_days = (as_of - PLATFORM).days
    drawn = rng.choice(len(divisions), size=n, p=weights)
    # founding: growing numbers of firms every year (a long tail of old ones)
    ages = np.minimum(span_days - 1, rng.exponential(span_days / 3.2, size=n)).astype(int)
    forms = rng.choice(len(FORMS), size=n, p=np.array([p for *_, p in FORMS]))
    u = rng.random((n, 4))  # class, life, trade word, trade name length
    moved_days, moved_back = rng.integers(1, 365 * YEARS, n), rng.integers(200, 3000, n)
    trade_chars = rng.integers(0, len(TRADE_NAMES), (n, 3))
    tower, floor = rng.random((n, 2)) < 0.3, rng.integers(2, 30, (n, 2))
    door_at, tower_at = rng.integers(0, len(addresses), (n, 2)), rng.integers(0, len(towers), (n, 2))
    capital = np.exp(rng.normal(np.log(100), 1.5, n))
    lives = rng.exponential(365 * 5.0, n)  # how long a firm that closed lasted

    def doorplate(i: int, k: int) -> str:
        if tower[i, k]:
            return f"{addresses[int(towers[tower_at[i, k]])]}{floor[i, k]}层"
        return addresses[int(door_at[i, k])]

    names: set[str] = set()
    rows: list[dict[str, Any]] = []
    for i, status in enumerate(statuses):
        division = divisions[int(drawn[i])]
        options = classes.get(division, [division])
        industry = options[int(u[i, 0] * len(options))]
        founded = as_of - timedelta(days=int(ages[i]))
        status_on = None
        if status != "在营":  # closed that long ago, after a life of its own
            status_on = founded
            founded = max(PLATFORM, status_on - timedelta(days=int(90 + lives[i])))
        moved = as_of - timedelta(days=int(moved_days[i])) if i in moved_in else None
        if moved is not None and moved < founded:
            founded = moved - timedelta(days=int(moved_back[i]))
        form, suffix, _ = FORMS[int(forms[i])]
        words = TRADES.get(division, ("实业",))
        chars = trade_chars[i, : 2 + int(u[i, 3] < 0.3)]
        name = f"青岛{''.join(TRADE_NAMES[k] for k in chars)}{words[int(u[i, 2] * len(words))]}{suffix}"
        while name in names:  # taken: another trade name
            chars = rng.integers(0, len(TRADE_NAMES), 3)
            name = f"青岛{''.join(TRADE_NAMES[k] for k in chars)}{words[0]}{suffix}"
        names.add(name)
        reg = op = doorplate(i, 0)
        division_code = DISTRICT_CODE
        kind = kinds[i]
        if kind == "outside":
            op, _ = _elsewhere_address(rng, roads)
        elif kind == "elsewhere":
            op = doorplate(i, 1)
            while op.split("号")[0] == reg.split("号")[0]:
                op = addresses[int(rng.integers(len(addresses)))]
        elif kind == "inbound":
            reg, where = _elsewhere_address(rng, roads)
            division_code = ELSEWHERE_DIVISIONS[where]
        elif kind == "unresolved":
            far = far_numbers[int(rng.integers(len(far_numbers)))]
            reg, op = (far, far) if rng.random() < 0.5 else (reg, far)
        if moved is not None:
            division_code = ORIGINS[int(rng.integers(len(ORIGINS)))]  # the code keeps where it was given
        branch = form == "有限责任公司分公司"  # a branch has no capital of its own
        money = None if branch else _nice(capital[i] * (4 if division in FINANCE else 1))
        # registered elsewhere: that district's authority; a firm that moved in: its file came here
        registrar = division_code if kind == "inbound" else DISTRICT_CODE
        if registrar == DISTRICT_CODE and (
            form.startswith("股份有限公司") or division in FINANCE or (money or 0) >= CITY_CAPITAL
        ):
            registrar = registrars.CITY  # joint-stock, financial and the largest firms: the city's
        rows.append(
            {
                "name": name, "form": form, "industry": industry, "founded": founded, "status": status,
                "status_on": status_on, "moved": moved, "reg": reg, "op": op, "division": division_code,
                "capital": money, "registrar": registrar,
            }
        )  # fmt: skip
    bodies = _bodies(rng, [r["founded"] for r in rows])
    people = persons(rng, n)
    taken: set[str] = set()
    firms: list[FirmRecord] = []
    events: list[tuple[str, str, date]] = []
    for row, body, (rep, phone) in zip(rows, bodies, people, strict=True):
        code = credit_code(row["division"], body)
        while code in taken:
            body = "".join(map(str, rng.integers(0, 10, 8)))
            code = credit_code(row["division"], body)
        taken.add(code)  # unique among its division's: so too under the city's code
        if row["registrar"] == registrars.CITY and row["moved"] is None:
            code = credit_code(registrars.CITY, body)  # the city issued it
        founded, status_on, moved = row["founded"], row["status_on"], row["moved"]
        firms.append(
            FirmRecord(
                code, row["name"], row["form"], row["industry"], industries.label_of(row["industry"]),
                row["capital"], founded, row["status"], status_on, moved, row["reg"], row["op"], rep, phone,
                row["registrar"],
            )
        )  # fmt: skip
        if moved is not None:
            events.append((code, "moved_in", moved))
        elif founded >= window:
            events.append((code, "registered", founded))
        if status_on is not None and status_on >= window:
            events.append((code, register.CLOSING[row["status"]], status_on))
    events = [(c, k, _workday(d, yesterday, rng)) for c, k, d in events]
    return Register(firms, sorted(events, key=lambda e: (e[2], e[0], e[1])), _headcounts(rng, firms, as_of))


def _workday(day: date, last: date, rng: np.random.Generator) -> date:
    """A register change falls on a working day mostly: a weekend one moves to the Monday after
    (the Friday before, when that Monday is still to come)."""
    if day.weekday() < 5 or rng.random() < 0.12:
        return day
    monday = day + timedelta(days=7 - day.weekday())
    return monday if monday <= last else day - timedelta(days=day.weekday() - 4)


def _headcounts(
    rng: np.random.Generator, firms: list[FirmRecord], as_of: date
) -> list[tuple[str, date, list[int]]]:
    """Monthly insured staff of the operating firms that insure any: a size with a long tail,
    a trend of its own, noise; a few fall by a third or to none in the last month (the
    abnormal operation the cockpit flags)."""
    last = date(as_of.year, as_of.month, 1)
    months = []
    for _ in range(HEADCOUNT_MONTHS):
        last = (last - timedelta(days=1)).replace(day=1)
        months.append(last)
    months.reverse()
    steps = np.arange(HEADCOUNT_MONTHS)
    rows: list[tuple[str, date, list[int]]] = []
    for firm in firms:
        if firm.status != "在营" or rng.random() < 0.36:
            continue
        size = float(np.exp(rng.normal(np.log(4), 1.35)))
        trend, fate = rng.normal(0.0, 0.02), rng.random()
        values = size * np.exp(trend * (steps - HEADCOUNT_MONTHS)) * rng.normal(1.0, 0.03, HEADCOUNT_MONTHS)
        if fate < 0.006:
            values[-1] = 0.0
        elif fate < 0.025:
            values[-1] *= rng.uniform(0.3, 0.65)
        first = firm.founded.replace(day=1)
        skip = sum(m < first for m in months)
        if skip < HEADCOUNT_MONTHS:
            rows.append((firm.credit_code, months[skip], np.rint(values[skip:]).astype(int).tolist()))
    return rows


def far_numbers(addresses: list[tuple[str, str]]) -> list[str]:
    """An address past the last number of each road (``(road, number)`` pairs)."""
    last: dict[str, int] = {}
    for road, number in addresses:
        head = number.split("-")[0]
        if head.isdigit():
            last[road] = max(last.get(road, 0), int(head))
    return [f"市北区{road}{top + 300}号" for road, top in sorted(last.items())]


def load_register(conn: Connection, seed: int, index: AreaIndex, as_of: date, source: str) -> int:
    """Generate the register as of ``as_of`` on the district's loaded standard addresses and
    write it (``layers.enterprises.register``); the number of firms."""
    industries.load_reference(conn)
    doorplates = conn.execute(
        select(A.address, A.road, A.house_number)
        .where(A.district == DISTRICT_CODE, A.source == source)
        .order_by(A.road, A.house_number, A.building)
    ).all()
    made = generate(
        seed,
        [r.address for r in doorplates],
        far_numbers([(r.road, r.house_number) for r in doorplates]),
        as_of,
    )
    firms = [
        {
            **{c: getattr(f, c) for c in FIRM_FIELDS},
            "district": DISTRICT_CODE,
            "generated": True,
            "source": source,
        }
        for f in made.firms
    ]
    register.write_firms(conn, index, firms, made.events, made.headcounts)
    conn.execute(text("ANALYZE enterprises"))
    return len(firms)
