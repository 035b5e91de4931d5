"""Inspections (patrol records) and campaigns: recording, history, the campaign summary.

Recording an inspection also keeps the asset's attributes current in the same
transaction: ``last_inspected``, and its ``status`` from what was found (a cover
reported missing is ``missing`` until an inspection finds it in order again).

SQL: existence checks and lists are Core; the insert shared by recording and bulk loads
(one row dict each, executemany), the asset sync (jsonb merges) and the campaign summary
(count DISTINCT with FILTER) stay written out: they read more plainly as the SQL itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator
from sqlalchemy import Connection, select, text

from geo.errors import Forbidden, InvalidInput, NotFound
from layers.accounts.actors import STAFF, Actor
from layers.cases.worktime import BEIJING
from layers.db.models import ASSETS, CAMPAIGNS
from layers.outbox import events as outbox
from layers.photos import records as photo_records
from layers.photos.records import PhotoRef

# The cover inspection checklist (STANDARDS.md) and the state each defect leaves a cover in.
DEFECTS: dict[str, tuple[str, str]] = {
    "missing": ("井盖丢失", "missing"),
    "cover_broken": ("井盖破损", "damaged"),
    "frame_broken": ("井框破损", "damaged"),
    "gap": ("盖框间隙", "damaged"),
    "height_difference": ("盖框高差(突出或凹陷)", "sunk_raised"),
    "rocking_noise": ("跳动和声响", "noisy"),
    "pavement_subsidence": ("周边路面破损沉降", "sunk_raised"),
    "wrong_marking": ("井盖标示错误", "damaged"),
    "light_duty_on_road": ("非重型井盖在车行道", "damaged"),
    "displaced": ("井盖移位", "displaced"),
}
if TYPE_CHECKING:
    Defect = str
else:
    Defect = Literal[tuple(DEFECTS)]  # the keys above, checked by pydantic


class InspectionIn(BaseModel):
    """A patrol record as a field worker sends it."""

    inspector: str | None = Field(
        default=None, min_length=1, max_length=50, description="Ignored: the signed-in user is the inspector."
    )
    result: Literal["ok", "defect"]
    defect: Defect | None = Field(default=None, validate_default=True)
    photo_url: PhotoRef | None = None
    note: str = Field(default="", max_length=2000)
    inspected_at: datetime | None = None
    campaign_id: int | None = None
    open_incident: bool = Field(default=False, description="A defect also files a case linked to the asset.")

    @field_validator("inspected_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None:
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
            if value > datetime.now(UTC):
                raise ValueError("inspected_at is in the future")
        return value

    @field_validator("defect", mode="after")
    @classmethod
    def _defect_matches_result(cls, value: str | None, info: ValidationInfo) -> str | None:
        if (info.data.get("result") == "defect") != (value is not None):
            raise ValueError("a defect is given exactly when result is 'defect'")
        return value


_INSERT = """
INSERT INTO inspections (asset_id, inspected_at, inspector, result, defect, photo_url, note, campaign_id)
VALUES (:asset_id, :at, :inspector, :result, :defect, :photo_url, :note, :campaign_id)
"""
INSERT_MANY = text(_INSERT)  # bulk loads: one row dict each
_RECORD = text(
    _INSERT + "RETURNING id, asset_id, inspected_at, inspector, result, defect, photo_url, note, campaign_id"
)

# The asset's state follows its latest inspection (set-based, so bulk loads use it too).
_SYNC = text("""
UPDATE assets a SET attributes = a.attributes
    || jsonb_build_object('last_inspected',
                          to_char(l.inspected_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'),
                          'status', CASE WHEN l.result = 'ok' THEN 'normal' ELSE s.status END)
FROM (SELECT DISTINCT ON (asset_id) asset_id, inspected_at, result, defect FROM inspections
      WHERE asset_id = ANY(:ids) ORDER BY asset_id, inspected_at DESC, id DESC) l
LEFT JOIN (SELECT * FROM unnest(CAST(:codes AS text[]), CAST(:states AS text[])) AS t(defect, status)) s
       ON s.defect = l.defect
WHERE a.id = l.asset_id
""")


def sync_assets(conn: Connection, asset_ids: list[str]) -> None:
    """Set ``last_inspected`` and ``status`` of these assets from their latest inspection."""
    conn.execute(
        _SYNC, {"ids": asset_ids, "codes": list(DEFECTS), "states": [v[1] for v in DEFECTS.values()]}
    )


def record(
    conn: Connection, asset_id: str, inspection: InspectionIn, actor: Actor, backdate_days: float = 3.0
) -> dict[str, Any]:
    """Store one inspection of an existing asset by ``actor`` and update the asset.

    The inspector is the signed-in user. Field staff inspect the assets of their own unit
    (a street or lower area code); an inspection may be dated back at most
    ``backdate_days``, and into a campaign only within the campaign's days."""
    asset = conn.execute(select(ASSETS.c.id, ASSETS.c.micro_grid).where(ASSETS.c.id == asset_id)).first()
    if asset is None:
        raise NotFound(f"no asset {asset_id}", field="asset_id")
    if actor.role == "field" and (
        actor.unit is None or (actor.unit.isdigit() and not (asset.micro_grid or "").startswith(actor.unit))
    ):
        raise Forbidden(f"asset {asset_id} lies in {asset.micro_grid}, outside your unit {actor.unit}")
    now = datetime.now(UTC)
    at = inspection.inspected_at or now
    if at < now - timedelta(days=backdate_days):
        raise InvalidInput(f"inspected_at may be at most {backdate_days:g} days back", field="inspected_at")
    if inspection.campaign_id is not None:
        campaign = conn.execute(
            select(CAMPAIGNS.c.starts, CAMPAIGNS.c.ends).where(CAMPAIGNS.c.id == inspection.campaign_id)
        ).first()
        if campaign is None:
            raise NotFound(f"no campaign {inspection.campaign_id}", field="campaign_id")
        day = at.astimezone(BEIJING).date()
        if not campaign.starts <= day <= campaign.ends:
            message = (
                f"campaign {inspection.campaign_id} ran {campaign.starts} – {campaign.ends}, not on {day}"
            )
            raise InvalidInput(message, field="campaign_id")
    params = inspection.model_dump(exclude={"inspected_at", "open_incident"}) | {"inspector": actor.name}
    if inspection.photo_url:
        photo_records.attach(conn, [inspection.photo_url], field="photo_url")
    before = _status(conn, asset_id)
    row = conn.execute(_RECORD, {**params, "asset_id": asset_id, "at": at}).mappings().one()
    sync_assets(conn, [asset_id])
    after = _status(conn, asset_id)
    said = {k: row[k] for k in ("id", "asset_id", "result", "defect")}  # no inspector: no staff names
    outbox.emit(conn, "inspection.created", {"inspection": {**said, "inspected_at": at.isoformat()}})
    if after != before:
        change = {"asset": {"id": asset_id, "status": after}, "from": before, "to": after}
        outbox.emit(conn, "asset.status_changed", change)
    return dict(row)


def _status(conn: Connection, asset_id: str) -> str | None:
    return conn.execute(select(ASSETS.c.attributes["status"].astext).where(ASSETS.c.id == asset_id)).scalar()


def history(conn: Connection, asset_id: str, limit: int = 50) -> list[dict[str, Any]]:
    rows = conn.execute(
        text(
            "SELECT id, inspected_at, inspector, result, defect, photo_url, note, campaign_id "
            "FROM inspections WHERE asset_id = :a ORDER BY inspected_at DESC, id DESC LIMIT :n"
        ),
        {"a": asset_id, "n": limit},
    ).mappings()
    return [dict(r) for r in rows]


def create_campaign(
    conn: Connection,
    name: str,
    starts: date,
    ends: date,
    area_code: str,
    road_segments: int | None = None,
    compounds: int | None = None,
    note: str = "",
) -> int:
    return conn.execute(
        text(
            "INSERT INTO campaigns (name, starts, ends, area_code, road_segments, compounds, note) VALUES "
            "(:n, :s, :e, :a, :r, :c, :note) RETURNING id"
        ),
        {"n": name, "s": starts, "e": ends, "a": area_code, "r": road_segments, "c": compounds, "note": note},
    ).scalar_one()


_SUMMARY = text("""
SELECT c.id, c.name, c.starts, c.ends, c.area_code, c.road_segments, c.compounds, c.note,
       count(DISTINCT i.asset_id) AS assets_inspected,
       count(DISTINCT i.asset_id) FILTER (WHERE i.result = 'defect') AS defective_assets,
       count(i.id) AS inspections
FROM campaigns c LEFT JOIN inspections i ON i.campaign_id = c.id
WHERE c.id = :c GROUP BY c.id
""")


def campaign_summary(conn: Connection, campaign_id: int) -> dict[str, Any]:
    """The campaign with its figures: assets inspected, defective assets, defects by type, cases filed."""
    row = conn.execute(_SUMMARY, {"c": campaign_id}).mappings().first()
    if row is None:
        raise NotFound(f"no campaign {campaign_id}", field="campaign_id")
    by_type = conn.execute(
        text(
            "SELECT defect, count(DISTINCT asset_id) FROM inspections "
            "WHERE campaign_id = :c AND defect IS NOT NULL GROUP BY defect ORDER BY 2 DESC, 1"
        ),
        {"c": campaign_id},
    ).all()
    filed = conn.execute(
        text(
            "SELECT count(DISTINCT n.id) FROM incidents n JOIN inspections i ON i.asset_id = n.asset_id "
            "WHERE i.campaign_id = :c AND i.defect IS NOT NULL "
            "AND n.received_at BETWEEN i.inspected_at AND i.inspected_at + interval '1 day'"
        ),
        {"c": campaign_id},
    ).scalar_one()
    return {
        **dict(row),
        "defects_by_type": {d: {"label": DEFECTS[d][0], "assets": n} for d, n in by_type},
        "cases_filed": filed,
    }


def campaigns(conn: Connection) -> list[dict[str, Any]]:
    ids = conn.execute(select(CAMPAIGNS.c.id).order_by(CAMPAIGNS.c.starts.desc(), CAMPAIGNS.c.id)).scalars()
    return [campaign_summary(conn, i) for i in ids]


def as_seen_by(rows: list[dict[str, Any]], actor: Actor) -> list[dict[str, Any]]:
    """Inspections as ``actor`` may see them: the public without who inspected (no staff names)
    and without the photo (staff photos)."""
    if actor.role in STAFF:
        return rows
    return [{**r, "inspector": None, "photo_url": None} for r in rows]
