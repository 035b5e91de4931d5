"""The enterprise register for staff: search (企业猎搜) with CSV/XLSX export, one firm, the
separation check, the daily digests and a street's visits. The public sees the operating
addresses only (the OGC collection ``enterprises``); legal representatives and their phones
go to dispatchers and admins alone."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import StaffDep, TxDep, run_read, run_stale_read
from api.params import TEXT
from api.schemas import enterprises as schema
from geo.errors import Forbidden, InvalidInput
from layers.accounts.actors import Actor
from layers.cases import worktime
from layers.db.vocabulary import PRIVILEGED
from layers.enterprises import digest, queries, visits
from layers.io.tables import csv_bytes, xlsx_bytes

router = APIRouter(prefix="/api/enterprises", tags=["enterprises"])

CREDIT_CODE = r"^[0-9A-Za-z]{18}$"
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_LIMIT = 200_000  # every firm of the register fits; XLSX of them takes ~20 s
EXPORT_COLUMNS = (
    ("credit_code", "统一社会信用代码"), ("name", "企业名称"), ("legal_form", "企业类型"),
    ("industry", "行业代码"), ("industry_name", "行业"), ("label", "2+6产业"), ("capital", "注册资本(万元)"),
    ("founded", "成立日期"), ("status", "登记状态"), ("status_on", "状态日期"),
    ("registrar_name", "登记机关"), ("street_name", "责任街道"),
    ("reg_address", "注册地址"), ("reg_match", "注册地址匹配"), ("op_address", "经营地址"),
    ("op_match", "经营地址匹配"), ("separation", "注册经营地关系"),
)  # fmt: skip


def _personal(actor: Actor) -> bool:
    return actor.role in PRIVILEGED


def filters(
    q: str | None = Query(None, max_length=60, pattern=TEXT, description="Name (any part) or credit code."),
    industry: str | None = Query(
        None, max_length=5, description="GB/T 4754: section (I), division (65), class."
    ),
    label: str | None = Query(None, max_length=10, description="The 2+6 chain, e.g. 数字经济."),
    capital_min: float | None = Query(None, ge=0, description="Registered capital from (万元)."),
    capital_max: float | None = Query(None, ge=0, description="Registered capital up to (万元)."),
    founded_from: date | None = Query(None, description="Founded on or after."),
    founded_to: date | None = Query(None, description="Founded on or before."),
    status: Literal["在营", "注销", "吊销", "迁出"] | None = Query(None),
    street: str | None = Query(None, pattern=r"^[0-9]{9}$", description="The responsible street's code."),
    separation: schema.SeparationFilter | None = Query(
        None, description="The kind of its two addresses (separated: the published check's two kinds)."
    ),
    change: Literal["registered", "moved_in", "deregistered", "revoked", "moved_out", "closed"]
    | None = Query(
        None, description="With a register change of this kind (closed: deregistered or revoked) …"
    ),
    changed_from: date | None = Query(None, description="… on or after this day …"),
    changed_to: date | None = Query(None, description="… and on or before this one."),
    abnormal: bool = Query(False, description="Last month's headcount fell by more than 30% or to none."),
    growing: bool = Query(
        False, description="The headcount is up by more than 30% and 5 people on a year before."
    ),
    registrar: Literal["city", "district", "other"] | None = Query(
        None, description="Registered by the city's authority, the district's or another district's."
    ),
) -> queries.Filters:
    if capital_min is not None and capital_max is not None and capital_min > capital_max:
        raise InvalidInput("capital_min is above capital_max", field="capital_min")
    if founded_from is not None and founded_to is not None and founded_from > founded_to:
        raise InvalidInput("founded_from is after founded_to", field="founded_from")
    return queries.Filters(
        q, industry, label, capital_min, capital_max, founded_from, founded_to, status, street, separation,
        change, changed_from, changed_to, abnormal, growing, registrar,
    )  # fmt: skip


FiltersDep = Annotated[queries.Filters, Depends(filters)]


@router.get(
    "",
    response_model=schema.FirmList,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
    summary="Search the register with any combination of filters; CSV or XLSX export",
)
async def search(
    request: Request,
    actor: StaffDep,
    chosen: FiltersDep,
    sort: Literal["credit_code", "name", "founded", "capital"] = Query("credit_code"),
    order: Literal["asc", "desc"] = Query("asc"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
    f: Literal["json", "csv", "xlsx"] = Query("json", description="json, or the whole list as csv or xlsx."),
) -> Any:
    """The firms matching every filter given (企业猎搜), a page of them and how many match."""
    personal = _personal(actor)
    if f == "json":
        total, rows = await run_stale_read(
            request, _search, chosen, limit, offset, sort, order == "desc", personal
        )
        return {"total": total, "limit": limit, "offset": offset, "items": rows}
    total, rows = await run_stale_read(
        request, _search, chosen, EXPORT_LIMIT + 1, 0, sort, order == "desc", False
    )
    if len(rows) > EXPORT_LIMIT:
        raise InvalidInput(
            f"{total:,} firms match; an export holds {EXPORT_LIMIT:,}: narrow the filters", field="f"
        )
    columns = [c for c, _ in EXPORT_COLUMNS]
    headers = [h for _, h in EXPORT_COLUMNS]
    stamp = worktime.today().isoformat()
    if f == "csv":
        body = csv_bytes(headers, [{h: r.get(c) for c, h in EXPORT_COLUMNS} for r in rows])
        return _download(body, CSV, f"enterprises-{stamp}.csv")
    body = await run_in_threadpool(xlsx_bytes, columns, rows, sheet="企业", headers=headers)
    return _download(body, XLSX, f"enterprises-{stamp}.xlsx")


def _search(
    conn: Any, chosen: queries.Filters, limit: int, offset: int, sort: str, descending: bool, personal: bool
) -> tuple[int, list[dict[str, Any]]]:
    return queries.search(conn, chosen, limit=limit, offset=offset, sort=sort, descending=descending,
                          personal=personal)  # fmt: skip


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get(
    "/separation",
    response_model=schema.SeparationCheck,
    responses={200: {"content": {XLSX: {}}}},
    summary="The registered-vs-operating address check, by street or by industry, with its lists",
)
async def separation(
    request: Request,
    actor: StaffDep,
    by: Literal["street", "industry"] = Query("street"),
    district: str | None = Query(None, pattern=r"^[0-9]{6}$", description="Only this register's firms."),
    lists: bool = Query(False, description="Each group with its separated and unresolved firms."),
    f: Literal["json", "xlsx"] = Query("json", description="xlsx: the lists, a row per firm, by group."),
) -> Any:
    """Operating firms counted by how their two located addresses stand: registered here and
    operating outside, inside at another place, registered outside and operating here, both
    outside, at one place, or ``unresolved`` (an address the geocoder could not trust). With
    ``lists`` each group names the firms to follow up (the two separated kinds, and the
    unresolved for a steward); ``f=xlsx`` is those lists as one sheet for the streets."""
    body = await run_stale_read(request, queries.separation, by, district, lists or f == "xlsx")
    if f == "json":
        return body
    xlsx = await run_in_threadpool(separation_xlsx, body)
    return _download(xlsx, XLSX, f"separation-by-{by}-{worktime.today().isoformat()}.xlsx")


SEPARATION_COLUMNS = (
    ("group_code", "街道代码"), ("group_name", "责任街道"), ("kind_name", "注册经营地关系"),
    ("credit_code", "统一社会信用代码"), ("name", "企业名称"), ("industry", "行业代码"), ("label", "2+6产业"),
    ("reg_address", "注册地址"), ("reg_match", "注册地址匹配"), ("op_address", "经营地址"),
    ("op_match", "经营地址匹配"),
)  # fmt: skip


def separation_xlsx(body: dict[str, Any]) -> bytes:
    rows = [
        {**firm, "group_code": g["code"], "group_name": g["name"],
         "kind_name": queries.KIND_NAMES[firm["separation"]][0]}
        for g in body["groups"] for firm in g["firms"]
    ]  # fmt: skip
    headers = [h for _, h in SEPARATION_COLUMNS]
    if body["by"] == "industry":
        headers[:2] = ["行业大类代码", "行业大类"]
    return xlsx_bytes([c for c, _ in SEPARATION_COLUMNS], rows, sheet="注册经营分离", headers=headers)


@router.get(
    "/digest",
    response_model=schema.DayDigests,
    responses={200: {"content": {XLSX: {}}}},
    summary="The daily push of a day, per recipient",
)
async def day_digest(
    request: Request,
    actor: StaffDep,
    date_: date = Query(..., alias="date", description="The day whose register changes were pushed."),
    f: Literal["json", "xlsx"] = Query("json"),
) -> Any:
    """The digests of ``date`` (made the morning after): a street's or a department's user sees
    their own, dispatchers, planners and admins every recipient's. ``f=xlsx``: one sheet."""
    only = _recipient_of(actor)
    body = await run_read(request, digest.of_day, date_, worktime.today(), only)
    if f == "json":
        return body
    return _download(await run_in_threadpool(digest_xlsx, body), XLSX, f"digest-{date_.isoformat()}.xlsx")


