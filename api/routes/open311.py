"""Open311 GeoReport v2 at ``/open311/v2/``: services, service definitions, requests (GET, POST).

Service codes are the platform's category codes (the machine-only ones — camera AI —
are not offered). ``service_request_id`` is the case number. Answers are JSON or XML
by the extension, as the spec defines; errors are the spec's ``[{"code",
"description"}]`` list (``api.errors`` sends them here for paths under /open311/).
Personal data never leaves through this API: no reporter names, phones or e-mails, and
locations are snapped to ``WANGGE_PUBLIC_SNAP_M`` as for every public reader.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection

from api.deps import READERS, IndexDep, OpenKeyDep, get_settings, get_state, run_read, run_stale_read, run_tx
from api.errors import ERROR_STATUSES
from api.georeport import Format, answer
from api.schemas import open311 as open311_schema
from geo.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from layers.accounts import users
from layers.accounts.actors import Actor
from layers.cases import categories, intake, open311, queries
from layers.cases.intake import IncidentIn


class Open311Error(BaseModel):
    code: int
    description: str


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": list[Open311Error], "description": "GeoReport errors"} for status in ERROR_STATUSES
}
router = APIRouter(prefix="/open311/v2", tags=["open311"], responses=ERRORS)
DEFAULT_WINDOW = timedelta(days=90)
W3C_TIME = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$"


def _services(conn: Connection) -> list[dict[str, Any]]:
    catalogue = categories.load(conn)
    return [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": f"{c.name_en}; {'部件' if c.kind == 'component' else '事件'}; "
            f"time limit {c.deadline_hours:g} {'working ' if c.working_time else ''}hours",
            "metadata": False,
            "type": "realtime",
            "keywords": c.name_en,
            "group": "部件" if c.kind == "component" else "事件",
        }
        for c in catalogue.categories.values()
        if c.active and not c.machine
    ]


@router.get("/services.{fmt}", dependencies=READERS, response_model=list[open311_schema.Service])
async def services(request: Request, fmt: Format) -> Response:
    """The service list: one service per category people can report."""
    return answer(await run_stale_read(request, _services), fmt, "services", "service")


@router.get("/services/{code}.{fmt}", dependencies=READERS, response_model=open311_schema.ServiceDefinition)
async def service_definition(request: Request, code: str, fmt: Format) -> Response:
    """A service definition (no extra attributes: every service has ``metadata`` false)."""
    known = {s["service_code"] for s in await run_read(request, _services)}
    if code not in known:
        raise NotFound(f"no service {code}", field="service_code")
    return answer({"service_code": code, "attributes": []}, fmt, "service_definition", "attribute")


def _snap(request: Request) -> float:
    return float(get_settings(request).public_snap_m)  # Open311 is public: coarsened locations


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} {value!r} is not a W3C date-time", field=name) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.get("/requests.{fmt}", dependencies=READERS, response_model=list[open311_schema.ServiceRequest])
async def requests(
    request: Request,
    fmt: Format,
    service_request_id: str | None = Query(None),
    service_code: str | None = Query(None),
    start_date: str | None = Query(None, pattern=W3C_TIME, description="W3C date-time (default 90 days ago)"),
    end_date: str | None = Query(None, pattern=W3C_TIME, description="W3C date-time (default now)"),
    status: str | None = Query(
        None, pattern="^(open|closed)(,(open|closed))?$", description="open, closed or both, comma-separated"
    ),
    lat: float | None = Query(
        None, ge=-90, le=90, description="With long and radius: requests near (WGS84)."
    ),
    long: float | None = Query(None, ge=-180, le=180),
    radius: float | None = Query(None, gt=0, le=20_000, description="Metres around lat/long (default 500)."),
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(open311.MAX_REQUESTS, ge=1, le=open311.MAX_REQUESTS),
) -> Response:
    """Service requests: by id, or by code, status, period (default the last 90 days) and
    place (``lat``/``long``/``radius``), a page at a time (``page``, ``page_size`` ≤ 1000)."""
    base = get_settings(request).public_base_url
    if service_request_id:
        ids = service_request_id.split(",")
        rows = await run_read(request, open311.requests, open311.Wanted(numbers=ids), _snap(request), base)
        return answer(rows, fmt, "service_requests", "request")
    if (lat is None) != (long is None):
        missing, given = ("lat", "long") if lat is None else ("long", "lat")
        raise InvalidInput(f"{missing} is needed with {given}", field=missing)
    end = _parse_time(end_date, "end_date") or datetime.now(UTC)
    start = _parse_time(start_date, "start_date")
    if start is None:
        try:
            start = end - DEFAULT_WINDOW
        except OverflowError:
            raise InvalidInput(
                f"end_date {end_date} leaves no room for the default 90 days", field="end_date"
            ) from None
    states = set(status.split(",")) if status else {"open", "closed"}
    if not states <= {"open", "closed"}:
        raise InvalidInput("status is open, closed or both", field="status")
    wanted = open311.Wanted(
        start=start,
        end=end,
        codes=service_code.split(",") if service_code else None,
        open=None if len(states) == 2 else states == {"open"},
        near=None if lat is None or long is None else (long, lat, radius or 500.0),
        page=page,
        page_size=page_size,
    )
    rows = await run_stale_read(request, open311.requests, wanted, _snap(request), base)
    return answer(rows, fmt, "service_requests", "request")


@router.get(
    "/servicerequestupdates.{fmt}", dependencies=READERS, response_model=list[open311_schema.RequestUpdate]
)
async def request_updates(
    request: Request,
    fmt: Format,
    service_request_id: str | None = Query(None, description="Comma-separated request ids."),
    start_date: str | None = Query(None, pattern=W3C_TIME, description="W3C date-time (default 1 day ago)"),
    end_date: str | None = Query(None, pattern=W3C_TIME, description="W3C date-time (default now)"),
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(open311.MAX_REQUESTS, ge=1, le=open311.MAX_REQUESTS),
) -> Response:
    """The request updates list (the GeoReport extension FixMyStreet and others use): every
    status change in a period, oldest first, for third-party apps that follow cases."""
    end = _parse_time(end_date, "end_date") or datetime.now(UTC)
    start = _parse_time(start_date, "start_date") or end - timedelta(days=1)
    numbers = service_request_id.split(",") if service_request_id else None
    rows = await run_stale_read(request, open311.updates, start, end, numbers, page, page_size)
    return answer(rows, fmt, "service_request_updates", "request_update")


@router.get(
    "/requests/{number}.{fmt}", dependencies=READERS, response_model=list[open311_schema.ServiceRequest]
)
async def one_request(request: Request, number: str, fmt: Format) -> Response:
    """One service request, as a list of one (as the spec has it)."""
    base = get_settings(request).public_base_url
    rows = await run_read(request, open311.requests, open311.Wanted(numbers=[number]), _snap(request), base)
    if not rows:
        raise NotFound(f"no service request {number}", field="service_request_id")
    return answer(rows, fmt, "service_requests", "request")


async def _form(request: Request) -> dict[str, str]:
    """The form's fields. A urlencoded body is read as UTF-8 whether or not the client
    percent-encoded its Chinese (many send it raw); a body that is not UTF-8 is refused."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        text = (await request.body()).decode("utf-8")
        return dict(parse_qsl(text, keep_blank_values=True, errors="strict"))
    except UnicodeDecodeError:
        raise InvalidInput(
            "the form is not UTF-8: send it as UTF-8 (percent-encoded or not)", field="body"
        ) from None


