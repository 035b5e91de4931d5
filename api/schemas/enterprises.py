"""The enterprise register: search results, one firm, the separation check, digests, visits."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Answer, Timestamp

Separation = Literal[
    "operating_outside", "inside_elsewhere", "registered_outside", "both_outside", "same", "unresolved"
]
SeparationFilter = Literal[
    "separated",
    "operating_outside",
    "inside_elsewhere",
    "registered_outside",
    "both_outside",
    "same",
    "unresolved",
]


class Firm(Answer):
    """A firm as the search lists it (``legal_rep``/``phone`` only for dispatchers and admins)."""

    credit_code: str
    name: str
    legal_form: str
    industry: str
    industry_name: str | None
    label: str | None
    capital: float | None  # 万元
    founded: date
    status: Literal["在营", "注销", "吊销", "迁出"]
    status_on: date | None
    moved_in_on: date | None
    district: str
    registrar: str = Field(description="Its registration authority's division (登记机关).")
    registrar_level: Literal["city", "district", "other"]
    registrar_name: str = Field(description="市级, 区级, or 外区 and the division.")
    street: str | None
    street_name: str | None
    reg_address: str
    reg_match: str
    op_address: str
    op_match: str
    separation: Separation
    lon: float | None
    lat: float | None
    generated: bool


class FirmList(Answer):
    total: int
    limit: int
    offset: int
    items: list[Firm]


class Change(Answer):
    kind: str
    on: date


class Headcount(Answer):
    month: str
    headcount: int


class Visit(Answer):
    street: str
    note: str
    at: Timestamp
    actor: str | None = None  # staff names for dispatchers and admins only


class FirmDetail(Firm):
    events: list[Change]
    headcounts: list[Headcount]
    visits: list[Visit]


class SeparatedFirm(Answer):
    """A firm of the check's lists: its two addresses and how the geocoder matched each."""

    separation: Literal["operating_outside", "inside_elsewhere", "unresolved"]
    credit_code: str
    name: str
    industry: str
    label: str | None
    reg_address: str
    reg_match: str
    op_address: str
    op_match: str


class SeparationGroup(Answer):
    code: str | None
    name: str | None
    separated: int
    kinds: dict[str, int]
    firms: list[SeparatedFirm] | None = Field(
        None, description="With lists=true: the group's separated and unresolved firms."
    )


class SeparationCheck(Answer):
    """Operating firms by the kind of their two addresses: ``separated`` is the published
    check's two kinds (registered here and operating outside, or inside at another place)."""

    operating: int
    separated: int
    kinds: dict[str, int]
    by: Literal["street", "industry"]
    groups: list[SeparationGroup]


class DigestItem(Answer):
    kind: str
    change_name: str
    credit_code: str
    name: str
    industry: str
    industry_name: str | None
    label: str | None
    street: str | None
    street_name: str | None
    status: str
    registrar_level: Literal["city", "district", "other"] = Field(
        description="Whose change: 市级, 区级, 外区."
    )
    registrar_name: str
    visited_on: date | None = Field(None, description="The street's latest visit since the change.")


class Digest(Answer):
    recipient_kind: Literal["street", "department"]
    recipient: str
    name: str | None
    records: int
    levels: dict[str, int] = Field(description="Its items by registrar level (city, district, other).")
    made_at: Timestamp
    items: list[DigestItem]


class DayDigests(Answer):
    day: str
    digests: list[Digest]


class VisitIn(BaseModel):
    note: str = Field("", max_length=2000, description="What the street found (走访记录).")


class VisitOut(Answer):
    id: int
    credit_code: str
    street: str