DIGEST_COLUMNS = (
    ("recipient", "接收单位"), ("change_name", "变动"), ("credit_code", "统一社会信用代码"),
    ("name", "企业名称"), ("industry_name", "行业"), ("label", "2+6产业"), ("registrar_name", "登记机关"),
    ("street_name", "责任街道"), ("op_address", "经营地址"), ("visited_on", "走访日期"),
)  # fmt: skip


def digest_xlsx(body: dict[str, Any]) -> bytes:
    rows = [{**item, "recipient": d["name"]} for d in body["digests"] for item in d["items"]]
    columns = [c for c, _ in DIGEST_COLUMNS]
    return xlsx_bytes(columns, rows, sheet=body["day"], headers=[h for _, h in DIGEST_COLUMNS])


def _recipient_of(actor: Actor) -> tuple[str, str] | None:
    """The one recipient a street's or department's user may read, or None for all."""
    if actor.role in ("admin", "dispatcher", "planner"):
        return None
    unit = actor.unit or ""
    if len(unit) == 9 and unit.isdigit():
        return ("street", unit)
    if unit.startswith("ED"):
        return ("department", unit)
    raise Forbidden("the daily push is for street offices, industry departments, planners and admins")


@router.get("/{credit_code}", response_model=schema.FirmDetail, summary="One firm of the register")
async def one(
    request: Request, actor: StaffDep, credit_code: str = Path(..., pattern=CREDIT_CODE)
) -> dict[str, Any]:
    """A firm with its register changes, monthly social-insurance headcounts and visits."""
    return await run_stale_read(request, _firm, credit_code, _personal(actor))


def _firm(conn: Any, credit_code: str, personal: bool) -> dict[str, Any]:
    return queries.firm(conn, credit_code, personal=personal)


@router.post(
    "/{credit_code}/visits", status_code=201, response_model=schema.VisitOut, summary="Mark a firm visited"
)
def visit(
    body: schema.VisitIn, conn: TxDep, actor: StaffDep, credit_code: str = Path(..., pattern=CREDIT_CODE)
) -> dict[str, Any]:
    """A street office records its visit (走访) to a firm it is responsible for, with a note."""
    return visits.record(conn, credit_code.upper(), actor, body.note)