@router.post("/requests.{fmt}", response_model=list[open311_schema.Created], status_code=201)
async def create_request(
    request: Request,
    fmt: Format,
    index: IndexDep,
    query_key: OpenKeyDep,
    idempotency_key: str | None = Header(default=None, min_length=8, max_length=200),
) -> Response:
    """Create a service request (form-encoded, with ``api_key``): a case from source ``open311``."""
    values = await _form(request)
    key = values.get("api_key") or query_key
    if not key:
        raise InvalidInput("api_key is required to create service requests", field="api_key")

    def work(conn: Connection) -> str:
        try:
            user = users.by_api_key(conn, key)
        except Unauthorized:
            raise Forbidden("api_key is not valid") from None
        lat, lon = values.get("lat"), values.get("long")
        name = " ".join(p for p in (values.get("last_name"), values.get("first_name")) if p) or None
        try:
            report = IncidentIn(
                source="open311",
                category=values.get("service_code", ""),
                description=values.get("description", ""),
                lon=float(lon) if lon else None,
                lat=float(lat) if lat else None,
                address=values.get("address_string") or None,
                reporter={"name": name, "phone": values.get("phone") or None},
                photos=[values["media_url"]] if values.get("media_url") else [],
            )
        except ValueError as exc:  # float() or pydantic
            first = exc.errors()[0] if isinstance(exc, ValidationError) else {"msg": str(exc), "loc": ()}
            where = ".".join(str(p) for p in first["loc"]) or "request"
            raise InvalidInput(f"{where}: {first['msg']}", field=where) from None
        if report.lon is None and report.address is None:
            raise InvalidInput("give lat and long, or address_string", field="lat")
        filed = intake.create(
            conn, index, categories.load(conn), report, actor=Actor(user.name, user.role, user.unit),
            work_hours=get_state(request).work_hours, key=idempotency_key,
        )  # fmt: skip
        return queries.number_of(conn, filed.id)

    number = await run_tx(request, work)
    rows = [{"service_request_id": number, "service_notice": "", "account_id": None}]
    return answer(rows, fmt, "service_requests", "request", status=201)
